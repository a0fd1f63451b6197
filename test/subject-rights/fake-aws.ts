/**
 * The AWS APIs the subject-rights intake and worker call, on loopback, as far as they use them (the
 * approach of test/sources/api/fake-aws.ts, extended):
 * - DynamoDB GetItem, PutItem, UpdateItem and Scan, with the condition and filter expressions
 *   functions/subject-rights/records.ts writes evaluated (refused with ConditionalCheckFailedException);
 * - S3 PutObject (path-style) with `If-None-Match: *` answered 412 PreconditionFailed when the key exists,
 *   the bucket's default encryption echoed as `x-amz-server-side-encryption`, and GetObject;
 * - Secrets Manager GetSecretValue.
 * The real AWS SDK clients talk to it, so request shapes, error mapping and headers are the SDK's own.
 * Every request body is kept (`received`), so a test can assert what never left the function.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";

type AttributeValue = { S?: string; N?: string; L?: AttributeValue[]; NULL?: boolean; SS?: string[] };
type Item = Record<string, AttributeValue>;

interface DynamoInput {
  TableName: string;
  Key?: Item;
  Item?: Item;
  ConditionExpression?: string;
  FilterExpression?: string;
  UpdateExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Item;
}

export class FakeAws {
  /** DynamoDB items by table, then by `requestId`. */
  readonly items = new Map<string, Map<string, Item>>();
  /** S3 objects by `bucket/key`, with the headers they were put with. */
  readonly objects = new Map<string, { body: Buffer; headers: http.IncomingHttpHeaders }>();
  readonly secrets = new Map<string, string>();
  /** Default encryption by bucket, echoed on PutObject (S3 answers with the algorithm it applied). @default aws:kms */
  readonly bucketEncryption = new Map<string, string>();
  /** Operations served, in order (`DynamoDB.PutItem`, `S3.PutObject`...). */
  readonly calls: string[] = [];
  /** Every request body received, by service (`dynamodb`, `s3`, `secretsmanager`). */
  readonly received: { service: string; body: Buffer }[] = [];
  private server: http.Server | undefined;

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => this.handle(req, Buffer.concat(chunks), res));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** The stored items of a table, by requestId. */
  table(name: string): Map<string, Item> {
    const t = this.items.get(name) ?? new Map<string, Item>();
    this.items.set(name, t);
    return t;
  }

  /** Every stored byte: items as JSON and object bodies (for "never stored" assertions). */
  storedText(): string {
    const items = [...this.items.values()].flatMap((t) => [...t.values()]).map((i) => JSON.stringify(i));
    const objects = [...this.objects.values()].map((o) => o.body.toString("utf8"));
    return [...items, ...objects].join("\n");
  }

  private handle(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): void {
    const target = String(req.headers["x-amz-target"] ?? "");
    const json = (status: number, doc: unknown, type = "application/x-amz-json-1.0"): void =>
      void res.writeHead(status, { "content-type": type }).end(JSON.stringify(doc));
    if (target.startsWith("DynamoDB_20120810.")) {
      this.received.push({ service: "dynamodb", body });
      const op = target.split(".")[1];
      this.calls.push(`DynamoDB.${op}`);
      const input = JSON.parse(body.toString("utf8")) as DynamoInput;
      const table = this.table(input.TableName);
      const refused = () =>
        json(400, {
          __type: "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
          message: "The conditional request failed",
        });
      if (op === "GetItem") {
        const item = table.get(input.Key!.requestId.S!);
        return json(200, item ? { Item: item } : {});
      }
      if (op === "PutItem") {
        const key = input.Item!.requestId.S!;
        if (!holds(input.ConditionExpression, input, table.get(key))) return refused();
        table.set(key, input.Item!);
        return json(200, {});
      }
      if (op === "UpdateItem") {
        const key = input.Key!.requestId.S!;
        const current = table.get(key);
        if (!holds(input.ConditionExpression, input, current)) return refused();
        table.set(key, applyUpdate(input, current ?? { ...input.Key! }));
        return json(200, {});
      }
      if (op === "Scan") {
        const items = [...table.values()].filter((i) => holds(input.FilterExpression, input, i));
        return json(200, { Items: items, Count: items.length, ScannedCount: table.size });
      }
      return json(400, { __type: "com.amazonaws.dynamodb.v20120810#UnknownOperationException" });
    }
    if (target === "secretsmanager.GetSecretValue") {
      this.received.push({ service: "secretsmanager", body });
      this.calls.push("SecretsManager.GetSecretValue");
      const { SecretId } = JSON.parse(body.toString("utf8")) as { SecretId: string };
      const value = this.secrets.get(SecretId);
      const type = "application/x-amz-json-1.1";
      if (value === undefined)
        return json(400, { __type: "ResourceNotFoundException", message: "no such secret" }, type);
      return json(200, { ARN: SecretId, Name: "key", SecretString: value, VersionId: "v1" }, type);
    }
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname.slice(1));
    const xml = (status: number, code: string, message: string): void =>
      void res
        .writeHead(status, { "content-type": "application/xml" })
        .end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`);
    if (req.method === "PUT") {
      this.received.push({ service: "s3", body });
      this.calls.push("S3.PutObject");
      // S3 conditional writes: If-None-Match `*` fails with 412 when an object exists at the key.
      if (req.headers["if-none-match"] === "*" && this.objects.has(path))
        return xml(412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold");
      this.objects.set(path, { body, headers: req.headers });
      const bucket = path.split("/")[0];
      return void res
        .writeHead(200, {
          etag: '"0"',
          "x-amz-server-side-encryption": this.bucketEncryption.get(bucket) ?? "aws:kms",
        })
        .end();
    }
    if (req.method === "GET") {
      this.calls.push("S3.GetObject");
      const o = this.objects.get(path);
      if (!o) return xml(404, "NoSuchKey", "The specified key does not exist.");
      return void res.writeHead(200, { "content-type": "application/octet-stream" }).end(o.body);
    }
    res.writeHead(404).end();
  }
}

/** The expressions records.ts writes: absent key, or an attribute equal to a value. */
function holds(expr: string | undefined, input: DynamoInput, current: Item | undefined): boolean {
  if (expr === undefined) return true;
  const names = input.ExpressionAttributeNames ?? {};
  const notExists = /^attribute_not_exists\((#\w+)\)$/.exec(expr);
  if (notExists) return current === undefined || current[names[notExists[1]]] === undefined;
  const equals = /^(#\w+) = (:\w+)$/.exec(expr);
  if (equals) {
    const attr = current?.[names[equals[1]]];
    const value = input.ExpressionAttributeValues?.[equals[2]];
    return attr !== undefined && value !== undefined && JSON.stringify(attr) === JSON.stringify(value);
  }
  throw new Error(`the fake does not evaluate '${expr}'`);
}

/** `SET #a = :x, b = :y` only. */
function applyUpdate(input: DynamoInput, current: Item): Item {
  const m = /^SET (.+)$/.exec(input.UpdateExpression ?? "");
  if (!m) throw new Error(`the fake does not apply '${input.UpdateExpression}'`);
  const next = { ...current };
  for (const part of m[1].split(",")) {
    const [name, value] = part.split("=").map((s) => s.trim());
    next[input.ExpressionAttributeNames?.[name] ?? name] = input.ExpressionAttributeValues![value];
  }
  return next;
}
