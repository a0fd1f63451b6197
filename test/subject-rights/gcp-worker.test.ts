/**
 * The GCP worker (issue 14, items 4-6) with the real `@google-cloud/bigquery` and `@google-cloud/storage`
 * clients against loopback fakes, the SQL executed on DuckDB tables seeded with several subjects:
 * erasure removes the subject from every registered BigQuery table and nobody else; re-running changes
 * nothing; an unknown subject completes with zero rows; access exports exactly the subject's rows; the
 * suppression object gains the pseudonyms once, before the DELETEs; a late event that reached BigQuery
 * after the first pass is removed by the second; a failing table leaves the request pending.
 */
import { expect } from "chai";
import { subjectSql, TableNameError } from "../../functions/subject-rights/bigquery";
import { ERASURE_SETTLE_MS, exportLink, runGcpWorker } from "../../functions/subject-rights/gcp-worker";
import { SUPPRESSION_OBJECT } from "../../functions/subject-rights/registry";
import { parseSuppressionList } from "../../functions/subject-rights/suppression";
import {
  EVENTS,
  EXPORTS_BUCKET,
  type GcpWorld,
  gcpWorld,
  ORDERS,
  pseudo,
  REGISTRY,
  request,
  SUPPRESSION_BUCKET,
} from "./gcp-helpers";

/** An erasure's two passes: the first now, the second once the settle time is over. */
async function erase(w: GcpWorld): Promise<void> {
  await runGcpWorker(w.deps);
  w.advance(ERASURE_SETTLE_MS);
  await runGcpWorker(w.deps);
}

describe("subject rights: GCP worker on BigQuery (DuckDB) and GCS", function () {
  this.timeout(30_000);
  let w: GcpWorld;

  beforeEach(async () => {
    w = await gcpWorld();
  });
  afterEach(() => w.close());

  it("erasure: the subject is gone from every registered table, everyone else's rows intact", async () => {
    const beforeEvents = await w.bq.rows(EVENTS);
    const beforeOrders = await w.bq.rows(ORDERS);
    const alice = request("erasure", ["alice", "alice-anon"]);
    w.requests.add(alice);

    const summary = await runGcpWorker(w.deps);
    expect(summary).to.deep.equal({ done: [], firstPass: [alice.requestId], waiting: [], failed: [], skipped: [] });
    // The suppression object was written before any DELETE ran.
    const firstDelete = w.bq.statements.findIndex((q) => q.startsWith("DELETE"));
    expect(firstDelete).to.be.greaterThan(0);
    expect(w.gcs.calls.filter((c) => c.startsWith("UPLOAD"))).to.have.length(1);
    expect(w.requests.items.get(alice.requestId)!.gcpStatus).to.equal("pending");
    // Too early for the second pass: nothing runs.
    const statementsAfterFirst = w.bq.statements.length;
    expect((await runGcpWorker(w.deps)).waiting).to.deep.equal([alice.requestId]);
    expect(w.bq.statements.length).to.equal(statementsAfterFirst);
    w.advance(ERASURE_SETTLE_MS);
    expect((await runGcpWorker(w.deps)).done).to.deep.equal([alice.requestId]);

    const mine = new Set(alice.pseudonyms);
    const isAlice = (r: Record<string, unknown>, cols: string[]) => cols.some((c) => mine.has(r[c] as string));
    expect(await w.bq.rows(EVENTS)).to.deep.equal(beforeEvents.filter((r) => !isAlice(r, ["user_id", "anonymous_id"])));
    expect(await w.bq.rows(ORDERS)).to.deep.equal(beforeOrders.filter((r) => !isAlice(r, ["customer"])));
    // m1 (both ids) and m2 (anonymous id only); o1 and o3.
    expect((await w.bq.rows(EVENTS)).map((r) => r.message_id)).to.deep.equal(["m3", "m4", "m5", "m6"]);

    const stored = w.requests.items.get(alice.requestId)!;
    expect(stored.gcpStatus).to.equal("done");
    expect(stored.firstPass!.tables.map((t) => [t.table, t.rows])).to.deep.equal([
      [EVENTS, 2],
      [ORDERS, 2],
    ]);
    expect(stored.firstPass!.suppressed).to.equal(2);
    // The second pass found nothing left.
    expect(stored.result!.tables.map((t) => t.rows)).to.deep.equal([0, 0]);
    expect(stored.result!.suppressed).to.equal(0);
    expect(parseSuppressionList(w.gcs.text(SUPPRESSION_BUCKET, SUPPRESSION_OBJECT)!)).to.deep.equal([...mine].sort());

    // The audit record says what was found where, for which request.
    const audits = [...w.audit.records.entries()];
    expect(audits.map(([k]) => k.replace(/\/[^/]+-gcp-/, "/<ts>-gcp-"))).to.deep.equal([
      `requests/${alice.requestId}/<ts>-gcp-first-pass.json`,
      `requests/${alice.requestId}/<ts>-gcp-done.json`,
    ]);
    expect(audits[0][0]).to.equal(`requests/${alice.requestId}/2026-12-04T04:00:01.000Z-gcp-first-pass.json`);
    expect(audits[0][1]).to.include({ requestId: alice.requestId, cloud: "gcp", kind: "erasure", cell: "eu" });

    // Values travel as the ARRAY<STRING> parameter only, never in the SQL text.
    for (const sql of w.bq.statements) for (const p of mine) expect(sql).to.not.include(p);
    expect(w.bq.parameters.every((p) => JSON.stringify(p.pseudonyms) === JSON.stringify(alice.pseudonyms))).to.equal(
      true,
    );
    expect(w.bq.statements.filter((s) => s.startsWith("DELETE"))).to.have.length(2);
  });

  it("an event that reached BigQuery after the first pass is deleted by the second", async () => {
    const carol = request("erasure", ["carol"]);
    w.requests.add(carol);
    await runGcpWorker(w.deps);
    // Accepted by the collector before it re-read the list, delivered by the pipeline after the DELETE.
    await w.bq.db.run(
      `INSERT INTO "${EVENTS}" VALUES ('m9', '${pseudo("carol")}', NULL, 'Late', 9, TIMESTAMP '2026-12-04 04:00:30')`,
    );
    w.advance(ERASURE_SETTLE_MS);
    expect((await runGcpWorker(w.deps)).done).to.deep.equal([carol.requestId]);
    expect(w.requests.items.get(carol.requestId)!.result!.tables.map((t) => t.rows)).to.deep.equal([1, 0]);
    expect((await w.bq.rows(EVENTS)).map((r) => r.message_id)).to.deep.equal(["m1", "m2", "m3", "m5", "m6"]);
  });

  it("re-running an erasure changes nothing: zero rows, no DELETE, no new suppression write", async () => {
    const bob = request("erasure", ["bob"]);
    w.requests.add(bob);
    await erase(w);
    expect(w.requests.items.get(bob.requestId)!.gcpStatus).to.equal("done");
    const events = await w.bq.rows(EVENTS);
    const orders = await w.bq.rows(ORDERS);
    const generation = w.gcs.objects.get(`${SUPPRESSION_BUCKET}/${SUPPRESSION_OBJECT}`)!.generation;
    const statements = w.bq.statements.length;

    w.requests.reopen(bob.requestId);
    const summary = await runGcpWorker(w.deps);
    expect(summary.done).to.deep.equal([bob.requestId]);
    expect(await w.bq.rows(EVENTS)).to.deep.equal(events);
    expect(await w.bq.rows(ORDERS)).to.deep.equal(orders);
    const again = w.requests.items.get(bob.requestId)!.result!;
    expect(again.tables.map((t) => t.rows)).to.deep.equal([0, 0]);
    expect(again.suppressed).to.equal(0);
    expect(w.bq.statements.slice(statements).every((s) => s.startsWith("SELECT COUNT(*)"))).to.equal(true);
    expect(w.gcs.objects.get(`${SUPPRESSION_BUCKET}/${SUPPRESSION_OBJECT}`)!.generation).to.equal(generation);
    // Each pass leaves its own audit record (append-only), the re-run's saying 0 rows.
    expect(w.audit.records.size).to.equal(3);
  });

  it("an unknown subject completes with zero rows and touches nothing", async () => {
    const events = await w.bq.rows(EVENTS);
    const orders = await w.bq.rows(ORDERS);
    const nobody = request("erasure", ["nobody@example.com"]);
    w.requests.add(nobody);
    await erase(w);
    expect(w.requests.items.get(nobody.requestId)!.gcpStatus).to.equal("done");
    expect(w.requests.items.get(nobody.requestId)!.result!.tables.map((t) => t.rows)).to.deep.equal([0, 0]);
    expect(await w.bq.rows(EVENTS)).to.deep.equal(events);
    expect(await w.bq.rows(ORDERS)).to.deep.equal(orders);
    expect(w.bq.statements.some((s) => s.startsWith("DELETE"))).to.equal(false);
  });

  it("access: exports exactly the subject's rows per table, linked, and deletes nothing", async () => {
    const events = await w.bq.rows(EVENTS);
    const bob = request("access", ["bob", "bob-anon"]);
    w.requests.add(bob);
    expect((await runGcpWorker(w.deps)).done).to.deep.equal([bob.requestId]);
    expect(await w.bq.rows(EVENTS)).to.deep.equal(events);

    const result = w.requests.items.get(bob.requestId)!.result!;
    const object = `requests/${bob.requestId}/gcp/${EVENTS}.jsonl`;
    expect(result.exports.map((e) => e.object)).to.deep.equal([
      `gs://${EXPORTS_BUCKET}/${object}`,
      `gs://${EXPORTS_BUCKET}/requests/${bob.requestId}/gcp/${ORDERS}.jsonl`,
    ]);
    expect(result.exports[0].link).to.equal(`https://storage.cloud.google.com/${EXPORTS_BUCKET}/${object}`);
    expect(exportLink(EXPORTS_BUCKET, object)).to.equal(result.exports[0].link);

    const lines = w.gcs
      .text(EXPORTS_BUCKET, object)!
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.message_id).sort()).to.deep.equal(["m3", "m6"]);
    expect(lines.find((l) => l.message_id === "m3")).to.deep.equal({
      message_id: "m3",
      user_id: pseudo("bob"),
      anonymous_id: pseudo("bob-anon"),
      event: "Signed In",
      amount: 3,
      received_at: "2026-11-02T09:00:00.000Z",
    });
    const orders = w.gcs.text(EXPORTS_BUCKET, `requests/${bob.requestId}/gcp/${ORDERS}.jsonl`)!.trim().split("\n");
    expect(orders.map((l) => JSON.parse(l) as unknown)).to.deep.equal([
      { order_id: "o2", customer: pseudo("bob"), total: 20 },
    ]);
    // No suppression for an access request.
    expect(w.gcs.objects.has(`${SUPPRESSION_BUCKET}/${SUPPRESSION_OBJECT}`)).to.equal(false);
  });

  it("a failing table leaves the request pending with the error; the next run completes it", async () => {
    const carol = request("erasure", ["carol"]);
    w.requests.add(carol);
    w.bq.failOn = /^DELETE FROM `lake-eu-prod\.curated\.orders`/;
    const first = await runGcpWorker(w.deps);
    expect(first.firstPass).to.deep.equal([]);
    expect(first.failed.map((f) => f.requestId)).to.deep.equal([carol.requestId]);
    expect(w.requests.items.get(carol.requestId)!.gcpStatus).to.equal("pending");
    expect(w.requests.items.get(carol.requestId)!.firstPass).to.equal(undefined);
    expect(w.audit.records.size).to.equal(0);

    w.bq.failOn = undefined;
    const second = await runGcpWorker(w.deps);
    expect(second.firstPass).to.deep.equal([carol.requestId]);
    // The events row went in the failed run, the order in this one.
    expect(w.requests.items.get(carol.requestId)!.firstPass!.tables.map((t) => t.rows)).to.deep.equal([0, 1]);
    expect((await w.bq.rows(ORDERS)).map((r) => r.order_id)).to.deep.equal(["o1", "o2", "o3"]);
  });

  it("refuses a registry identifier that would not be a plain name, before touching any request", async () => {
    const bad = { ...REGISTRY, tables: [{ ...REGISTRY.tables[0], table: "events` WHERE TRUE --" }] };
    w.requests.add(request("erasure", ["alice"]));
    let caught: unknown;
    await runGcpWorker({ ...w.deps, registry: bad }).catch((e: unknown) => (caught = e));
    expect(caught).to.be.instanceOf(TableNameError);
    expect(w.bq.statements).to.deep.equal([]);
  });

  it("writes one predicate per subject column, every value a parameter", () => {
    expect(subjectSql(REGISTRY.tables[0]).delete).to.equal(
      "DELETE FROM `lake-eu-prod.clickstream.events` WHERE `received_at` >= TIMESTAMP '1970-01-01 00:00:00' AND (`user_id` IN UNNEST(@pseudonyms) OR `anonymous_id` IN UNNEST(@pseudonyms))",
    );
  });
});

describe("subject rights: BigQuery statements on a table that requires a partition filter", () => {
  it("carry a constant bound on the partition column, and the fake refuses a statement without one", async () => {
    const events = REGISTRY.tables.find((t) => t.table === "events")!;
    for (const sql of Object.values(subjectSql(events)))
      expect(sql).to.match(/`received_at` >= TIMESTAMP '1970-01-01 00:00:00' AND \(/);
    const w = await gcpWorld();
    try {
      const bare = { ...events };
      delete (bare as { partitionFilterColumn?: string }).partitionFilterColumn;
      let refused = "";
      try {
        await w.deps.tables.count(bare, [pseudo("alice")]);
      } catch (e) {
        refused = String(e);
      }
      expect(refused).to.match(/without a filter over column\(s\) 'received_at'/);
    } finally {
      await w.close();
    }
  });
});
