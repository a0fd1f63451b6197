/**
 * The tag (AWS) and label (GCP) keys the program writes and the pack reads. Both clouds accept these
 * as keys: lower case, digits, `-` and `_` (GCP label keys: cloud.google.com/resource-manager/docs/labels-overview#requirements).
 */
export const TAG_KEYS = {
  /** The cell a resource belongs to (`br`, `eu`); the pack falls back to it for the jurisdiction. */
  cell: "cell",
  /** The jurisdiction id whose law governs the data (`br`, `eu`). */
  jurisdiction: "jurisdiction",
  /** The stack's environment (`dev`, `prod`); production gets deletion protection. */
  environment: "environment",
  /** Who manages the resource. */
  managedBy: "managed-by",
  /** The data class a store holds (`DATA_CLASSES`, or `none`); drives retention bounds. */
  dataClassification: "data-classification",
  /** The table format that owns deletion in a bucket (`iceberg`): no age-based object expiry there. */
  tableFormat: "table-format",
} as const;

export type TagKey = (typeof TAG_KEYS)[keyof typeof TAG_KEYS];

/** Tags/labels every resource of a cell carries through its providers' defaults. */
export interface CellTags {
  readonly [TAG_KEYS.cell]: string;
  readonly [TAG_KEYS.jurisdiction]: string;
  readonly [TAG_KEYS.environment]: string;
  readonly [TAG_KEYS.managedBy]: "pulumi";
}

/** The tags of a cell's resources. */
export function cellTags(a: {
  readonly cell: string;
  readonly jurisdiction: string;
  readonly environment: string;
}): CellTags {
  return {
    [TAG_KEYS.cell]: a.cell,
    [TAG_KEYS.jurisdiction]: a.jurisdiction,
    [TAG_KEYS.environment]: a.environment,
    [TAG_KEYS.managedBy]: "pulumi",
  };
}

/** Values of the `table-format` tag. */
export type TableFormat = "iceberg";

/**
 * The label that marks the one endpoint meant to be public (the tracking API, ADR 0005): the pack
 * lets an `allUsers` invoker grant through only on a service carrying it.
 */
export const PUBLIC_ENDPOINT_LABEL = { key: "public-endpoint", value: "tracking-api" } as const;
