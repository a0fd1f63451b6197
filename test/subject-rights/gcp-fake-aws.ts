/**
 * The three AWS APIs the GCP worker's server calls, on loopback, as far as it uses them: STS
 * AssumeRoleWithWebIdentity (query protocol, XML answer), DynamoDB Scan (FilterExpression, paged two items
 * at a time so the worker must follow LastEvaluatedKey) and UpdateItem (SET, ConditionExpression evaluated,
 * ConditionalCheckFailedException otherwise), S3 PutObject path-style with `If-None-Match: *` (412 when the
 * key exists). The real AWS SDK clients talk to it, so request shapes, signing and error mapping are the
 * SDK's own. (Modelled on test/sources/api/fake-aws.ts, which stays untouched.)
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export type AttributeValue = { S?: string; N?: string; SS?: string[]; L?: AttributeValue[]; M?: Item; NULL?: boolean };
export type Item = Record<string, AttributeValue>;

interface Expression {
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Item;
}

export const FAKE_ACCESS_KEY = "ASIAFAKEWEBIDENTITY1";

export class FakeAwsForGcp {
  /** DynamoDB items by table, then by requestId. */
  readonly items = new Map<string, Map<string, Item>>();
  /** S3 objects by `bucket/key`, with the headers they were put with. */
  readonly objects = new Map<string, { body: Buffer; headers: http.IncomingHttpHeaders }>();
  /** STS calls' form parameters. */
  readonly assumed: Record<string, string>[] = [];
  /** `Service.Operation credential-key-id` per call, in order. */
  readonly calls: string[] = [];
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

  table(name: string): Map<string, Item> {
    let t = this.items.get(name);
    if (t === undefined) this.items.set(name, (t = new Map()));
    return t;
  }

  private handle(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): void {
    const target = String(req.headers["x-amz-target"] ?? "");
    const key = /Credential=([A-Z0-9]+)\//.exec(String(req.headers.authorization ?? ""))?.[1] ?? "unsigned";
    const json = (status: number, doc: unknown): void =>
      void res.writeHead(status, { "content-type": "application/x-amz-json-1.0" }).end(JSON.stringify(doc));
    const text = body.toString("utf8");
    if (req.method === "POST" && text.includes("Action=AssumeRoleWithWebIdentity")) {
      const form = Object.fromEntries(new URLSearchParams(text));
      this.assumed.push(form);
      this.calls.push(`STS.AssumeRoleWithWebIdentity ${key}`);
      res.writeHead(200, { "content-type": "text/xml" });
      return void res.end(`<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <Credentials>
      <AccessKeyId>${FAKE_ACCESS_KEY}</AccessKeyId>
      <SecretAccessKey>fake-secret</SecretAccessKey>
      <SessionToken>fake-session-token</SessionToken>
      <Expiration>${new Date(Date.now() + 3_600_000).toISOString()}</Expiration>
    </Credentials>
    <SubjectFromWebIdentityToken>112233445566778899</SubjectFromWebIdentityToken>
    <AssumedRoleUser><Arn>${form.RoleArn}/${form.RoleSessionName}</Arn><AssumedRoleId>AROAFAKE:${form.RoleSessionName}</AssumedRoleId></AssumedRoleUser>
    <Provider>accounts.google.com</Provider>
    <Audience>sts.amazonaws.com</Audience>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>`);
    }
    if (target.startsWith("DynamoDB_20120810.")) {
      const op = target.split(".")[1];
      this.calls.push(`DynamoDB.${op} ${key}`);
      const input = JSON.parse(text) as Expression & {
        TableName: string;
        Key?: Item;
        FilterExpression?: string;
        ConditionExpression?: string;
        UpdateExpression?: string;
        ExclusiveStartKey?: Item;
      };
      const table = this.table(input.TableName);
      if (op === "Scan") {
        const all = [...table.entries()].sort(([a], [b]) => a.localeCompare(b));
        const from = input.ExclusiveStartKey?.requestId?.S;
        const rest = from === undefined ? all : all.filter(([id]) => id > from);
        const page = rest.slice(0, 2);
        const more = rest.length > 2;
        const items = page.map(([, i]) => i).filter((i) => holds(input.FilterExpression, input, i));
        return json(200, {
          Items: items,
          Count: items.length,
          ScannedCount: page.length,
          ...(more ? { LastEvaluatedKey: { requestId: { S: page[page.length - 1][0] } } } : {}),
        });
      }
      if (op === "UpdateItem") {
        const id = input.Key!.requestId.S!;
        const current = table.get(id);
        if (current === undefined || !holds(input.ConditionExpression, input, current)) {
          return json(400, {
            __type: "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
            message: "The conditional request failed",
          });
        }
        const next = { ...current };
        const set = /^SET (.+)$/.exec(input.UpdateExpression ?? "");
        if (set === null) throw new Error(`the fake does not apply '${input.UpdateExpression}'`);
        for (const assignment of set[1].split(",")) {
          const [lhs, rhs] = assignment.split("=").map((x) => x.trim());
          next[name(lhs, input)] = input.ExpressionAttributeValues![rhs];
        }
        table.set(id, next);
        return json(200, {});
      }
      return json(400, { __type: "com.amazonaws.dynamodb.v20120810#UnknownOperationException" });
    }
    if (req.method === "PUT") {
      this.calls.push(`S3.PutObject ${key}`);
      const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname.slice(1));
      if (req.headers["if-none-match"] === "*" && this.objects.has(path)) {
        res.writeHead(412, { "content-type": "application/xml" });
        return void res.end(
          "<Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message></Error>",
        );
      }
      this.objects.set(path, { body, headers: req.headers });
      return void res.writeHead(200, { etag: '"0"' }).end();
    }
    res.writeHead(404).end();
  }
}

function name(token: string, e: Expression): string {
  return token.startsWith("#") ? e.ExpressionAttributeNames![token] : token;
}

/** `a = :v`, `attribute_not_exists(a)`, joined by AND: the expressions the worker writes. */
function holds(expr: string | undefined, e: Expression, item: Item): boolean {
  if (expr === undefined) return true;
  return expr.split(/\s+AND\s+/).every((term) => {
    const notExists = /^attribute_not_exists\(([#\w]+)\)$/.exec(term.trim());
    if (notExists) return item[name(notExists[1], e)] === undefined;
    const equals = /^([#\w]+) = (:\w+)$/.exec(term.trim());
    if (equals)
      return JSON.stringify(item[name(equals[1], e)]) === JSON.stringify(e.ExpressionAttributeValues![equals[2]]);
    throw new Error(`the fake does not evaluate '${term}'`);
  });
}
