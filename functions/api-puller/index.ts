/**
 * The Lambda handler EventBridge Scheduler invokes for one API (bundled by SourceFunction from this file).
 * It reads its settings from `API_PULLER_CONFIG`, the credential from Secrets Manager, runs one pull and
 * reports it as CloudWatch metrics in Embedded Metric Format (a log line CloudWatch turns into metrics, so
 * the role needs no `cloudwatch:PutMetricData`). A failed pull throws: the invocation fails and the
 * function's error alarm fires; the lag alarm watches `CaughtUp`.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { authHeaderValue, DynamoDbCursorStore, readCredential, S3Sink } from "./aws";
import { METRIC_DIMENSION, METRIC_NAMESPACE, parsePullerConfig } from "./config";
import { realClock } from "./http";
import { runPull, type RunResult } from "./puller";

/** Stop this long before Lambda's timeout, so the cursor and the lease are written before the end. */
const SAFETY_MS = 20_000;

export interface LambdaContext {
  readonly awsRequestId: string;
  getRemainingTimeInMillis(): number;
}

/** The AWS clients a run uses; the Lambda's come from its role and region, tests point them at loopback. */
export interface PullerClients {
  readonly dynamodb: DynamoDBClient;
  readonly s3: S3Client;
  readonly secrets: SecretsManagerClient;
}

/**
 * The handler over given clients (made once per container, reused by warm invocations), reading its config
 * from `env` and writing its metrics line to `out`.
 */
export function makeHandler(
  clients: () => PullerClients,
  env: NodeJS.ProcessEnv = process.env,
  out: (line: string) => void = (line) => process.stdout.write(line),
): (event: unknown, context: LambdaContext) => Promise<RunResult> {
  let made: PullerClients | undefined;
  return async (_event, context) => {
    const config = parsePullerConfig(env.API_PULLER_CONFIG);
    const aws = (made ??= clients());
    const headers: Record<string, string> = {};
    if (config.auth) {
      // Read at every run, never cached across runs: a rotated credential is used from the next run on.
      const secret = await readCredential(aws.secrets, config.auth.secretArn);
      headers[config.auth.header] = authHeaderValue(config.auth.scheme, secret);
    }
    const stopAt = Date.now() + context.getRemainingTimeInMillis() - SAFETY_MS;
    const result = await runPull({
      config,
      store: new DynamoDbCursorStore(aws.dynamodb, config.cursorTable),
      sink: new S3Sink(aws.s3, config.landing.bucket, config.landing.kmsKeyArn),
      clock: realClock,
      headers,
      owner: context.awsRequestId,
      // A crashed run's lease lapses once its invocation can no longer be running.
      leaseMs: context.getRemainingTimeInMillis() + 60_000,
      deadline: () => stopAt,
      log: (line) => console.log(JSON.stringify({ source: config.source, ...line })),
    });
    // Straight to stdout, not console.log: with the JSON log format (SourceFunction's) console.log wraps the
    // line in Lambda's own JSON and CloudWatch would not see an EMF document; the EMF client library does the
    // same (CloudWatch user guide, "Creating logs in embedded metric format using the client libraries":
    // Node.js 4.1.1+ "required for use with the Lambda JSON log format").
    out(`${JSON.stringify(emf(config.source, result))}\n`);
    return result;
  };
}

/** The Lambda entry point: clients from the function's role and region. */
export const handler = makeHandler(() => ({
  dynamodb: new DynamoDBClient({}),
  s3: new S3Client({}),
  secrets: new SecretsManagerClient({}),
}));

/** The run as an EMF document (CloudWatch user guide, "Embedded metric format specification"). */
export function emf(source: string, r: RunResult): Record<string, unknown> {
  return {
    _aws: {
      Timestamp: Date.now(),
      CloudWatchMetrics: [
        {
          Namespace: METRIC_NAMESPACE,
          Dimensions: [[METRIC_DIMENSION]],
          Metrics: [
            { Name: "CaughtUp", Unit: "Count" },
            { Name: "RecordsLanded", Unit: "Count" },
            { Name: "PagesFetched", Unit: "Count" },
            { Name: "RateLimitedWaits", Unit: "Count" },
            { Name: "TransientRetries", Unit: "Count" },
          ],
        },
      ],
    },
    [METRIC_DIMENSION]: source,
    outcome: r.outcome,
    CaughtUp: r.outcome === "caught-up" ? 1 : 0,
    RecordsLanded: r.records,
    PagesFetched: r.pages,
    RateLimitedWaits: r.waits.rateLimited,
    TransientRetries: r.waits.transient,
    watermark: r.watermark,
  };
}
