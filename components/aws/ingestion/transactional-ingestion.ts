/**
 * Transactional ingestion of one cell on AWS: Oracle / MySQL / SQL Server --DMS Serverless CDC (TLS,
 * Secrets Manager)--> S3 raw (Parquet) --scheduled Glue Spark MERGE--> Iceberg tables in the Glue catalog,
 * with the tables' maintenance and the alarms. Everything is created through the cell's AWS provider.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { SourceCredential } from "../../config/load";
import type { TransactionalSource } from "../../config/schema";
import type { IngestionAlerts } from "./alerts";
import { CdcMergeJobs, type CdcMergeTable } from "./cdc-merge-job";
import { DmsSource } from "./dms-source";
import { IcebergTable, maintenanceForSla } from "./iceberg-table";
import type { IngestionNetwork } from "./network";
import { defaultTableNames } from "../../../functions/cdc-merge/merge-sql";
import { parseTableSpec } from "../../../functions/cdc-merge/spec";
import { ServiceRole } from "../iam/service-role";
import { pseudonymColumns, type PersonalDataCatalog } from "../../privacy/personal-data";
import { TableOptimizerRole } from "../iam/table-optimizer-role";
import {
  curatedSchema,
  curatedTableName,
  LEDGER_SCHEMA,
  mergeColumns,
  rawPrefix,
  tombstoneSchema,
  type IcebergColumn,
  type PartitionField,
} from "./plan-rules";

/** The name DMS requires for the role that manages its network interfaces (DMS user guide, "Creating the IAM roles to use with AWS DMS"). */
export const DMS_VPC_ROLE_NAME = "dms-vpc-role";
export const DMS_VPC_MANAGED_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonDMSVPCManagementRole";

/** A bucket another layer made, as far as ingestion needs it. */
export interface BucketRef {
  /** Bucket name. */
  readonly name: pulumi.Input<string>;
  /** Bucket ARN. */
  readonly arn: pulumi.Input<string>;
  /** Resolves once the bucket's encryption, public access block and policy exist (`SecureBucket.ready`). */
  readonly ready: pulumi.Input<string>;
}

export interface TransactionalIngestionArgs {
  /** `lakehouse-<env>`; the ingestion's names start with `<namePrefix>-<cell>`. */
  readonly namePrefix: string;
  /** The cell (`br`, `eu`). */
  readonly cell: string;
  /** The cell's AWS account. */
  readonly accountId: string;
  /** The cell's AWS region. */
  readonly region: string;
  /** The cell's transactional sources (already filtered by cell). */
  readonly sources: readonly TransactionalSource[];
  /** `lakehouse:sourceCredentials`, by name; each password a secret Output (DeployConfig). */
  readonly credentials: Readonly<Record<string, SourceCredential>>;
  /** The cell's lake key (secrets, raw and curated data). */
  readonly lakeKeyArn: pulumi.Input<string>;
  /** The cell's logs key (log groups). */
  readonly logsKeyArn: pulumi.Input<string>;
  /** The raw bucket DMS writes to (`SecureBucket`: name, ARN, and `ready` once it is secured). */
  readonly raw: BucketRef;
  /** The warehouse bucket holding the curated Iceberg tables. */
  readonly warehouse: BucketRef;
  /** The curated Glue database. */
  readonly curatedDatabaseName: pulumi.Input<string>;
  /** The cell's pseudonymisation key in Secrets Manager (`PseudonymisationKey.awsSecretArn`). */
  readonly pseudonymisationSecretArn: pulumi.Input<string>;
  /** Days logs are kept (`retention.logs`). */
  readonly logRetentionDays: number;
  /** The erasure SLA in days: bounds the tables' snapshot expiry and orphan cleanup. */
  readonly erasureSlaDays: number;
  /** DMS capacity per source (deriveSizing). */
  readonly dmsCapacity: { readonly min: number; readonly max: number };
  /** Production: multi-AZ replications. */
  readonly multiAz: boolean;
  /** The cell's private ingestion network (shared with the other AWS sources; see `ingestionNetworkArgs`). */
  readonly network: IngestionNetwork;
  /** The cell's ingestion alert topic (shared with the other AWS sources). */
  readonly alerts: IngestionAlerts;
  /**
   * Create the account-wide `dms-vpc-role`. Set false when another stack or cell in the same account
   * already owns it (the name is fixed by DMS). @default true
   */
  readonly createDmsVpcRole?: boolean;
  /** G.1X workers per merge job. @default 2 */
  readonly mergeWorkers?: number;
  /**
   * The cell's registry of personal data, and the days the raw bucket keeps an object (`retention.raw`):
   * the curated tables with pseudonyms and the raw CDC prefixes of sources with personal columns are
   * declared there (components/privacy/personal-data.ts). @default not declared
   */
  readonly personalData?: { readonly catalog: PersonalDataCatalog; readonly rawExpiryDays: number };
  /** The suppression table's id, once made: the merge schedules start after it. @default none */
  readonly suppressionTableReady?: pulumi.Input<string>;
}

export class TransactionalIngestion extends pulumi.ComponentResource {
  public readonly network: IngestionNetwork;
  public readonly alerts: IngestionAlerts;
  public readonly sources: Readonly<Record<string, DmsSource>>;
  public readonly tables: Readonly<Record<string, IcebergTable>>;
  public readonly merge: CdcMergeJobs | undefined;

  constructor(name: string, args: TransactionalIngestionArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:aws:TransactionalIngestion", name, args, opts);
    const child = { parent: this };
    const { accountId, region } = args;
    const prefix = `${args.namePrefix}-${args.cell}`;

    this.alerts = args.alerts;
    this.network = args.network;
    const subnetGroup = this.createSubnetGroup(name, args, prefix);
    this.sources = this.createSources(name, args, prefix, subnetGroup);
    this.declareRawPrefixes(args);

    // The table optimizers' role (Glue user guide, "Table optimization prerequisites").
    const optimizer = new TableOptimizerRole(
      `${name}-optimizer`,
      {
        accountId,
        region,
        description: "Glue table optimizers of the curated Iceberg tables",
        warehouseBucketArn: args.warehouse.arn,
        prefix: "curated/",
        lakeKeyArn: args.lakeKeyArn,
        databaseName: args.curatedDatabaseName,
        sidLabel: "Curated",
      },
      child,
    );
    const { tables, mergeTables } = this.declareTables(name, args, optimizer.arn);
    this.tables = tables;

    this.merge =
      mergeTables.length > 0
        ? new CdcMergeJobs(
            `${name}-merge`,
            {
              resourcePrefix: prefix,
              accountId,
              region,
              tables: mergeTables,
              curatedDatabaseName: args.curatedDatabaseName,
              pseudonymisationSecretArn: args.pseudonymisationSecretArn,
              lakeKeyArn: args.lakeKeyArn,
              logsKeyArn: args.logsKeyArn,
              rawBucketName: args.raw.name,
              rawBucketArn: args.raw.arn,
              warehouseBucketName: args.warehouse.name,
              warehouseBucketArn: args.warehouse.arn,
              workers: args.mergeWorkers,
              logRetentionDays: args.logRetentionDays,
              alertTopicArn: this.alerts.topicArn,
              suppressionTableReady: args.suppressionTableReady,
            },
            child,
          )
        : undefined;

    this.registerOutputs({
      replications: Object.fromEntries(Object.entries(this.sources).map(([k, s]) => [k, s.replication.arn])),
      tables: Object.keys(tables),
    });
  }

  /**
   * The replications' subnet group, after the account-wide `dms-vpc-role` DMS needs to place network
   * interfaces in it (DMS user guide, "Creating the IAM roles to use with AWS DMS").
   */
  private createSubnetGroup(
    name: string,
    args: TransactionalIngestionArgs,
    prefix: string,
  ): aws.dms.ReplicationSubnetGroup {
    const vpcRole =
      (args.createDmsVpcRole ?? true)
        ? new ServiceRole(
            `${name}-dms-vpc-role`,
            {
              service: "dms.amazonaws.com",
              accountId: args.accountId,
              roleName: DMS_VPC_ROLE_NAME,
              description: "DMS manages the network interfaces of replications in the ingestion VPC",
              managedPolicyArns: [DMS_VPC_MANAGED_POLICY],
              // No aws:SourceAccount here, unlike every other role: this role has a name DMS fixes, one per
              // account, and DMS assumes it for the account's network setup rather than on behalf of a
              // resource. The DMS user guide documents its trust policy without a condition ("Creating the
              // IAM roles to use with AWS DMS"), its confused-deputy page only covers the roles passed to
              // DMS per resource, and DMS has been seen failing to use its account-wide roles once a
              // source condition is added (terraform-aws-modules/terraform-aws-dms#84, an upstream
              // blocker). The managed policy it gets only manages network interfaces.
              sourceCondition: "none",
            },
            { parent: this },
          )
        : undefined;
    return new aws.dms.ReplicationSubnetGroup(
      `${name}-subnets`,
      {
        replicationSubnetGroupId: `${prefix}-ingestion`,
        replicationSubnetGroupDescription: `Private subnets of the ${args.cell} ingestion VPC`,
        subnetIds: this.network.subnetIds,
      },
      { parent: this, dependsOn: vpcRole ? [...vpcRole.attachments] : [] },
    );
  }

  /** One DMS source per configured transactional source. */
  private createSources(
    name: string,
    args: TransactionalIngestionArgs,
    prefix: string,
    subnetGroup: aws.dms.ReplicationSubnetGroup,
  ): Record<string, DmsSource> {
    const sources: Record<string, DmsSource> = {};
    for (const source of args.sources) {
      // Own properties only: `credentials: constructor` must not find Object.prototype's (validation
      // reports a missing entry with its key first; this guards callers that skip it).
      const cred = Object.hasOwn(args.credentials, source.credentials)
        ? args.credentials[source.credentials]
        : undefined;
      if (!cred)
        throw new Error(`lakehouse:sourceCredentials has no entry '${source.credentials}' for source ${source.name}`);
      sources[source.name] = new DmsSource(
        `${name}-${source.name}`,
        {
          resourcePrefix: prefix,
          accountId: args.accountId,
          region: args.region,
          source,
          credentials: pulumi.secret(cred),
          lakeKeyArn: args.lakeKeyArn,
          logsKeyArn: args.logsKeyArn,
          rawBucketName: args.raw.name,
          rawBucketArn: args.raw.arn,
          rawBucketReady: args.raw.ready,
          subnetGroupId: subnetGroup.replicationSubnetGroupId,
          securityGroupIds: [this.network.dmsSecurityGroup.id],
          capacity: args.dmsCapacity,
          multiAz: args.multiAz,
          logRetentionDays: args.logRetentionDays,
          alertTopicArn: this.alerts.topicArn,
          dependsOn: [this.network],
        },
        { parent: this },
      );
    }
    return sources;
  }

  /**
   * The raw CDC files of every source with personal columns (`piiColumns` or `pseudonymise`): whole source
   * rows, direct identifiers included, reached only by the raw bucket's expiry.
   */
  private declareRawPrefixes(args: TransactionalIngestionArgs): void {
    const personal = args.personalData;
    if (!personal) return;
    for (const source of args.sources) {
      const columns = source.tables.flatMap((t) => [
        ...(t.piiColumns ?? []),
        ...(t.pseudonymise ?? []).map((p) => p.column),
      ]);
      if (columns.length === 0) continue;
      personal.catalog.prefix({
        cloud: "aws",
        bucket: args.raw.name,
        prefix: rawPrefix(source.name),
        dataClass: "raw",
        expiresAfterDays: personal.rawExpiryDays,
        holds: `DMS CDC files of ${source.name}: whole source rows, with ${[...new Set(columns.map((c) => c.toLowerCase()))].join(", ")}`,
      });
    }
  }

  /**
   * Per source table, its curated Iceberg table with the merge's tombstone and ledger tables (siblings,
   * never nested: orphan-file deletion walks a table's whole location), and what the merge job needs.
   */
  private declareTables(
    name: string,
    args: TransactionalIngestionArgs,
    optimizerRoleArn: pulumi.Output<string>,
  ): { tables: Record<string, IcebergTable>; mergeTables: CdcMergeTable[] } {
    const maintenance = maintenanceForSla(args.erasureSlaDays);
    const tables: Record<string, IcebergTable> = {};
    const mergeTables: CdcMergeTable[] = [];
    const warehouseName = pulumi.all([args.warehouse.name, args.warehouse.ready]).apply(([bucket]) => bucket);
    for (const source of args.sources) {
      for (const table of source.tables) {
        const tableName = curatedTableName(source.name, table);
        const spec = parseTableSpec({
          name: tableName,
          keyColumns: table.keys.map((k) => k.toLowerCase()),
          ...mergeColumns(table),
        });
        const names = defaultTableNames(spec);
        const { columns, partitions } = curatedSchema(table);
        const where = `${table.schema}.${table.name} of ${source.name}`;
        const declare = (
          glueName: string,
          description: string,
          schema: readonly IcebergColumn[],
          subjectColumns: readonly string[],
          spec?: readonly PartitionField[],
        ) => {
          if (tables[glueName]) throw new Error(`two source tables map to the curated table ${glueName}`);
          tables[glueName] = new IcebergTable(
            `${name}-${glueName.replace(/_+/g, "-")}`,
            {
              accountId: args.accountId,
              databaseName: args.curatedDatabaseName,
              tableName: glueName,
              columns: schema,
              partitions: spec,
              description,
              location: pulumi.interpolate`s3://${warehouseName}/curated/${source.name}/${glueName}/`,
              optimizerRoleArn,
              maintenance,
              personalData: args.personalData?.catalog,
              subjectColumns,
            },
            { parent: this },
          );
          return tables[glueName];
        };
        const declared = [
          declare(
            names.table,
            `Curated ${where}, merged from DMS CDC (pseudonymous: no piiColumns)`,
            columns,
            // The merge's pseudonyms (`pseudonymise[].as`), and source columns that already are pseudonyms.
            [...new Set([...spec.pseudonymise.map((p) => p.as), ...pseudonymColumns(columns.map((c) => c.name))])],
            partitions,
          ),
          // Tombstones keep only the keys of rows the source deleted (so a replayed older change cannot bring
          // them back): the deletion's own record, not data about a live subject. The ledger names files.
          declare(
            names.tombstones,
            `CDC merge tombstones of ${where}: deleted keys and their watermark`,
            tombstoneSchema(table),
            [],
          ),
          declare(names.ledger, `CDC merge ledger of ${where}: raw files applied`, LEDGER_SCHEMA, []),
        ];
        mergeTables.push({
          source: source.name,
          table,
          spec,
          tableName,
          ready: pulumi
            .all(declared.flatMap((t) => Object.values(t.optimizers).map((o) => o.id)))
            .apply(() => tableName),
        });
      }
    }
    return { tables, mergeTables };
  }
}
