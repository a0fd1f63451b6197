/**
 * One transactional source replicated by DMS Serverless into the raw zone: its credentials in Secrets
 * Manager (read by DMS through a role, never placed in endpoint inputs), its CA (a PEM, or an Oracle
 * wallet for Oracle), the source endpoint with the strictest TLS mode DMS supports for the engine, an S3
 * target endpoint writing Parquet 2.0 with SSE-KMS under `cdc/<source>/`, the full-load-and-CDC
 * replication config (started only when config says the source is reachable), its log group, and alarms
 * on CDC latency and replication events.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { DMS_S3_ENDPOINT_SETTINGS } from "../../../functions/cdc-merge/spec";
import type { TransactionalSource } from "../../config/schema";
import { classification } from "../../conventions";
import { DMS_ENGINE_NAME, rawPrefix, sslModeFor, tableMappings } from "./plan-rules";
import { serviceTrustPolicy } from "../service-trust";

/**
 * Dimension of the DMS Serverless metrics in `AWS/DMS`: DMS Serverless reports per replication under
 * the replication config's resource identifier (which we set, so it is known before deployment).
 */
export const DMS_SERVERLESS_METRIC_DIMENSION = "ReplicationConfigExternalResourceId";

export interface DmsSourceArgs {
  /** `lakehouse-<env>-<cell>`. */
  readonly namePrefix: string;
  readonly accountId: string;
  readonly region: string;
  readonly source: TransactionalSource;
  /** Username and password of the source (from `lakehouse:sourceCredentials`), kept secret. */
  readonly credentials: pulumi.Input<{ readonly username: string; readonly password: string }>;
  /** The cell's lake key: secret, raw objects, replication storage. */
  readonly lakeKeyArn: pulumi.Input<string>;
  /** The cell's logs key (replication log group). */
  readonly logsKeyArn: pulumi.Input<string>;
  readonly rawBucketName: pulumi.Input<string>;
  readonly rawBucketArn: pulumi.Input<string>;
  /** Waits for the raw bucket's encryption and policy. */
  readonly rawBucketReady: pulumi.Input<string>;
  readonly subnetGroupId: pulumi.Input<string>;
  readonly securityGroupIds: readonly pulumi.Input<string>[];
  /** DMS capacity units (deriveSizing). */
  readonly capacity: { readonly min: number; readonly max: number };
  /** Spread the replication over two AZs (production). */
  readonly multiAz: boolean;
  readonly logRetentionDays: number;
  readonly alertTopicArn: pulumi.Input<string>;
  /** Alarm when the source or target lags this many seconds. @default 900 */
  readonly latencyAlarmSeconds?: number;
  /** Resources the replication must wait for (network endpoints). @default [] */
  readonly dependsOn?: readonly pulumi.Resource[];
}

export class DmsSource extends pulumi.ComponentResource {
  public readonly secret: aws.secretsmanager.Secret;
  public readonly sourceEndpoint: aws.dms.Endpoint;
  public readonly targetEndpoint: aws.dms.S3Endpoint;
  public readonly replication: aws.dms.ReplicationConfig;
  /** `s3://raw/cdc/<source>/`. */
  public readonly rawUri: pulumi.Output<string>;

  constructor(name: string, args: DmsSourceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:aws:DmsSource", name, args, opts);
    const child = { parent: this };
    const { source, accountId, region } = args;
    const id = `${args.namePrefix}-${source.name}`;
    const sslMode = sslModeFor(source);
    const trustedBy = (service: string) => serviceTrustPolicy(service, accountId);
    // Started only once config says the network path to the source exists: a started replication that
    // cannot reach its source keeps `up` waiting, then fails (README, "First deployment").
    const start = source.networkReady;

    this.secret = new aws.secretsmanager.Secret(
      `${name}-credentials`,
      {
        name: `${args.namePrefix}/dms/${source.name}`,
        description: `DMS credentials of source ${source.name} (${source.engine})`,
        kmsKeyId: args.lakeKeyArn,
        recoveryWindowInDays: 7,
        tags: classification("none"),
      },
      child,
    );
    // The secret shape DMS reads (DMS user guide, "Using secrets to access AWS DMS endpoints").
    new aws.secretsmanager.SecretVersion(
      `${name}-credentials`,
      {
        secretId: this.secret.id,
        secretString: pulumi.secret(
          pulumi
            .output(args.credentials)
            .apply((c) =>
              JSON.stringify({ username: c.username, password: c.password, host: source.host, port: source.port }),
            ),
        ),
      },
      child,
    );
    // DMS assumes the secret-access role with its regional principal (same guide).
    const secretRole = new aws.iam.Role(
      `${name}-secret-access`,
      {
        description: `DMS reads the credentials of ${source.name}`,
        assumeRolePolicy: trustedBy(`dms.${region}.amazonaws.com`),
      },
      child,
    );
    const secretPolicy = new aws.iam.RolePolicy(
      `${name}-secret-access`,
      {
        role: secretRole.id,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "ReadThisSecret",
              Effect: "Allow",
              Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
              Resource: this.secret.arn,
            },
            {
              Sid: "DecryptThroughSecretsManager",
              Effect: "Allow",
              Action: ["kms:Decrypt"],
              Resource: args.lakeKeyArn,
              Condition: { StringEquals: { "kms:ViaService": `secretsmanager.${region}.amazonaws.com` } },
            },
          ],
        }),
      },
      child,
    );

    // The source's CA as DMS imports it: Oracle endpoints verify only against an Oracle wallet, the other
    // engines against a PEM ("SSL support for an Oracle endpoint": "upload the Oracle wallet for the endpoint
    // instead of .pem certificate files", docs.aws.amazon.com/dms/latest/userguide/CHAP_Source.Oracle.html;
    // aws.dms.Certificate `certificateWallet` takes the wallet file base64-encoded).
    const wallet = source.engine === "oracle" ? source.caCertificateWallet : undefined;
    const pem = source.engine === "oracle" ? undefined : source.caCertificatePem;
    const trust: Pick<aws.dms.CertificateArgs, "certificatePem" | "certificateWallet"> | undefined = wallet
      ? { certificateWallet: wallet }
      : pem
        ? { certificatePem: pem }
        : undefined;
    const certificate = trust
      ? new aws.dms.Certificate(`${name}-ca`, { certificateId: `${id}-ca`, ...trust }, child)
      : undefined;

    this.sourceEndpoint = new aws.dms.Endpoint(
      `${name}-source`,
      {
        endpointId: `${id}-source`,
        endpointType: "source",
        engineName: DMS_ENGINE_NAME[source.engine],
        databaseName: source.database,
        secretsManagerArn: this.secret.arn,
        secretsManagerAccessRoleArn: secretRole.arn,
        sslMode,
        certificateArn: certificate?.certificateArn,
        kmsKeyArn: args.lakeKeyArn,
        // Oracle: capture with Binary Reader and let DMS add PK supplemental logging per table.
        ...(source.engine === "oracle" ? { oracleSettings: { addSupplementalLogging: true } } : {}),
      },
      { parent: this, dependsOn: [secretPolicy] },
    );

    const prefix = rawPrefix(source.name);
    const targetRole = new aws.iam.Role(
      `${name}-target`,
      {
        description: `DMS writes ${source.name} changes to the raw zone`,
        assumeRolePolicy: trustedBy("dms.amazonaws.com"),
      },
      child,
    );
    const targetPolicy = new aws.iam.RolePolicy(
      `${name}-target`,
      {
        role: targetRole.id,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "WriteOwnPrefix",
              Effect: "Allow",
              Action: ["s3:PutObject", "s3:DeleteObject", "s3:PutObjectTagging"],
              Resource: pulumi.interpolate`${args.rawBucketArn}/${prefix}*`,
            },
            {
              Sid: "ListOwnPrefix",
              Effect: "Allow",
              Action: ["s3:ListBucket"],
              Resource: args.rawBucketArn,
              Condition: { StringLike: { "s3:prefix": [`${prefix}*`] } },
            },
            {
              Sid: "EncryptWithLakeKey",
              Effect: "Allow",
              Action: ["kms:GenerateDataKey", "kms:Decrypt"],
              Resource: args.lakeKeyArn,
              Condition: { StringEquals: { "kms:ViaService": `s3.${region}.amazonaws.com` } },
            },
          ],
        }),
      },
      child,
    );
    this.targetEndpoint = new aws.dms.S3Endpoint(
      `${name}-target`,
      {
        endpointId: `${id}-raw`,
        endpointType: "target",
        bucketName: pulumi.all([args.rawBucketName, args.rawBucketReady]).apply(([bucket]) => bucket),
        bucketFolder: prefix.replace(/\/$/, ""),
        expectedBucketOwner: accountId,
        serviceAccessRoleArn: targetRole.arn,
        ...DMS_S3_ENDPOINT_SETTINGS,
        encryptionMode: "SSE_KMS",
        serverSideEncryptionKmsKeyId: args.lakeKeyArn,
        kmsKeyArn: args.lakeKeyArn,
        compressionType: "GZIP",
        // Files at most every 60 s or 64 MiB, whichever first: the merge's freshness floor.
        cdcMaxBatchInterval: 60,
        cdcMinFileSize: 64_000,
      },
      { parent: this, dependsOn: [targetPolicy] },
    );

    // DMS Serverless logs into `dms-serverless-replication-<resource id>` (DMS user guide, "Serverless
    // replication logs"); created here first so it is encrypted and expires.
    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      {
        name: `dms-serverless-replication-${id}`,
        kmsKeyId: args.logsKeyArn,
        retentionInDays: args.logRetentionDays,
        tags: classification("logs"),
      },
      child,
    );

    this.replication = new aws.dms.ReplicationConfig(
      `${name}-replication`,
      {
        replicationConfigIdentifier: id,
        resourceIdentifier: id,
        replicationType: "full-load-and-cdc",
        sourceEndpointArn: this.sourceEndpoint.endpointArn,
        targetEndpointArn: this.targetEndpoint.endpointArn,
        tableMappings: JSON.stringify(tableMappings(source.tables)),
        replicationSettings: JSON.stringify({
          Logging: { EnableLogging: true },
          // Keep a table's failure from stopping the others; the alarm tells us.
          ErrorBehavior: { TableErrorPolicy: "SUSPEND_TABLE", DataErrorPolicy: "LOG_ERROR" },
        }),
        // DMS Serverless "connects to the source endpoint and collects the metadata" when it starts
        // (StartReplication, DMS API reference), so it starts only when config says it can get there.
        startReplication: start,
        computeConfig: {
          replicationSubnetGroupId: args.subnetGroupId,
          vpcSecurityGroupIds: [...args.securityGroupIds],
          kmsKeyId: args.lakeKeyArn,
          minCapacityUnits: args.capacity.min,
          maxCapacityUnits: args.capacity.max,
          multiAz: args.multiAz,
          preferredMaintenanceWindow: "sun:03:00-sun:03:30",
        },
        tags: classification("raw"),
      },
      { parent: this, dependsOn: [logGroup, ...(args.dependsOn ?? [])] },
    );

    const threshold = args.latencyAlarmSeconds ?? 900;
    for (const metric of ["CDCLatencySource", "CDCLatencyTarget"] as const) {
      new aws.cloudwatch.MetricAlarm(
        `${name}-${metric.toLowerCase()}`,
        {
          name: `${id}-${metric}`,
          alarmDescription: `${source.name}: DMS ${metric} above ${threshold}s for 15 minutes`,
          namespace: "AWS/DMS",
          metricName: metric,
          dimensions: { [DMS_SERVERLESS_METRIC_DIMENSION]: id },
          statistic: "Maximum",
          period: 300,
          evaluationPeriods: 3,
          threshold,
          comparisonOperator: "GreaterThanThreshold",
          // No datapoints while the replication should be running means it is not; while config keeps it
          // stopped (no network path yet) there are none by design, and the DMS event rule still reports.
          treatMissingData: start ? "breaching" : "notBreaching",
          alarmActions: [args.alertTopicArn],
          okActions: [args.alertTopicArn],
        },
        child,
      );
    }
    // Every DMS event of this replication (state changes, failures) goes to the alert topic.
    const events = new aws.cloudwatch.EventRule(
      `${name}-events`,
      {
        name: `${id}-dms-events`,
        description: `DMS events of ${source.name}`,
        eventPattern: pulumi.jsonStringify({ source: ["aws.dms"], resources: [this.replication.arn] }),
      },
      child,
    );
    new aws.cloudwatch.EventTarget(`${name}-events`, { rule: events.name, arn: args.alertTopicArn }, child);

    this.rawUri = pulumi.interpolate`s3://${args.rawBucketName}/${prefix}`;
    this.registerOutputs({ replicationArn: this.replication.arn, rawUri: this.rawUri });
  }
}
