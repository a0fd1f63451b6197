/**
 * What other parts of the program import from the collector: sizing (for the infrastructure) and the
 * server entry (for tests and tools). Import this file by path (`functions/collector/index`): the
 * folder's package.json `main` points at the compiled entry used in the cloud.
 */
export {
  collectorInstances,
  MEASURED_BATCHED_EVENTS_PER_SECOND_PER_INSTANCE,
  MEASURED_EVENTS_PER_SECOND_PER_INSTANCE,
} from "./sizing";
export type { CollectorSizing, CollectorSizingInput } from "./sizing";
export { loadConfig, type CollectorConfig } from "./config";
export { startCollector, main, type RunningCollector } from "./server";
export { MAX_BATCH_BYTES, MAX_EVENT_BYTES } from "./event";
export { truncateIp, analyticsConsent, Pseudonymiser } from "./privacy";
