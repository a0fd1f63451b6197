/**
 * The erasure SLA against what the lake's deletion machinery can keep, checked during validation so that a
 * too-short `erasureSlaDays` is a config problem with its key, not a throw from the Iceberg tables.
 * The stages' days come from the contract's one budget (policy/contract/erasure.ts), which the pack uses too.
 */
import { erasureBudget, shortestErasureSla } from "../../policy/contract";
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
