/**
 * The AWS worker end to end on loopback: a request POSTed to the intake, its stored item delivered as a
 * DynamoDB stream INSERT, the SQL run by the fake Athena on DuckDB tables seeded with three subjects,
 * exports and audit records in the fake S3. Whole tables are compared before and after.
 */
import { expect } from "chai";
import { hexLiteral, quoteIdentifier, selectStatement } from "../../functions/subject-rights/athena";
import { parseRegistry } from "../../functions/subject-rights/registry";
import { body, freshCellPerTest, CURATED, EXPORTS_BUCKET, h, MARTS, owned, REGISTRY, SUBJECTS } from "./aws-harness";

const ERASE = "0a6e7a4c-1b2d-4c3e-8f40-5a6b7c8d9e01";
const ACCESS = "1b7f8b5d-2c3e-4d4f-9a51-6b7c8d9e0f12";
const UNKNOWN = "2c809c6e-3d4f-4e50-8b62-7c8d9e0f1a23";
const alice = SUBJECTS.alice;
const aliceIds = { userIds: [alice.userId], anonymousIds: [alice.anonymousId], emails: [alice.email] };
const alicePseudonyms = [h(alice.userId), h(alice.anonymousId), h(alice.email)];

describe("subject-rights AWS worker (Athena on DuckDB, loopback)", () => {
  const current = freshCellPerTest();

  it("erases the subject from every registered AWS table and leaves everyone else's rows intact", async () => {
    const before = await current().snapshot();
    expect((await current().call("POST", "/requests", body(ERASE, "erasure", aliceIds))).status).to.equal(202);
    await current().stream(ERASE);
    const after = await current().snapshot();

    for (const table of ["customers", "orders", "sessions"] as const) {
      const expected = before[table].filter((r) => !owned(r, alicePseudonyms));
      expect(before[table].length, table).to.be.greaterThan(expected.length); // she had rows there
      expect(after[table], table).to.deep.equal(expected);
    }
    const item = current().item(ERASE);
    expect(item.awsStatus).to.equal("done");
    expect(item.gcpStatus).to.equal("pending");
    expect(item.awsResult!.tables).to.deep.equal([
      { table: `${CURATED}.customers`, holds: "customer master data", dataClass: "curated", rows: 1 },
      { table: `${CURATED}.orders`, holds: "orders", dataClass: "curated", rows: 3 },
      { table: `${MARTS}.sessions`, holds: "web sessions", dataClass: "marts", rows: 2 },
    ]);
    expect(item.awsResult!.suppressed).to.equal(3);
    // Each pseudonym suppressed once, under this request.
    expect(after.suppression).to.have.deep.members(alicePseudonyms.map((p) => ({ pseudonym: p, request_id: ERASE })));

    const audit = current().auditRecords(ERASE);
    expect(audit.map((a) => a.key.replace(/^.*Z-/, ""))).to.deep.equal(["received.json", "aws-done.json"]);
    expect(audit[1].record).to.include({ event: "aws-done", kind: "erasure", rows: 6, suppressed: 3, pseudonyms: 3 });
    expect(audit[1].record.tables).to.deep.equal(item.awsResult!.tables);
  });

  it("changes nothing when the same request runs again: 0 rows, same tables, suppression once, first result kept", async () => {
    await current().call("POST", "/requests", body(ERASE, "erasure", aliceIds));
    await current().stream(ERASE);
    const once = await current().snapshot();
    const firstResult = current().item(ERASE).awsResult;
    const queries = current().athena.executions.length;

    await current().stream(ERASE);
    expect(await current().snapshot()).to.deep.equal(once);
    expect(current().item(ERASE).awsResult).to.deep.equal(firstResult);
    // The re-run only read: no DELETE or INSERT reached the engine.
    const rerun = current()
      .athena.executions.slice(queries)
      .map((e) => e.sql);
    expect(rerun.filter((s) => /^(DELETE|INSERT)/.test(s))).to.deep.equal([]);
    const audit = current().auditRecords(ERASE);
    expect(audit).to.have.length(3);
    expect(audit[2].record).to.include({ event: "aws-done", rows: 0, suppressed: 0 });
  });

  it("completes an unknown subject with zero rows, and still suppresses its pseudonyms", async () => {
    const before = await current().snapshot();
    await current().call("POST", "/requests", body(UNKNOWN, "erasure", { userIds: ["u-never-seen"] }));
    await current().stream(UNKNOWN);
    const after = await current().snapshot();
    expect({ ...after, suppression: [] }).to.deep.equal({ ...before, suppression: [] });
    expect(after.suppression).to.deep.equal([{ pseudonym: h("u-never-seen"), request_id: UNKNOWN }]);
    const item = current().item(UNKNOWN);
    expect(item.awsStatus).to.equal("done");
    expect(item.awsResult!.tables.map((t) => t.rows)).to.deep.equal([0, 0, 0]);
    expect(current().athena.executions.filter((e) => e.sql.startsWith("DELETE"))).to.deep.equal([]);
  });

  it("exports exactly the subject's rows as JSON lines under requests/<id>/aws/, SSE-KMS, and erases nothing", async () => {
    current().athena.pageSize = 2; // several GetQueryResults pages per table
    const before = await current().snapshot();
    await current().call("POST", "/requests", body(ACCESS, "access", aliceIds));
    await current().stream(ACCESS);
    expect(await current().snapshot()).to.deep.equal(before);

    const read = (key: string) =>
      current()
        .aws.objects.get(`${EXPORTS_BUCKET}/requests/${ACCESS}/aws/${key}`)!
        .body.toString("utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    const orders = read(`${CURATED}.orders.jsonl`);
    expect(orders).to.have.length(3);
    expect(orders.map((o) => o.order_id).sort()).to.deep.equal([1, 2, 3]);
    // Typed by Athena's column types: numbers and booleans as JSON, timestamps as text.
    expect(orders.find((o) => o.order_id === 2)).to.deep.include({
      amount: 21,
      paid: false,
      customer_id: h(alice.userId),
    });
    const sessions = read(`${MARTS}.sessions.jsonl`);
    expect(sessions.map((s) => s.session_id).sort()).to.deep.equal(["s-alice-1", "s-alice-2"]);
    expect(read(`${CURATED}.customers.jsonl`)).to.deep.equal([
      { customer_id: h(alice.userId), email: h(alice.email), country: "PT", segment: "seg-alice" },
    ]);
    // Nothing of anyone else in any export.
    const exported = [...current().aws.objects.keys()].filter((k) => k.startsWith(EXPORTS_BUCKET));
    expect(exported).to.have.length(3);
    const text = exported.map((k) => current().aws.objects.get(k)!.body.toString("utf8")).join("");
    for (const other of [SUBJECTS.bob, SUBJECTS.carol]) expect(text).to.not.include(h(other.userId));

    const item = current().item(ACCESS);
    expect(item.awsResult!.exports.map((e) => [e.table, e.rows, e.object])).to.deep.equal([
      [`${CURATED}.customers`, 1, `s3://${EXPORTS_BUCKET}/requests/${ACCESS}/aws/${CURATED}.customers.jsonl`],
      [`${CURATED}.orders`, 3, `s3://${EXPORTS_BUCKET}/requests/${ACCESS}/aws/${CURATED}.orders.jsonl`],
      [`${MARTS}.sessions`, 2, `s3://${EXPORTS_BUCKET}/requests/${ACCESS}/aws/${MARTS}.sessions.jsonl`],
    ]);
    expect(item.awsResult!.exports[0].link).to.equal(
      `https://eu-west-1.console.aws.amazon.com/s3/object/${EXPORTS_BUCKET}?region=eu-west-1&prefix=requests%2F${ACCESS}%2Faws%2F${CURATED}.customers.jsonl`,
    );
    const got = await current().call("GET", `/requests/${ACCESS}`);
    expect((got.body.aws as { exports: unknown[] }).exports).to.have.length(3);
  });

  it("refuses an export the bucket did not encrypt with KMS, and leaves the request pending", async () => {
    current().aws.bucketEncryption.set(EXPORTS_BUCKET, "AES256");
    await current().call("POST", "/requests", body(ACCESS, "access", aliceIds));
    let error: Error | undefined;
    await current()
      .stream(ACCESS)
      .catch((e: Error) => (error = e));
    expect(error?.message).to.match(/stored with AES256 encryption, not SSE-KMS/);
    expect(current().item(ACCESS).awsStatus).to.equal("pending");
  });

  it("fails the invocation when a query fails: request stays pending, no done record, and a retry completes it", async () => {
    current().athena.failOn.push({ pattern: /^DELETE FROM "dev_eu_marts"/, reason: "ICEBERG_COMMIT_ERROR: injected" });
    await current().call("POST", "/requests", body(ERASE, "erasure", aliceIds));
    let error: Error | undefined;
    await current()
      .stream(ERASE)
      .catch((e: Error) => (error = e));
    expect(error?.message).to.match(/FAILED: ICEBERG_COMMIT_ERROR: injected/);
    expect(current().item(ERASE).awsStatus).to.equal("pending");
    expect(
      current()
        .auditRecords(ERASE)
        .map((a) => a.record.event),
    ).to.deep.equal(["received"]);

    current().athena.failOn.length = 0;
    await current().stream(ERASE);
    const item = current().item(ERASE);
    expect(item.awsStatus).to.equal("done");
    // The retry found the tables the first attempt had already erased empty of her rows.
    expect(item.awsResult!.tables.map((t) => t.rows)).to.deep.equal([0, 0, 2]);
    const after = await current().snapshot();
    for (const rows of [after.customers, after.orders, after.sessions])
      expect(rows.filter((r) => owned(r, alicePseudonyms))).to.deep.equal([]);
  });

  it("passes values as execution parameters in the workgroup; DELETE/INSERT carry only checked hex and UUID literals", async () => {
    await current().call("POST", "/requests", body(ERASE, "erasure", aliceIds));
    await current().stream(ERASE);
    const runs = current().athena.executions;
    expect(runs.every((e) => e.workgroup === "dev-eu-subject-rights")).to.equal(true);
    for (const e of runs.filter((r) => r.sql.startsWith("SELECT"))) {
      for (const p of alicePseudonyms) expect(e.sql).to.not.include(p);
      expect(e.parameters.length).to.be.greaterThan(0);
      expect(e.parameters.every((p) => /^'[0-9a-f]{64}'$/.test(p))).to.equal(true);
    }
    for (const e of runs.filter((r) => /^(DELETE|INSERT)/.test(r.sql))) {
      const literals = e.sql.match(/'[^']*'/g) ?? [];
      expect(literals.length).to.be.greaterThan(0);
      for (const l of literals) expect(l).to.match(/^'([0-9a-f]{64}|[0-9a-f-]{36})'$/);
    }
  });

  it("never sends a raw identifier to DynamoDB, S3 or Athena", async () => {
    await current().call("POST", "/requests", body(ERASE, "erasure", aliceIds));
    await current().stream(ERASE);
    await current().call("POST", "/requests", body(ACCESS, "access", { userIds: [SUBJECTS.bob.userId] }));
    await current().stream(ACCESS);
    const everything = [
      current().aws.storedText(),
      ...current().aws.received.map((r) => r.body.toString("utf8")),
      ...current().athena.executions.map((e) => `${e.sql} ${e.parameters.join(" ")}`),
    ].join("\n");
    expect(everything).to.include(h(alice.userId));
    for (const v of [...Object.values(alice), SUBJECTS.bob.userId]) expect(everything).to.not.include(v);
  });
});

describe("subject-rights SQL building", () => {
  const t = REGISTRY.tables[0];

  it("quotes only plain identifiers and refuses anything else", () => {
    expect(quoteIdentifier("dev_eu_curated")).to.equal('"dev_eu_curated"');
    for (const bad of ['a"b', "a b", "A", "1a", "a;drop", ""])
      expect(() => quoteIdentifier(bad), bad).to.throw(/plain identifier/);
  });

  it("refuses a literal that is not a pseudonym", () => {
    expect(hexLiteral("ab".repeat(32))).to.equal(`'${"ab".repeat(32)}'`);
    for (const bad of ["' OR '1'='1", "AB".repeat(32), "ab".repeat(31)])
      expect(() => hexLiteral(bad)).to.throw(/not a pseudonym/);
  });

  it("puts one parameter per column and pseudonym, in order", () => {
    const s = selectStatement(t, ["a".repeat(64), "b".repeat(64)]);
    expect(s.sql).to.equal(`SELECT * FROM "${CURATED}"."customers" WHERE "customer_id" IN (?, ?) OR "email" IN (?, ?)`);
    expect(s.parameters).to.deep.equal([
      `'${"a".repeat(64)}'`,
      `'${"b".repeat(64)}'`,
      `'${"a".repeat(64)}'`,
      `'${"b".repeat(64)}'`,
    ]);
  });

  it("rejects a registry whose names could not be identifiers, with every problem", () => {
    const bad = JSON.stringify({
      cell: "eu",
      tables: [
        {
          cloud: "aws",
          dataset: "Curated-DB",
          table: "t;x",
          subjectColumns: ["ok", "bad col"],
          dataClass: "curated",
          holds: "x",
        },
        { cloud: "gcp", dataset: "no-dot", table: "t", subjectColumns: [], dataClass: "curated", holds: "x" },
      ],
      prefixes: [],
    });
    expect(() => parseRegistry(bad)).to.throw(
      [
        "personal-data registry is invalid:",
        "  tables.0.dataset: 'Curated-DB' is not a lower-case identifier matching /^[a-z_][a-z0-9_]*$/",
        "  tables.0.table: 't;x' is not a plain identifier (/^[a-z_][a-z0-9_]*$/)",
        "  tables.0.subjectColumns.1: 'bad col' is not a plain identifier (/^[a-z_][a-z0-9_]*$/)",
        "  tables.1.subjectColumns: a table needs at least one subject column or text column",
        "  tables.1.dataset: 'no-dot' is not <project>.<dataset> (project id and dataset id)",
      ].join("\n"),
    );
  });
});
