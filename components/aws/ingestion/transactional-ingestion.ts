/**
 * Transactional ingestion of one cell on AWS: Oracle / MySQL / SQL Server --DMS Serverless CDC (TLS,
 * Secrets Manager)--> S3 raw (Parquet) --scheduled Glue Spark MERGE--> Iceberg tables in the Glue catalog,
 * with the tables' maintenance and the alarms. Everything is created through the cell's AWS provider.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { SourceCredential } from "../../config/load";
import type { TransactionalSource } from "../../config/schema";
import { IngestionAlerts } from "./alerts";
import { CdcMergeJobs, type CdcMergeTable } from "./cdc-merge-job";
import { DmsSource } from "./dms-source";
import { IcebergTable, maintenanceForSla } from "./iceberg-table";
import { IngestionNetwork, RFC1918 } from "./network";
import { defaultTableNames } from "../../../functions/cdc-merge/merge-sql";
import { parseTableSpec } from "../../../functions/cdc-merge/spec";
import { serviceTrustPolicy } from "../service-trust";
import {
  curatedSchema,
  curatedTableName,
  LEDGER_SCHEMA,
  mergeColumns,
  tombstoneSchema,
  type IcebergColumn,
  type PartitionField,
} from "./plan-rules";

/** The name DMS requires for the role that manages its network interfaces (DMS user guide, "Creating the IAM roles to use with AWS DMS"). */
export const DMS_VPC_ROLE_NAME = "dms-vpc-role";
export const DMS_VPC_MANAGED_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonDMSVPCManagementRole";

export interface TransactionalIngestionArgs {
  /** `lakehouse-<env>`. */
  readonly namePrefix: string;
  readonly cell: string;
  readonly accountId: string;
  readonly region: string;
  /** The cell's transactional sources (already filtered by cell). */
  readonly sources: readonly TransactionalSource[];
  /** `lakehouse:sourceCredentials`, by name; each password a secret Output (DeployConfig). */
  readonly credentials: Readonly<Record<string, SourceCredential>>;
  readonly lakeKeyArn: pulumi.Input<string>;
  readonly logsKeyArn: pulumi.Input<string>;
  readonly raw: {
    readonly name: pulumi.Input<string>;
    readonly arn: pulumi.Input<string>;
    readonly ready: pulumi.Input<string>;
  };
  readonly warehouse: {
    readonly name: pulumi.Input<string>;
    readonly arn: pulumi.Input<string>;
    readonly ready: pulumi.Input<string>;
  };
  readonly curatedDatabaseName: pulumi.Input<string>;
  /** The cell's pseudonymisation key in Secrets Manager (`PseudonymisationKey.awsSecretArn`). */
  readonly pseudonymisationSecretArn: pulumi.Input<string>;
  /** Addresses told when an ingestion alarm fires. @default [] */
  readonly alertEmails?: readonly string[];
  readonly logRetentionDays: number;
  readonly erasureSlaDays: number;
  /** DMS capacity per source (deriveSizing). */
  readonly dmsCapacity: { readonly min: number; readonly max: number };
  /** Production: multi-AZ replications. */
  readonly multiAz: boolean;
  /** @default { vpcCidr: "10.80.0.0/22", sourceCidrs: RFC 1918 } */
  readonly network?: {
    readonly vpcCidr?: string;
    readonly sourceCidrs?: readonly string[];
    /** An existing VPC (with `subnetIds`, `routeTableIds`; `vpcCidr` is then its CIDR). */
    readonly vpcId?: string;
    readonly subnetIds?: readonly string[];
    readonly routeTableIds?: readonly string[];
  };
  /**
   * Create the account-wide `dms-vpc-role`. Set false when another stack or cell in the same account
   * already owns it (the name is fixed by DMS). @default true
   */
  readonly createDmsVpcRole?: boolean;
  /** G.1X workers per merge job. @default 2 */
  readonly mergeWorkers?: number;
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

    this.alerts = new IngestionAlerts(
      `${name}-alerts`,
      { namePrefix: prefix, accountId, region, emails: args.alertEmails },
      child,
    );
    this.network = new IngestionNetwork(
      `${name}-network`,
      {
        namePrefix: prefix,
        region,
        accountId,
        vpcCidr: args.network?.vpcCidr ?? "10.80.0.0/22",
        sourceCidrs: args.network?.sourceCidrs ?? [...RFC1918],
        sourcePorts: args.sources.map((s) => s.port),
        logsKmsKeyArn: args.logsKeyArn,
        logRetentionDays: args.logRetentionDays,
        existing: args.network?.vpcId
          ? {
              vpcId: args.network.vpcId,
              subnetIds: args.network.subnetIds ?? [],
              routeTableIds: args.network.routeTableIds ?? [],
            }
          : undefined,
      },
      child,
    );

    const vpcRoleDeps: pulumi.Resource[] = [];
    if (args.createDmsVpcRole ?? true) {
      const vpcRole = new aws.iam.Role(
        `${name}-dms-vpc-role`,
        {
          name: DMS_VPC_ROLE_NAME,
          description: "DMS manages the network interfaces of replications in the ingestion VPC",
          assumeRolePolicy: JSON.stringify({
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Principal: { Service: "dms.amazonaws.com" }, Action: "sts:AssumeRole" }],
          }),
        },
        child,
      );
      vpcRoleDeps.push(
        new aws.iam.RolePolicyAttachment(
          `${name}-dms-vpc-role`,
          { role: vpcRole.name, policyArn: DMS_VPC_MANAGED_POLICY },
          child,
        ),
      );
    }
    const subnetGroup = new aws.dms.ReplicationSubnetGroup(
      `${name}-subnets`,
      {
        replicationSubnetGroupId: `${prefix}-ingestion`,
        replicationSubnetGroupDescription: `Private subnets of the ${args.cell} ingestion VPC`,
        subnetIds: this.network.subnetIds,
      },
      { parent: this, dependsOn: vpcRoleDeps },
    );

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
          namePrefix: prefix,
          accountId,
          region,
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
        child,
      );
    }
    this.sources = sources;

    // The table optimizers' role (Glue user guide, "Table optimization prerequisites").
    const optimizerRole = new aws.iam.Role(
      `${name}-optimizer`,
      {
        description: "Glue table optimizers of the curated Iceberg tables",
        assumeRolePolicy: serviceTrustPolicy("glue.amazonaws.com", accountId),
      },
      child,
    );
    const db = pulumi.output(args.curatedDatabaseName);
    const optimizerPolicy = new aws.iam.RolePolicy(
      `${name}-optimizer`,
      {
        role: optimizerRole.id,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "CuratedFiles",
              Effect: "Allow",
              Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
              Resource: pulumi.interpolate`${args.warehouse.arn}/curated/*`,
            },
            {
              Sid: "ListCurated",
              Effect: "Allow",
              Action: ["s3:ListBucket"],
              Resource: args.warehouse.arn,
              Condition: { StringLike: { "s3:prefix": ["curated/*"] } },
            },
            {
              Sid: "LakeKey",
              Effect: "Allow",
              Action: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
              Resource: args.lakeKeyArn,
            },
            {
              Sid: "CuratedTables",
              Effect: "Allow",
              Action: ["glue:GetTable", "glue:UpdateTable"],
              Resource: [
                `arn:aws:glue:${region}:${accountId}:catalog`,
                pulumi.interpolate`arn:aws:glue:${region}:${accountId}:database/${db}`,
                pulumi.interpolate`arn:aws:glue:${region}:${accountId}:table/${db}/*`,
              ],
            },
            { Sid: "LakeFormationDataAccess", Effect: "Allow", Action: ["lakeformation:GetDataAccess"], Resource: "*" },
            {
              Sid: "OptimizerLogs",
              Effect: "Allow",
              Action: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
              Resource: [
                `arn:aws:logs:${region}:${accountId}:log-group:/aws-glue/iceberg-compaction/*`,
                `arn:aws:logs:${region}:${accountId}:log-group:/aws-glue/iceberg-retention/*`,
                `arn:aws:logs:${region}:${accountId}:log-group:/aws-glue/iceberg-orphan-file-deletion/*`,
              ],
            },
          ],
        }),
      },
      child,
    );
    const optimizerLf = new aws.lakeformation.Permissions(
      `${name}-optimizer-lf`,
      {
        principal: optimizerRole.arn,
        permissions: ["DESCRIBE", "SELECT", "INSERT", "DELETE", "ALTER"],
        table: { databaseName: args.curatedDatabaseName, wildcard: true },
      },
      child,
    );
    const optimizerRoleArn = pulumi.all([optimizerRole.arn, optimizerPolicy.id, optimizerLf.id]).apply(([arn]) => arn);

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
        // Siblings, never nested: orphan-file deletion walks a table's whole location.
        const declare = (
          glueName: string,
          description: string,
          schema: readonly IcebergColumn[],
          spec?: readonly PartitionField[],
        ) => {
          if (tables[glueName]) throw new Error(`two source tables map to the curated table ${glueName}`);
          tables[glueName] = new IcebergTable(
            `${name}-${glueName.replace(/_+/g, "-")}`,
            {
              accountId,
              databaseName: args.curatedDatabaseName,
              tableName: glueName,
              columns: schema,
              partitions: spec,
              description,
              location: pulumi.interpolate`s3://${warehouseName}/curated/${source.name}/${glueName}/`,
              optimizerRoleArn,
              maintenance,
            },
            child,
          );
          return tables[glueName];
        };
        const declared = [
          declare(
            names.table,
            `Curated ${where}, merged from DMS CDC (pseudonymous: no piiColumns)`,
            columns,
            partitions,
          ),
          declare(
            names.tombstones,
            `CDC merge tombstones of ${where}: deleted keys and their watermark`,
            tombstoneSchema(table),
          ),
          declare(names.ledger, `CDC merge ledger of ${where}: raw files applied`, LEDGER_SCHEMA),
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
    this.tables = tables;

    this.merge =
      mergeTables.length > 0
        ? new CdcMergeJobs(
            `${name}-merge`,
            {
              namePrefix: prefix,
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
            },
            child,
          )
        : undefined;

    this.registerOutputs({
      replications: Object.fromEntries(Object.entries(sources).map(([k, s]) => [k, s.replication.arn])),
      tables: Object.keys(tables),
    });
  }
}
