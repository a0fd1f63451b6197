/**
 * A source's Lambda function, built by the program from a TypeScript entry file (no build step, no
 * registry: esbuild bundles it at plan time into one CommonJS file), with everything a function that moves
 * personal data needs around it: its own role (the caller's statements plus its log group and its
 * dead-letter queue), a log group under the logs key with the cell's log retention, created before the
 * function so Lambda never creates an unencrypted, never-expiring one, environment variables encrypted with
 * the lake key, failed asynchronous invocations kept in an encrypted queue instead of dropped, and alarms on
 * errors and on dead letters.
 */
import * as path from "node:path";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { buildSync, version as esbuildVersion, type BuildOptions } from "esbuild";
import { cacheKey, cachedBuild } from "../../build-cache";
import { classification } from "../../conventions";
import { PROJECT_ROOT } from "../../project-root";
import { ServiceRole } from "../iam/service-role";
import { allow, useKey, writeLogsUnder, type Statement } from "../iam/statements";
import type { AwsSourceContext } from "./context";

/**
 * Lambda's Node.js 24 runtime (launched 2025-11-25, "Node.js 24 runtime now available in AWS Lambda", AWS
 * Compute blog; supported until 2028-04-30, Lambda developer guide "Lambda runtimes"). It ships the AWS SDK
 * for JavaScript v3, so bundles leave `@aws-sdk/*` out. Node.js 24 drops callback-style handlers: every
 * handler here is `async`.
 */
export const LAMBDA_RUNTIME = aws.lambda.Runtime.NodeJS24dX;

/**
 * Bundles `entry` (a TypeScript module exporting `handler`) and its imports into one CommonJS file,
 * through the build cache (../../build-cache.ts): an entry is reused only while every file esbuild read
 * for it (its metafile's inputs) and the lock file are unchanged.
 */
export function bundleFunction(entry: string): string {
  const options = {
    // Relative to the project root, the bundle names its inputs the same on every machine (so does its hash).
    entryPoints: [path.resolve(PROJECT_ROOT, entry)],
    absWorkingDir: PROJECT_ROOT,
    bundle: true,
    platform: "node",
    target: "node22",
    format: "cjs",
    external: ["@aws-sdk/*"],
    write: false,
    legalComments: "none",
    logLevel: "silent",
  } satisfies BuildOptions;
  return cachedBuild("bundle", cacheKey("esbuild", esbuildVersion, JSON.stringify(options)), () => {
    const result = buildSync({ ...options, metafile: true });
    return {
      output: result.outputFiles[0].text,
      // Every file esbuild read, and the lock file: an upgrade can change how an import resolves.
      inputs: [
        ...Object.keys(result.metafile.inputs).map((f) => path.resolve(PROJECT_ROOT, f)),
        path.join(PROJECT_ROOT, "package-lock.json"),
      ],
    };
  });
}

export interface SourceFunctionArgs {
  /** The cell's shared source context (keys, alert topic, retention). */
  readonly context: AwsSourceContext;
  /** The function's name after the cell prefix: the function is `<resourcePrefix>-<functionName>` (≤ 64 characters). */
  readonly functionName: string;
  /** What the function does (shown in the console). */
  readonly description: string;
  /** The entry file, relative to the repository root, exporting an async `handler`. */
  readonly entry: string;
  /** The role's statements beyond its own log group and dead-letter queue (components/aws/iam/statements.ts). */
  readonly statements: readonly pulumi.Input<Statement>[];
  /** Environment variables: names and ARNs only, never a secret (the function reads secrets at run time). @default {} */
  readonly environment?: Readonly<Record<string, pulumi.Input<string>>>;
  /** Seconds before Lambda stops an invocation (1-900). @default 300 */
  readonly timeoutSeconds?: number;
  /** Memory in MB (128-10240); CPU grows with it. @default 1024 */
  readonly memoryMb?: number;
  /** `/tmp` size in MB (512-10240). @default 512 */
  readonly ephemeralStorageMb?: number;
  /**
   * Concurrent executions reserved, and the most that may run: 1 serialises runs (a cursor that must not
   * move twice at once). @default no reservation (the account's unreserved pool)
   */
  readonly reservedConcurrency?: number;
  /** Resources to create first (e.g. the role's grants outside its policy). @default [] */
  readonly dependsOn?: readonly pulumi.Resource[];
}

export class SourceFunction extends pulumi.ComponentResource {
  public readonly function: aws.lambda.Function;
  public readonly role: ServiceRole;
  public readonly logGroup: aws.cloudwatch.LogGroup;
  /** Asynchronous invocations that failed every retry, kept for replay (lake key, 14 days). */
  public readonly deadLetters: aws.sqs.Queue;
  public readonly arn: pulumi.Output<string>;
  public readonly name: pulumi.Output<string>;

  constructor(name: string, args: SourceFunctionArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:aws:SourceFunction", name, {}, opts);
    const { context } = args;
    const child = { parent: this };
    const functionName = `${context.resourcePrefix}-${args.functionName}`;
    const scope = { region: context.region, accountId: context.accountId };

    this.logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      {
        name: `/aws/lambda/${functionName}`,
        kmsKeyId: context.logsKeyArn,
        retentionInDays: context.retention.logs,
        tags: classification("logs"),
      },
      child,
    );
    this.deadLetters = new aws.sqs.Queue(
      `${name}-dead-letters`,
      {
        name: `${functionName}-dead-letters`,
        kmsMasterKeyId: context.lakeKeyArn,
        // Two weeks to find and replay a failure (SQS's maximum: SQS developer guide, "Amazon SQS quotas"),
        // but never longer than an erasure may take: a failed event holds the same personal data.
        messageRetentionSeconds: Math.min(14, context.erasureSlaDays) * 86_400,
        tags: classification("raw"),
      },
      child,
    );
    this.role = new ServiceRole(
      `${name}-role`,
      {
        service: "lambda.amazonaws.com",
        accountId: context.accountId,
        description: `${args.description} (${functionName})`,
        statements: [
          // Only its own log group, which exists before the function (so no logs:CreateLogGroup).
          writeLogsUnder(
            "OwnLogs",
            scope,
            [`/aws/lambda/${functionName}`],
            ["logs:CreateLogStream", "logs:PutLogEvents"],
          ),
          // Lambda delivers a failed asynchronous event to the on-failure destination with the function's
          // execution role (Lambda developer guide, "Capturing records of asynchronous invocations"); the queue
          // is encrypted with the lake key, so sending needs a data key through SQS.
          allow("DeadLetters", ["sqs:SendMessage"], this.deadLetters.arn),
          useKey(
            "DeadLettersKey",
            context.lakeKeyArn,
            ["kms:GenerateDataKey", "kms:Decrypt"],
            `sqs.${context.region}.amazonaws.com`,
          ),
          // The environment is encrypted with the lake key; Lambda decrypts it with the execution role at start.
          useKey("EnvironmentKey", context.lakeKeyArn, ["kms:Decrypt"], `lambda.${context.region}.amazonaws.com`),
          ...args.statements,
        ],
      },
      child,
    );
    this.function = new aws.lambda.Function(
      name,
      {
        name: functionName,
        description: args.description,
        runtime: LAMBDA_RUNTIME,
        architectures: ["arm64"],
        handler: "index.handler",
        code: new pulumi.asset.AssetArchive({ "index.js": new pulumi.asset.StringAsset(bundleFunction(args.entry)) }),
        role: this.role.arn,
        timeout: args.timeoutSeconds ?? 300,
        memorySize: args.memoryMb ?? 1024,
        ephemeralStorage: { size: args.ephemeralStorageMb ?? 512 },
        ...(args.reservedConcurrency !== undefined ? { reservedConcurrentExecutions: args.reservedConcurrency } : {}),
        kmsKeyArn: context.lakeKeyArn,
        environment: { variables: { ...(args.environment ?? {}) } },
        loggingConfig: { logFormat: "JSON", logGroup: this.logGroup.name },
        tags: classification("raw"),
      },
      { ...child, dependsOn: [this.logGroup, ...(args.dependsOn ?? [])] },
    );
    new aws.lambda.FunctionEventInvokeConfig(
      `${name}-async`,
      {
        functionName: this.function.name,
        // Lambda's own retries of an asynchronous event (0-2) before it goes to the dead-letter queue.
        maximumRetryAttempts: 2,
        maximumEventAgeInSeconds: 6 * 3600,
        destinationConfig: { onFailure: { destination: this.deadLetters.arn } },
      },
      child,
    );
    this.alarms(name, functionName, context);
    this.arn = this.function.arn;
    this.name = this.function.name;
    this.registerOutputs({ arn: this.arn });
  }

  /**
   * Lets an AWS service invoke the function for one source only (`sourceArn`): an EventBridge rule, an S3
   * bucket. Without `sourceArn`, any resource of that service in any account could (Lambda developer guide,
   * "Working with resource-based IAM policies in Lambda").
   */
  public allowInvoke(
    name: string,
    principal: string,
    sourceArn: pulumi.Input<string>,
    sourceAccount: string,
  ): aws.lambda.Permission {
    return new aws.lambda.Permission(
      name,
      { action: "lambda:InvokeFunction", function: this.function.name, principal, sourceArn, sourceAccount },
      { parent: this },
    );
  }

  /** Errors (any failed invocation) and dead letters (an event given up on) page the cell's ingestion alerts. */
  private alarms(name: string, functionName: string, context: AwsSourceContext): void {
    const runbook = (section: string) => `(runbook: components/aws/sources/README.md, "${section}")`;
    const anyOf = (
      suffix: string,
      description: string,
      metric: Pick<aws.cloudwatch.MetricAlarmArgs, "namespace" | "metricName" | "dimensions" | "statistic">,
    ) =>
      new aws.cloudwatch.MetricAlarm(
        `${name}-${suffix}`,
        {
          name: `${functionName}-${suffix}`,
          alarmDescription: description,
          ...metric,
          period: 300,
          evaluationPeriods: 1,
          threshold: 0,
          comparisonOperator: "GreaterThanThreshold",
          treatMissingData: "notBreaching",
          alarmActions: [context.alerts.topicArn],
          okActions: [context.alerts.topicArn],
        },
        { parent: this },
      );
    anyOf("errors", `${functionName} failed ${runbook("Function errors")}`, {
      namespace: "AWS/Lambda",
      metricName: "Errors",
      dimensions: { FunctionName: functionName },
      statistic: "Sum",
    });
    anyOf(
      "dead-letters",
      `${functionName} gave up on an event, kept in its dead-letter queue ${runbook("Dead letters")}`,
      {
        namespace: "AWS/SQS",
        metricName: "ApproximateNumberOfMessagesVisible",
        dimensions: { QueueName: `${functionName}-dead-letters` },
        statistic: "Maximum",
      },
    );
  }
}
