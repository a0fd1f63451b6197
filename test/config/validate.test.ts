import { expect } from "chai";
import * as fc from "fast-check";
import { JURISDICTIONS, parseStackConfig, StackConfigError, type LakehouseConfig } from "../../components/config";
import { readStackConfig } from "../../tools/plan/stack-config";

/** The dev stack's own config, as the program sees it: the baseline every case breaks one thing of. */
const devRaw = (): Record<string, string> => ({ ...readStackConfig("dev").config });

function mutate(raw: Record<string, string>, key: string, change: (v: unknown) => unknown): Record<string, string> {
  const full = `lakehouse:${key}`;
  const value = raw[full] === undefined ? undefined : JSON.parse(raw[full]);
  return { ...raw, [full]: JSON.stringify(change(value)) };
}

function problemsOf(raw: Record<string, string>, file = "Pulumi.dev.yaml"): readonly string[] {
  try {
    parseStackConfig(raw, file);
  } catch (e) {
    expect(e).to.be.instanceOf(StackConfigError);
    return (e as StackConfigError).problems;
  }
  throw new Error("expected the config to be rejected");
}

type Cell = Record<string, unknown> & { aws: Record<string, unknown>; gcp: Record<string, unknown> };
const firstCell = (f: (c: Cell) => void) => (cells: unknown) => {
  const copy = structuredClone(cells) as Cell[];
  f(copy[0]);
  return copy;
};

/** Regex cases: a list index that depends on what else the "every problem together" case added. */
const matches = (problem: string, expected: string | RegExp): boolean =>
  typeof expected === "string" ? problem.startsWith(expected) : expected.test(problem);
type Table = Record<string, unknown> & { pseudonymise?: unknown[] };
/** Changes table `index` of the first transactional source. */
const withTable = (raw: Record<string, string>, index: number, f: (t: Table) => void) =>
  mutate(raw, "sources", (s) => {
    const copy = structuredClone(s) as { transactional: { tables: Table[] }[] };
    f(copy.transactional[0]!.tables[index]!);
    return copy;
  });
const addPseudonym = (t: Table, p: { column: string; as: string }) => (t.pseudonymise = [...(t.pseudonymise ?? []), p]);

describe("stack config validation", () => {
  it("accepts the dev and prod stack files", () => {
    for (const stack of ["dev", "prod"]) {
      const { config, stackFile } = readStackConfig(stack);
      const parsed: LakehouseConfig = parseStackConfig(config, stackFile);
      expect(parsed.environment).to.equal(stack);
    }
  });

  it("dev is one small br cell, unprotected; prod is br + eu at 100M transactions/day, protected", () => {
    const dev = parseStackConfig(readStackConfig("dev").config, "Pulumi.dev.yaml");
    const prod = parseStackConfig(readStackConfig("prod").config, "Pulumi.prod.yaml");
    expect(dev.cells.map((c) => c.jurisdiction)).to.deep.equal(["br"]);
    expect(dev.protect).to.equal(false);
    expect(prod.cells.map((c) => c.jurisdiction)).to.deep.equal(["br", "eu"]);
    expect(prod.scale.transactionsPerDay).to.equal(100_000_000);
    expect(prod.protect).to.equal(true);
  });

  const cases: {
    name: string;
    change: (raw: Record<string, string>) => Record<string, string>;
    expected: string | RegExp;
  }[] = [
    {
      name: "a misspelled top-level key, with a suggestion",
      change: (raw) => ({ ...raw, "lakehouse:retension": raw["lakehouse:retention"] }),
      expected: "lakehouse:retension: unknown key (did you mean 'lakehouse:retention'?)",
    },
    {
      name: "an unknown nested key",
      change: (raw) =>
        mutate(
          raw,
          "cells",
          firstCell((c) => (c.aws.regoin = "sa-east-1")),
        ),
      expected: "lakehouse:cells[0].aws.regoin: unknown key",
    },
    {
      name: "a region outside the cell's jurisdiction",
      change: (raw) =>
        mutate(
          raw,
          "cells",
          firstCell((c) => (c.aws.region = "us-east-1")),
        ),
      expected: "lakehouse:cells[0].aws.region: 'us-east-1' is outside jurisdiction 'br' (LGPD); allowed: sa-east-1",
    },
    {
      name: "a GCP region outside the jurisdiction",
      change: (raw) =>
        mutate(
          raw,
          "cells",
          firstCell((c) => (c.gcp.region = "southamerica-west1")),
        ),
      expected:
        "lakehouse:cells[0].gcp.region: 'southamerica-west1' is outside jurisdiction 'br' (LGPD); allowed: southamerica-east1",
    },
    {
      name: "a missing GCP project",
      change: (raw) =>
        mutate(
          raw,
          "cells",
          firstCell((c) => delete c.gcp.project),
        ),
      expected: "lakehouse:cells[0].gcp.project: is required",
    },
    {
      name: "a zero retention",
      change: (raw) => mutate(raw, "retention", (r) => ({ ...(r as object), raw: 0 })),
      expected: "lakehouse:retention.raw: must be greater than 0",
    },
    {
      name: "a negative retention",
      change: (raw) => mutate(raw, "retention", (r) => ({ ...(r as object), marts: -5 })),
      expected: "lakehouse:retention.marts: must be greater than 0",
    },
    {
      name: "an unknown source engine",
      change: (raw) =>
        mutate(raw, "sources", (s) => {
          const copy = structuredClone(s) as { transactional: Record<string, unknown>[] };
          copy.transactional[0].engine = "postgres";
          return copy;
        }),
      expected: 'lakehouse:sources.transactional[0].engine: must be one of "oracle", "mysql", "sqlserver"',
    },
    {
      name: "Omni federation for a region with no Omni region (br)",
      change: (raw) =>
        mutate(
          raw,
          "cells",
          firstCell((c) => (c.federation = "omni")),
        ),
      expected:
        "lakehouse:cells[0].federation: 'omni' needs a BigQuery Omni region for AWS 'sa-east-1', and there is none",
    },
    {
      name: "duplicate cell names",
      change: (raw) => mutate(raw, "cells", (cells) => [...(cells as Cell[]), ...(cells as Cell[])]),
      expected: "lakehouse:cells[1].name: duplicate cell name 'br' (also cells[0])",
    },
    {
      name: "a retention above the legal ceiling",
      change: (raw) => mutate(raw, "retention", (r) => ({ ...(r as object), clickstream: 800 })),
      expected: "lakehouse:retention.clickstream: 800 days exceeds the LGPD ceiling of 395 days for 'clickstream' data",
    },
    {
      name: "audit logs kept less than the legal minimum",
      change: (raw) => mutate(raw, "retention", (r) => ({ ...(r as object), audit: 90 })),
      expected: "lakehouse:retention.audit: 90 days is below the LGPD minimum of 183 days for audit logs",
    },
    {
      name: "an erasure SLA above the law's limit",
      change: (raw) => ({ ...raw, "lakehouse:erasureSlaDays": "40" }),
      expected: "lakehouse:erasureSlaDays: 40 days exceeds the LGPD limit of 15 days",
    },
    {
      name: "a time travel window BigQuery does not allow",
      change: (raw) => ({ ...raw, "lakehouse:bigqueryTimeTravelHours": "50" }),
      expected: "lakehouse:bigqueryTimeTravelHours: 50 is not allowed by BigQuery (48 to 168, a multiple of 24)",
    },
    {
      name: "a source in a cell that does not exist",
      change: (raw) =>
        mutate(raw, "sources", (s) => {
          const copy = structuredClone(s) as { transactional: Record<string, unknown>[] };
          copy.transactional[0].cell = "us";
          return copy;
        }),
      expected: "lakehouse:sources.transactional[0].cell: 'us' is not a configured cell (cells: br)",
    },
    {
      name: "an orders table without the customer pseudonym the marts join on",
      change: (raw) => withTable(raw, 0, (t) => delete t.pseudonymise),
      expected:
        "lakehouse:sources.transactional[0].tables[0].pseudonymise: the orders table feeds the marts, which join on customer_pseudo_id",
    },
    {
      name: "a pseudonym named like a column of the table",
      change: (raw) => withTable(raw, 1, (t) => addPseudonym(t, { column: "email", as: "country" })),
      expected:
        /^lakehouse:sources\.transactional\[0\]\.tables\[1\]\.pseudonymise\[\d\]\.as: 'country' is already a column of the table/,
    },
    {
      name: "a pseudonym of a column the table does not declare",
      change: (raw) => withTable(raw, 1, (t) => addPseudonym(t, { column: "nickname", as: "nickname_pseudo_id" })),
      expected:
        /^lakehouse:sources\.transactional\[0\]\.tables\[1\]\.pseudonymise\[\d\]\.column: 'nickname' is neither in columns nor in piiColumns/,
    },
    {
      name: "a pseudonym of a column whose text differs between engines",
      change: (raw) => withTable(raw, 1, (t) => addPseudonym(t, { column: "created_at", as: "created_pseudo" })),
      expected:
        /^lakehouse:sources\.transactional\[0\]\.tables\[1\]\.pseudonymise\[\d\]\.column: 'created_at' is timestamptz/,
    },
  ];

  for (const c of cases) {
    it(`rejects ${c.name}`, () => {
      const problems = problemsOf(c.change(devRaw()));
      expect(
        problems.some((p) => matches(p, c.expected)),
        `got:\n${problems.join("\n")}`,
      ).to.equal(true);
    });
  }

  it("reports every problem together, naming the stack file, in one error", () => {
    // Every case at once, except the AWS-region one: moving br to us-east-1 would make Omni legal.
    const together = cases.filter((c) => c.name !== "a region outside the cell's jurisdiction");
    let raw = devRaw();
    for (const c of together) raw = c.change(raw);
    let error: StackConfigError | undefined;
    try {
      parseStackConfig(raw, "Pulumi.dev.yaml");
    } catch (e) {
      error = e as StackConfigError;
    }
    expect(error).to.be.instanceOf(StackConfigError);
    expect(error!.message).to.match(/^Invalid stack config in Pulumi\.dev\.yaml \(\d+ problems\):/);
    for (const c of together) {
      expect(
        error!.problems.some((p) => matches(p, c.expected)),
        c.name,
      ).to.equal(true);
    }
  });

  it("a cell name that makes an S3 bucket name longer than 63 characters is refused, with the length that fits", () => {
    // lakehouse-staging-<cell>-federation-exports-<12 digits>: 50 characters besides the cell name.
    const long = (name: string) =>
      problemsOf({
        ...mutate(
          devRaw(),
          "cells",
          firstCell((c) => (c.name = name)),
        ),
        "lakehouse:environment": "staging",
      }).filter((p) => p.startsWith("lakehouse:cells[0].name"));
    expect(long("abcdefghijklmnopqrst")).to.deep.equal([
      "lakehouse:cells[0].name: 'abcdefghijklmnopqrst' makes the S3 bucket name " +
        "'lakehouse-staging-abcdefghijklmnopqrst-federation-exports-111111111111' 70 characters long with environment " +
        "'staging'; S3 allows 63 (use a cell name of at most 13 characters)",
    ]);
    expect(long("abcdefghijklm")).to.deep.equal([]);
  });

  it("a region is accepted exactly when it belongs to the cell's jurisdiction (property)", () => {
    const allAws = [...new Set(Object.values(JURISDICTIONS).flatMap((j) => j.awsRegions)), "us-east-1", "ap-south-1"];
    fc.assert(
      fc.property(fc.constantFrom(...allAws), (region) => {
        const raw = mutate(
          devRaw(),
          "cells",
          firstCell((c) => (c.aws.region = region)),
        );
        const ok = JURISDICTIONS.br.awsRegions.includes(region);
        try {
          parseStackConfig(raw, "Pulumi.dev.yaml");
          return ok;
        } catch (e) {
          return !ok && (e as StackConfigError).problems.some((p) => p.includes(`'${region}' is outside`));
        }
      }),
    );
  });
});
