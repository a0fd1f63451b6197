/**
 * The requests table as both workers share it, through the real DynamoDB client against the loopback
 * fake: the AWS result is written once (a re-run keeps the first), and GET shows what the GCP worker's
 * store (gcp-server.ts) wrote in its own attributes.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { expect } from "chai";
import { DynamoRequestStore as GcpRequestStore } from "../../functions/subject-rights/gcp-server";
import type { GcpResult } from "../../functions/subject-rights/gcp-worker";
import type { AwsResult } from "../../functions/subject-rights/records";
import { body, freshCellPerTest, REQUESTS_TABLE } from "./aws-harness";

const A = "3d91ad7f-4e50-4f61-9c73-8d9e0f1a2b34";

describe("subject-rights requests table (DynamoDB, loopback)", () => {
  const current = freshCellPerTest();

  it("completes the AWS side once: a second completion is refused and the first result stays", async () => {
    await current().call("POST", "/requests", body(A, "erasure", { userIds: ["u-a"] }));
    const result: AwsResult = { completedAt: "2026-12-04T10:00:00.000Z", tables: [], exports: [], suppressed: 1 };
    expect(await current().store.completeAws(A, result)).to.equal(true);
    expect(await current().store.completeAws(A, { ...result, suppressed: 0 })).to.equal(false);
    expect(current().item(A)).to.deep.include({ awsStatus: "done", awsResult: result, gcpStatus: "pending" });
  });

  it("shows the GCP worker's result, as its store writes it, on GET /requests/<id>", async () => {
    await current().call("POST", "/requests", body(A, "access", { userIds: ["u-a"] }));
    const endpoint = current().awsEndpoint;
    const gcp = new GcpRequestStore(
      new DynamoDBClient({
        endpoint,
        region: "eu-west-1",
        credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "test" },
      }),
      REQUESTS_TABLE,
    );
    expect((await gcp.pending()).map((p) => p.requestId)).to.deep.equal([A]);
    const link = "https://storage.cloud.google.com/x-exports/requests/a/gcp/p.d.t.jsonl";
    const result: GcpResult = {
      completedAt: "2026-12-04T11:00:00.000Z",
      tables: [{ table: "p.d.t", holds: "events", dataClass: "clickstream", rows: 4 }],
      exports: [{ table: "p.d.t", rows: 4, object: "gs://x-exports/requests/a/gcp/p.d.t.jsonl", link }],
      suppressed: 0,
    };
    expect(await gcp.complete(A, result)).to.equal(true);
    const got = await current().call("GET", `/requests/${A}`);
    expect(got.body.gcp).to.deep.equal({
      status: "done",
      completedAt: "2026-12-04T11:00:00.000Z",
      tables: [{ table: "p.d.t", rows: 4 }],
      exports: [{ table: "p.d.t", rows: 4, object: "gs://x-exports/requests/a/gcp/p.d.t.jsonl", link }],
      suppressed: 0,
    });
  });
});
