/**
 * The AWS worker on a table whose subject appears only inside text: a schemaless Kafka landing table
 * (components/aws/sources/kafka/topic-tables.ts: the event as JSON text in `payload`), registered with
 * `textColumns: ["payload"]`. End to end on loopback as aws-worker.test.ts (intake, stream, Athena on
 * DuckDB): erasure deletes exactly the events whose text holds one of the subject's pseudonyms, a re-run
 * changes nothing, an access export holds those events and nobody else's.
 */
import { expect } from "chai";
import { countStatement, deleteStatement, selectStatement } from "../../functions/subject-rights/athena";
import { parseRegistry, type RegisteredTable } from "../../functions/subject-rights/registry";
import { body, CURATED, EXPORTS_BUCKET, freshCellPerTest, h, REGISTRY, SUBJECTS } from "./aws-harness";

const ERASE = "3d91ad7f-4e50-4f61-9c73-8d9e0f1a2b34";
const ACCESS = "4ea2be80-5f61-4072-8d84-9e0f1a2b3c45";
const TABLE = "partner_events_partner_clicks";
const alice = SUBJECTS.alice;
const aliceIds = { userIds: [alice.userId], anonymousIds: [alice.anonymousId], emails: [alice.email] };

/** The landing table as topic-tables.ts declares it and event-stream.ts registers it. */
const LANDING: RegisteredTable = parseRegistry(
  JSON.stringify({
    cell: "eu",
    tables: [
      {
        cloud: "aws",
        dataset: CURATED,
        table: TABLE,
        subjectColumns: [],
        textColumns: ["payload"],
        dataClass: "curated",
        holds: "Events of Kafka topic partner-clicks, as received",
      },
    ],
    prefixes: [],
  }),
).tables[0];

/** Events by Kafka offset: alice's are 1-3 (the third with her e-mail pseudonym in upper case). */
const EVENTS: Record<number, string | null> = {
  1: JSON.stringify({ type: "track", userId: h(alice.userId), event: "Cart Added" }),
  2: JSON.stringify({ type: "page", anonymousId: h(alice.anonymousId), name: "Home" }),
  3: JSON.stringify({ type: "identify", traits: JSON.stringify({ email: h(alice.email).toUpperCase() }) }),
  4: JSON.stringify({ type: "track", userId: h(SUBJECTS.bob.userId), event: "Cart Added" }),
  5: JSON.stringify({ type: "page", anonymousId: h(SUBJECTS.carol.anonymousId) }),
  // Without consent: an anonymous count, no identifier.
  6: JSON.stringify({ type: "page", consent: "denied" }),
  7: null,
  // Half of her pseudonym is not her pseudonym: the match needs all 64 digits.
  8: JSON.stringify({ type: "track", properties: JSON.stringify({ ref: h(alice.userId).slice(0, 32) }) }),
};
const ALICE_OFFSETS = [1, 2, 3];

describe("subject-rights AWS worker on a schemaless Kafka table (text match, Athena on DuckDB)", () => {
  const current = freshCellPerTest();

  beforeEach(async () => {
    const db = current().athena.db;
    await db.run(
      `CREATE TABLE ${CURATED}.${TABLE} (payload VARCHAR, kafka_partition INTEGER, kafka_offset BIGINT, arrived_at TIMESTAMP)`,
    );
    for (const [offset, payload] of Object.entries(EVENTS))
      await db.run(`INSERT INTO ${CURATED}.${TABLE} VALUES (?, 0, ?, TIMESTAMP '2026-11-20 10:00:00')`, [
        payload,
        BigInt(offset),
      ]);
    current().worker = { ...current().worker, registry: { ...REGISTRY, tables: [...REGISTRY.tables, LANDING] } };
  });

  const offsets = async (): Promise<number[]> =>
    (await current().athena.rows(CURATED, TABLE)).map((r) => Number(r.kafka_offset)).sort((a, b) => a - b);

  it("erases exactly the events whose payload holds one of the subject's pseudonyms", async () => {
    expect((await current().call("POST", "/requests", body(ERASE, "erasure", aliceIds))).status).to.equal(202);
    await current().stream(ERASE);
    const all = Object.keys(EVENTS).map(Number);
    expect(await offsets()).to.deep.equal(all.filter((o) => !ALICE_OFFSETS.includes(o)));
    const item = current().item(ERASE);
    expect(item.awsStatus).to.equal("done");
    expect(item.awsResult!.tables.find((t) => t.table === `${CURATED}.${TABLE}`)).to.deep.equal({
      table: `${CURATED}.${TABLE}`,
      holds: LANDING.holds,
      dataClass: "curated",
      rows: 3,
    });
    // The DELETE matched by substring, with checked hex literals only (Athena takes no parameters there).
    const deletes = current()
      .athena.executions.filter((e) => e.sql.startsWith(`DELETE FROM "${CURATED}"."${TABLE}"`))
      .map((e) => e.sql);
    expect(deletes).to.have.length(1);
    expect(deletes[0]).to.include(`strpos(lower("payload"), '${h(alice.userId)}') > 0`);
    for (const l of deletes[0].match(/'[^']*'/g) ?? []) expect(l).to.match(/^'[0-9a-f]{64}'$/);
  });

  it("changes nothing when the erasure runs again: no DELETE, 0 rows, the same table", async () => {
    await current().call("POST", "/requests", body(ERASE, "erasure", aliceIds));
    await current().stream(ERASE);
    const once = await current().athena.rows(CURATED, TABLE);
    const queries = current().athena.executions.length;
    await current().stream(ERASE);
    expect(await current().athena.rows(CURATED, TABLE)).to.deep.equal(once);
    const rerun = current().athena.executions.slice(queries);
    expect(rerun.filter((e) => /^(DELETE|INSERT)/.test(e.sql))).to.deep.equal([]);
    const audit = current().auditRecords(ERASE);
    expect(audit[audit.length - 1].record).to.include({ event: "aws-done", rows: 0 });
  });

  it("exports the subject's events with their text, nobody else's, and erases nothing", async () => {
    const before = await current().athena.rows(CURATED, TABLE);
    await current().call("POST", "/requests", body(ACCESS, "access", aliceIds));
    await current().stream(ACCESS);
    expect(await current().athena.rows(CURATED, TABLE)).to.deep.equal(before);
    const key = `${EXPORTS_BUCKET}/requests/${ACCESS}/aws/${CURATED}.${TABLE}.jsonl`;
    const lines = current()
      .aws.objects.get(key)!
      .body.toString("utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.kafka_offset).sort()).to.deep.equal(ALICE_OFFSETS);
    expect(lines.map((l) => l.payload).sort()).to.deep.equal(ALICE_OFFSETS.map((o) => EVENTS[o]).sort());
    const exported = lines.map((l) => String(l.payload)).join("\n");
    expect(exported).to.not.include(h(SUBJECTS.bob.userId));
    expect(exported).to.not.include(h(SUBJECTS.carol.anonymousId));
    expect(
      current()
        .item(ACCESS)
        .awsResult!.exports.find((e) => e.table === `${CURATED}.${TABLE}`)?.rows,
    ).to.equal(3);
  });

  it("builds the text predicate: parameters in order for count and export, hex literals for DELETE", () => {
    const [a, b] = ["a".repeat(64), "b".repeat(64)];
    const both: RegisteredTable = { ...LANDING, subjectColumns: ["customer_pseudo_id"] };
    const select = selectStatement(both, [a, b]);
    expect(select.sql).to.equal(
      `SELECT * FROM "${CURATED}"."${TABLE}" WHERE "customer_pseudo_id" IN (?, ?) OR ` +
        `strpos(lower("payload"), ?) > 0 OR strpos(lower("payload"), ?) > 0`,
    );
    expect(select.parameters).to.deep.equal([`'${a}'`, `'${b}'`, `'${a}'`, `'${b}'`]);
    expect(countStatement(LANDING, [a]).parameters).to.deep.equal([`'${a}'`]);
    expect(deleteStatement(LANDING, [a, b])).to.deep.equal({
      sql: `DELETE FROM "${CURATED}"."${TABLE}" WHERE strpos(lower("payload"), '${a}') > 0 OR strpos(lower("payload"), '${b}') > 0`,
      parameters: [],
    });
    // Only pseudonyms become literals.
    expect(() => deleteStatement(LANDING, ["' OR '1'='1"])).to.throw(/not a pseudonym/);
    expect(() => deleteStatement({ ...LANDING, textColumns: ['payload") > 0 OR ("1'] }, [a])).to.throw(
      /plain identifier/,
    );
  });
});
