/**
 * The registry of personal data (issue 14, item 2) against the plan itself: every table the plan creates
 * that holds data about a person is registered with the columns carrying the subject's key, or is listed
 * below with the reason it is not; every registered entry is a table or a prefix the plan really has.
 *
 * The registry is read where it takes effect: the environment the program gives the subject-rights
 * workers (the AWS worker Lambda's `REGISTRY_DEFLATED`, the GCP worker's `REGISTRY_JSON`). Reading the catalog
 * object itself is not possible: the plan evaluates the program in a child process (tools/plan/worker.ts)
 * and returns only what the engine saw; and testing what the workers receive is what matters anyway.
 *
 * "Holds personal data" is derived from the plan, not from the registry: a column named `*_pseudo_id`, a
 * BigQuery column under the `pseudonymous-id` policy tag, a column the stack config names as a person's
 * identifier (`pseudonymise[].column`, `piiColumns`, CSV `pii` columns), or undeclared JSON content
 * (schemaless payloads and landed records, which may carry anything a source sends).
 */
import { expect } from "chai";
import type { PersonalDataRegistry } from "../../functions/subject-rights/registry";
import type { Plan } from "../../tools/plan/evaluate";
import { planOf } from "../helpers/plan";
import {
  expiresWithin,
  NOT_A_PERSON_KEY,
  NOT_REGISTERED,
  personalBecause,
  personIdentifiers,
  planTables,
  registriesOf,
  TEXT_MATCHED,
  type PlanTable,
} from "./registry-rules";

const usedExemptions = new Set<RegExp>();

for (const stack of ["dev", "prod"]) {
  describe(`personal-data registry (${stack} plan)`, function () {
    this.timeout(300_000);
    let plan: Plan;
    let registries: Map<string, PersonalDataRegistry>;
    let tables: PlanTable[];
    before(async () => {
      plan = await planOf(stack);
      registries = registriesOf(plan);
      tables = planTables(plan);
    });

    it("gives every cell's workers the registry, with tables on both clouds and the raw prefixes", () => {
      const cells = plan.outputs.cellNames as string[];
      expect([...registries.keys()].sort()).to.deep.equal([...cells].sort());
      for (const [cell, r] of registries) {
        expect(
          r.tables.some((t) => t.cloud === "aws"),
          `${cell}: AWS tables`,
        ).to.equal(true);
        expect(
          r.tables.some((t) => t.cloud === "gcp"),
          `${cell}: GCP tables`,
        ).to.equal(true);
        expect(
          r.prefixes.some((p) => p.dataClass === "raw"),
          `${cell}: raw prefixes`,
        ).to.equal(true);
      }
    });

    it("registers every table of the plan that holds personal data, or says why not", () => {
      const identifiers = personIdentifiers(plan);
      expect([...identifiers], "the config names person identifiers").to.include("customer_id");
      const missing: string[] = [];
      for (const t of tables) {
        const because = personalBecause(t, identifiers);
        if (because === undefined) continue;
        const registry = registries.get(t.cell ?? "");
        const entry = registry?.tables.find(
          (e) => e.cloud === t.cloud && e.dataset === t.dataset && e.table === t.table,
        );
        if (entry) continue;
        // A Glue table over files is reached through its prefix, which the registry must cover.
        const under = t.location?.replace(/^s3:\/\//, "");
        if (under && registry?.prefixes.some((p) => p.cloud === "aws" && under.startsWith(`${p.bucket}/${p.prefix}`)))
          continue;
        const exemption = NOT_REGISTERED.find(
          (x) => x.table.test(t.table) && (x.column === undefined || t.columns.some((c) => c.name === x.column)),
        );
        if (exemption) {
          usedExemptions.add(exemption.table);
          continue;
        }
        missing.push(`${t.cloud}:${t.dataset}.${t.table} (${because})`);
      }
      expect(missing, "personal tables neither registered nor listed in NOT_REGISTERED").to.deep.equal([]);
    });

    it("registers only tables the plan has, with subject columns they have", () => {
      const problems: string[] = [];
      for (const [cell, r] of registries) {
        for (const e of r.tables) {
          const t = tables.find((x) => x.cloud === e.cloud && x.dataset === e.dataset && x.table === e.table);
          if (!t) {
            problems.push(`${cell}: ${e.cloud}:${e.dataset}.${e.table} is not a table of the plan`);
            continue;
          }
          if (t.cell !== cell) problems.push(`${cell}: ${e.table} belongs to cell ${t.cell}`);
          const names = new Set(t.columns.map((c) => c.name));
          for (const c of e.subjectColumns) if (!names.has(c)) problems.push(`${cell}: ${e.table} has no column ${c}`);
          for (const c of e.textColumns ?? [])
            if (!names.has(c)) problems.push(`${cell}: ${e.table} has no text column ${c}`);
          // Every person pseudonym of the table is matched, or a subject's rows keyed by it would survive.
          for (const c of names)
            if (/_pseudo_id$/.test(c) && !NOT_A_PERSON_KEY.has(c) && !e.subjectColumns.includes(c))
              problems.push(`${cell}: ${e.table} does not match on its pseudonym column ${c}`);
        }
      }
      expect(problems).to.deep.equal([]);
    });

    it("registers the tables whose subject is only inside text with those columns as text columns", () => {
      const problems: string[] = [];
      const found = new Map<string, number>();
      for (const t of tables) {
        for (const rule of TEXT_MATCHED) {
          if (!rule.table.test(t.table) || !t.columns.some((c) => c.name === rule.column)) continue;
          // A Glue table over files (landed API records) is reached through its prefix, not by SQL.
          if (t.location !== undefined) continue;
          found.set(rule.what, (found.get(rule.what) ?? 0) + 1);
          const entry = registries
            .get(t.cell ?? "")
            ?.tables.find((e) => e.cloud === t.cloud && e.dataset === t.dataset && e.table === t.table);
          if (!entry?.textColumns?.includes(rule.column))
            problems.push(`${t.cloud}:${t.dataset}.${t.table} (${rule.what}) is not matched on ${rule.column} as text`);
        }
      }
      expect(problems).to.deep.equal([]);
      // Both kinds are in both plans (dev: partner-events' partner-clicks; prod: web-events-br's landing
      // topics; a dead-letter table per cell), so the test cannot pass by finding none.
      expect([...found.keys()].sort()).to.deep.equal(TEXT_MATCHED.map((r) => r.what).sort());
      expect(found.get(TEXT_MATCHED[1].what), "a dead-letter table per cell").to.equal(registries.size);
    });

    it("registers only prefixes of buckets the plan has, expired there within the days it states", () => {
      const problems: string[] = [];
      for (const [cell, r] of registries) {
        for (const p of r.prefixes) {
          if (!expiresWithin(plan, p.cloud, p.bucket, p.prefix, p.expiresAfterDays))
            problems.push(
              `${cell}: ${p.cloud}:${p.bucket}/${p.prefix} is not expired within ${p.expiresAfterDays} days`,
            );
        }
      }
      expect(problems).to.deep.equal([]);
    });
  });
}

describe("personal-data registry exemptions", () => {
  it("lists no exemption that no table of the dev or prod plan needs (run with both stacks)", function () {
    // Meaningful only after both stacks' suites ran in this process (mocha runs files' suites in order).
    if (usedExemptions.size === 0) this.skip();
    // The suppression table's column is `pseudonym`, which no rule flags: its entry documents the exemption.
    const stale = NOT_REGISTERED.filter(
      (x) => !usedExemptions.has(x.table) && x.table.source !== "^subject_suppression$",
    ).map((x) => x.table.source);
    expect(stale).to.deep.equal([]);
  });
});
