/**
 * Hostile and careless stack config (issue 11, items 12 and 13): each mutation of the dev (or prod) stack
 * file that was accepted silently, or ended in a stack trace, is now a problem naming the key and the stack
 * file, all of them in one run. Cases go through `parseStackConfig` (what `loadConfig` calls) and, where the
 * path to it matters (namespaces, secrets, YAML), through the offline plan of a real stack file.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import { stringify } from "yaml";
import { parseStackConfig, StackConfigError } from "../../components/config";
import { evaluateStack, PlanConfigError } from "../../tools/plan/evaluate";
import { PROJECT_ROOT } from "../../components/project-root";
import { readStackConfig } from "../../tools/plan/stack-config";

type Raw = Record<string, string>;
type Json = Record<string, any>;

const stackRaw = (stack: string): Raw => ({ ...readStackConfig(stack).config });
const secretKeysOf = (stack: string): string[] => readStackConfig(stack).secretKeys;

/** Changes one `lakehouse:` key (decoded from its JSON) of a raw config map. */
function edit(raw: Raw, key: string, change: (v: Json) => void): Raw {
  const full = `lakehouse:${key}`;
  const value = JSON.parse(raw[full]) as Json;
  change(value);
  return { ...raw, [full]: JSON.stringify(value) };
}

function without(raw: Raw, key: string): Raw {
  const copy = { ...raw };
  delete copy[key];
  return copy;
}

/** The problems of a config, which must be rejected with a StackConfigError naming the file. */
function problemsOf(raw: Raw, secretKeys?: readonly string[], file = "Pulumi.dev.yaml"): string[] {
  try {
    parseStackConfig(raw, file, secretKeys);
  } catch (e) {
    expect(e).to.be.instanceOf(StackConfigError);
    expect((e as Error).message).to.match(new RegExp(`^Invalid stack config in ${file.replace(/\./g, "\\.")} `));
    return [...(e as StackConfigError).problems];
  }
  throw new Error("the config was accepted");
}

const expectProblem = (problems: readonly string[], expected: string | RegExp): void => {
  const hit = problems.some((p) => (typeof expected === "string" ? p.startsWith(expected) : expected.test(p)));
  expect(hit, `expected ${String(expected)} in:\n${problems.join("\n")}`).to.equal(true);
};

/** One mutation: the change and the problems it must produce (each a prefix or a pattern). */
interface Mutation {
  readonly name: string;
  readonly change: (raw: Raw) => Raw;
  readonly expected: readonly (string | RegExp)[];
}

const tx = (s: Json): Json => s.transactional[0];

const mutations: Mutation[] = [
  {
    name: "a key in a misspelt namespace (lakehose:sources), with the lakehouse key it meant",
    change: (raw) => {
      const { ["lakehouse:sources"]: sources, ...rest } = raw;
      return { ...rest, "lakehose:sources": sources };
    },
    expected: [/^lakehose:sources: unknown namespace 'lakehose'.*\(did you mean 'lakehouse:sources'\?\)$/],
  },
  {
    name: "two transactional sources named orders",
    change: (raw) => edit(raw, "sources", (s) => s.transactional.push({ ...tx(s) })),
    expected: [
      "lakehouse:sources.transactional[1].name: duplicate source name 'orders' in cell 'br' (also sources.transactional[0])",
      "lakehouse:sources.transactional[1].tables[0]: 'orders.orders' maps to the curated table orders_orders like sources.transactional[0].tables[0]",
    ],
  },
  {
    name: "a CSV feed named like a transactional source",
    change: (raw) => edit(raw, "sources", (s) => (s.csvFeeds[0].name = "orders")),
    expected: [
      "lakehouse:sources.csvFeeds[0].name: duplicate source name 'orders' in cell 'br' (also sources.transactional[0])",
    ],
  },
  {
    name: "collectorWriteKeys removed while the cell deploys the collector",
    change: (raw) => without(raw, "lakehouse:collectorWriteKeys"),
    expected: ["lakehouse:collectorWriteKeys: is required: every cell deploys the clickstream collector"],
  },
  {
    name: "credentials: constructor (a name found on Object.prototype)",
    change: (raw) => edit(raw, "sources", (s) => (tx(s).credentials = "constructor")),
    expected: ["lakehouse:sources.transactional[0].credentials: no entry 'constructor' in lakehouse:sourceCredentials"],
  },
  {
    name: "credentials missing altogether",
    change: (raw) => without(raw, "lakehouse:sourceCredentials"),
    expected: ["lakehouse:sources.transactional[0].credentials: no entry 'orders' in lakehouse:sourceCredentials"],
  },
  {
    name: "a VPC CIDR with an octet above 255 and a source CIDR with a /99 prefix",
    change: (raw) =>
      edit(raw, "cells", (c) => (c[0].network = { vpcCidr: "300.1.2.0/16", sourceCidrs: ["10.0.0.0/99"] })),
    expected: [
      "lakehouse:cells[0].network.vpcCidr: '300.1.2.0/16': '300.1.2.0' is not an IPv4 address",
      "lakehouse:cells[0].network.sourceCidrs[0]: '10.0.0.0/99': the prefix length must be /0 to /32",
    ],
  },
  {
    name: "a CIDR whose address is not the network of its prefix",
    change: (raw) =>
      edit(raw, "cells", (c) => (c[0].network = { vpcCidr: "172.20.1.0/16", sourceCidrs: ["10.1.2.3/16"] })),
    expected: [
      "lakehouse:cells[0].network.vpcCidr: '172.20.1.0/16' has host bits set; the network of a /16 there is 172.20.0.0/16",
      "lakehouse:cells[0].network.sourceCidrs[0]: '10.1.2.3/16' has host bits set; the network of a /16 there is 10.1.0.0/16",
    ],
  },
  {
    name: "vpcCidr overlapping sourceCidrs",
    change: (raw) =>
      edit(raw, "cells", (c) => (c[0].network = { vpcCidr: "10.90.0.0/22", sourceCidrs: ["10.0.0.0/8"] })),
    expected: ["lakehouse:cells[0].network.sourceCidrs[0]: '10.0.0.0/8' overlaps the ingestion VPC 10.90.0.0/22"],
  },
  {
    name: "sourceCidrs overlapping the default VPC CIDR",
    change: (raw) => edit(raw, "cells", (c) => (c[0].network = { sourceCidrs: ["10.80.2.0/24"] })),
    expected: [
      "lakehouse:cells[0].network.sourceCidrs[0]: '10.80.2.0/24' overlaps the ingestion VPC 10.80.0.0/22 (the default vpcCidr)",
    ],
  },
  {
    name: "clickstreamEventsPerDay: 1e15, beyond one cell's collector and Dataflow limits",
    change: (raw) => edit(raw, "scale", (s) => (s.clickstreamEventsPerDay = 1e15)),
    expected: [
      /^lakehouse:scale\.clickstreamEventsPerDay: 1,000,000,000,000,000 events a day need 3,255,209 collector instances at peak \(723,380 always on\) in every cell, above the 1,000 instances of one Cloud Run service .*one cell takes at most 307,200,000,000 events a day at peakFactor 3: move part of the traffic to another cell/,
      /^lakehouse:scale\.clickstreamEventsPerDay: .* Dataflow workers in every cell, above the 1,000 one job may use .*one cell takes at most 57,600,000,000 events a day/,
    ],
  },
  {
    name: "transactionsPerDay beyond what DMS Serverless replicates for one source",
    change: (raw) => edit(raw, "scale", (s) => (s.transactionsPerDay = 1e12)),
    expected: [
      /^lakehouse:scale\.transactionsPerDay: .* DMS capacity units per transactional source at peak, above DMS Serverless's 384/,
    ],
  },
  {
    name: "the same table twice in one source",
    change: (raw) => edit(raw, "sources", (s) => tx(s).tables.push(structuredClone(tx(s).tables[0]))),
    expected: [
      "lakehouse:sources.transactional[0].tables[2]: 'orders.orders' maps to the curated table orders_orders like sources.transactional[0].tables[0]",
    ],
  },
  {
    name: "a key column and a partition column that are not declared",
    change: (raw) =>
      edit(raw, "sources", (s) => {
        tx(s).tables[0].keys = ["order_no"];
        tx(s).tables[0].partitionBy = ["day(placed_at)"];
      }),
    expected: [
      "lakehouse:sources.transactional[0].tables[0].keys[0]: 'order_no' is not in columns",
      "lakehouse:sources.transactional[0].tables[0].partitionBy[0]: partition source 'placed_at' is not in columns",
    ],
  },
  {
    name: "a time partition of a column that is not a date",
    change: (raw) => edit(raw, "sources", (s) => (tx(s).tables[0].partitionBy = ["day(status)"])),
    expected: [
      "lakehouse:sources.transactional[0].tables[0].partitionBy[0]: day(status) needs a date or timestamp column, not string",
    ],
  },
  {
    name: "a PII column that is the key",
    change: (raw) => edit(raw, "sources", (s) => tx(s).tables[1].piiColumns.push("customer_id")),
    expected: ["lakehouse:sources.transactional[0].tables[1].piiColumns[4]: 'customer_id' is a key column"],
  },
  {
    name: "a column declared twice",
    change: (raw) => edit(raw, "sources", (s) => tx(s).tables[0].columns.push({ name: "Status", type: "string" })),
    expected: ["lakehouse:sources.transactional[0].tables[0].columns[7].name: 'status' is declared twice"],
  },
  {
    name: "a table named like the merge's tombstone table of another (the ingestion layer threw on it)",
    change: (raw) =>
      edit(raw, "sources", (s) =>
        tx(s).tables.push({ schema: "orders", name: "orders__cdc_tombstones", keys: ["id"] }),
      ),
    expected: [
      "lakehouse:sources.transactional[0].tables[2]: 'orders.orders__cdc_tombstones' maps to the curated table " +
        "orders_orders__cdc_tombstones like sources.transactional[0].tables[0]",
    ],
  },
  {
    name: "the orders feed's join key as a direct identifier (the marts' SQL threw on it)",
    change: (raw) => edit(raw, "sources", (s) => (tx(s).tables[0].piiColumns = ["customer_pseudo_id"])),
    expected: [
      "lakehouse:sources.transactional[0].tables[0].piiColumns[0]: 'customer_pseudo_id' is selected by the daily orders feed",
    ],
  },
  {
    name: "the orders timestamp as a direct identifier when no time partition names another",
    change: (raw) =>
      edit(raw, "sources", (s) => {
        delete tx(s).tables[0].partitionBy;
        tx(s).tables[0].piiColumns = ["created_at"];
      }),
    expected: [
      "lakehouse:sources.transactional[0].tables[0].piiColumns[0]: 'created_at' is selected by the daily orders feed",
    ],
  },
  {
    name: "a declared column with the merge's reserved prefix (the curated schema threw on it)",
    change: (raw) =>
      edit(raw, "sources", (s) => tx(s).tables[1].columns.push({ name: "_cdc_watermark", type: "string" })),
    expected: [
      "lakehouse:sources.transactional[0].tables[1].columns[8].name: the prefix _cdc_ is reserved for the CDC merge",
    ],
  },
  {
    name: "erasureSlaDays: 2, too short for Iceberg snapshot retention (the Iceberg tables threw on it)",
    change: (raw) => ({ ...raw, "lakehouse:erasureSlaDays": "2" }),
    expected: ["lakehouse:erasureSlaDays: 2 days leaves no room for Iceberg snapshot retention"],
  },
  {
    name: "a MySQL source without the CA DMS must verify it with",
    change: (raw) => edit(raw, "sources", (s) => delete tx(s).caCertificatePem),
    expected: ["lakehouse:sources.transactional[0].caCertificatePem: is required for engine mysql"],
  },
];

describe("hostile and careless stack config (issue 11, items 12-13)", function () {
  this.timeout(120_000);

  it("the dev and prod stack files, with their secure: placeholders, still load with their secret keys", function () {
    for (const stack of ["dev", "prod"]) {
      const { config, stackFile, secretKeys } = readStackConfig(stack);
      expect(secretKeys).to.include.members(["lakehouse:sourceCredentials", "lakehouse:collectorWriteKeys"]);
      expect(parseStackConfig(config, stackFile, secretKeys).environment).to.equal(stack);
    }
  });

  for (const m of mutations) {
    it(`rejects ${m.name}`, function () {
      const problems = problemsOf(m.change(stackRaw("dev")), secretKeysOf("dev"));
      for (const e of m.expected) expectProblem(problems, e);
    });
  }

  it("rejects two cells in one GCP project (prod)", function () {
    const raw = edit(stackRaw("prod"), "cells", (c) => (c[1].gcp.project = c[0].gcp.project));
    const problems = problemsOf(raw, secretKeysOf("prod"), "Pulumi.prod.yaml");
    expectProblem(
      problems,
      "lakehouse:cells[1].gcp.project: 'acme-lakehouse-br-prod' is already the project of cells[0]",
    );
  });

  it("rejects a source password and write keys that were not set with --secret", function () {
    // The stack file without `secure:`: Pulumi then reports neither key as secret.
    const plain = secretKeysOf("dev").filter(
      (k) => k !== "lakehouse:sourceCredentials" && k !== "lakehouse:collectorWriteKeys",
    );
    const problems = problemsOf(stackRaw("dev"), plain);
    expectProblem(
      problems,
      "lakehouse:sourceCredentials.orders.password: is in plain text in the stack file; set it as a secret: " +
        "pulumi config set --secret --path 'lakehouse:sourceCredentials.orders.password' <password>",
    );
    expectProblem(
      problems,
      "lakehouse:collectorWriteKeys: is in plain text in the stack file; set it as a secret: " +
        "pulumi config set --secret lakehouse:collectorWriteKeys '<key1>,<key2>'",
    );
    // One per credential of the stack (each password is plain once the object holds no `secure:` value).
    const credentials = Object.keys(readYamlConfig("Pulumi.dev.yaml")["lakehouse:sourceCredentials"] as object);
    expect(problems).to.have.length(credentials.length + 1);
  });

  it("reports many problems of one stack config together, each with its key, in one error", function () {
    // Every mutation but those that undo another (a removed key, a network block replaced by the next) or
    // whose expected message names a table index another mutation shifts.
    const together = mutations.filter(
      (m) =>
        !/misspelt namespace|Object\.prototype|missing altogether|network of its prefix|default VPC|vpcCidr overlapping|time partition|tombstone table|orders timestamp/.test(
          m.name,
        ),
    );
    expect(together.length).to.be.at.least(5);
    let raw = stackRaw("dev");
    for (const m of together) raw = m.change(raw);
    raw["lakehose:scale"] = raw["lakehouse:scale"];
    const plain = secretKeysOf("dev").filter((k) => k !== "lakehouse:collectorWriteKeys");
    raw["lakehouse:collectorWriteKeys"] = "a-plain-text-write-key-0001";
    const problems = problemsOf(raw, plain);
    for (const m of together) {
      // Removing the write keys is superseded by setting them in plain text below.
      if (m.name.startsWith("collectorWriteKeys removed")) continue;
      for (const e of m.expected) expectProblem(problems, e);
    }
    expectProblem(problems, "lakehouse:collectorWriteKeys: is in plain text in the stack file");
    expectProblem(problems, /^lakehose:scale: unknown namespace 'lakehose'.*\(did you mean 'lakehouse:scale'\?\)$/);
  });

  describe("through the offline plan (the program's loadConfig, as pulumi preview runs it)", function () {
    let dir: string;
    before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "hostile-config-"))));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    async function configProblems(run: () => Promise<unknown>): Promise<readonly string[]> {
      try {
        await run();
      } catch (e) {
        expect(e, (e as Error).message).to.be.instanceOf(PlanConfigError);
        return (e as PlanConfigError).problems;
      }
      throw new Error("the offline plan accepted the config");
    }

    /** The dev stack file with `change` applied to its parsed YAML, written beside the test. */
    function devFileWith(change: (config: Json) => void): string {
      const file = path.join(dir, `Pulumi.dev-${Math.random().toString(36).slice(2)}.yaml`);
      const doc = { config: structuredClone(readYamlConfig("Pulumi.dev.yaml")) };
      change(doc.config);
      fs.writeFileSync(file, stringify(doc));
      return file;
    }

    it("a namespace typo and a plain-text password and write keys fail the plan with their keys", async function () {
      const file = devFileWith((c) => {
        c["lakehose:scale"] = c["lakehouse:scale"];
        // Pulumi reports the whole object secret while any password in it is `secure:` (validate.ts,
        // plainSecretProblems), so every password goes plain here.
        for (const credential of Object.values(
          c["lakehouse:sourceCredentials"] as Record<string, { password: unknown }>,
        ))
          credential.password = "a-plain-password";
        c["lakehouse:collectorWriteKeys"] = "a-plain-text-write-key-0001";
      });
      const problems = await configProblems(() => evaluateStack({ stack: "dev", stackFile: file }));
      expectProblem(problems, /^lakehose:scale: unknown namespace 'lakehose'.*\(did you mean 'lakehouse:scale'\?\)$/);
      expectProblem(problems, "lakehouse:sourceCredentials.orders.password: is in plain text in the stack file");
      expectProblem(problems, "lakehouse:collectorWriteKeys: is in plain text in the stack file");
    });

    it("config overrides that a component used to throw on are problems, not a stack trace", async function () {
      const dev = readStackConfig("dev").config;
      const sources = JSON.parse(dev["lakehouse:sources"]) as Json;
      sources.transactional[0].credentials = "constructor";
      sources.transactional[0].tables.push(structuredClone(sources.transactional[0].tables[0]));
      const problems = await configProblems(() =>
        evaluateStack({ stack: "dev", configOverrides: { "lakehouse:sources": sources, "lakehouse:sourcez": 1 } }),
      );
      expectProblem(problems, "lakehouse:sourcez: unknown key (did you mean 'lakehouse:sources'?)");
      expectProblem(problems, "lakehouse:sources.transactional[0].credentials: no entry 'constructor'");
      expectProblem(
        problems,
        /^lakehouse:sources\.transactional\[0\]\.tables\[2\]: 'orders\.orders' maps to the curated table/,
      );
    });

    it("malformed YAML: an unclosed [, a duplicated key and a tab, each with file:line:col, in one error", async function () {
      const file = path.join(dir, "Pulumi.broken.yaml");
      const text = fs
        .readFileSync(path.join(PROJECT_ROOT, "Pulumi.dev.yaml"), "utf8")
        .replace("  lakehouse:protect: false\n", "  lakehouse:protect: false\n  lakehouse:protect: true\n")
        .replace(
          '  lakehouse:alertEmails: ["data-platform-oncall@acme.example"]',
          '  lakehouse:alertEmails: [\n\t"x@acme.example"',
        )
        .replace("    peakFactor: 3\n", "    peakFactor: 3\n\t  extra: 1\n");
      fs.writeFileSync(file, text);
      const lineOf = (needle: string) => text.split("\n").findIndex((l) => l.includes(needle)) + 1;
      const problems = await configProblems(() => evaluateStack({ stack: "dev", stackFile: file }));
      expectProblem(
        problems,
        `${file}:${lineOf("lakehouse:protect: true")}:3: Map keys must be unique (DUPLICATE_KEY)`,
      );
      expectProblem(
        problems,
        new RegExp(`^${escape(file)}:${lineOf("extra: 1")}:1: Tabs are not allowed as indentation`),
      );
      expectProblem(problems, new RegExp(`^${escape(file)}:\\d+:\\d+: .*(Flow sequence|\\])`));
      for (const p of problems) expect(p).to.match(new RegExp(`^${escape(file)}:\\d+:\\d+: `));
    });
  });
});

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The `config:` map of a stack file as YAML data (secure values kept as `{secure: ...}`). */
function readYamlConfig(file: string): Json {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { parse } = require("yaml") as typeof import("yaml");
  return (parse(fs.readFileSync(path.join(PROJECT_ROOT, file), "utf8")) as { config: Json }).config;
}
