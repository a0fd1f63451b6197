/**
 * Collector instance sizing, importable by the infrastructure (pure, no I/O).
 *
 *   averageEps = eventsPerDay / 86,400
 *   peakEps    = averageEps × peakFactor
 *   max        = ceil(peakEps × headroom / measuredEventsPerSecondPerInstance)
 *   min        = max(minFloor, ceil(averageEps / measuredEventsPerSecondPerInstance)), never above max
 *
 * `headroom` ≥ 1 is spare capacity on top of the peak (1.5 = run at ≤ 67 % of the measured ceiling at
 * peak), covering scale-out lag (new instances take seconds to start) and uneven load balancing.
 * `min` keeps the average load warm so the daily ramp does not start from cold instances.
 */

/**
 * Events one collector process handles per CPU-second, single-event requests (the conservative case:
 * browsers send one event per request), publishing through the Pub/Sub client, from
 * `npm run bench:collector` (column "events per server CPU-second", all the process's threads). Measured
 * 2026-11-26 on the shared 2-vCPU Linux dev container (AMD EPYC, Node 20.20), load generator and gRPC
 * endpoint on the same cores, after the gax-bundler and worker-thread changes (README, Benchmark): runs
 * gave 16.6k-19.5k; rounded down below the lowest. Per CPU-second because a 1-vCPU Cloud Run instance
 * gives the process one whole core (shared by its event-loop and worker threads), which the shared
 * benchmark machine did not.
 */
export const MEASURED_EVENTS_PER_SECOND_PER_INSTANCE = 16_000;

/** Same runs, 20-event batches (server and mobile SDKs batch): runs gave 49.3k-56.1k; rounded down below the lowest. */
export const MEASURED_BATCHED_EVENTS_PER_SECOND_PER_INSTANCE = 49_000;

export interface CollectorSizingInput {
  /** Clickstream events per day (the scale config's `clickstreamEventsPerDay`). */
  readonly eventsPerDay: number;
  /** Peak-hour rate over the daily average (scale config `peakFactor`), ≥ 1. */
  readonly peakFactor: number;
  /** @default MEASURED_EVENTS_PER_SECOND_PER_INSTANCE */
  readonly measuredEventsPerSecondPerInstance?: number;
  /** Spare capacity multiplier at peak, ≥ 1. @default 1.5 */
  readonly headroom?: number;
  /** Lowest min-instances value. @default 1 */
  readonly minFloor?: number;
}

export interface CollectorSizing {
  readonly min: number;
  readonly max: number;
}

const SECONDS_PER_DAY = 86_400;

export function collectorInstances(input: CollectorSizingInput): CollectorSizing {
  const measured = input.measuredEventsPerSecondPerInstance ?? MEASURED_EVENTS_PER_SECOND_PER_INSTANCE;
  const headroom = input.headroom ?? 1.5;
  const minFloor = input.minFloor ?? 1;
  if (!(Number.isFinite(input.eventsPerDay) && input.eventsPerDay >= 0))
    throw new RangeError("eventsPerDay must be a finite number ≥ 0");
  if (!(Number.isFinite(input.peakFactor) && input.peakFactor >= 1)) throw new RangeError("peakFactor must be ≥ 1");
  if (!(Number.isFinite(measured) && measured > 0))
    throw new RangeError("measuredEventsPerSecondPerInstance must be > 0");
  if (!(Number.isFinite(headroom) && headroom >= 1)) throw new RangeError("headroom must be ≥ 1");
  if (!(Number.isInteger(minFloor) && minFloor >= 0)) throw new RangeError("minFloor must be an integer ≥ 0");
  const averageEps = input.eventsPerDay / SECONDS_PER_DAY;
  const peakEps = averageEps * input.peakFactor;
  const max = Math.max(1, minFloor, Math.ceil((peakEps * headroom) / measured));
  const min = Math.min(max, Math.max(minFloor, Math.ceil(averageEps / measured)));
  return { min, max };
}
