/**
 * The erasure bound per store (policy/contract/erasure-bounds.ts, components/config/erasure-budget.ts): each
 * store's arithmetic, the SLA's edges, validation reporting stores over the SLA with the other problems, and the
 * pack holding stores to the configured SLA rather than only to the legal ceiling.
 */
import { expect } from "chai";
import {
  BIGQUERY_FAIL_SAFE_DAYS,
  boundsOverSla,
  erasureBounds,
  expiredObjectDays,
  expiringNoncurrentDays,
  icebergShareDays,
  LIFECYCLE_LAG_DAYS,
  LIVE_DELETION_DAYS,
  warehouseNoncurrentDays,
  type ErasureBound,
} from "../../policy/contract";
import { erasureSlaOf, readSettings } from "../../policy/config";
import { cellErasureBounds, type CellErasureView } from "../../components/config/erasure-budget";
import { parseStackConfig, StackConfigError } from "../../components/config/validate";
import { stackSettings } from "../../tools/policy/gate";
import { readStackConfig } from "../../tools/plan/stack-config";
import { closeSession, gate, lines, mutate, planBaseline } from "../policy/helpers";

const RETENTION = { raw: 7, curated: 730, marts: 1825, clickstream: 395, logs: 365, audit: 1825 };
const days = (bounds: readonly ErasureBound[], store: string): number => {
  const row = bounds.find((b) => b.store === store);
  if (!row) throw new Error(`no row '${store}' in ${bounds.map((b) => b.store).join(", ")}`);
  return row.days;
};

describe("erasure bounds: each store's days from the request until the data is physically gone", () => {
  const bounds = erasureBounds({ slaDays: 15, timeTravelHours: 168, retention: RETENTION });

  it("Iceberg tables: the workers' delete, snapshot expiry, then the warehouse's old versions and lifecycle's lag", () => {
    // 1 day to delete, 7 days of snapshots + a daily run, what is left for old versions (4), 2 days of lag.
    expect(icebergShareDays(15)).to.equal(8);
    expect(warehouseNoncurrentDays(15)).to.equal(4);
    expect(days(bounds, "Iceberg tables (S3 warehouse)")).to.equal(1 + 8 + 4 + 2);
    expect(bounds[0].reachedBy).to.equal("deleted by the workers");
  });

  it("BigQuery: the delete, time travel in whole days, then the fixed fail-safe", () => {
    expect(days(bounds, "BigQuery tables")).to.equal(LIVE_DELETION_DAYS + 7 + BIGQUERY_FAIL_SAFE_DAYS);
    const dev = erasureBounds({ slaDays: 15, timeTravelHours: 48, retention: RETENTION });
    expect(days(dev, "BigQuery tables")).to.equal(1 + 2 + 7);
  });

  it("raw and landing zones expire: retention, lag, old versions (what the SLA leaves, at least 1 day), lag", () => {
    expect(expiringNoncurrentDays(15, 7)).to.equal(4);
    expect(days(bounds, "S3 raw zone (CDC files)")).to.equal(7 + 2 + 4 + 2);
    expect(days(bounds, "S3 landing zone (API pages, CSV drops)")).to.equal(15);
    // 90 days of raw files (prod's former setting): old versions get the 1-day minimum and the bound is 95 days.
    const ninety = erasureBounds({ slaDays: 15, timeTravelHours: 168, retention: { ...RETENTION, raw: 90 } });
    expect(days(ninety, "S3 raw zone (CDC files)")).to.equal(90 + 2 + 1 + 2);
    // Raw, landing and the GCS staging bucket (30 days at most) are all over, each on retention.raw.
    expect(boundsOverSla(ninety).map((b) => `${b.store}=${b.days}`)).to.deep.equal([
      "S3 raw zone (CDC files)=95",
      "S3 landing zone (API pages, CSV drops)=95",
      "GCS Dataflow staging=35",
    ]);
  });

  it("SLA edges: raw retention 10 fits an SLA of 15 exactly, 11 is one day over", () => {
    const at = (raw: number) =>
      days(
        erasureBounds({ slaDays: 15, timeTravelHours: 168, retention: { ...RETENTION, raw } }),
        "S3 raw zone (CDC files)",
      );
    expect(at(10)).to.equal(15);
    expect(at(11)).to.equal(16);
    // Below 12 days the warehouse cannot fit: 8 days of Iceberg maintenance leave no room for old versions.
    expect(
      days(erasureBounds({ slaDays: 12, timeTravelHours: 48, retention: RETENTION }), "Iceberg tables (S3 warehouse)"),
    ).to.equal(12);
    expect(
      days(erasureBounds({ slaDays: 11, timeTravelHours: 48, retention: RETENTION }), "Iceberg tables (S3 warehouse)"),
    ).to.equal(12);
  });

  it("GCS staging expires with soft delete off; streams age out; the requests table is the exempt legal record", () => {
    expect(expiredObjectDays(7, 4, 0)).to.equal(15);
    expect(expiredObjectDays(7, 4, 7)).to.equal(22);
    expect(days(bounds, "GCS Dataflow staging")).to.equal(15);
    const withStreams = erasureBounds({
      slaDays: 15,
      timeTravelHours: 168,
      retention: RETENTION,
      streams: [{ store: "topic", cloud: "gcp", days: 16, key: "retention.clickstream" }],
    });
    expect(withStreams.find((b) => b.store === "topic")?.reachedBy).to.equal("ages out");
    const record = withStreams.find((b) => b.reachedBy === "kept (legal record)")!;
    expect(record.days).to.equal(1825);
    expect(boundsOverSla(withStreams).map((b) => b.store)).to.deep.equal(["topic"]);
  });

  it("a cell: Pub/Sub, MSK, dead letters, exports (7 days) and the in-country copy, all within prod's SLA", () => {
    const cell: CellErasureView = {
      name: "br",
      retention: RETENTION,
      erasure: { slaDays: 15, timeTravelHours: 168 },
      federation: { mode: "in-country-copy" },
      sources: { kafka: [{ mode: "msk-provisioned" }], apis: [{}], csvFeeds: [] },
    };
    const rows = cellErasureBounds(cell);
    expect(days(rows, "Pub/Sub clickstream topic, subscriptions")).to.equal(7);
    expect(days(rows, "MSK topics")).to.equal(3);
    expect(days(rows, "SQS source dead letters")).to.equal(14);
    expect(days(rows, "S3 subject-rights exports")).to.equal(7 + LIFECYCLE_LAG_DAYS + 1 + LIFECYCLE_LAG_DAYS);
    expect(days(rows, "GCS subject-rights exports")).to.equal(7 + LIFECYCLE_LAG_DAYS + 4 + LIFECYCLE_LAG_DAYS);
    expect(days(rows, "GCS in-country feed")).to.equal(3 + 2 + 1 + 2);
    expect(boundsOverSla(rows)).to.deep.equal([]);
    // An omni cell without Kafka or pulled sources has none of those stores.
    const omni = cellErasureBounds({
      ...cell,
      federation: { mode: "omni" },
      sources: { kafka: [{ mode: "existing" }], apis: [], csvFeeds: [] },
    });
    expect(omni.map((b) => b.store)).to.not.include.members([
      "MSK topics",
      "SQS source dead letters",
      "S3 in-country export",
    ]);
  });
});

describe("erasure bounds in validation", () => {
  const problemsOf = (stack: string, over: Record<string, string>): string[] => {
    const c = readStackConfig(stack);
    try {
      parseStackConfig({ ...c.config, ...over }, c.stackFile);
      return [];
    } catch (e) {
      return [...(e as StackConfigError).problems];
    }
  };

  it("dev and prod as committed pass", () => {
    expect(problemsOf("dev", {})).to.deep.equal([]);
    expect(problemsOf("prod", {})).to.deep.equal([]);
  });

  it("prod with 90 days of raw files is refused per cell, together with other problems", () => {
    const c = readStackConfig("prod");
    const retention = { ...(JSON.parse(c.config["lakehouse:retention"]) as object), raw: 90 };
    const problems = problemsOf("prod", {
      "lakehouse:retention": JSON.stringify(retention),
      "lakehouse:bigqueryTimeTravelHours": "50",
    });
    const raw = problems.filter((p) => p.startsWith("lakehouse:retention.raw: 90 days keeps erased personal data"));
    expect(raw.map((p) => /in cell '(\w+)'/.exec(p)![1])).to.deep.equal(["br", "eu"]);
    expect(raw[0]).to.contain("S3 raw zone (CDC files) (expires: 95 days)");
    expect(raw[0]).to.contain("the replay horizon of cdc:replay, which the erasure SLA bounds: at most 10 days fits");
    expect(problems).to.include(
      "lakehouse:bigqueryTimeTravelHours: 50 is not allowed by BigQuery (48 to 168, a multiple of 24)",
    );
  });

  it("an SLA the warehouse cannot meet is reported on erasureSlaDays with the shortest that fits", () => {
    const problems = problemsOf("dev", { "lakehouse:erasureSlaDays": "11" });
    const sla = problems.filter((p) => p.startsWith("lakehouse:erasureSlaDays: 11 days keeps erased personal data"));
    expect(sla).to.have.length(1);
    expect(sla[0]).to.contain("Iceberg tables (S3 warehouse) (deleted by the workers: 12 days)");
    expect(sla[0]).to.match(/erasureSlaDays 12 or more fits them$/);
    expect(problemsOf("dev", { "lakehouse:erasureSlaDays": "12" })).to.deep.equal([]);
  });

  it("a cell's own raw retention is reported under the cell's key", () => {
    const c = readStackConfig("dev");
    const cells = JSON.parse(c.config["lakehouse:cells"]) as Record<string, unknown>[];
    cells[0].retention = { raw: 12 };
    const problems = problemsOf("dev", { "lakehouse:cells": JSON.stringify(cells) });
    expect(problems.map((p) => p.split(" keeps")[0])).to.deep.equal(["lakehouse:cells[0].retention.raw: 12 days"]);
  });
});

describe("the pack holds stores to the configured erasure SLA", function () {
  this.timeout(240_000);
  after(closeSession);

  it("the SLA the rules use: the configured one, never above the ceiling, the ceiling by default", () => {
    const br = readSettings({}).jurisdictions.br;
    expect(erasureSlaOf(br)).to.equal(15);
    expect(erasureSlaOf({ ...br, erasureSlaDays: 10 })).to.equal(10);
    expect(erasureSlaOf({ ...br, erasureSlaDays: 40 })).to.equal(15);
    expect(readSettings({ jurisdictions: { br: { erasureSlaDays: 12 } } }).jurisdictions.br.erasureSlaDays).to.equal(
      12,
    );
  });

  it("the gate sets every jurisdiction's SLA from the stack's lakehouse:erasureSlaDays, under explicit settings", () => {
    expect(stackSettings({ "lakehouse:erasureSlaDays": "12" }).jurisdictions).to.deep.equal({
      br: { erasureSlaDays: 12 },
      eu: { erasureSlaDays: 12 },
    });
    expect(
      stackSettings({ "lakehouse:erasureSlaDays": "12" }, { jurisdictions: { eu: { erasureSlaDays: 9 } } })
        .jurisdictions?.eu,
    ).to.deep.equal({ erasureSlaDays: 9 });
    expect(stackSettings({})).to.deep.equal({});
  });

  it("old raw versions kept 10 days fit the 15-day LGPD ceiling but not a configured SLA of 10 days", async () => {
    const base = await planBaseline();
    const changed = mutate(base, "br-aws-raw-lifecycle", (i) => {
      (i.rules as { noncurrentVersionExpiration: unknown }[])[0].noncurrentVersionExpiration = { noncurrentDays: 10 };
    });
    const atCeiling = await gate(changed);
    expect(lines(atCeiling.diagnostics).filter((l) => l.includes("'br-aws-raw'"))).to.deep.equal([]);
    const configured = await gate(changed, { settings: { jurisdictions: { br: { erasureSlaDays: 10 } } } });
    expect(lines(configured.diagnostics).filter((l) => l.includes("'br-aws-raw'"))).to.deep.equal([
      "s3-retention: aws:s3/bucket:Bucket 'br-aws-raw' keeps noncurrent versions 10 days; the configured erasure SLA " +
        "(LGPD allows 15) of 10 days leaves 7 after 1 day to delete the live copy and 2 days for lifecycle to act.",
    ]);
  });
});
