/**
 * The Lambda handler as deployed, with the real AWS SDK clients (DynamoDB, S3, Secrets Manager) pointed at
 * loopback fakes of those APIs and the paginating API on loopback: the credential read from its secret,
 * pages put with SSE-KMS, the cursor written under its version condition, the EMF metrics line, and the
 * bundle SourceFunction deploys.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { expect } from "chai";
import { gunzipSync } from "node:zlib";
import { bundleFunction } from "../../../components/aws/sources/source-function";
import { DynamoDbCursorStore } from "../../../functions/api-puller/aws";
import { CursorConflictError, EMPTY_STATE } from "../../../functions/api-puller/cursor-store";
import { makeHandler, type PullerClients } from "../../../functions/api-puller/index";
import type { LandedLine } from "../../../functions/api-puller/puller";
import { FakeApi, payments, TOKEN } from "./fake-api";
import { FakeAws } from "./fake-aws";
import { pullerConfig } from "./harness";

const SECRET_ARN = "arn:aws:secretsmanager:sa-east-1:111111111111:secret:lakehouse-dev-br/api/payments-br-AbCdEf";
const KEY_ARN = "arn:aws:kms:sa-east-1:111111111111:key/0f0e0d0c-0b0a-0908-0706-050403020100";

describe("API puller handler with the AWS SDK against loopback AWS", () => {
  let api: FakeApi;
  let aws: FakeAws;
  let clients: PullerClients;
  let env: NodeJS.ProcessEnv;
  const metrics: Record<string, unknown>[] = [];
  let requestId = 0;
  const invoke = () =>
    makeHandler(
      () => clients,
      env,
      (line) => metrics.push(JSON.parse(line) as Record<string, unknown>),
    )({}, { awsRequestId: `req-${++requestId}`, getRemainingTimeInMillis: () => 600_000 });

  beforeEach(async () => {
    api = new FakeApi("cursor", { now: () => Date.now(), sleep: async () => undefined, random: () => 0 });
    aws = new FakeAws();
    const [url, endpoint] = await Promise.all([api.start(), aws.start()]);
    api.records = payments(95);
    aws.secrets.set(SECRET_ARN, JSON.stringify({ username: "lakehouse", password: TOKEN }));
    const base = { endpoint, region: "sa-east-1", credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "test" } };
    clients = {
      dynamodb: new DynamoDBClient(base),
      s3: new S3Client({ ...base, forcePathStyle: true }),
      secrets: new SecretsManagerClient(base),
    };
    env = {
      API_PULLER_CONFIG: JSON.stringify(
        pullerConfig(url, "cursor", {
          auth: { header: "Authorization", scheme: "bearer", secretArn: SECRET_ARN },
          landing: { bucket: "landing-bucket", prefix: "api/payments-br/", kmsKeyArn: KEY_ARN },
          cursorTable: "cursor-table",
          requestsPerSecond: 100,
        }),
      ),
    };
    metrics.length = 0;
  });
  afterEach(async () => {
    await Promise.all([api.close(), aws.close()]);
  });

  const landed = (): LandedLine[] =>
    [...aws.objects.values()].flatMap((o) =>
      gunzipSync(o.body)
        .toString("utf8")
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => JSON.parse(l) as LandedLine),
    );

  it("lands every page with SSE-KMS, authenticates with the secret, moves the cursor, reports CaughtUp", async () => {
    const r = await invoke();
    expect(r.outcome).to.equal("caught-up");
    expect(api.requests.every((q) => q.authorised)).to.equal(true);
    expect(aws.objects.size).to.equal(5);
    for (const [key, o] of aws.objects) {
      expect(key).to.match(/^landing-bucket\/api\/payments-br\/dt=\d{4}-\d{2}-\d{2}\/[0-9a-f]{32}\.ndjson\.gz$/);
      expect(o.headers["x-amz-server-side-encryption"]).to.equal("aws:kms");
      expect(o.headers["x-amz-server-side-encryption-aws-kms-key-id"]).to.equal(KEY_ARN);
    }
    const ids = landed().map((l) => l.id);
    expect(ids).to.have.length(95);
    expect(new Set(ids).size).to.equal(95);
    const item = aws.items.get("cursor-table")!.get(JSON.stringify({ S: "payments-br" }))!;
    expect(item.watermark).to.deep.equal({ S: api.records[94].updated_at });
    // Claim, four page acknowledgements, completion.
    expect(item.version).to.deep.equal({ N: "6" });
    expect(metrics).to.have.length(1);
    expect(metrics[0]).to.include({ Source: "payments-br", CaughtUp: 1, RecordsLanded: 95, PagesFetched: 5 });
    expect((metrics[0]._aws as { CloudWatchMetrics: { Namespace: string }[] }).CloudWatchMetrics[0].Namespace).to.equal(
      "Lakehouse/ApiSources",
    );
  });

  it("S3 failing past the SDK's retries fails the run with the cursor behind the page; the next run lands the rest once", async () => {
    // The SDK's standard retry mode makes 3 attempts; puts 3-5 are the third page's.
    [3, 4, 5].forEach((n) => aws.failPuts.add(n));
    const err = (await invoke().catch((e: unknown) => e)) as Error;
    expect(err).to.be.instanceOf(Error);
    expect(aws.objects.size).to.equal(2);
    expect(metrics).to.have.length(0);
    const r = await invoke();
    expect(r.outcome).to.equal("caught-up");
    const ids = landed().map((l) => l.id);
    expect(ids).to.have.length(95);
    expect(new Set(ids).size).to.equal(95);
  });

  it("maps DynamoDB's ConditionalCheckFailedException to a cursor conflict, for the first write and later ones", async () => {
    const store = new DynamoDbCursorStore(clients.dynamodb, "cursor-table");
    expect(await store.save("payments-br", EMPTY_STATE, 0)).to.equal(1);
    const first = await store.save("other", EMPTY_STATE, 0);
    expect(first).to.equal(1);
    await store.save("payments-br", EMPTY_STATE, 0).then(
      () => expect.fail("a second first write must be refused"),
      (e: unknown) => expect(e).to.be.instanceOf(CursorConflictError),
    );
    expect(await store.save("payments-br", { ...EMPTY_STATE, watermark: "x" }, 1)).to.equal(2);
    await store.save("payments-br", EMPTY_STATE, 1).then(
      () => expect.fail("a stale version must be refused"),
      (e: unknown) => expect(e).to.be.instanceOf(CursorConflictError),
    );
    expect(await store.load("payments-br")).to.deep.equal({ state: { ...EMPTY_STATE, watermark: "x" }, version: 2 });
  });

  it("bundles into one CommonJS file that leaves the AWS SDK to the runtime and exports the handler", () => {
    const code = bundleFunction("functions/api-puller/index.ts");
    expect(code).to.contain('require("@aws-sdk/client-dynamodb")');
    expect(code).not.to.match(/require\("\.\//);
    const mod = { exports: {} as Record<string, unknown> };
    new Function("module", "exports", "require", code)(mod, mod.exports, require);
    expect(typeof mod.exports.handler).to.equal("function");
  });
});
