/**
 * Naming, labelling and protection conventions shared by every component, defined once.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  PUBLIC_ENDPOINT_LABEL,
  TAG_KEYS,
  erasureBudget,
  isStateful,
  type DataClass,
  type TableFormat,
} from "../policy/contract";

export { STATEFUL_TYPES, cellTags, type CellTags } from "../policy/contract";

/** The per-resource tag/label naming the data class a store holds (drives retention and the policy pack). */
export function classification(dataClass: DataClass | "none"): { [TAG_KEYS.dataClassification]: string } {
  return { [TAG_KEYS.dataClassification]: dataClass };
}

/** The tag saying which table format owns deletion in a bucket (the pack then expects no object expiry). */
export function tableFormatTag(format: TableFormat): { [TAG_KEYS.tableFormat]: TableFormat } {
  return { [TAG_KEYS.tableFormat]: format };
}

/** The label of the one reviewed public endpoint; the policy pack's allUsers exemption is keyed on it. */
export function publicEndpointLabel(): { [PUBLIC_ENDPOINT_LABEL.key]: typeof PUBLIC_ENDPOINT_LABEL.value } {
  return { [PUBLIC_ENDPOINT_LABEL.key]: PUBLIC_ENDPOINT_LABEL.value };
}

/**
 * A resource transformation that protects stateful children. It is an SDK-side transformation rather
 * than an engine-side `transforms` hook because the offline plan runs under Pulumi mocks, which do not
 * run engine-side transforms: protection must be visible in the plan the policy gate checks.
 */
export function protectStateful(enabled: boolean): pulumi.ResourceTransformation {
  return (args) => {
    if (!enabled || !isStateful(args.type)) return undefined;
    return { props: args.props, opts: pulumi.mergeOptions(args.opts, { protect: true, retainOnDelete: true }) };
  };
}

/** Milliseconds in `days` days (BigQuery expirations are in ms). */
export const daysToMs = (days: number): number => days * 24 * 60 * 60 * 1000;

/** Seconds in `days` days, as the Google APIs' duration string (`"7776000s"`). */
export const daysToDuration = (days: number): string => `${days * 24 * 60 * 60}s`;

/**
 * Days noncurrent object versions (and other lifecycle-expired copies) survive: the erasure budget's
 * share for object copies, at least the 1 day S3 and Cloud Storage lifecycle rules accept.
 */
export function noncurrentDaysForErasure(erasureSlaDays: number): number {
  return Math.max(1, erasureBudget(erasureSlaDays).objectCopyDays);
}
