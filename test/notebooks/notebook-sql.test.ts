/**
 * Every SQL query of the notebooks runs, on DuckDB, over events shaped like the clickstream table (the
 * view tests' translation and fixture shape: ../helpers/bigquery-duckdb.ts): the exploration queries, and the
 * training query, whose point-in-time features must equal the features view's when the snapshot is
 * "now" (training and serving compute the same features) and whose next order gives the label.
 */
import { expect } from "chai";
import type { DuckDBConnection } from "@duckdb/node-api";
import { userFeaturesSql, type ViewSqlOptions } from "../../components/gcp/clickstream/view-sql";
import { ofType, planOf } from "../helpers/plan";
import { rowsOf, toDuckDb, withEvents, type Ev, type Param } from "../helpers/bigquery-duckdb";
import { notebookFiles, readNotebook, sqlConstants } from "./notebooks";
import { modelFeatures } from "../../tools/data-dictionary";

const NOW = "2026-11-26 12:00:00";
const EVENTS = "proj.clickstream_raw.events";
const FEATURES = "proj.clickstream_views.user_features";
/** The features view as the program defines it (30-day look-back: marketing-views.ts default). */
const VIEW: ViewSqlOptions = { eventsTable: EVENTS, lookbackDays: 2, featureLookbackDays: 30, lastCategories: 5 };
const at = (s: string) => new Date(`${s.replace(" ", "T")}Z`);

/** All `*_SQL` constants of all notebooks, by name (names are unique across notebooks). */
function allQueries(): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of notebookFiles()) {
    for (const [name, sql] of sqlConstants(readNotebook(f))) {
      expect(out.has(name), `${name} declared twice`).to.equal(false);
      out.set(name, sql);
    }
  }
  return out;
}

const viewed = (id: string, user: string, when: string, category: string): Ev => ({
  id,
  user,
  at: when,
  name: "Product Viewed",
  props: { category },
});

/**
 * A: views, adds to cart, buys on the 24th at 20:00, views again this morning.
 * B: a page on the 23rd, a view on the 25th (plus a denied one), buys at 11:30 today (sent twice).
 * C: a device only (anonymous), a page on the 24th at 06:00, buys the next morning.
 * D: active only long ago (outside every look-back).
 */
const FIXTURE: Ev[] = [
  viewed("a1", "A", "2026-11-20 10:00:00", "shoes"),
  { id: "a2", user: "A", at: "2026-11-24 09:00:00", name: "Product Added", props: { category: "shoes" } },
  { id: "a3", user: "A", at: "2026-11-24 20:00:00", name: "Order Completed", props: { revenue: 50 } },
  viewed("a4", "A", "2026-11-26 11:00:00", "hats"),
  { id: "b1", user: "B", at: "2026-11-23 10:00:00", type: "page", path: "/home" },
  viewed("b2", "B", "2026-11-25 10:00:00", "bags"),
  { id: "b3", user: "B", at: "2026-11-25 10:05:00", name: "Product Viewed", consent: "denied" },
  { id: "b4", user: "B", at: "2026-11-26 11:30:00", name: "Order Completed", props: { revenue: "20.5" } },
  {
    id: "b4",
    user: "B",
    at: "2026-11-26 11:30:00",
    name: "Order Completed",
    props: { revenue: "20.5" },
    received: "2026-11-26 11:30:09",
  },
  { id: "c1", anon: "C", at: "2026-11-24 06:00:00", type: "page", path: "/landing" },
  { id: "c2", anon: "C", at: "2026-11-25 07:00:00", name: "Order Completed", props: { revenue: 10 } },
  viewed("d1", "D", "2026-10-01 10:00:00", "old"),
];

/** Runs a notebook query over the fixture: tables named, parameters bound, "now" pinned. */
async function run(c: DuckDBConnection, sql: string, params: Record<string, Param> = {}) {
  const bigQuery = sql.split("{events_table}").join(EVENTS).split("{features_view}").join(FEATURES);
  return rowsOf(
    c,
    toDuckDb(bigQuery, { now: NOW, tables: { [EVENTS]: "events_src", [FEATURES]: "features_view" }, params }),
  );
}

async function withFixture(body: (c: DuckDBConnection) => Promise<void>): Promise<void> {
  await withEvents(FIXTURE, async (c) => {
    const view = toDuckDb(userFeaturesSql(VIEW), { now: NOW, tables: { [EVENTS]: "events_src" } });
    await c.run(`CREATE VIEW features_view AS ${view}`);
    await body(c);
  });
}

const n = (v: unknown) => Number(v);

describe("notebook SQL, executed on DuckDB", () => {
  const queries = allQueries();

  it("the notebooks declare their queries as *_SQL constants, and each is covered here", () => {
    expect([...queries.keys()].sort()).to.deep.equal([
      "EVENTS_BY_DAY_SQL",
      "FEATURES_BY_ACTIVITY_SQL",
      "FEATURES_FRESHNESS_SQL",
      "FEATURES_SUMMARY_SQL",
      "SAMPLE_VISITORS_SQL",
      "TOP_EVENTS_SQL",
      "TRAINING_SQL",
    ]);
  });

  it("every query of the events table filters its partitioning column (the table requires it)", () => {
    const onEvents = [...queries].filter(([, sql]) => sql.includes("{events_table}"));
    expect(onEvents.length).to.be.greaterThan(2);
    for (const [name, sql] of onEvents) {
      expect(sql, name).to.match(/FROM `\{events_table\}`\s+WHERE event_timestamp >= /);
    }
  });

  it("exploration: events per day and type, top events (consented, de-duplicated)", async () => {
    await withFixture(async (c) => {
      const byDay = await run(c, queries.get("EVENTS_BY_DAY_SQL")!, { days: 2 });
      const today = byDay.filter((r) => String(r.day) === "2026-11-26" && r.event_type === "track");
      expect(today.map((r) => [n(r.events), n(r.messages), n(r.consented)])).to.deep.equal([[3, 2, 3]]);
      expect(byDay.every((r) => String(r.day) >= "2026-11-24")).to.equal(true);
      const top = await run(c, queries.get("TOP_EVENTS_SQL")!, { days: 7 });
      expect(top.map((r) => [r.event_name, n(r.events)])).to.deep.equal([
        ["Order Completed", 3],
        ["Product Viewed", 3],
        ["Product Added", 1],
      ]);
    });
  });

  it("exploration: the features summary, by activity, and freshness", async () => {
    await withFixture(async (c) => {
      const [summary] = await run(c, queries.get("FEATURES_SUMMARY_SQL")!);
      expect(n(summary.visitors)).to.equal(3); // A, B, C; D is outside the 30 days
      expect(n(summary.buyers)).to.equal(3);
      expect(n(summary.cart_adders)).to.equal(1);
      expect(n(summary.buyer_rate)).to.equal(1);
      const byActivity = await run(c, queries.get("FEATURES_BY_ACTIVITY_SQL")!);
      expect(byActivity.map((r) => [n(r.active_days_capped), n(r.visitors)])).to.deep.equal([
        [2, 1], // C: the 24th and the 25th
        [3, 2], // A: the 20th, 24th (twice), 26th; B: the 23rd, 25th, 26th
      ]);
      const [fresh] = await run(c, queries.get("FEATURES_FRESHNESS_SQL")!);
      expect(n(fresh.seconds_behind)).to.equal(30 * 60); // B's order at 11:30
      const sample = await run(c, queries.get("SAMPLE_VISITORS_SQL")!, { visitors: 2 });
      expect(sample.map((r) => r.entity_id)).to.deep.equal(["B", "A"]);
    });
  });

  const trainingParams = (first: string, last: string, every = 24, horizon = 24): Record<string, Param> => ({
    first_snapshot: at(first),
    last_snapshot: at(last),
    snapshot_every_hours: every,
    feature_lookback_days: 30,
    horizon_hours: horizon,
  });
  // The model's inputs as notebooks/offers/features.py declares them (the dictionary reads the same list).
  const FEATURE_COLUMNS = modelFeatures();

  it("training: a snapshot at 'now' has exactly the features view's features (no train/serve skew)", async () => {
    await withFixture(async (c) => {
      const training = await run(c, queries.get("TRAINING_SQL")!, trainingParams(NOW, NOW));
      const view = await rowsOf(c, "SELECT * FROM features_view");
      const tuple = (r: Record<string, unknown>) => [
        String(r.feature_timestamp),
        ...FEATURE_COLUMNS.map((k) => n(r[k])),
      ];
      const sort = (rows: unknown[][]) => rows.map((r) => JSON.stringify(r)).sort();
      expect(view).to.have.length(3);
      expect(sort(training.map(tuple))).to.deep.equal(sort(view.map(tuple)));
      // The visitor's pseudonym is not in the training rows.
      expect(Object.keys(training[0])).to.not.include("visitor_id");
      expect(Object.keys(training[0])).to.not.include("entity_id");
    });
  });

  it("training: features only from events up to each snapshot, the next order within the horizon", async () => {
    await withFixture(async (c) => {
      const rows = await run(
        c,
        queries.get("TRAINING_SQL")!,
        trainingParams("2026-11-24 00:00:00", "2026-11-25 00:00:00"),
      );
      const key = (r: Record<string, unknown>) =>
        `${String(r.snapshot_at).slice(0, 10)} ${n(r.frequency_events)}/${n(r.orders)}/${n(r.recency_seconds)}`;
      const bySnapshot = rows
        .map((r) => ({ key: key(r), next: r.next_order_at === null ? null : String(r.next_order_at), r }))
        .sort((a, b) => a.key.localeCompare(b.key));
      expect(bySnapshot.map((x) => [x.key, x.next])).to.deep.equal([
        // 24th 00:00 — A: one view on the 20th (3 d 14 h ago), buys at 20:00 (within 24 h);
        // B: a page 14 h ago, next order on the 26th (outside 24 h); C: nothing yet.
        ["2026-11-24 1/0/309600", "2026-11-24 20:00:00"],
        ["2026-11-24 1/0/50400", null],
        // 25th 00:00 — A: view, add, order (4 h ago), nothing in the next 24 h; B: unchanged;
        // C: its page 18 h ago, buys at 07:00.
        ["2026-11-25 1/0/136800", null],
        ["2026-11-25 1/0/64800", "2026-11-25 07:00:00"],
        ["2026-11-25 3/1/14400", null],
      ]);
      const a25 = bySnapshot.find((x) => x.key === "2026-11-25 3/1/14400")!.r;
      expect([n(a25.add_to_carts), n(a25.monetary), n(a25.active_days)]).to.deep.equal([1, 50, 2]);
    });
  });

  it("training: one row per visitor and snapshot instant (every 6 hours)", async () => {
    await withFixture(async (c) => {
      const rows = await run(
        c,
        queries.get("TRAINING_SQL")!,
        trainingParams("2026-11-24 00:00:00", "2026-11-25 00:00:00", 6),
      );
      const instants = new Set(rows.map((r) => String(r.snapshot_at)));
      expect(instants.size).to.equal(5);
      // A and B at all five; C from 06:00 on (its first event is at 06:00, included at that instant).
      expect(rows).to.have.length(5 + 5 + 4);
    });
  });

  it("the training notebook's look-back is the features view's in every repository stack", async function () {
    this.timeout(300_000); // evaluates the plans when the global fixture has not
    const training = readNotebook("02-train-propensity.ipynb")
      .cells.map((cell) => [cell.source].flat().join(""))
      .join("\n");
    const lookback = Number(/^FEATURE_LOOKBACK_DAYS = (\d+)/m.exec(training)?.[1]);
    for (const stack of ["dev", "prod"]) {
      const views = ofType(await planOf(stack), "gcp:bigquery/table:Table").filter(
        (r) => r.inputs.tableId === "user_features",
      );
      expect(views.length, stack).to.be.greaterThan(0);
      for (const v of views) {
        const query = String((v.inputs.view as { query: string }).query);
        expect(/INTERVAL (\d+) DAY/.exec(query)?.[1], `${stack} ${v.name}`).to.equal(String(lookback));
      }
    }
  });
});
