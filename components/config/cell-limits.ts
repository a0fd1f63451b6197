/**
 * The hard ceilings one cell's services have, against the sizes `deriveSizing` and `collectorInstances`
 * derive from `lakehouse:scale`: a scale beyond them passes every offline check and then fails, or silently
 * under-provisions, in production. Every cell takes the whole `scale` (index.ts), so the fix is another
 * cell for part of the traffic, or a raised quota where the limit is a quota.
 */
import { MEASURED_EVENTS_PER_SECOND_PER_INSTANCE, collectorInstances } from "../../functions/collector/sizing";
import {
  CHANGES_PER_SECOND_PER_DCU,
  DMS_CAPACITY_UNITS,
  EVENTS_PER_SECOND_PER_DATAFLOW_WORKER,
  ROWS_PER_TRANSACTION,
  deriveSizing,
} from "./sizing";
import type { Scale } from "./schema";

/**
 * Instances of one Cloud Run service: the regional instance quota over the instance's CPU and memory; the
 * documented baseline is 1,000 instances of 1 vCPU (cloud.google.com/run/docs/configuring/max-instances-limits,
 * "a baseline quota of 1000 vCPU ... would allow ... a maximum of 1000 instances for a single service"). The
 * collector runs 1 vCPU / 512 MiB instances (components/gcp/clickstream/collector-service.ts). A quota, so
 * it can be raised on request; beyond it the collector answers 429/503 at peak.
 */
export const CLOUD_RUN_MAX_INSTANCES = 1_000;

/**
 * Workers of one Dataflow job: `maxWorkers` accepts 1 to 1000 (Dataflow `RuntimeEnvironment.maxWorkers`,
 * the flex template job's launch parameter).
 */
export const DATAFLOW_MAX_WORKERS = 1_000;

/** The largest DMS Serverless replication (DCU), per source (DMS user guide, "Supported capacity units"). */
export const DMS_MAX_DCU = DMS_CAPACITY_UNITS[DMS_CAPACITY_UNITS.length - 1];

const SECONDS_PER_DAY = 86_400;
/** collectorInstances' default headroom (functions/collector/sizing.ts), which the collector service uses. */
const COLLECTOR_HEADROOM = 1.5;
const fmt = (n: number): string => Math.floor(n).toLocaleString("en-US");

/**
 * Scale problems, one per service limit broken.
 * @param scale the validated `lakehouse:scale`
 * @param sourcesPerCell the fewest transactional sources of a cell that has any (they share its transactions);
 *   undefined when no cell replicates a database
 */
export function scaleLimitProblems(scale: Scale, sourcesPerCell: number | undefined): string[] {
  const problems: string[] = [];
  const at = "lakehouse:scale";
  const collector = collectorInstances({ eventsPerDay: scale.clickstreamEventsPerDay, peakFactor: scale.peakFactor });
  if (collector.max > CLOUD_RUN_MAX_INSTANCES || collector.min > CLOUD_RUN_MAX_INSTANCES) {
    // The largest daily volume whose peak fits: max = ceil(peakEps × headroom 1.5 / measured) ≤ limit.
    const fits =
      ((CLOUD_RUN_MAX_INSTANCES * MEASURED_EVENTS_PER_SECOND_PER_INSTANCE) / COLLECTOR_HEADROOM / scale.peakFactor) *
      SECONDS_PER_DAY;
    problems.push(
      `${at}.clickstreamEventsPerDay: ${fmt(scale.clickstreamEventsPerDay)} events a day need ${fmt(collector.max)} collector ` +
        `instances at peak (${fmt(collector.min)} always on) in every cell, above the ${fmt(CLOUD_RUN_MAX_INSTANCES)} instances of one ` +
        `Cloud Run service (baseline regional quota); one cell takes at most ${fmt(fits)} events a day at peakFactor ` +
        `${scale.peakFactor}: move part of the traffic to another cell (lakehouse:cells), or raise the Cloud Run quota first`,
    );
  }
  const sizing = deriveSizing(scale);
  if (sizing.dataflowMaxWorkers > DATAFLOW_MAX_WORKERS) {
    // dataflowMaxWorkers = ceil(2 × peakEps / per-worker rate): the largest daily volume a 1,000-worker job keeps up with.
    const fits =
      ((DATAFLOW_MAX_WORKERS * EVENTS_PER_SECOND_PER_DATAFLOW_WORKER) / 2 / scale.peakFactor) * SECONDS_PER_DAY;
    problems.push(
      `${at}.clickstreamEventsPerDay: ${fmt(scale.clickstreamEventsPerDay)} events a day need ${fmt(sizing.dataflowMaxWorkers)} ` +
        `Dataflow workers in every cell, above the ${fmt(DATAFLOW_MAX_WORKERS)} one job may use (maxWorkers 1-1000); one cell ` +
        `takes at most ${fmt(fits)} events a day at peakFactor ${scale.peakFactor}: move part of the traffic to another cell`,
    );
  }
  if (sourcesPerCell === undefined) return problems;
  const changesPerSourcePeak =
    ((scale.transactionsPerDay / SECONDS_PER_DAY) * scale.peakFactor * ROWS_PER_TRANSACTION) /
    Math.max(1, sourcesPerCell);
  if (Math.ceil(changesPerSourcePeak / CHANGES_PER_SECOND_PER_DCU) > DMS_MAX_DCU) {
    const fits =
      ((DMS_MAX_DCU * CHANGES_PER_SECOND_PER_DCU * Math.max(1, sourcesPerCell)) /
        ROWS_PER_TRANSACTION /
        scale.peakFactor) *
      SECONDS_PER_DAY;
    problems.push(
      `${at}.transactionsPerDay: ${fmt(scale.transactionsPerDay)} transactions a day need ${fmt(Math.ceil(changesPerSourcePeak / CHANGES_PER_SECOND_PER_DCU))} ` +
        `DMS capacity units per transactional source at peak, above DMS Serverless's ${DMS_MAX_DCU}; with ` +
        `${Math.max(1, sourcesPerCell)} source(s) per cell one cell takes at most ${fmt(fits)} a day: split the sources or move some to another cell`,
    );
  }
  return problems;
}
