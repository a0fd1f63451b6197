/**
 * Config rules of the NoSQL extractions that span several keys (run by components/config/validate.ts, on
 * the raw values, so they are reported together with every other problem).
 *
 * Neither Cassandra nor Elasticsearch shows a delete to an incremental read: a row deleted at the source
 * leaves the curated table at the next reconcile (a full read whose MERGE deletes what the source no
 * longer has), then its data files at snapshot expiry. So the reconcile interval, plus the longest gap of
 * the schedule (the reconcile waits for the next run), plus the tables' snapshot retention and the
 * interval between retention runs (`maintenanceForSla`), must fit the erasure SLA.
 */
import { cronLongestGapDays } from "../../../policy/rules/retention";
import { reconciledDeletion } from "../../../policy/contract";

export { icebergShareDays } from "../../../policy/contract";

/** Problems of one `sources.cassandra[]` / `sources.elasticsearch[]` entry (raw config) against the SLA. */
export function nosqlErasureProblems(src: Record<string, unknown>, at: string, slaDays: number | undefined): string[] {
  if (slaDays === undefined || slaDays < 3) return []; // the SLA itself is reported elsewhere
  const schedule = typeof src.schedule === "string" ? src.schedule : undefined;
  const hours = typeof src.reconcileEveryHours === "number" ? src.reconcileEveryHours : 24;
  const gap = schedule === undefined ? undefined : cronLongestGapDays(schedule);
  if (schedule !== undefined && gap === undefined && /^cron\(/.test(schedule))
    return [`${at}.schedule: '${schedule}' cannot be read to bound its gap between runs against the erasure SLA`];
  if (gap === undefined) return [];
  const { totalDays: total, icebergDays: iceberg, roomHours: room } = reconciledDeletion(hours, gap, slaDays);
  if (total <= slaDays) return [];
  return [
    `${at}.reconcileEveryHours: a row deleted at the source can stay in the lake ${round(total)} days ` +
      `(reconcile every ${hours} h, up to ${gap} day(s) between runs of '${schedule}', ${round(iceberg)} days of ` +
      `snapshot retention), beyond the erasure SLA of ${slaDays} days` +
      (room > 0 ? `; use at most ${room} hours` : `; schedule the job more often`),
  ];
}

const round = (n: number) => Math.round(n * 100) / 100;
