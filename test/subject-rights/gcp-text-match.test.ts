/**
 * The GCP worker on the clickstream dead-letter table (components/gcp/clickstream/clickstream-table.ts):
 * failed collector messages kept as text (`payloadString`, `payloadBytes`) with the error, registered with
 * those as `textColumns`. With the real `@google-cloud/bigquery` client against the loopback fake (SQL on
 * DuckDB): erasure deletes exactly the messages whose text holds one of the subject's pseudonyms, a re-run
 * changes nothing, an access export holds those messages and nobody else's, and the pseudonyms travel as
 * the one ARRAY<STRING> parameter.
 */
import { expect } from "chai";
import { subjectSql } from "../../functions/subject-rights/bigquery";
import { ERASURE_SETTLE_MS, runGcpWorker } from "../../functions/subject-rights/gcp-worker";
import type { RegisteredTable } from "../../functions/subject-rights/registry";
import { FakeBigQuery } from "./fake-bigquery";
import { EXPORTS_BUCKET, gcpWorld, PROJECT, pseudo, REGISTRY, request, type GcpWorld } from "./gcp-helpers";

const DEADLETTER = `${PROJECT}.clickstream.events_deadletter`;
const ENTRY: RegisteredTable = {
  cloud: "gcp",
  dataset: `${PROJECT}.clickstream`,
  table: "events_deadletter",
  subjectColumns: [],
  textColumns: ["payloadString", "payloadBytes", "errorMessage"],
  dataClass: "clickstream",
  holds: "Collector messages the pipeline could not load, as text",
};

/** A collector message as published: identifiers are pseudonyms (functions/collector/event.ts). */
const message = (fields: Record<string, string>): string =>
  JSON.stringify({ messageId: "x", type: "track", receivedAt: "2026-11-30T10:00:00Z", ...fields });

/** Dead letters by id: alice's are d1-d3; d3 has her pseudonym in the bytes only, and in upper case. */
const ROWS: [id: string, payloadString: string | null, payloadBytes: string | null, errorMessage: string][] = [
  ["d1", message({ userId: pseudo("alice") }), message({ userId: pseudo("alice") }), "receivedAt is not a date"],
  ["d2", message({ anonymousId: pseudo("alice-anon") }), null, "type missing"],
  ["d3", null, message({ previousId: pseudo("alice").toUpperCase() }), "payload is not a JSON object"],
  ["d4", message({ userId: pseudo("bob") }), message({ userId: pseudo("bob") }), "receivedAt is not a date"],
  ["d5", "not json at all", "not json at all", "payload is not a JSON object"],
  // Part of her pseudonym is not her pseudonym.
  ["d6", message({ userId: pseudo("alice").slice(0, 40) }), null, "messageId missing"],
];
const ALICE = ["d1", "d2", "d3"];

describe("subject rights: GCP worker on the clickstream dead letters (text match, BigQuery on DuckDB)", function () {
  this.timeout(30_000);
  let w: GcpWorld;

  beforeEach(async () => {
    w = await gcpWorld();
    // The template's dead-letter shape (attributes left out: the pipeline's messageId only).
    await w.bq.db.run(
      `CREATE TABLE ${FakeBigQuery.table(DEADLETTER)} ("timestamp" TIMESTAMP, id VARCHAR, "payloadString" VARCHAR, "payloadBytes" BLOB, "errorMessage" VARCHAR, stacktrace VARCHAR)`,
    );
    for (const [id, text, bytes, error] of ROWS)
      await w.bq.db.run(
        `INSERT INTO ${FakeBigQuery.table(DEADLETTER)} VALUES (TIMESTAMP '2026-11-30 10:00:00', ?, ?, ?::BLOB, ?, NULL)`,
        [id, text, bytes, error],
      );
    w.deps = { ...w.deps, registry: { ...REGISTRY, tables: [...REGISTRY.tables, ENTRY] } };
  });
  afterEach(() => w.close());

  const ids = async (): Promise<string[]> => (await w.bq.rows(DEADLETTER)).map((r) => String(r.id)).sort();

  it("erasure deletes exactly the dead letters whose text holds the subject's pseudonyms; a re-run changes nothing", async () => {
    const alice = request("erasure", ["alice", "alice-anon"]);
    w.requests.add(alice);
    await runGcpWorker(w.deps);
    w.advance(ERASURE_SETTLE_MS);
    expect((await runGcpWorker(w.deps)).done).to.deep.equal([alice.requestId]);
    expect(await ids()).to.deep.equal(["d4", "d5", "d6"]);
    const stored = w.requests.items.get(alice.requestId)!;
    expect(stored.firstPass!.tables.find((t) => t.table === DEADLETTER)?.rows).to.equal(ALICE.length);
    expect(stored.result!.tables.find((t) => t.table === DEADLETTER)?.rows).to.equal(0);
    // Values only as the ARRAY<STRING> parameter.
    for (const sql of w.bq.statements) for (const p of alice.pseudonyms) expect(sql).to.not.include(p);

    const rows = await w.bq.rows(DEADLETTER);
    const statements = w.bq.statements.length;
    w.requests.reopen(alice.requestId);
    expect((await runGcpWorker(w.deps)).done).to.deep.equal([alice.requestId]);
    expect(await w.bq.rows(DEADLETTER)).to.deep.equal(rows);
    expect(w.bq.statements.slice(statements).every((s) => s.startsWith("SELECT COUNT(*)"))).to.equal(true);
  });

  it("access exports the subject's dead letters with their text, nobody else's, and deletes nothing", async () => {
    const alice = request("access", ["alice", "alice-anon"]);
    w.requests.add(alice);
    expect((await runGcpWorker(w.deps)).done).to.deep.equal([alice.requestId]);
    expect(await ids()).to.deep.equal(ROWS.map((r) => r[0]).sort());
    const text = w.gcs.text(EXPORTS_BUCKET, `requests/${alice.requestId}/gcp/${DEADLETTER}.jsonl`)!;
    const lines = text
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.id).sort()).to.deep.equal(ALICE);
    expect(lines.find((l) => l.id === "d1")?.payloadString).to.equal(ROWS[0][1]);
    expect(text).to.not.include(pseudo("bob"));
    const result = w.requests.items.get(alice.requestId)!.result!;
    expect(result.exports.find((e) => e.table === DEADLETTER)?.rows).to.equal(ALICE.length);
  });

  it("an unknown subject finds no dead letter", async () => {
    const nobody = request("erasure", ["nobody"]);
    w.requests.add(nobody);
    await runGcpWorker(w.deps);
    w.advance(ERASURE_SETTLE_MS);
    await runGcpWorker(w.deps);
    expect(await ids()).to.deep.equal(ROWS.map((r) => r[0]).sort());
    expect(w.bq.statements.some((s) => s.startsWith("DELETE"))).to.equal(false);
  });

  it("writes one EXISTS over the parameter per text column, after the key columns", () => {
    expect(
      subjectSql({ ...ENTRY, subjectColumns: ["user_pseudo_id"], textColumns: ["payloadString"] }).delete,
    ).to.equal(
      "DELETE FROM `lake-eu-prod.clickstream.events_deadletter` WHERE `user_pseudo_id` IN UNNEST(@pseudonyms) OR " +
        "EXISTS(SELECT 1 FROM UNNEST(@pseudonyms) AS p WHERE STRPOS(LOWER(SAFE_CAST(`payloadString` AS STRING)), p) > 0)",
    );
    expect(() => subjectSql({ ...ENTRY, textColumns: ["payload` OR TRUE --"] })).to.throw(/not a plain name/);
    expect(() => subjectSql({ ...ENTRY, textColumns: [] })).to.throw(/no subject or text column/);
  });
});
