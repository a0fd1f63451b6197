/**
 * The intake as Lambda runs it (function URL event in, payload format 2.0), against DynamoDB, S3 and
 * Secrets Manager on loopback through the real SDK clients: status codes, idempotency, what is stored.
 */
import { expect } from "chai";
import { handler } from "../../functions/subject-rights/aws-intake";
import { AuditRecordExists, S3AuditLog } from "../../functions/subject-rights/audit";
import { parseRequest, requestHash } from "../../functions/subject-rights/request";
import { AUDIT_BUCKET, AwsCell, body, freshCellPerTest, h, OFFICER, REQUESTS_TABLE, SUBJECTS } from "./aws-harness";

const ID = "6f1c2a34-8d7e-4b1a-9c3d-2e5f60718293";
const alice = SUBJECTS.alice;

describe("subject-rights intake (AWS, loopback)", () => {
  const current = freshCellPerTest();

  it("records a new request with pseudonyms only (202) and audits its receipt", async () => {
    const res = await current().call(
      "POST",
      "/requests",
      body(ID, "erasure", {
        userIds: [alice.userId],
        anonymousIds: [alice.anonymousId],
        emails: ["  Alice@Example.COM "],
      }),
    );
    expect(res.status).to.equal(202);
    expect(res.body).to.include({ requestId: ID, kind: "erasure", jurisdiction: "eu", requestedBy: OFFICER });
    expect(res.body.aws).to.deep.equal({ status: "pending" });

    const stored = current().item(ID);
    // E-mails are normalised as the collector normalises them (trim, lower-case), ids hashed as sent.
    expect(stored.pseudonyms).to.deep.equal([h(alice.userId), h(alice.anonymousId), h(alice.email)].sort());
    expect(stored).to.include({ awsStatus: "pending", gcpStatus: "pending", requestedBy: OFFICER });
    expect(stored.identifierCounts).to.deep.equal({ userIds: 1, anonymousIds: 1, emails: 1 });

    const audit = current().auditRecords(ID);
    expect(audit.map((a) => a.key)).to.deep.equal([`${stored.receivedAt.replace(/:/g, "-")}-received.json`]);
    expect(audit[0].record).to.include({ event: "received", requestedBy: OFFICER, kind: "erasure", pseudonyms: 3 });
    const put = [...current().aws.objects.values()][0];
    expect(put.headers["if-none-match"]).to.equal("*");
  });

  it("never stores or sends a raw identifier (DynamoDB items, audit objects, every request body)", async () => {
    const ids = { userIds: ["u-secret-777"], anonymousIds: ["anon-secret-888"], emails: ["secret.person@example.com"] };
    expect((await current().call("POST", "/requests", body(ID, "access", ids))).status).to.equal(202);
    const raw = [...ids.userIds, ...ids.anonymousIds, ...ids.emails, "secret.person", "u-secret", "anon-secret"];
    const stored = current().aws.storedText();
    const sent = current()
      .aws.received.map((r) => r.body.toString("utf8"))
      .join("\n");
    expect(stored).to.include(h("u-secret-777")); // the assertion below can fail: the item is there
    for (const v of raw) {
      expect(stored).to.not.include(v);
      expect(sent).to.not.include(v);
    }
  });

  it("is idempotent by requestId: the same body again (ids in another order) is 200 with the stored record", async () => {
    const ids = { userIds: [alice.userId, "u-9"], emails: [alice.email] };
    const first = await current().call("POST", "/requests", body(ID, "erasure", ids));
    const again = await current().call(
      "POST",
      "/",
      body(ID.toUpperCase(), "erasure", { emails: [alice.email], userIds: ["u-9", alice.userId] }),
    );
    expect(first.status).to.equal(202);
    expect(again.status).to.equal(200);
    expect(again.body).to.deep.equal(first.body);
    expect(current().aws.table(REQUESTS_TABLE).size).to.equal(1);
    expect(current().auditRecords(ID)).to.have.length(1);
    // The secret is read once per environment, not per call.
    expect(current().aws.calls.filter((c) => c === "SecretsManager.GetSecretValue")).to.have.length(1);
  });

  it("refuses the same requestId with another body (409) and keeps the first", async () => {
    await current().call("POST", "/requests", body(ID, "erasure", { userIds: [alice.userId] }));
    const res = await current().call("POST", "/requests", body(ID, "access", { userIds: [alice.userId] }));
    expect(res.status).to.equal(409);
    expect(res.body.problems).to.deep.equal([`request ${ID} exists with a different body; use a new requestId`]);
    expect(current().item(ID).kind).to.equal("erasure");
  });

  it("lists every problem of a malformed body at once (400) and stores nothing", async () => {
    const res = await current().call("POST", "/requests", {
      requestId: "not-a-uuid",
      kind: "delete",
      jurisdiction: "us",
      subject: { userIds: ["", "x".repeat(257)], emails: ["not-an-address"], phone: ["+351"] },
      extra: 1,
    });
    expect(res.status).to.equal(400);
    expect(res.body.problems).to.have.members([
      "body: unknown field(s) extra",
      "requestId must be a UUID (8-4-4-4-12 hex digits)",
      "kind must be one of access, erasure",
      "jurisdiction must be one of eu, br",
      "subject: unknown field(s) phone",
      "subject.userIds.0 must not be empty",
      "subject.userIds.1 must be at most 256 characters (the collector's limit)",
      "subject.emails.0 is not an e-mail address",
    ]);
    expect(current().aws.table(REQUESTS_TABLE).size).to.equal(0);
    expect(current().aws.objects.size).to.equal(0);
  });

  it("answers 400 for a body that is not JSON, has no identifiers, or too many", async () => {
    const notJson = await current().call("POST", "/requests", "{requestId:");
    expect(notJson.status).to.equal(400);
    expect((notJson.body.problems as string[])[0]).to.match(/^body is not JSON/);
    const none = await current().call("POST", "/requests", body(ID, "access", {}));
    expect(none.body.problems).to.deep.equal(["subject needs at least one of userIds, anonymousIds, emails"]);
    const many = await current().call(
      "POST",
      "/requests",
      body(ID, "access", { userIds: Array.from({ length: 21 }, (_, i) => `u${i}`) }),
    );
    expect(many.status).to.equal(400);
    expect(many.body.problems).to.deep.equal(["subject has 21 identifiers; at most 20 per request"]);
    const missing = await current().call("POST", "/requests", {});
    expect(missing.body.problems).to.have.members([
      "requestId is required (a UUID)",
      "kind must be one of access, erasure",
      "jurisdiction must be one of eu, br",
      "subject is required: an object with userIds, anonymousIds and/or emails",
    ]);
  });

  it("answers 422 for a well-formed request of the other jurisdiction", async () => {
    const res = await current().call("POST", "/requests", {
      ...body(ID, "access", { userIds: ["u"] }),
      jurisdiction: "br",
    });
    expect(res.status).to.equal(422);
    expect(res.body.problems).to.deep.equal([
      "jurisdiction 'br' is not this cell's ('eu'): send it to the br cell's intake",
    ]);
    expect(current().aws.table(REQUESTS_TABLE).size).to.equal(0);
  });

  it("serves GET /requests/<id> (200, 404, 400) and refuses unsigned calls (403)", async () => {
    await current().call("POST", "/requests", body(ID, "access", { userIds: ["u"] }));
    const got = await current().call("GET", `/requests/${ID}`);
    expect(got.status).to.equal(200);
    expect(got.body).to.include({ requestId: ID, kind: "access" });
    expect(got.body).to.not.have.property("pseudonyms");
    expect((await current().call("GET", "/requests/00000000-0000-4000-8000-000000000000")).status).to.equal(404);
    expect((await current().call("GET", "/requests/x")).status).to.equal(400);
    expect((await current().call("DELETE", `/requests/${ID}`)).status).to.equal(404);
    expect((await current().call("GET", `/requests/${ID}`, undefined, null)).status).to.equal(403);
  });

  it("decodes a base64 body (function URLs encode non-text content types)", async () => {
    const res = await handler(
      {
        rawPath: "/requests",
        isBase64Encoded: true,
        body: Buffer.from(JSON.stringify(body(ID, "access", { userIds: ["u"] }))).toString("base64"),
        requestContext: { http: { method: "POST" }, authorizer: { iam: { userArn: OFFICER } } },
      },
      current().intake,
    );
    expect(res.statusCode).to.equal(202);
  });

  it("answers 500 without detail when the key cannot be read, and the retry succeeds", async () => {
    const arn = [...current().aws.secrets.keys()][0];
    const key = current().aws.secrets.get(arn)!;
    current().aws.secrets.delete(arn);
    const failed = await current().call("POST", "/requests", body(ID, "access", { userIds: ["u"] }));
    expect(failed.status).to.equal(500);
    expect(failed.body).to.deep.equal({ error: "internal error; the request may be re-sent with the same requestId" });
    current().aws.secrets.set(arn, key);
    expect((await current().call("POST", "/requests", body(ID, "access", { userIds: ["u"] }))).status).to.equal(202);
  });
});

describe("subject-rights audit store (S3 conditional writes)", () => {
  it("refuses a second write of the same key and keeps the first record", async () => {
    const cell = new AwsCell();
    await cell.start();
    try {
      const log = new S3AuditLog(cell.s3, AUDIT_BUCKET);
      await log.append(ID, "x-received.json", { rows: 1 });
      let refused: unknown;
      await log.append(ID, "x-received.json", { rows: 2 }).catch((e: unknown) => (refused = e));
      expect(refused).to.be.instanceOf(AuditRecordExists);
      expect(cell.auditRecords(ID).map((a) => a.record)).to.deep.equal([{ rows: 1 }]);
    } finally {
      await cell.stop();
    }
  });
});

describe("subject-rights request parsing", () => {
  it("hashes the canonical body: order and duplicates of identifiers do not matter, content does", () => {
    const a = parseRequest(JSON.stringify(body(ID, "access", { userIds: ["b", "a", "a"] })), "eu");
    const b = parseRequest(JSON.stringify(body(ID, "access", { userIds: ["a", "b"] })), "eu");
    const c = parseRequest(JSON.stringify(body(ID, "access", { userIds: ["a"], anonymousIds: ["b"] })), "eu");
    if (!a.ok || !b.ok || !c.ok) throw new Error("expected valid requests");
    expect(requestHash(a.request)).to.equal(requestHash(b.request));
    expect(requestHash(a.request)).to.not.equal(requestHash(c.request));
  });
});
