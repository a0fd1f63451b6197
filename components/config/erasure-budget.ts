/**
 * The erasure SLA against what the lake's deletion machinery can keep, checked during validation so that a
 * too-short `erasureSlaDays` is a config problem with its key, not a throw from the Iceberg tables.
 * The stages' days come from the contract's one budget (policy/contract/erasure.ts), which the pack uses too.
 */
import {
  boundsOverSla,
  erasureBounds,
  erasureBudget,
  expiringNoncurrentDays,
  longestExpiryWithinSla,
  shortestErasureSla,
  type DataClass,
  type ErasureBound,
  type ExpiringStore,
  type StreamRetention,
} from "../../policy/contract";
import { EXPORT_EXPIRY_DAYS } from "../../functions/subject-rights/registry";
import { TOPIC_RETENTION_HOURS } from "../aws/sources/kafka/stream-sizing";
import { noncurrentDaysForErasure } from "../conventions";
import { exportExpirationDays } from "../federation/federation";
import { replayWindowDays } from "../gcp/clickstream/event-topic";
import { NAMESPACE } from "./namespace";

/**
 * What the Iceberg stage needs: snapshots kept at least a day (time travel for incident recovery) and the
 * Glue retention optimizer's run interval of a day (`maintenanceForSla`, components/aws/ingestion/iceberg-table.ts).
 */
const MIN_SNAPSHOT_RETENTION_DAYS = 1;
const RETENTION_RUN_DAYS = 1;

/** Problems of an erasure SLA (a positive whole number of days; the schema reports any other). */
export function erasureBudgetProblems(erasureSlaDays: number): string[] {
  const budget = erasureBudget(erasureSlaDays);
  const needed = MIN_SNAPSHOT_RETENTION_DAYS + RETENTION_RUN_DAYS;
  if (budget.icebergMaintenanceDays >= needed) return [];
  const least = shortestErasureSla("icebergMaintenanceDays", needed);
  return [
    `${NAMESPACE}:erasureSlaDays: ${erasureSlaDays} days leaves no room for Iceberg snapshot retention: erased rows ` +
      `leave the current snapshot within ${budget.liveDeletionDays} day, old snapshots are kept at least ` +
      `${MIN_SNAPSHOT_RETENTION_DAYS} day and expire on a daily run, so physical removal needs at least ${least} days`,
  ];
}

/** SQS keeps a message at most 14 days (SQS developer guide, "Amazon SQS quotas"); SourceFunction's dead letters. */
const SQS_MAX_RETENTION_DAYS = 14;

/** What the bound of a cell depends on: a `CellSpec` is one. */
export interface CellErasureView {
  readonly name: string;
  readonly retention: Readonly<Record<DataClass, number>>;
  readonly erasure: { readonly slaDays: number; readonly timeTravelHours: number };
  readonly federation: { readonly mode: "omni" | "in-country-copy" };
  readonly sources: {
    readonly kafka: readonly { readonly mode: string }[];
    readonly apis: readonly unknown[];
    readonly csvFeeds: readonly unknown[];
  };
}

/**
 * Every store's erasure bound in a cell (policy/contract/erasure-bounds.ts), with the streams and buckets the
 * cell's components declare, their retention computed by the components' own functions.
 */
export function cellErasureBounds(cell: CellErasureView): ErasureBound[] {
  const sla = cell.erasure.slaDays;
  const replay = replayWindowDays({ retentionDays: cell.retention.clickstream, erasureSlaDays: sla });
  const streams: StreamRetention[] = [
    { store: "Pub/Sub clickstream topic, subscriptions", cloud: "gcp", days: replay, key: "retention.clickstream" },
  ];
  if (cell.sources.kafka.some((k) => k.mode !== "existing"))
    streams.push({
      store: "MSK topics",
      cloud: "aws",
      days: Math.min(TOPIC_RETENTION_HOURS, erasureBudget(sla).messageRetentionDays * 24) / 24,
      key: "erasureSlaDays",
    });
  if (cell.sources.apis.length + cell.sources.csvFeeds.length > 0)
    streams.push({
      store: "SQS source dead letters",
      cloud: "aws",
      days: Math.min(SQS_MAX_RETENTION_DAYS, sla),
      key: "erasureSlaDays",
    });
  const expiring: ExpiringStore[] = [
    {
      // components/aws/rights/rights-stores.ts keeps old export versions a day.
      store: "S3 subject-rights exports",
      cloud: "aws",
      expirationDays: EXPORT_EXPIRY_DAYS,
      noncurrentDays: 1,
      key: "erasureSlaDays",
    },
    {
      // What components/gcp/rights/subject-rights.ts must declare for old export versions (it declared
      // noncurrentDaysForErasure, 12 days at an SLA of 15: a 23-day bound); reported to the lead.
      store: "GCS subject-rights exports",
      cloud: "gcp",
      expirationDays: EXPORT_EXPIRY_DAYS,
      noncurrentDays: expiringNoncurrentDays(sla, EXPORT_EXPIRY_DAYS),
      softDeleteDays: 0,
      key: "erasureSlaDays",
    },
  ];
  if (cell.federation.mode === "in-country-copy") {
    // components/federation/in-country-export.ts and in-country-copy.ts: the S3 export and its GCS landing.
    const days = exportExpirationDays(sla);
    expiring.push(
      {
        store: "S3 in-country export",
        cloud: "aws",
        expirationDays: days,
        noncurrentDays: Math.min(days, noncurrentDaysForErasure(sla)),
        key: "erasureSlaDays",
      },
      {
        store: "GCS in-country feed",
        cloud: "gcp",
        expirationDays: days,
        noncurrentDays: 1,
        softDeleteDays: 0,
        key: "erasureSlaDays",
      },
    );
  }
  return erasureBounds({
    slaDays: sla,
    timeTravelHours: cell.erasure.timeTravelHours,
    retention: cell.retention,
    streams,
    expiring,
  });
}

/**
 * Problems of a cell whose stores keep erased data past the SLA, one per config key over it (the stores it
 * holds named), with the key's full path: `keyOf("retention.raw")` says whether the cell overrides it.
 * BigQuery time travel is checked on its own key by validation already.
 */
export function erasureBoundProblems(cell: CellErasureView, keyOf: (key: string) => string): string[] {
  const over = boundsOverSla(cellErasureBounds(cell)).filter((b) => b.key !== "bigqueryTimeTravelHours");
  const byKey = new Map<string, ErasureBound[]>();
  for (const b of over) byKey.set(b.key, [...(byKey.get(b.key) ?? []), b]);
  return [...byKey].map(([key, rows]) => {
    const value = key.startsWith("retention.")
      ? `${cell.retention[key.slice("retention.".length) as DataClass]} days`
      : `${cell.erasure.slaDays} days`;
    const stores = rows.map((b) => `${b.store} (${b.reachedBy}: ${b.days} days)`).join(", ");
    return (
      `${keyOf(key)}: ${value} keeps erased personal data in cell '${cell.name}' past the erasure SLA of ` +
      `${cell.erasure.slaDays} days (${NAMESPACE}:erasureSlaDays): ${stores}` +
      (key === "retention.raw" ? `; ${rawHorizon(cell.erasure.slaDays)}` : "") +
      (key === "erasureSlaDays" ? `; erasureSlaDays ${shortestFittingSla(cell)} or more fits them` : "")
    );
  });
}

/** What a raw retention may be under an SLA: expiry, two lifecycle lags and a day of old versions fit in it. */
function rawHorizon(slaDays: number): string {
  const most = longestExpiryWithinSla(slaDays);
  return most >= 1
    ? `the raw files are the replay horizon of cdc:replay, which the erasure SLA bounds: at most ${most} days fits`
    : `no raw retention fits an SLA of ${slaDays} days`;
}

/** The shortest SLA under which none of the cell's stores set by the SLA alone is over it (the bounds grow slower than the SLA). */
function shortestFittingSla(cell: CellErasureView): number {
  let sla = cell.erasure.slaDays;
  const over = (days: number) =>
    boundsOverSla(cellErasureBounds({ ...cell, erasure: { ...cell.erasure, slaDays: days } })).some(
      (b) => b.key === "erasureSlaDays",
    );
  while (over(sla) && sla < 3650) sla++;
  return sla;
}
