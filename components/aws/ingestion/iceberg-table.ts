/**
 * A curated Iceberg table in the Glue Data Catalog with its maintenance as infrastructure: compaction,
 * snapshot expiry (erased rows leave old snapshots within the erasure SLA) and orphan-file deletion.
 *
 * The table is created here (format v2, partition spec, merge-on-read properties, location) so that the
 * optimizers can be attached at deploy time; the merge job's `CREATE TABLE IF NOT EXISTS` is then a no-op
 * and it casts each batch to these types (docs/adr/0004-curated-iceberg-tables.md).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ICEBERG_TABLE_PROPERTIES } from "../../../functions/cdc-merge/merge-sql";
import {
  ICEBERG_MAINTENANCE_RUN_DAYS,
  ICEBERG_MAX_SNAPSHOT_RETENTION_DAYS,
  erasureBudget,
} from "../../../policy/contract";
import { classification } from "../../conventions";
import { pseudonymColumns, type PersonalDataCatalog } from "../../privacy/personal-data";
import type { IcebergColumn, PartitionField } from "./plan-rules";

export interface IcebergMaintenance {
  /** Days snapshots are kept; with `runRateHours` it must stay inside the erasure SLA. */
  readonly snapshotRetentionDays: number;
  /** Snapshots kept regardless of age (Glue keeps at least this many). */
  readonly snapshotsToRetain: number;
  /** Days unreferenced files are kept (protects in-flight writes). */
  readonly orphanFileRetentionDays: number;
  /** Hours between retention and orphan runs. */
  readonly runRateHours: number;
}

/**
 * Maintenance bounded by the erasure budget: snapshot retention plus the interval between retention runs
 * fits the budget's Iceberg share (what the SLA leaves once the live rows are deleted), and so do orphan
 * files (files of failed commits). Snapshot retention stays at least 1 day (time travel for incident
 * recovery) and at most 7.
 */
export function maintenanceForSla(erasureSlaDays: number): IcebergMaintenance {
  const runRateHours = ICEBERG_MAINTENANCE_RUN_DAYS * 24;
  const budget = erasureBudget(erasureSlaDays).icebergMaintenanceDays - ICEBERG_MAINTENANCE_RUN_DAYS;
  if (budget < 1)
    throw new Error(`erasureSlaDays ${erasureSlaDays} leaves no room for snapshot retention (needs at least 3)`);
  const snapshotRetentionDays = Math.min(ICEBERG_MAX_SNAPSHOT_RETENTION_DAYS, budget);
  return {
    snapshotRetentionDays,
    // Glue's minimum; the age limit is what bounds erasure, not the count.
    snapshotsToRetain: 1,
    orphanFileRetentionDays: Math.min(3, budget),
    runRateHours,
  };
}

export interface IcebergTableArgs {
  /** The account of the Glue catalog (the table's `catalogId`). */
  readonly accountId: string;
  /** Glue database (curated). */
  readonly databaseName: pulumi.Input<string>;
  /** Glue table name (lower case). */
  readonly tableName: string;
  /** Schema (ids from 1; `required` columns become Iceberg identifier fields). */
  readonly columns: readonly IcebergColumn[];
  /** Partition spec. @default unpartitioned */
  readonly partitions?: readonly PartitionField[];
  /** What the table holds, for the Glue description. */
  readonly description: string;
  /** `s3://warehouse/curated/<source>/<table>/`. */
  readonly location: pulumi.Input<string>;
  /** Role the Glue table optimizers run as. */
  readonly optimizerRoleArn: pulumi.Input<string>;
  /** Snapshot expiry and orphan cleanup, bounded by the erasure SLA (`maintenanceForSla`). */
  readonly maintenance: IcebergMaintenance;
  /**
   * The cell's registry of personal data: the table declares itself there when it has subject columns,
   * so the data-subject request workers reach it (components/privacy/personal-data.ts). @default not declared
   */
  readonly personalData?: PersonalDataCatalog;
  /**
   * Columns holding a subject's pseudonym. An empty list says the table holds no subject key (bookkeeping).
   * @default the columns named `*_pseudo_id` (`PSEUDONYM_COLUMN`)
   */
  readonly subjectColumns?: readonly string[];
  /**
   * Columns of JSON text that may carry a subject's pseudonym anywhere inside (a schemaless landing table's
   * `payload`): the workers match them by substring (`PersonalTable.textColumns`). @default none
   */
  readonly textColumns?: readonly string[];
}

export class IcebergTable extends pulumi.ComponentResource {
  public readonly table: aws.glue.CatalogTable;
  public readonly optimizers: Readonly<
    Record<"compaction" | "retention" | "orphan_file_deletion", aws.glue.CatalogTableOptimizer>
  >;
  public readonly name: pulumi.Output<string>;

  constructor(name: string, args: IcebergTableArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:aws:IcebergTable", name, args, opts);
    const columns = args.columns;
    const partitions = args.partitions ?? [];
    const idOf = (column: string) => {
      const c = columns.find((x) => x.name === column.toLowerCase());
      if (!c) throw new Error(`partition column ${column} not in schema`);
      return c.id;
    };
    this.table = new aws.glue.CatalogTable(
      name,
      {
        catalogId: args.accountId,
        databaseName: args.databaseName,
        name: args.tableName,
        description: args.description,
        tableType: "EXTERNAL_TABLE",
        parameters: { ...classification("curated") },
        openTableFormatInput: {
          icebergInput: {
            metadataOperation: "CREATE",
            version: "2",
            icebergTableInput: {
              location: args.location,
              schema: {
                schemaId: 0,
                type: "struct",
                identifierFieldIds: columns.filter((c) => c.required).map((c) => c.id),
                fields: columns.map((c) => ({
                  id: c.id,
                  name: c.name,
                  type: c.type,
                  required: c.required,
                  doc: c.doc,
                })),
              },
              partitionSpec: {
                specId: 0,
                fields: partitions.map((p, i) => ({
                  fieldId: 1000 + i,
                  name: p.name,
                  sourceId: idOf(p.column),
                  transform: p.transform,
                })),
              },
              properties: { ...ICEBERG_TABLE_PROPERTIES },
            },
          },
        },
      },
      // The merge job owns the schema after creation and every commit moves `metadata_location`:
      // Pulumi must not roll either back.
      { parent: this, ignoreChanges: ["storageDescriptor", "parameters", "openTableFormatInput", "partitionKeys"] },
    );
    const optimizer = (
      type: "compaction" | "retention" | "orphan_file_deletion",
      configuration: Record<string, unknown>,
    ) =>
      new aws.glue.CatalogTableOptimizer(
        `${name}-${type.replace(/_/g, "-")}`,
        {
          catalogId: args.accountId,
          databaseName: this.table.databaseName,
          tableName: this.table.name,
          type,
          configuration: { enabled: true, roleArn: args.optimizerRoleArn, ...configuration },
        },
        { parent: this },
      );
    const m = args.maintenance;
    this.optimizers = {
      // Merge-on-read leaves delete files behind each MERGE: compact once a file carries any.
      compaction: optimizer("compaction", {
        compactionConfiguration: { icebergConfiguration: { strategy: "binpack", deleteFileThreshold: 1 } },
      }),
      retention: optimizer("retention", {
        retentionConfiguration: {
          icebergConfiguration: {
            snapshotRetentionPeriodInDays: m.snapshotRetentionDays,
            numberOfSnapshotsToRetain: m.snapshotsToRetain,
            cleanExpiredFiles: true,
            runRateInHours: m.runRateHours,
          },
        },
      }),
      orphan_file_deletion: optimizer("orphan_file_deletion", {
        orphanFileDeletionConfiguration: {
          icebergConfiguration: {
            orphanFileRetentionPeriodInDays: m.orphanFileRetentionDays,
            runRateInHours: m.runRateHours,
          },
        },
      }),
    };
    this.name = this.table.name;
    const subjectColumns = args.subjectColumns ?? pseudonymColumns(columns.map((c) => c.name));
    const textColumns = args.textColumns ?? [];
    if (args.personalData && subjectColumns.length + textColumns.length > 0) {
      args.personalData.table({
        cloud: "aws",
        dataset: this.table.databaseName,
        table: this.table.name,
        subjectColumns,
        textColumns,
        dataClass: "curated",
        holds: args.description,
        key: name,
      });
    }
    this.registerOutputs({ name: this.name });
  }
}
