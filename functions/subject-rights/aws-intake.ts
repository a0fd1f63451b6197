/**
 * The intake's Lambda handler, behind a function URL with AuthType AWS_IAM: only SigV4-signed calls by
 * principals the function's resource policy names reach it (components/aws/rights/subject-rights.ts).
 * Function URLs send payload format 2.0; the signed caller is `requestContext.authorizer.iam.userArn`
 * (Lambda developer guide, "Invoking Lambda function URLs": request payload format).
 *
 * The cell key is read from Secrets Manager on the first request that needs it and kept for the life of
 * the execution environment; it is never logged or returned.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { decodeHmacKey, MIN_HMAC_KEY_BYTES, Pseudonymiser } from "../collector/privacy";
import { S3AuditLog } from "./audit";
import { handleIntake, type IntakeDeps } from "./intake";
import { DynamoRequestStore } from "./records";
import { JURISDICTIONS, type Jurisdiction } from "./request";

/** The fields of a function URL event (payload format 2.0) the intake reads. */
export interface FunctionUrlEvent {
  readonly rawPath?: string;
  readonly body?: string;
  readonly isBase64Encoded?: boolean;
  readonly requestContext?: {
    readonly http?: { readonly method?: string; readonly path?: string };
    readonly authorizer?: { readonly iam?: { readonly userArn?: string } };
  };
}

export interface FunctionUrlResult {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/**
 * The key as the stack stores it, by the collector's own rule (hex, else base64), refused below
 * MIN_HMAC_KEY_BYTES: the rule of cdc-merge/pseudonymise.ts `decodePseudonymisationKey`, not imported
 * from there because that module loads DuckDB's native binding, which has no place in this bundle.
 */
export function pseudonymiserFromSecret(text: string): Pseudonymiser {
  const key = decodeHmacKey(text);
  if (key.length < MIN_HMAC_KEY_BYTES)
    throw new Error(`the pseudonymisation key must decode (hex or base64) to at least ${MIN_HMAC_KEY_BYTES} bytes`);
  return new Pseudonymiser(key);
}

/** Reads the secret once; a failed read is retried by the next request. */
export function secretPseudonymiser(client: SecretsManagerClient, secretArn: string): () => Promise<Pseudonymiser> {
  let cached: Promise<Pseudonymiser> | undefined;
  return () => {
    cached ??= client.send(new GetSecretValueCommand({ SecretId: secretArn })).then((out) => {
      if (!out.SecretString) throw new Error("the pseudonymisation secret has no string value");
      return pseudonymiserFromSecret(out.SecretString);
    });
    cached.catch(() => (cached = undefined));
    return cached;
  };
}

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};

let deps: IntakeDeps | undefined;
function depsFromEnv(): IntakeDeps {
  const jurisdiction = env("JURISDICTION");
  if (!(JURISDICTIONS as readonly string[]).includes(jurisdiction))
    throw new Error(`JURISDICTION '${jurisdiction}' is not one of ${JURISDICTIONS.join(", ")}`);
  return {
    store: new DynamoRequestStore(new DynamoDBClient({}), env("REQUESTS_TABLE")),
    audit: new S3AuditLog(new S3Client({}), env("AUDIT_BUCKET")),
    pseudonymiser: secretPseudonymiser(new SecretsManagerClient({}), env("PSEUDONYMISATION_SECRET_ARN")),
    cell: env("CELL"),
    jurisdiction: jurisdiction as Jurisdiction,
  };
}

/** The Lambda handler; `wire` replaces the environment's clients (tests). */
export async function handler(
  event: FunctionUrlEvent,
  wire: IntakeDeps = (deps ??= depsFromEnv()),
): Promise<FunctionUrlResult> {
  const body =
    event.body === undefined
      ? ""
      : event.isBase64Encoded
        ? Buffer.from(event.body, "base64").toString("utf8")
        : event.body;
  const request = {
    method: event.requestContext?.http?.method ?? "GET",
    path: event.rawPath ?? event.requestContext?.http?.path ?? "/",
    body,
    caller: event.requestContext?.authorizer?.iam?.userArn,
  };
  try {
    const res = await handleIntake(request, wire);
    console.log(
      JSON.stringify({
        level: "INFO",
        message: "intake",
        method: request.method,
        path: request.path,
        caller: request.caller,
        status: res.status,
      }),
    );
    return { statusCode: res.status, headers: { "content-type": "application/json" }, body: JSON.stringify(res.body) };
  } catch (e) {
    // The message may name a table or a bucket, never an identifier (those are not in any error text);
    // the caller gets a generic answer and the log the detail.
    console.error(JSON.stringify({ level: "ERROR", message: "intake failed", error: (e as Error).message }));
    return {
      statusCode: 500,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ error: "internal error; the request may be re-sent with the same requestId" }),
    };
  }
}
