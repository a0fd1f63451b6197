/**
 * The per-cell spec derived from validated config (components/config/spec.ts): what each cell of the dev and
 * prod stacks is to declare, decided before any resource, and the problems of a config that skipped
 * validation reported all at once.
 */
import { expect } from "chai";
import {
  cellRetention,
  deriveCellSpecs,
  deriveSizing,
  JURISDICTIONS,
  parseStackConfig,
  StackConfigError,
  type CellSpec,
  type LakehouseConfig,
} from "../../components/config";
import { readStackConfig } from "../../tools/plan/stack-config";

const configOf = (stack: string): LakehouseConfig => {
  const { config, stackFile } = readStackConfig(stack);
  return parseStackConfig(config, stackFile);
};

/** The spec's fields every cell derives the same way from its config; checked for each stack's cells. */
function expectDerived(config: LakehouseConfig, spec: CellSpec, index: number): void {
  const cell = config.cells[index];
  const sources = config.sources.transactional.filter((s) => s.cell === cell.name);
  expect(spec.name).to.equal(cell.name);
  expect(spec.cell).to.equal(cell);
  expect(spec.jurisdiction).to.equal(JURISDICTIONS[cell.jurisdiction]);
  expect(spec.names).to.deep.equal({
    stack: `lakehouse-${config.environment}`,
    cell: `lakehouse-${config.environment}-${cell.name}`,
    deploySession: `lakehouse-${config.environment}-${cell.name}`,
  });
  expect(spec.tags).to.deep.equal({
    cell: cell.name,
    jurisdiction: cell.jurisdiction,
    environment: config.environment,
    "managed-by": "pulumi",
  });
  expect(spec.sizing).to.deep.equal(deriveSizing(config.scale, sources.length));
  expect(spec.retention).to.deep.equal(cellRetention(config, cell.name));
  expect(spec.erasure).to.deep.equal({
    slaDays: config.erasureSlaDays,
    timeTravelHours: config.bigqueryTimeTravelHours,
  });
  expect(spec.transactionalSources).to.deep.equal(sources);
  expect(spec.protect).to.equal(config.protect);
  for (const arn of spec.lakeAdmins) expect(arn).to.match(new RegExp(`^arn:aws:iam::${cell.aws.accountId}:`));
}

describe("deriveCellSpecs: validated config to one spec per cell", () => {
  it("dev: one br cell, in-country copy, one DMS source sized alone, single-AZ, unprotected", () => {
    const config = configOf("dev");
    const specs = deriveCellSpecs(config, "Pulumi.dev.yaml");
    expect(specs.map((s) => s.name)).to.deep.equal(["br"]);
    const [br] = specs;
    expectDerived(config, br, 0);
    expect(br.federation).to.deep.equal({ mode: "in-country-copy" });
    expect(br.extraAllowedLocations).to.deep.equal([]);
    expect(br.transactionalSources.map((s) => s.name)).to.deep.equal(["orders"]);
    expect(br.sizing.dmsCapacity).to.deep.equal(deriveSizing(config.scale, 1).dmsCapacity);
    expect(br.multiAz).to.equal(false);
    expect(br.protect).to.equal(false);
    expect(br.lakeAdmins).to.deep.equal(["arn:aws:iam::111111111111:role/PlatformEngineer"]);
    expect(br.jurisdiction.law).to.equal("LGPD");
  });

  it("prod: br by in-country copy, eu by BigQuery Omni in aws-eu-west-1; multi-AZ, protected", () => {
    const config = configOf("prod");
    const specs = deriveCellSpecs(config, "Pulumi.prod.yaml");
    expect(specs.map((s) => s.name)).to.deep.equal(["br", "eu"]);
    specs.forEach((s, i) => expectDerived(config, s, i));
    const [br, eu] = specs;
    expect(br.federation).to.deep.equal({ mode: "in-country-copy" });
    expect(eu.federation).to.deep.equal({ mode: "omni", location: "aws-eu-west-1" });
    // The Glue-federated Omni dataset lives in the Omni location, which the eu org policy must allow.
    expect(br.extraAllowedLocations).to.deep.equal([]);
    expect(eu.extraAllowedLocations).to.deep.equal(["aws-eu-west-1"]);
    // Each cell's platform engineer of its own account only: the other account cannot administer this catalog.
    expect(br.lakeAdmins).to.deep.equal(["arn:aws:iam::222222222222:role/PlatformEngineer"]);
    expect(eu.lakeAdmins).to.deep.equal(["arn:aws:iam::333333333333:role/PlatformEngineer"]);
    for (const s of specs) {
      expect(s.multiAz).to.equal(true);
      expect(s.protect).to.equal(true);
      expect(s.transactionalSources.map((t) => t.name)).to.deep.equal([
        `orders-${s.name}`,
        `customers-${s.name}`,
        `inventory-${s.name}`,
      ]);
      // 100M transactions a day over three sources per cell: the DMS capacity of a third of the volume each.
      expect(s.sizing.dmsCapacity).to.deep.equal(deriveSizing(config.scale, 3).dmsCapacity);
    }
    expect([br.jurisdiction.law, eu.jurisdiction.law]).to.deep.equal(["LGPD", "GDPR"]);
  });

  it("a cell's retention overrides reach only that cell's spec", () => {
    const config = configOf("prod");
    const cells = config.cells.map((c) => (c.name === "eu" ? { ...c, retention: { raw: 30 } } : c));
    const [br, eu] = deriveCellSpecs({ ...config, cells }, "Pulumi.prod.yaml");
    expect(br.retention).to.deep.equal(config.retention);
    expect(eu.retention).to.deep.equal({ ...config.retention, raw: 30 });
  });

  it("reports every problem of every cell at once, naming the stack file (a config that skipped validation)", () => {
    const config = configOf("prod");
    // br has no Omni region; and the SLA leaves no room for Iceberg snapshot retention in either cell.
    const cells = config.cells.map((c) => ({ ...c, federation: "omni" as const }));
    let error: unknown;
    try {
      deriveCellSpecs({ ...config, cells, erasureSlaDays: 2 }, "Pulumi.prod.yaml");
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(StackConfigError);
    const e = error as StackConfigError;
    expect(e.stackFile).to.equal("Pulumi.prod.yaml");
    expect(e.problems).to.have.length(2);
    expect(e.problems[0]).to.match(
      /^lakehouse:cells\[0\]\.federation: 'omni' needs a BigQuery Omni region for AWS 'sa-east-1'/,
    );
    expect(e.problems[1]).to.match(/^lakehouse:erasureSlaDays: 2 days leaves no room for Iceberg snapshot retention/);
  });

  it("validation reports every problem derivation finds, with the same text; a config it accepts always derives", () => {
    const { config: raw, stackFile } = readStackConfig("prod");
    const prod = configOf("prod");
    const problemsOf = (run: () => unknown): readonly string[] => {
      try {
        run();
      } catch (e) {
        expect(e).to.be.instanceOf(StackConfigError);
        return (e as StackConfigError).problems;
      }
      return [];
    };
    for (const sla of [1, 2, 3, 4, 15]) {
      for (const federation of ["omni", "in-country-copy"] as const) {
        const cells = prod.cells.map((c) => ({ ...c, federation }));
        const changed = { ...raw, "lakehouse:erasureSlaDays": String(sla), "lakehouse:cells": JSON.stringify(cells) };
        const validation = problemsOf(() => parseStackConfig(changed, stackFile));
        const derivation = problemsOf(() => deriveCellSpecs({ ...prod, cells, erasureSlaDays: sla }, stackFile));
        const what = `erasureSlaDays ${sla}, federation ${federation}`;
        expect(validation, what).to.include.members([...derivation]);
        // br has no Omni region; Iceberg snapshot retention needs 3 days.
        expect(derivation.length === 0, what).to.equal(sla >= 3 && federation === "in-country-copy");
      }
    }
  });
});
