/**
 * IAM as vocabulary: the few statement shapes the lakehouse grants, so a least-privilege rule (which
 * actions read a prefix, which condition scopes a list) is written once. Every builder returns a plain
 * statement whose keys come in the order Sid, Effect, (Principal,) Action, Resource, Condition, so the
 * JSON the plan records stays byte-for-byte what the hand-written statements produced.
 */
import * as pulumi from "@pulumi/pulumi";

/** An IAM condition block: operator → condition key → value(s) (IAM user guide, "IAM JSON policy elements: Condition"). */
export type Condition = Readonly<Record<string, Readonly<Record<string, pulumi.Input<string | readonly string[]>>>>>;

/** One resource ARN, or several. */
export type Resources = pulumi.Input<string> | readonly pulumi.Input<string>[];

/** One action, or several (a single string stays a string in the JSON). */
export type Actions = string | readonly string[];

/**
 * A policy statement as IAM reads it. `Principal` only in resource policies (key, bucket, topic). A type
 * (not an interface) so a statement also fits where a plain JSON record is expected.
 */
export type Statement = {
  readonly Sid: string;
  readonly Effect: "Allow" | "Deny";
  readonly Principal?:
    "*" | { readonly Service: pulumi.Input<string> | readonly string[] } | { readonly AWS: pulumi.Input<string> };
  readonly Action: Actions;
  readonly Resource: Resources;
  readonly Condition?: pulumi.Input<Condition>;
};

const copy = (a: Actions): Actions => (typeof a === "string" ? a : [...a]);

/** Any statement, keys in IAM's documented order; the builders below are the shapes we use. */
export function statement(s: {
  readonly sid: string;
  readonly effect: "Allow" | "Deny";
  readonly principal?: Statement["Principal"];
  readonly actions: Actions;
  readonly resources: Resources;
  readonly condition?: pulumi.Input<Condition>;
}): Statement {
  return {
    Sid: s.sid,
    Effect: s.effect,
    ...(s.principal !== undefined ? { Principal: s.principal } : {}),
    Action: copy(s.actions),
    Resource: s.resources,
    ...(s.condition !== undefined ? { Condition: s.condition } : {}),
  };
}

/** The base of every identity-policy statement: allow `actions` on `resources`, optionally under a condition. */
export function allow(
  sid: string,
  actions: Actions,
  resources: Resources,
  condition?: pulumi.Input<Condition>,
): Statement {
  return statement({ sid, effect: "Allow", actions, resources, condition });
}

/** Allow an AWS service principal (resource policies: key, bucket, topic). */
export function allowService(
  sid: string,
  service: pulumi.Input<string> | readonly string[],
  actions: Actions,
  resources: Resources,
  condition?: pulumi.Input<Condition>,
): Statement {
  return statement({ sid, effect: "Allow", principal: { Service: service }, actions, resources, condition });
}

/** Deny every principal `actions` on `resources` when a request is not over TLS (`aws:SecureTransport`). */
export function denyInsecureTransport(sid: string, actions: Actions, resources: Resources): Statement {
  return statement({
    sid,
    effect: "Deny",
    principal: "*",
    actions,
    resources,
    condition: { Bool: { "aws:SecureTransport": "false" } },
  });
}

// ---- S3 ------------------------------------------------------------------------------------------

/** Objects under a key prefix of a bucket: `<bucketArn>/<prefix>*` (prefix ends with `/`, or is empty). */
export const objectsUnder = (bucketArn: pulumi.Input<string>, prefix: string): pulumi.Output<string> =>
  pulumi.interpolate`${bucketArn}/${prefix}*`;

/** Read-only object access (the job script, raw CDC files). */
export const S3_READ = ["s3:GetObject"] as const;
/** Read, write and delete objects (Iceberg data and metadata files, Spark scratch). */
export const S3_READ_WRITE = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"] as const;

/** Read the objects under `prefix` of a bucket. */
export const readObjects = (sid: string, bucketArn: pulumi.Input<string>, prefix: string): Statement =>
  allow(sid, S3_READ, objectsUnder(bucketArn, prefix));

/** Read, write and delete the objects under `prefix` of a bucket. */
export const readWriteObjects = (sid: string, bucketArn: pulumi.Input<string>, prefix: string): Statement =>
  allow(sid, S3_READ_WRITE, objectsUnder(bucketArn, prefix));

/**
 * List a bucket, but only keys under the given prefixes (`s3:prefix` StringLike `<prefix>*`): ListBucket
 * is a bucket-level action, so the prefix condition is what keeps a role from listing the whole bucket
 * (S3 user guide, "Bucket policy examples": limiting ListBucket with `s3:prefix`).
 */
export const listPrefixes = (sid: string, bucketArn: pulumi.Input<string>, prefixes: readonly string[]): Statement =>
  allow(sid, ["s3:ListBucket"], bucketArn, { StringLike: { "s3:prefix": prefixes.map((p) => `${p}*`) } });

// ---- KMS -----------------------------------------------------------------------------------------

/** What a role that reads and writes data under a key needs of it. */
export const KEY_USE = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"] as const;

/**
 * Use a customer-managed key. With `viaService` (e.g. `s3.<region>.amazonaws.com`) only through that
 * service (`kms:ViaService`, KMS developer guide), so the role cannot call KMS on the key directly.
 */
export const useKey = (
  sid: string,
  keyArn: pulumi.Input<string>,
  actions: readonly string[] = KEY_USE,
  viaService?: string,
): Statement =>
  allow(sid, actions, keyArn, viaService ? { StringEquals: { "kms:ViaService": viaService } } : undefined);

// ---- CloudWatch ----------------------------------------------------------------------------------

/** Create log groups and streams and put events. */
export const LOGS_WRITE = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"] as const;

/** The ARN pattern of the log groups whose names start with `prefix` (and their streams). */
export const logGroupsUnder = (region: string, accountId: string, prefix: string): string =>
  `arn:aws:logs:${region}:${accountId}:log-group:${prefix}*`;

/** Write logs into the log groups under each prefix (`actions` @default LOGS_WRITE). */
export const writeLogsUnder = (
  sid: string,
  scope: { readonly region: string; readonly accountId: string },
  prefixes: readonly string[],
  actions: readonly string[] = LOGS_WRITE,
): Statement =>
  allow(
    sid,
    actions,
    prefixes.map((p) => logGroupsUnder(scope.region, scope.accountId, p)),
  );

/**
 * `cloudwatch:PutMetricData` has no resource-level scoping; the `cloudwatch:namespace` condition is the
 * only way to keep a role to its own metrics (CloudWatch user guide, "Using condition keys to limit access
 * to CloudWatch namespaces").
 */
export const putMetricData = (sid: string, namespace: string): Statement =>
  allow(sid, ["cloudwatch:PutMetricData"], "*", { StringEquals: { "cloudwatch:namespace": namespace } });

// ---- Glue / Lake Formation -----------------------------------------------------------------------

/** Where Glue catalog ARNs live. */
export interface GlueScope {
  /** The catalog's region. */
  readonly region: string;
  /** The catalog's account (its catalog id). */
  readonly accountId: string;
}

/** `arn:aws:glue:<region>:<account>:catalog`. */
export const glueCatalogArn = (s: GlueScope): string => `arn:aws:glue:${s.region}:${s.accountId}:catalog`;
/** `arn:aws:glue:<region>:<account>:database/<db>`. */
export const glueDatabaseArn = (s: GlueScope, database: pulumi.Input<string>): pulumi.Output<string> =>
  pulumi.interpolate`arn:aws:glue:${s.region}:${s.accountId}:database/${database}`;
/** `arn:aws:glue:<region>:<account>:table/<db>/<table>` (`*` for every table of the database). */
export const glueTableArn = (s: GlueScope, database: pulumi.Input<string>, table: string): pulumi.Output<string> =>
  pulumi.interpolate`arn:aws:glue:${s.region}:${s.accountId}:table/${database}/${table}`;

/**
 * Glue catalog actions on tables of one database: Glue authorises a table call against the catalog, the
 * database and the table ARN together (Glue developer guide, "Specifying AWS Glue resource ARNs"), so all
 * three are listed. `tables` @default "*" (every table of the database).
 */
export const glueTables = (
  sid: string,
  actions: readonly string[],
  scope: GlueScope,
  database: pulumi.Input<string>,
  tables: readonly string[] = ["*"],
): Statement =>
  allow(sid, actions, [
    glueCatalogArn(scope),
    glueDatabaseArn(scope, database),
    ...tables.map((t) => glueTableArn(scope, database, t)),
  ]);

/**
 * Lake Formation vends temporary S3 credentials per request; `lakeformation:GetDataAccess` has no
 * resource-level scoping (Lake Formation developer guide, "Lake Formation personas and IAM permissions
 * reference"), so the resource is `*` and Lake Formation grants do the scoping.
 */
export const lakeFormationDataAccess = (sid = "LakeFormationDataAccess"): Statement =>
  allow(sid, ["lakeformation:GetDataAccess"], "*");

// ---- Secrets Manager -----------------------------------------------------------------------------

/** Read one secret's value (`actions` @default GetSecretValue only). */
export const readSecret = (
  sid: string,
  secretArn: pulumi.Input<string>,
  actions: readonly string[] = ["secretsmanager:GetSecretValue"],
): Statement => allow(sid, actions, secretArn);

// ---- Documents -----------------------------------------------------------------------------------

/** A policy document (IAM policy language version 2012-10-17) as the JSON string IAM takes. */
export function policyDocument(statements: readonly pulumi.Input<Statement>[]): pulumi.Output<string> {
  return pulumi.jsonStringify({ Version: "2012-10-17", Statement: [...statements] });
}

/** The same document from plain statements (no Outputs inside), as a string known at plan time. */
export function staticPolicyDocument(statements: readonly Statement[]): string {
  return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}
