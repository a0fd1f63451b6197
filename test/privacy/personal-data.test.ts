/**
 * The program-side registry (components/privacy/personal-data.ts) and the plan rules the registry test
 * applies (./registry.test.ts), on hand-built values: what is accepted, resolved and deployed, and that the
 * rules flag each kind of personal column, so the plan test cannot pass by flagging nothing.
 */
import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { PersonalDataCatalog, pseudonymColumns } from "../../components/privacy/personal-data";
import {
  deflateRegistry,
  inflateRegistry,
  parseRegistry,
  REGISTRY_DEFLATED_ENV,
  type PersonalDataRegistry,
} from "../../functions/subject-rights/registry";
import type { Plan, PlannedResource } from "../../tools/plan/evaluate";
import { personalBecause, planTables, registriesOf } from "./registry-rules";

const valueOf = <T>(o: pulumi.Output<T>): Promise<T> => new Promise((resolve) => o.apply(resolve));

describe("PersonalDataCatalog", () => {
  const orders = {
    cloud: "aws" as const,
    dataset: pulumi.output("dev_br_curated"),
    table: "orders_orders",
    subjectColumns: ["Customer_Pseudo_Id"],
    dataClass: "curated" as const,
    holds: "orders",
  };

  it("resolves Outputs, lower-cases columns, sorts, and deploys JSON the workers parse", async () => {
    const c = new PersonalDataCatalog("br");
    c.table({ ...orders, table: "z_last" });
    c.table(orders);
    c.prefix({
      cloud: "aws",
      bucket: pulumi.output("raw"),
      prefix: "cdc/orders/",
      dataClass: "raw",
      expiresAfterDays: 7,
      holds: "cdc",
    });
    const registry: PersonalDataRegistry = parseRegistry(await valueOf(c.json()));
    expect(registry.cell).to.equal("br");
    expect(registry.tables.map((t) => t.table)).to.deep.equal(["orders_orders", "z_last"]);
    expect(registry.tables[0]).to.deep.include({ dataset: "dev_br_curated", subjectColumns: ["customer_pseudo_id"] });
    expect(registry.prefixes).to.deep.equal([
      { cloud: "aws", bucket: "raw", prefix: "cdc/orders/", dataClass: "raw", expiresAfterDays: 7, holds: "cdc" },
    ]);
  });

  it("refuses a table without a subject column, a prefix that is not a relative folder, a bad expiry", () => {
    const c = new PersonalDataCatalog("br");
    expect(() => c.table({ ...orders, subjectColumns: [] })).to.throw(/needs a subject column/);
    expect(() => c.table({ ...orders, subjectColumns: ["a-b"] })).to.throw(/not column names: a-b/);
    const prefix = { cloud: "aws" as const, bucket: "b", dataClass: "raw" as const, holds: "h" };
    expect(() => c.prefix({ ...prefix, prefix: "cdc", expiresAfterDays: 7 })).to.throw(/ends in '\/'/);
    expect(() => c.prefix({ ...prefix, prefix: "/cdc/", expiresAfterDays: 7 })).to.throw(/relative/);
    expect(() => c.prefix({ ...prefix, prefix: "cdc/", expiresAfterDays: 0 })).to.throw(/positive integer/);
  });

  it("takes a table matched by text columns only, keeps their case, deploys them; refuses bad names", async () => {
    const c = new PersonalDataCatalog("br");
    const dead = {
      cloud: "gcp" as const,
      dataset: "proj-dev-1.clickstream_raw",
      table: "events_deadletter",
      subjectColumns: [],
      dataClass: "clickstream" as const,
      holds: "dead letters",
    };
    c.table({ ...dead, textColumns: ["payloadString", "payloadString", "errorMessage"] });
    c.table(orders);
    expect(() => c.table({ ...dead, table: "x", textColumns: ["payload string"] })).to.throw(
      /not column names: payload string/,
    );
    expect(() => c.table({ ...dead, table: "y", textColumns: [] })).to.throw(/needs a subject column or a text column/);
    const registry = parseRegistry(await valueOf(c.json()));
    const byName = Object.fromEntries(registry.tables.map((t) => [t.table, t]));
    expect(byName.events_deadletter).to.deep.include({
      subjectColumns: [],
      textColumns: ["payloadString", "errorMessage"],
    });
    // A table without text columns deploys as before (no empty list in the JSON).
    expect(byName.orders_orders).to.not.have.property("textColumns");
  });

  it("parseRegistry refuses a table with neither subject nor text column, and a text column that is no identifier", () => {
    const json = (t: Record<string, unknown>) =>
      JSON.stringify({
        cell: "br",
        tables: [{ cloud: "aws", dataset: "db", table: "t", dataClass: "curated", holds: "h", ...t }],
        prefixes: [],
      });
    expect(() => parseRegistry(json({ subjectColumns: [] }))).to.throw(/at least one subject column or text column/);
    expect(() => parseRegistry(json({ subjectColumns: [], textColumns: [] }))).to.throw(/or text column/);
    // AWS names are lower case: Glue folds them, and the workers put them into SQL.
    expect(() => parseRegistry(json({ subjectColumns: [], textColumns: ["Payload"] }))).to.throw(
      /textColumns\.0: 'Payload' is not a plain identifier/,
    );
    expect(() => parseRegistry(json({ subjectColumns: [], textColumns: ['payload"; --'] }))).to.throw(
      /not a plain identifier/,
    );
    expect(parseRegistry(json({ subjectColumns: [], textColumns: ["payload"] })).tables[0].textColumns).to.deep.equal([
      "payload",
    ]);
  });

  it("deflates the registry for the AWS worker's environment and reads it back unchanged", async () => {
    const c = new PersonalDataCatalog("br");
    for (let i = 0; i < 12; i++) c.table({ ...orders, table: `orders_${i}` });
    const json = await valueOf(c.json());
    const deflated = deflateRegistry(json);
    expect(deflated).to.match(/^[A-Za-z0-9+/]+=*$/);
    // Repetitive JSON: well under half its size, which is what keeps the worker inside Lambda's 4 KB.
    expect(deflated.length).to.be.below(json.length / 2);
    expect(inflateRegistry(deflated)).to.equal(json);
    expect(parseRegistry(inflateRegistry(deflated))).to.deep.equal(parseRegistry(json));
    expect(() => inflateRegistry("not deflated")).to.throw(/REGISTRY_DEFLATED is not deflated base64/);
  });

  it("throws on a declaration after the registry was read (the workers would miss it)", () => {
    const c = new PersonalDataCatalog("eu");
    c.json();
    expect(() => c.table(orders)).to.throw(/declared after the registry was read/);
  });

  it("does not copy its entries into the component inputs Pulumi records (only the cell)", () => {
    const c = new PersonalDataCatalog("br");
    c.table(orders);
    expect(Object.keys(c)).to.deep.equal(["cell"]);
  });

  it("finds pseudonym columns by the naming convention only", () => {
    expect(pseudonymColumns(["customer_pseudo_id", "customer_id", "pseudo_id", "User_Pseudo_Id"])).to.deep.equal([
      "customer_pseudo_id",
      "user_pseudo_id",
    ]);
  });
});

describe("registry plan rules", () => {
  const resource = (type: string, inputs: Record<string, unknown>, outputs: Record<string, unknown> = {}) =>
    ({
      urn: `urn:${type}:${JSON.stringify(inputs).length}`,
      type,
      name: "x",
      custom: true,
      inputs,
      outputs,
      cell: "br",
    }) as unknown as PlannedResource;
  const glue = (name: string, columns: string[]) =>
    resource("aws:glue/catalogTable:CatalogTable", {
      databaseName: "dev_br_curated",
      name,
      openTableFormatInput: {
        icebergInput: { icebergTableInput: { schema: { fields: columns.map((n) => ({ name: n })) } } },
      },
    });
  const plan = (resources: PlannedResource[]): Plan => ({ resources, config: {} }) as unknown as Plan;
  const ids = new Set(["customer_id"]);

  it("flags pseudonyms, person identifiers, tagged BigQuery columns and undeclared JSON; not the rest", () => {
    const tag = resource("gcp:datacatalog/policyTag:PolicyTag", { displayName: "pseudonymous-id" }, { name: "tag-1" });
    const bq = resource("gcp:bigquery/table:Table", {
      project: "p",
      datasetId: "d",
      tableId: "dead",
      schema: JSON.stringify([{ name: "payloadString", policyTags: { names: ["tag-1"] } }]),
    });
    const view = resource("gcp:bigquery/table:Table", {
      project: "p",
      datasetId: "d",
      tableId: "v",
      view: { query: "" },
    });
    const tables = planTables(
      plan([
        tag,
        bq,
        view,
        glue("a", ["x_pseudo_id"]),
        glue("b", ["customer_id"]),
        glue("c", ["payload"]),
        glue("d", ["sku"]),
        glue("e", ["group_pseudo_id"]),
      ]),
    );
    const verdict = Object.fromEntries(tables.map((t) => [t.table, personalBecause(t, ids)]));
    expect(verdict).to.deep.equal({
      dead: "column payloadString under the pseudonymous-id policy tag",
      a: "pseudonym column x_pseudo_id",
      b: "person identifier customer_id",
      c: "undeclared JSON content in payload",
      d: undefined,
      e: undefined,
    });
  });

  it("reads each cell's registry from the workers' environment and rejects two different ones", () => {
    const json = (tables: unknown[]) => JSON.stringify({ cell: "br", tables, prefixes: [] });
    const table = { cloud: "aws", dataset: "db", table: "t", subjectColumns: ["c"], dataClass: "curated", holds: "h" };
    const lambda = (j: string) =>
      resource("aws:lambda/function:Function", {
        environment: { variables: { [REGISTRY_DEFLATED_ENV]: deflateRegistry(j) } },
      });
    const run = (j: string) =>
      resource("gcp:cloudrunv2/service:Service", {
        template: { containers: [{ env: [{ name: "REGISTRY_JSON", value: j }] }] },
      });
    expect(registriesOf(plan([lambda(json([table])), run(json([table]))])).get("br")?.tables).to.have.length(1);
    expect(() => registriesOf(plan([lambda(json([table])), run(json([]))]))).to.throw(/two different registries/);
  });
});
