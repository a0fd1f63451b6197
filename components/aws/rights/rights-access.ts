/**
 * Who may do what in a cell's data-subject request machinery (ADR 0013), as IAM statements built from the
 * shared vocabulary (../iam/statements.ts): the intake writes new requests and reads the pseudonymisation
 * key; the AWS worker reads the requests stream, queries and deletes through Athena on the registered
 * tables only, writes exports and audit records; the GCP worker (by web identity) reads and updates the
 * requests and writes audit records; the privacy officers call the intake and read the exports. Nobody but
 * the workers and the intake writes to the audit bucket, and they only create objects under `requests/`
 * (no delete, no overwrite: Object Lock and `If-None-Match`).
 */
import * as pulumi from "@pulumi/pulumi";
import { athenaWorkgroupArn, writeQueryOutput } from "../../federation/athena-schedule";
import {
  allow,
  glueCatalogArn,
  glueDatabaseArn,
  KEY_USE,
  lakeFormationDataAccess,
  listPrefixes,
  objectsUnder,
  readSecret,
  useKey,
  type GlueScope,
  type Statement,
} from "../iam/statements";

/** The prefix of every request's objects in the audit and exports buckets (functions/subject-rights). */
export const REQUESTS_PREFIX = "requests/";

/** An AWS table the erasure and access workers reach (an entry of the personal-data registry). */
export interface RegisteredAwsTable {
  /** A stable key for the logical names of the table's grants (e.g. `orders-orders`). */
  readonly key: string;
  /** The Glue database. */
  readonly database: pulumi.Input<string>;
  /** The Glue table. */
  readonly table: pulumi.Input<string>;
}

/** What the statements name: the cell's scope and the ARNs of the stores. */
export interface RightsAccessScope extends GlueScope {
  readonly requestsTableArn: pulumi.Input<string>;
  readonly auditBucketArn: pulumi.Input<string>;
  readonly exportsBucketArn: pulumi.Input<string>;
  readonly lakeKeyArn: pulumi.Input<string>;
  readonly logsKeyArn: pulumi.Input<string>;
}

/** DynamoDB encrypts with the lake key on the caller's behalf: the key only through DynamoDB. */
const tableKey = (s: RightsAccessScope, sid = "RequestsTableKey"): Statement =>
  useKey(sid, s.lakeKeyArn, KEY_USE, `dynamodb.${s.region}.amazonaws.com`);

/** Create audit records (never read, overwrite or delete them): the logs key through S3 only. */
function appendAudit(s: RightsAccessScope): Statement[] {
  return [
    allow("AppendAuditRecords", ["s3:PutObject"], objectsUnder(s.auditBucketArn, REQUESTS_PREFIX)),
    useKey("AuditKey", s.logsKeyArn, ["kms:GenerateDataKey"], `s3.${s.region}.amazonaws.com`),
  ];
}

/** The intake: conditional put and read of request records, the cell's key, audit records. */
export function intakeStatements(s: RightsAccessScope, pseudonymisationSecretArn: pulumi.Input<string>): Statement[] {
  return [
    allow("RequestRecords", ["dynamodb:PutItem", "dynamodb:GetItem"], s.requestsTableArn),
    tableKey(s),
    // The HMAC key; Secrets Manager decrypts it with the lake key on the caller's behalf.
    readSecret("PseudonymisationKey", pseudonymisationSecretArn),
    useKey("PseudonymisationKeyDecrypt", s.lakeKeyArn, ["kms:Decrypt"], `secretsmanager.${s.region}.amazonaws.com`),
    ...appendAudit(s),
  ];
}

/** The Glue ARNs of the registered tables and the suppression table (catalog, databases, tables). */
function tableArns(s: GlueScope, tables: readonly RegisteredAwsTable[]): pulumi.Output<string>[] {
  const dbs = [...new Set(tables.map((t) => t.database))];
  return [
    pulumi.output(glueCatalogArn(s)),
    ...dbs.map((db) => glueDatabaseArn(s, db)),
    ...tables.map((t) => pulumi.interpolate`arn:aws:glue:${s.region}:${s.accountId}:table/${t.database}/${t.table}`),
  ];
}

export interface WorkerAccess {
  /** The requests table's streams (`<table ARN>/stream/*`). */
  readonly streamArn: pulumi.Input<string>;
  /** The cell's Athena workgroup. */
  readonly workgroupName: pulumi.Input<string>;
  /** The query-results bucket (the workgroup writes results under `athena/`). */
  readonly queryResultsBucketArn: pulumi.Input<string>;
  /** The warehouse bucket (the Iceberg tables under `curated/`). */
  readonly warehouseBucketArn: pulumi.Input<string>;
  /** Registered tables plus the suppression table. */
  readonly tables: readonly RegisteredAwsTable[];
}

/**
 * The AWS worker: the requests stream (DynamoDB developer guide, "IAM policy to allow an AWS Lambda function
 * to access DynamoDB stream records": the four stream actions on `<table>/stream/*`), status updates, Athena in
 * the cell's workgroup, the catalog entries of the registered tables only (Lake Formation grants do the
 * row-level scoping), the warehouse files, exports and audit records.
 */
export function workerStatements(s: RightsAccessScope, w: WorkerAccess): Statement[] {
  return [
    allow(
      "RequestsStream",
      ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"],
      w.streamArn,
    ),
    allow("RequestStatus", ["dynamodb:GetItem", "dynamodb:UpdateItem"], s.requestsTableArn),
    tableKey(s),
    allow(
      "Workgroup",
      [
        "athena:StartQueryExecution",
        "athena:StopQueryExecution",
        "athena:GetQueryExecution",
        "athena:GetQueryResults",
        "athena:GetWorkGroup",
      ],
      athenaWorkgroupArn(s, w.workgroupName),
    ),
    writeQueryOutput("QueryResults", w.queryResultsBucketArn, "athena/"),
    allow("RegisteredTables", ["glue:GetDatabase", "glue:GetTable", "glue:UpdateTable"], tableArns(s, w.tables)),
    lakeFormationDataAccess(),
    // DELETE and the suppression INSERT write Iceberg data, delete and metadata files under `curated/`.
    allow(
      "CuratedFiles",
      ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
      objectsUnder(w.warehouseBucketArn, "curated/"),
    ),
    listPrefixes("ListCurated", w.warehouseBucketArn, ["curated/"]),
    allow(
      "WriteExports",
      ["s3:PutObject", "s3:AbortMultipartUpload"],
      objectsUnder(s.exportsBucketArn, REQUESTS_PREFIX),
    ),
    useKey("LakeKey", s.lakeKeyArn),
    ...appendAudit(s),
  ];
}

/** The GCP worker's role (web identity): find pending requests, mark them done, append audit records. */
export function gcpWorkerStatements(s: RightsAccessScope): Statement[] {
  return [
    // Scan: the GCP worker lists requests whose gcpStatus is pending (the table holds a few hundred items).
    allow("RequestRecords", ["dynamodb:Scan", "dynamodb:GetItem", "dynamodb:UpdateItem"], s.requestsTableArn),
    tableKey(s),
    ...appendAudit(s),
  ];
}

/**
 * The privacy officers' role: call the intake through its URL (AWS_IAM only: `lambda:FunctionUrlAuthType`,
 * Lambda developer guide, "Control access to Lambda function URLs"), read the exports under `requests/`.
 * `lambda:InvokeFunction` is granted by the function's resource policy with `InvokedViaFunctionUrl` only, so
 * an officer cannot invoke the intake directly with a forged `requestContext` (who asked).
 */
export function officerStatements(s: RightsAccessScope, intakeArn: pulumi.Input<string>): Statement[] {
  return [
    allow("CallIntake", ["lambda:InvokeFunctionUrl"], intakeArn, {
      StringEquals: { "lambda:FunctionUrlAuthType": "AWS_IAM" },
    }),
    allow("ReadExports", ["s3:GetObject"], objectsUnder(s.exportsBucketArn, REQUESTS_PREFIX)),
    listPrefixes("ListExports", s.exportsBucketArn, [REQUESTS_PREFIX]),
    useKey("ExportsKey", s.lakeKeyArn, ["kms:Decrypt"], `s3.${s.region}.amazonaws.com`),
  ];
}
