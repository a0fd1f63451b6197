/**
 * One transactional source replicated by DMS Serverless into the raw zone: its credentials in Secrets
 * Manager (read by DMS through a role, never placed in endpoint inputs), its CA (a PEM, or an Oracle
 * wallet for Oracle), the source endpoint with the strictest TLS mode DMS supports for the engine, an S3
 * target endpoint writing Parquet 2.0 with SSE-KMS under `cdc/<source>/`, the full-load-and-CDC
 * replication config (started only when config says the source is reachable), its log group, and alarms
 * on CDC latency and replication events.
 */
import * as aws from "@pulumi/aws";
import { credentialSecret } from "../credential-secret";
import * as pulumi from "@pulumi/pulumi";
import { DMS_S3_ENDPOINT_SETTINGS } from "../../../functions/cdc-merge/spec";
import type { TransactionalSource } from "../../config/schema";
import { classification } from "../../conventions";
import { DMS_ENGINE_NAME, rawPrefix, sslModeFor, tableMappings } from "./plan-rules";
import { ServiceRole } from "../iam/service-role";
import { allow, listPrefixes, objectsUnder, readSecret, useKey } from "../iam/statements";

/**
 * Dimension of the DMS Serverless metrics in `AWS/DMS`: DMS Serverless reports per replication under
 * the replication config's resource identifier (which we set, so it is known before deployment).
 */
export const DMS_SERVERLESS_METRIC_DIMENSION = "ReplicationConfigExternalResourceId";

export interface DmsSourceArgs {
  /** `lakehouse-<env>-<cell>`. */
  readonly resourcePrefix: string;
  /** The cell's account (the target's expected bucket owner; the roles' trust condition). */
  readonly accountId: string;
  /** The cell's region: DMS's regional principal and the `kms:ViaService` conditions name it. */
  readonly region: string;
  /** The source as configured (`sources.transactional[]`): engine, host, tables, CA, `networkReady`. */
  readonly source: TransactionalSource;
  /** Username and password of the source (from `lakehouse:sourceCredentials`), kept secret. */
  readonly credentials: pulumi.Input<{ readonly username: string; readonly password: string }>;
  /** The cell's lake key: secret, raw objects, replication storage. */
  readonly lakeKeyArn: pulumi.Input<string>;
  /** The cell's logs key (replication log group). */
  readonly logsKeyArn: pulumi.Input<string>;
  /** The raw bucket DMS writes into (under `cdc/<source>/`). */
  readonly rawBucketName: pulumi.Input<string>;
  /** Its ARN, for the target role's prefix-scoped policy. */
  readonly rawBucketArn: pulumi.Input<string>;
  /** Waits for the raw bucket's encryption and policy. */
  readonly rawBucketReady: pulumi.Input<string>;
  /** The replication subnet group of the ingestion VPC. */
  readonly subnetGroupId: pulumi.Input<string>;
  /** Security groups of the replication (egress to the sources and endpoints only). */
  readonly securityGroupIds: readonly pulumi.Input<string>[];
  /** DMS capacity units (deriveSizing). */
  readonly capacity: { readonly min: number; readonly max: number };
  /** Spread the replication over two AZs (production). */
  readonly multiAz: boolean;
  /** Days replication logs are kept (`retention.logs`). */
  readonly logRetentionDays: number;
  /** Where latency alarms and DMS events go. */
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
    const { source } = args;
    const id = `${args.resourcePrefix}-${source.name}`;

    this.secret = this.createSecret(name, args);
    this.sourceEndpoint = this.createSourceEndpoint(name, args, id);
    this.targetEndpoint = this.createTargetEndpoint(name, args, id);
    this.replication = this.createReplication(name, args, id);
    this.alertOnLagAndEvents(name, args, id);

    this.rawUri = pulumi.interpolate`s3://${args.rawBucketName}/${rawPrefix(source.name)}`;
    this.registerOutputs({ replicationArn: this.replication.arn, rawUri: this.rawUri });
  }

  /** The source's credentials in Secrets Manager, in the shape DMS reads. */
  private createSecret(name: string, args: DmsSourceArgs): aws.secretsmanager.Secret {
    const { source } = args;
    return credentialSecret(
      name,
      {
        secretName: `${args.resourcePrefix}/dms/${source.name}`,
        description: `DMS credentials of source ${source.name} (${source.engine})`,
        kmsKeyId: args.lakeKeyArn,
        credential: args.credentials,
        // The secret shape DMS reads (DMS user guide, "Using secrets to access AWS DMS endpoints").
        shape: (username, password) => ({ username, password, host: source.host, port: source.port }),
      },
      this,
    );
  }

  /**
   * The source endpoint: credentials through a role that may read only this secret, the strictest TLS mode
   * DMS supports for the engine, verified against the source's CA when config gives one.
   */
  private createSourceEndpoint(name: string, args: DmsSourceArgs, id: string): aws.dms.Endpoint {
    const { source, region } = args;
    // DMS assumes the secret-access role with its regional principal (same guide).
    const secretRole = new ServiceRole(
      `${name}-secret-access`,
      {
        service: `dms.${region}.amazonaws.com`,
        accountId: args.accountId,
        description: `DMS reads the credentials of ${source.name}`,
        statements: [
          readSecret("ReadThisSecret", this.secret.arn, [
            "secretsmanager:GetSecretValue",
            "secretsmanager:DescribeSecret",
          ]),
          useKey(
            "DecryptThroughSecretsManager",
            args.lakeKeyArn,
            ["kms:Decrypt"],
            `secretsmanager.${region}.amazonaws.com`,
          ),
        ],
      },
      { parent: this },
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
      ? new aws.dms.Certificate(`${name}-ca`, { certificateId: `${id}-ca`, ...trust }, { parent: this })
      : undefined;

    return new aws.dms.Endpoint(
      `${name}-source`,
      {
        endpointId: `${id}-source`,
        endpointType: "source",
        engineName: DMS_ENGINE_NAME[source.engine],
        databaseName: source.database,
        secretsManagerArn: this.secret.arn,
        // Resolves once the role's policy exists: DMS tests the secret when the endpoint is created.
        secretsManagerAccessRoleArn: secretRole.arn,
        sslMode: sslModeFor(source),
        certificateArn: certificate?.certificateArn,
        kmsKeyArn: args.lakeKeyArn,
        // Oracle: capture with Binary Reader and let DMS add PK supplemental logging per table.
        ...(source.engine === "oracle" ? { oracleSettings: { addSupplementalLogging: true } } : {}),
      },
      { parent: this },
    );
  }

  /** The S3 target: Parquet under `cdc/<source>/` of the raw bucket, SSE-KMS, through a role kept to that prefix. */
  private createTargetEndpoint(name: string, args: DmsSourceArgs, id: string): aws.dms.S3Endpoint {
    const { source, region } = args;
    const prefix = rawPrefix(source.name);
    const targetRole = new ServiceRole(
      `${name}-target`,
      {
        service: "dms.amazonaws.com",
        accountId: args.accountId,
        description: `DMS writes ${source.name} changes to the raw zone`,
        statements: [
          allow(
            "WriteOwnPrefix",
            ["s3:PutObject", "s3:DeleteObject", "s3:PutObjectTagging"],
            objectsUnder(args.rawBucketArn, prefix),
          ),
          listPrefixes("ListOwnPrefix", args.rawBucketArn, [prefix]),
          useKey(
            "EncryptWithLakeKey",
            args.lakeKeyArn,
            ["kms:GenerateDataKey", "kms:Decrypt"],
            `s3.${region}.amazonaws.com`,
          ),
        ],
      },
      { parent: this },
    );
    return new aws.dms.S3Endpoint(
      `${name}-target`,
      {
        endpointId: `${id}-raw`,
        endpointType: "target",
        bucketName: pulumi.all([args.rawBucketName, args.rawBucketReady]).apply(([bucket]) => bucket),
        bucketFolder: prefix.replace(/\/$/, ""),
        expectedBucketOwner: args.accountId,
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
      { parent: this },
    );
  }

  /** The full-load-and-CDC replication config and the log group it writes to. */
  private createReplication(name: string, args: DmsSourceArgs, id: string): aws.dms.ReplicationConfig {
    const { source } = args;
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
      { parent: this },
    );

    return new aws.dms.ReplicationConfig(
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
        // (StartReplication, DMS API reference), so it starts only once config says the network path to
        // the source exists: a started replication that cannot reach its source keeps `up` waiting, then
        // fails (README, "First deployment").
        startReplication: source.networkReady,
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
  }

  /** Alarms on CDC latency, and every DMS event of the replication, to the alert topic. */
  private alertOnLagAndEvents(name: string, args: DmsSourceArgs, id: string): void {
    const { source } = args;
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
          treatMissingData: source.networkReady ? "breaching" : "notBreaching",
          alarmActions: [args.alertTopicArn],
          okActions: [args.alertTopicArn],
        },
        { parent: this },
      );
    }
    const events = new aws.cloudwatch.EventRule(
      `${name}-events`,
      {
        name: `${id}-dms-events`,
        description: `DMS events of ${source.name}`,
        eventPattern: pulumi.jsonStringify({ source: ["aws.dms"], resources: [this.replication.arn] }),
      },
      { parent: this },
    );
    new aws.cloudwatch.EventTarget(`${name}-events`, { rule: events.name, arn: args.alertTopicArn }, { parent: this });
  }
}
