/**
 * The marketing views and ML features run for real: the BigQuery SQL from view-sql.ts is rewritten
 * mechanically to DuckDB (only the handful of BigQuery-only spellings it uses, with "now" pinned) and
 * executed over rows shaped like the UDF's table, so sessionisation, funnel order, de-duplication,
 * consent and look-back windows are checked on results, not on strings.
 */
import { expect } from "chai";
import type { DuckDBConnection } from "@duckdb/node-api";
import { rowsOf, toDuckDb, withEvents, type Ev } from "../helpers/bigquery-duckdb";
import {
  FUNNEL_STEPS,
  SESSION_TIMEOUT_MINUTES,
  funnelSql,
  lastHourKpisSql,
  sessionsSql,
  userFeaturesSql,
  type ViewSqlOptions,
} from "../../components/gcp/clickstream/view-sql";

const NOW = "2026-11-26 12:00:00";
const TABLE = "proj.clickstream_raw.events";
const OPTIONS: ViewSqlOptions = { eventsTable: TABLE, lookbackDays: 2, featureLookbackDays: 30, lastCategories: 3 };

/** The view SQL run on DuckDB over `events_src`, with "now" pinned (../helpers/bigquery-duckdb.ts). */
function rows(c: DuckDBConnection, bigQuerySql: string): Promise<Record<string, unknown>[]> {
  return rowsOf(c, toDuckDb(bigQuerySql, { now: NOW, tables: { [TABLE]: "events_src" } }));
}

describe("clickstream views, executed", () => {
  it("sessions: a gap of 30 minutes or more starts a new session; duplicates and denied rows are ignored", async () => {
    const events: Ev[] = [
      { id: "a1", user: "A", at: "2026-11-26 10:00:00", type: "page", path: "/home" },
      { id: "a2", user: "A", at: "2026-11-26 10:10:00", name: "Product Viewed" },
      { id: "a2", user: "A", at: "2026-11-26 10:10:00", name: "Product Viewed", received: "2026-11-26 10:10:05" }, // SDK retry
      { id: "a3", user: "A", at: "2026-11-26 10:39:59", type: "page", path: "/p/1" }, // 29:59 later: same session
      { id: "a4", user: "A", at: "2026-11-26 11:09:59", type: "page", path: "/p/2" }, // exactly 30:00 later: new
      { id: "a5", user: "A", at: "2026-11-26 11:45:00", name: "Order Completed", props: { revenue: 99.5 } },
      { id: "b1", anon: "B", at: "2026-11-26 11:50:00", type: "page", path: "/landing" },
      { id: "d1", at: "2026-11-26 11:51:00", consent: "denied", type: "page" },
      { id: "old", user: "A", at: "2026-11-20 10:00:00", type: "page" }, // outside the 2-day look-back
    ];
    await withEvents(events, async (c) => {
      const out = await rows(c, `SELECT * FROM (${sessionsSql(OPTIONS)}) ORDER BY visitor_id, session_number`);
      expect(out.map((r) => [r.visitor_id, Number(r.session_number), Number(r.events), r.landing_page])).to.deep.equal([
        ["A", 1, 3, "/home"],
        ["A", 2, 1, "/p/2"],
        ["A", 3, 1, null],
        ["B", 1, 1, "/landing"],
      ]);
      expect(Number(out[2].orders)).to.equal(1);
      expect(Number(out[2].revenue)).to.equal(99.5);
      // Active = last event within the timeout before "now" (12:00).
      expect(out.map((r) => r.is_active)).to.deep.equal([false, false, true, true]);
      expect(SESSION_TIMEOUT_MINUTES).to.equal(30);
    });
  });

  it("funnel: a step counts only after the previous one, per visitor and day", async () => {
    const step = (id: string, user: string, at: string, name: string): Ev => ({ id, user, at, name });
    const events: Ev[] = [
      step("1", "A", "2026-11-26 09:00:00", "Product Viewed"),
      step("2", "A", "2026-11-26 09:01:00", "Product Added"),
      step("3", "A", "2026-11-26 09:02:00", "Checkout Started"),
      step("4", "A", "2026-11-26 09:03:00", "Order Completed"),
      step("5", "B", "2026-11-26 09:00:00", "Product Added"), // added before viewing
      step("6", "B", "2026-11-26 09:05:00", "Product Viewed"),
      step("7", "C", "2026-11-26 09:00:00", "Product Viewed"),
      step("8", "C", "2026-11-26 09:01:00", "Product Added"),
      step("9", "D", "2026-11-26 09:00:00", "Order Completed"), // order without the earlier steps
    ];
    await withEvents(events, async (c) => {
      const [day] = await rows(c, funnelSql(OPTIONS));
      const counts = FUNNEL_STEPS.map((s) => Number(day[s.column]));
      expect(counts).to.deep.equal([3, 2, 1, 1]);
      expect(Number(day.view_to_order_rate)).to.be.closeTo(1 / 3, 1e-9);
    });
  });

  it("last-hour KPIs: only the last hour, anonymous (denied) counts included, visitors only when identified", async () => {
    const events: Ev[] = [
      { id: "1", user: "A", at: "2026-11-26 11:30:10", type: "page" },
      {
        id: "2",
        anon: "B",
        at: "2026-11-26 11:30:40",
        name: "Order Completed",
        props: { revenue: "10.25", currency: "BRL" },
      },
      { id: "3", at: "2026-11-26 11:30:50", consent: "denied", type: "page" },
      { id: "4", user: "A", at: "2026-11-26 10:30:00", type: "page" }, // more than an hour ago
    ];
    await withEvents(events, async (c) => {
      const out = await rows(c, lastHourKpisSql(OPTIONS));
      expect(out).to.have.length(1);
      expect(Number(out[0].events)).to.equal(3);
      expect(Number(out[0].page_views)).to.equal(2);
      expect(Number(out[0].identified_visitors)).to.equal(2);
      expect(Number(out[0].orders)).to.equal(1);
      expect(Number(out[0].revenue)).to.equal(10.25);
      expect(Number(out[0].consent_rate)).to.be.closeTo(2 / 3, 1e-9);
    });
  });

  it("user features: recency, frequency, orders, monetary and the last N categories, newest first", async () => {
    const viewed = (id: string, at: string, category: string): Ev => ({
      id,
      user: "A",
      at,
      name: "Product Viewed",
      props: { category },
    });
    const events: Ev[] = [
      viewed("1", "2026-11-20 10:00:00", "shoes"),
      viewed("2", "2026-11-21 10:00:00", "hats"),
      viewed("3", "2026-11-22 10:00:00", "bags"),
      viewed("4", "2026-11-25 10:00:00", "socks"),
      { id: "5", user: "A", at: "2026-11-26 11:00:00", name: "Order Completed", props: { revenue: 20 } },
      { id: "6", user: "A", at: "2026-09-01 10:00:00", name: "Product Viewed", props: { category: "old" } }, // > 30 days
      { id: "7", at: "2026-11-26 11:00:00", consent: "denied", type: "page" },
    ];
    await withEvents(events, async (c) => {
      const out = await rows(c, userFeaturesSql(OPTIONS));
      expect(out).to.have.length(1);
      const a = out[0];
      expect(a.entity_id).to.equal("A");
      expect(Number(a.recency_seconds)).to.equal(3600);
      // The same instant as feature_timestamp, in the seconds the online store serves as they are.
      expect(Number(a.last_event_unix_seconds)).to.equal(Date.parse("2026-11-26T11:00:00Z") / 1000);
      expect(Number(a.frequency_events)).to.equal(5);
      expect(Number(a.active_days)).to.equal(5);
      expect(Number(a.orders)).to.equal(1);
      expect(Number(a.monetary)).to.equal(20);
      expect(a.last_categories).to.deep.equal(["socks", "bags", "hats"]);
    });
  });
});
