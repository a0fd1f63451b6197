/**
 * The GCP worker's Cloud Run entry as deployed (gcp-server.ts `startGcpServer`, env vars of the design),
 * with every client real: STS AssumeRoleWithWebIdentity with the service's Google ID token, DynamoDB and
 * S3 signed with the credentials it returned, BigQuery and Cloud Storage; all on loopback fakes.
 * `POST /run` takes the pending requests from the (paged) Scan, leaves done ones alone, writes the audit
 * records append-only and updates each request under its condition.
 */
import { expect } from "chai";
import { randomUUID } from "node:crypto";
import type { Server } from "node:http";
import { loadEnv, startGcpServer } from "../../functions/subject-rights/gcp-server";
import { request } from "../functions/collector/helpers/http";
import { FakeBigQuery } from "./fake-bigquery";
import { FakeGcs } from "./fake-gcs";
import { FAKE_ACCESS_KEY, FakeAwsForGcp, type Item } from "./gcp-fake-aws";
import { bigQueryClient, EVENTS, EXPORTS_BUCKET, PROJECT, pseudo, REGISTRY, seed } from "./gcp-helpers";

const TABLE = "lake-eu-subject-requests";
const AUDIT = "lake-eu-audit";
const ROLE = "arn:aws:iam::123456789012:role/lake-eu-subject-rights-gcp";

function item(requestId: string, kind: string, ids: string[], gcpStatus = "pending"): Item {
  return {
    requestId: { S: requestId },
    kind: { S: kind },
    jurisdiction: { S: "eu" },
    pseudonyms: { SS: ids.map(pseudo) },
    receivedAt: { S: "2026-12-04T03:00:00.000Z" },
    awsStatus: { S: "pending" },
    gcpStatus: { S: gcpStatus },
  };
}

describe("subject rights: GCP worker server (Cloud Run entry) with the real AWS and Google clients", function () {
  this.timeout(60_000);
  let aws: FakeAwsForGcp;
  let bq: FakeBigQuery;
  let gcs: FakeGcs;
  let server: Server;
  let url: string;
  const tokens: string[] = [];
  const alice = randomUUID();
  const bob = randomUUID();
  const done = randomUUID();
  const others = [randomUUID(), randomUUID()];

  before(async () => {
    aws = new FakeAwsForGcp();
    const awsUrl = await aws.start();
    bq = await FakeBigQuery.create();
    await seed(bq);
    const bqUrl = await bq.start();
    gcs = new FakeGcs();
    const gcsUrl = await gcs.start();
    const t = aws.table(TABLE);
    t.set(alice, item(alice, "erasure", ["alice", "alice-anon"]));
    t.set(bob, item(bob, "access", ["bob"]));
    // Already completed on GCP: the Scan's filter leaves it out, nothing touches it.
    t.set(done, item(done, "erasure", ["carol"], "done"));
    for (const id of others) t.set(id, item(id, "access", ["nobody"], "done"));
    const started = await startGcpServer(
      {
        REQUESTS_TABLE: TABLE,
        AUDIT_BUCKET: AUDIT,
        AWS_REGION: "eu-west-1",
        AWS_ROLE_ARN: ROLE,
        EXPORTS_BUCKET,
        SUPPRESSION_BUCKET: "lake-eu-suppression",
        REGISTRY_JSON: JSON.stringify(REGISTRY),
        CELL: "eu",
        PORT: "0",
      },
      {
        awsEndpoint: awsUrl,
        idToken: async () => {
          tokens.push("google-id-token");
          return "google-id-token";
        },
        bigquery: bigQueryClient(bqUrl),
        storage: { apiEndpoint: gcsUrl, projectId: PROJECT },
      },
    );
    server = started.server;
    url = `http://127.0.0.1:${started.port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await aws.close();
    await bq.close();
    await gcs.close();
  });

  it("POST /run: assumes the role with the Google ID token, then works the pending requests", async () => {
    const reply = await request(`${url}/run`, "POST", "");
    expect(reply.status).to.equal(200);
    const summary = JSON.parse(reply.text) as Record<string, string[]>;
    expect(summary.done).to.deep.equal([bob]);
    expect(summary.firstPass).to.deep.equal([alice]);
    expect(summary.failed).to.deep.equal([]);

    // One exchange of the token; every DynamoDB and S3 call signed with the credentials it returned.
    expect(aws.assumed).to.have.length(1);
    expect(aws.assumed[0]).to.include({ RoleArn: ROLE, WebIdentityToken: "google-id-token", DurationSeconds: "3600" });
    const signed = aws.calls.filter((c) => !c.startsWith("STS."));
    expect(signed.length).to.be.greaterThan(3);
    for (const c of signed) expect(c).to.match(new RegExp(` ${FAKE_ACCESS_KEY}$`));
    // The Scan was followed over its pages (5 items, 2 per page).
    expect(aws.calls.filter((c) => c.startsWith("DynamoDB.Scan"))).to.have.length(3);

    const t = aws.table(TABLE);
    expect(t.get(bob)!.gcpStatus).to.deep.equal({ S: "done" });
    const exports = t.get(bob)!.gcpExports.L!;
    expect(exports[0].M!.link).to.deep.equal({
      S: `https://storage.cloud.google.com/${EXPORTS_BUCKET}/requests/${bob}/gcp/${EVENTS}.jsonl`,
    });
    expect(t.get(alice)!.gcpStatus).to.deep.equal({ S: "pending" });
    expect(t.get(alice)!.gcpSuppressedAt?.S).to.match(/^\d{4}-\d\d-\d\dT/);
    expect(t.get(done)).to.deep.equal(item(done, "erasure", ["carol"], "done"));

    // Alice's rows are gone (first pass), Bob's exported, nobody else's touched.
    const events = (await bq.rows(EVENTS)).map((r) => r.message_id);
    expect(events).to.deep.equal(["m3", "m4", "m5", "m6"]);
    expect(gcs.text(EXPORTS_BUCKET, `requests/${bob}/gcp/${EVENTS}.jsonl`)!.trim().split("\n")).to.have.length(2);

    // Audit records: append-only puts, one per request.
    const audit = [...aws.objects.keys()].filter((k) => k.startsWith(`${AUDIT}/`)).sort();
    expect(audit.map((k) => k.replace(/\/[^/]+-gcp-/, "/<ts>-gcp-")).sort()).to.deep.equal(
      [`${AUDIT}/requests/${alice}/<ts>-gcp-first-pass.json`, `${AUDIT}/requests/${bob}/<ts>-gcp-done.json`].sort(),
    );
    for (const k of audit) expect(aws.objects.get(k)!.headers["if-none-match"]).to.equal("*");
    const record = JSON.parse(aws.objects.get(audit.find((k) => k.includes(bob))!)!.body.toString("utf8")) as Record<
      string,
      unknown
    >;
    expect(record).to.include({ requestId: bob, kind: "access", cloud: "gcp", cell: "eu" });
  });

  it("a second run within the settle time leaves the erasure waiting and changes nothing", async () => {
    const before = JSON.stringify([...aws.table(TABLE).entries()]);
    const reply = await request(`${url}/run`, "POST", "");
    expect(reply.status).to.equal(200);
    expect((JSON.parse(reply.text) as Record<string, string[]>).waiting).to.deep.equal([alice]);
    expect(JSON.stringify([...aws.table(TABLE).entries()])).to.equal(before);
  });

  it("answers /health, refuses other paths and methods", async () => {
    expect((await request(`${url}/health`, "GET", undefined)).status).to.equal(200);
    expect((await request(`${url}/run`, "GET", undefined)).status).to.equal(405);
    expect((await request(`${url}/other`, "POST", "")).status).to.equal(404);
  });

  it("names every missing environment variable at once", () => {
    expect(() => loadEnv({ CELL: "eu" })).to.throw(
      "missing REQUESTS_TABLE, AUDIT_BUCKET, AWS_REGION, AWS_ROLE_ARN, EXPORTS_BUCKET, SUPPRESSION_BUCKET, REGISTRY_JSON",
    );
  });
});
