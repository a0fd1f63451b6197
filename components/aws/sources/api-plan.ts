/**
 * The pure side of an API source: names, the puller's run-time config, the IAM statements of the puller
 * and of the MERGE, the MERGE text and the lag alarm's window, all from one config entry. Kept apart from
 * the component so tests check them without a plan.
 */
import * as pulumi from "@pulumi/pulumi";
import { asPointer, rateMinutes, type PullerConfig } from "../../../functions/api-puller/config";
import { mergeSql, type ApiTableSpec } from "../../../functions/api-puller/merge-sql";
import type { ApiSource } from "../../config/schema";
import { athenaWorkgroupArn, listPrefixesWithLocation, QUERY_OUTPUT } from "../../federation/athena-schedule";
import {
  allow,
  glueCatalogArn,
  glueDatabaseArn,
  glueTableArn,
  lakeFormationDataAccess,
  objectsUnder,
  readObjects,
  readSecret,
  S3_READ_WRITE,
  useKey,
  type Statement,
} from "../iam/statements";

/** The physical names of one API source (`prefix`: `lakehouse-<env>-<cell>`). */
export function apiNames(prefix: string, source: Pick<ApiSource, "name">) {
  const snake = source.name.replace(/-/g, "_");
  return {
    /** `<prefix>-api-<name>`: function, cursor table, schedules, workgroup, alarms. */
    id: `${prefix}-api-${source.name}`,
    /** After the cell prefix (SourceFunction adds it). */
    functionName: `api-${source.name}`,
    /** Landing objects: `api/<name>/dt=<day>/<hash>.ndjson.gz`. */
    landingPrefix: `api/${source.name}/`,
    /** The curated Iceberg table's files. */
    warehousePrefix: `curated/api/${source.name}/`,
    /** Where the MERGE's Athena results go (raw bucket, expired with raw data). */
    resultsPrefix: `_athena/api/${source.name}/`,
    curatedTable: `api_${snake}`,
    landingTable: `api_${snake}_landing`,
  };
}
export type ApiNames = ReturnType<typeof apiNames>;

/** The MERGE's spec: cursor type and the declared columns, each with its JSON pointer. */
export function apiTableSpec(source: ApiSource): ApiTableSpec {
  return {
    cursorType: source.cursorType,
    columns: source.columns.map((c) => ({ name: c.name, type: c.type, field: asPointer(c.field ?? c.name) })),
  };
}

/** What the run needs to know, as `API_PULLER_CONFIG` (names and ARNs only: the credential stays in its secret). */
export function pullerConfig(
  source: ApiSource,
  names: ApiNames,
  refs: {
    readonly landingBucket: pulumi.Input<string>;
    readonly lakeKeyArn: pulumi.Input<string>;
    readonly cursorTable: pulumi.Input<string>;
    readonly secretArn?: pulumi.Input<string>;
  },
): pulumi.Output<PullerConfig> {
  return pulumi
    .all([refs.landingBucket, refs.lakeKeyArn, refs.cursorTable, refs.secretArn])
    .apply(([bucket, key, table, secretArn]) => ({
      source: source.name,
      url: `${source.baseUrl.replace(/\/$/, "")}${source.path}`,
      sinceParam: source.sinceParam,
      cursorPointer: asPointer(source.cursorField),
      cursorType: source.cursorType,
      idPointer: asPointer(source.idField),
      recordsPointer: source.recordsPointer,
      pagination: source.pagination,
      pageSize: source.pageSize,
      pageSizeParam: source.pageSizeParam,
      ...(secretArn
        ? {
            auth: {
              header: source.auth?.header ?? "Authorization",
              scheme: source.auth?.scheme ?? "bearer",
              secretArn,
            },
          }
        : {}),
      requestsPerSecond: source.requestsPerSecond,
      maxPagesPerRun: source.maxPagesPerRun,
      maxAttempts: source.maxAttempts,
      baseDelayMs: 500,
      maxDelayMs: 30_000,
      requestTimeoutMs: 30_000,
      landing: { bucket, prefix: names.landingPrefix, kmsKeyArn: key },
      cursorTable: table,
    }));
}

export interface PullerGrants {
  readonly region: string;
  readonly landingBucketArn: pulumi.Input<string>;
  readonly lakeKeyArn: pulumi.Input<string>;
  readonly cursorTableArn: pulumi.Input<string>;
  readonly secretArn?: pulumi.Input<string>;
}

/**
 * The puller's role beyond its logs and dead letters: its cursor item (read and conditional put), its
 * landing prefix (put only: it never reads or deletes), its one secret, and the lake key only through
 * those services.
 */
export function pullerStatements(names: ApiNames, g: PullerGrants): Statement[] {
  return [
    allow("Cursor", ["dynamodb:GetItem", "dynamodb:PutItem"], g.cursorTableArn),
    allow("LandPages", ["s3:PutObject"], objectsUnder(g.landingBucketArn, names.landingPrefix)),
    useKey("LandingKey", g.lakeKeyArn, ["kms:GenerateDataKey"], `s3.${g.region}.amazonaws.com`),
    useKey(
      "CursorKey",
      g.lakeKeyArn,
      ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
      `dynamodb.${g.region}.amazonaws.com`,
    ),
    ...(g.secretArn
      ? [
          readSecret("ApiCredential", g.secretArn),
          useKey("SecretKey", g.lakeKeyArn, ["kms:Decrypt"], `secretsmanager.${g.region}.amazonaws.com`),
        ]
      : []),
  ];
}

export interface MergeGrants {
  readonly region: string;
  readonly accountId: string;
  readonly workgroupName: pulumi.Input<string>;
  readonly landingBucketArn: pulumi.Input<string>;
  readonly rawBucketArn: pulumi.Input<string>;
  readonly warehouseBucketArn: pulumi.Input<string>;
  readonly lakeKeyArn: pulumi.Input<string>;
  readonly rawDatabaseName: pulumi.Input<string>;
  readonly curatedDatabaseName: pulumi.Input<string>;
}

/**
 * The scheduled MERGE's role (EventBridge Scheduler -> Athena): run queries in its own workgroup, read the
 * landing table and its objects, read and write the curated table's files, write its query results.
 */
export function mergeStatements(names: ApiNames, g: MergeGrants): Statement[] {
  const scope = { region: g.region, accountId: g.accountId };
  return [
    allow(
      "RunMerge",
      ["athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetWorkGroup"],
      athenaWorkgroupArn(scope, g.workgroupName),
    ),
    allow(
      "Catalog",
      ["glue:GetDatabase", "glue:GetTable", "glue:GetPartitions", "glue:UpdateTable"],
      [
        glueCatalogArn(scope),
        glueDatabaseArn(scope, g.rawDatabaseName),
        glueTableArn(scope, g.rawDatabaseName, names.landingTable),
        glueDatabaseArn(scope, g.curatedDatabaseName),
        glueTableArn(scope, g.curatedDatabaseName, names.curatedTable),
      ],
    ),
    lakeFormationDataAccess("LakeFormationCredentials"),
    readObjects("ReadLanding", g.landingBucketArn, names.landingPrefix),
    listPrefixesWithLocation("ListLanding", g.landingBucketArn, [names.landingPrefix]),
    allow(
      "WriteCurated",
      [...S3_READ_WRITE, "s3:AbortMultipartUpload"],
      objectsUnder(g.warehouseBucketArn, names.warehousePrefix),
    ),
    listPrefixesWithLocation("ListCurated", g.warehouseBucketArn, [names.warehousePrefix]),
    allow(
      "AthenaResults",
      [...QUERY_OUTPUT].filter((a) => a !== "s3:ListBucket" && a !== "s3:GetBucketLocation"),
      objectsUnder(g.rawBucketArn, names.resultsPrefix),
    ),
    listPrefixesWithLocation("ListResults", g.rawBucketArn, [names.resultsPrefix]),
    useKey("LakeKey", g.lakeKeyArn, ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"]),
  ];
}

/** The Athena MERGE for the schedule, over the Glue tables. */
export function athenaMerge(
  source: ApiSource,
  names: ApiNames,
  rawDatabase: pulumi.Input<string>,
  curatedDatabase: pulumi.Input<string>,
): pulumi.Output<string> {
  return pulumi.all([rawDatabase, curatedDatabase]).apply(([raw, curated]) =>
    mergeSql(apiTableSpec(source), "athena", {
      target: `"${curated}"."${names.curatedTable}"`,
      source: `"${raw}"."${names.landingTable}"`,
      lookbackDays: source.mergeLookbackDays,
    }),
  );
}

/**
 * The lag alarm's window: no caught-up run in `maxLagMinutes` (default three schedule intervals) is one
 * CloudWatch period of that length (a period is a multiple of 60 s; validation keeps it within a day).
 */
export function lagWindowSeconds(source: ApiSource): number {
  const minutes = source.maxLagMinutes ?? 3 * (rateMinutes(source.schedule) ?? 480);
  return Math.min(minutes, 1440) * 60;
}

/** Three MERGE intervals (at least an hour, at most a day), for the MERGE's own lag alarm. */
export function mergeLagSeconds(source: ApiSource): number {
  const minutes = 3 * (rateMinutes(source.mergeSchedule) ?? 480);
  return Math.min(Math.max(minutes, 60), 1440) * 60;
}
