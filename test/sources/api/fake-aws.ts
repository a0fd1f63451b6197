/**
 * The three AWS APIs the puller calls, on loopback, as far as it uses them: DynamoDB GetItem and PutItem
 * with the two condition expressions the cursor store writes (evaluated, and refused with the service's
 * ConditionalCheckFailedException), S3 PutObject (path-style) and Secrets Manager GetSecretValue. The real
 * AWS SDK clients talk to it, so request shapes, error mapping and headers are the SDK's own.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";

type AttributeValue = { S?: string; N?: string; NULL?: boolean };
type Item = Record<string, AttributeValue>;

export class FakeAws {
  /** DynamoDB items by table, then by key. */
  readonly items = new Map<string, Map<string, Item>>();
  /** S3 objects by `bucket/key`, with the headers they were put with. */
  readonly objects = new Map<string, { body: Buffer; headers: http.IncomingHttpHeaders }>();
  readonly secrets = new Map<string, string>();
  /** Operations served, in order (`DynamoDB.PutItem`, `S3.PutObject`...). */
  readonly calls: string[] = [];
  /** S3 PutObject calls (1-based) answered with a 500, storing nothing. */
  readonly failPuts = new Set<number>();
  private server: http.Server | undefined;
  private puts = 0;

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

  private handle(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): void {
    const target = String(req.headers["x-amz-target"] ?? "");
    const json = (status: number, doc: unknown, type = "application/x-amz-json-1.0"): void =>
      void res.writeHead(status, { "content-type": type }).end(JSON.stringify(doc));
    if (target.startsWith("DynamoDB_20120810.")) {
      const op = target.split(".")[1];
      this.calls.push(`DynamoDB.${op}`);
      const input = JSON.parse(body.toString("utf8")) as {
        TableName: string;
        Key?: Item;
        Item?: Item;
        ConditionExpression?: string;
        ExpressionAttributeNames?: Record<string, string>;
        ExpressionAttributeValues?: Item;
      };
      const table = this.items.get(input.TableName) ?? new Map<string, Item>();
      this.items.set(input.TableName, table);
      if (op === "GetItem") {
        const item = table.get(JSON.stringify(input.Key!.source));
        return json(200, item ? { Item: item } : {});
      }
      if (op === "PutItem") {
        const key = JSON.stringify(input.Item!.source);
        const current = table.get(key);
        if (!conditionHolds(input, current))
          return json(400, {
            __type: "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
            message: "The conditional request failed",
          });
        table.set(key, input.Item!);
        return json(200, {});
      }
      return json(400, { __type: "com.amazonaws.dynamodb.v20120810#UnknownOperationException" });
    }
    if (target === "secretsmanager.GetSecretValue") {
      this.calls.push("SecretsManager.GetSecretValue");
      const { SecretId } = JSON.parse(body.toString("utf8")) as { SecretId: string };
      const value = this.secrets.get(SecretId);
      if (value === undefined)
        return json(
          400,
          { __type: "ResourceNotFoundException", message: "no such secret" },
          "application/x-amz-json-1.1",
        );
      return json(
        200,
        { ARN: SecretId, Name: "api", SecretString: value, VersionId: "v1" },
        "application/x-amz-json-1.1",
      );
    }
    if (req.method === "PUT") {
      this.calls.push("S3.PutObject");
      this.puts++;
      if (this.failPuts.has(this.puts)) {
        res.writeHead(500, { "content-type": "application/xml" });
        return void res.end("<Error><Code>InternalError</Code><Message>injected</Message></Error>");
      }
      const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname.slice(1));
      this.objects.set(path, { body, headers: req.headers });
      return void res.writeHead(200, { etag: '"0"' }).end();
    }
    res.writeHead(404).end();
  }
}

/** The two conditions the cursor store writes: first write, or the version read. */
function conditionHolds(
  input: {
    ConditionExpression?: string;
    ExpressionAttributeNames?: Record<string, string>;
    ExpressionAttributeValues?: Item;
  },
  current: Item | undefined,
): boolean {
  const expr = input.ConditionExpression;
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
