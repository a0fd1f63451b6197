/**
 * Two guards of issue 12 for the federation layer:
 * - every scheduled Athena query (marts refresh and expiry, in-country export) goes through the one shared
 *   schedule shape, runs as a role that may start queries only in that schedule's own workgroup, and waits
 *   for that role's policy;
 * - readable sizes: no constructor in components/federation/ runs over 120 lines, and every field of an
 *   args interface there has a doc comment (with `@default` when it is optional).
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { ofType, planOf, waitsFor } from "../helpers/plan";

const DIR = path.join(__dirname, "../../components/federation");
const sources = fs
  .readdirSync(DIR)
  .filter((f) => f.endsWith(".ts"))
  .map((f) => ({ file: f, lines: fs.readFileSync(path.join(DIR, f), "utf8").split("\n") }));

interface PolicyStatement {
  Sid: string;
  Action: string | string[];
  Resource: string | string[];
}

describe("federation: scheduled Athena queries", function () {
  this.timeout(300_000);

  it("prod: every one runs as a role limited to its own workgroup, once that role's policy exists", async () => {
    const plan = await planOf("prod");
    const schedules = ofType(plan, "aws:scheduler/schedule:Schedule").filter(
      (s) => (s.inputs.target as { arn: string }).arn === "arn:aws:scheduler:::aws-sdk:athena:startQueryExecution",
    );
    // br: marts refresh + expire + export; eu: marts refresh + expire; each API source's MERGE into Iceberg.
    expect(schedules.map((s) => s.name).sort()).to.deep.equal([
      "br-federation-aws-marts-expire",
      "br-federation-aws-marts-refresh",
      "br-federation-in-country-export-schedule",
      "br-sources-payments-br-merge-schedule",
      "eu-federation-aws-marts-expire",
      "eu-federation-aws-marts-refresh",
      "eu-sources-payments-eu-merge-schedule",
    ]);
    for (const s of schedules) {
      const target = s.inputs.target as { roleArn: string; input: string; retryPolicy: unknown };
      const input = JSON.parse(target.input) as { WorkGroup: string; QueryExecutionContext: { Catalog: string } };
      expect(input.QueryExecutionContext.Catalog, s.name).to.equal("AwsDataCatalog");
      expect(s.inputs.flexibleTimeWindow, s.name).to.deep.equal({ mode: "OFF" });
      expect(s.inputs.scheduleExpressionTimezone, s.name).to.equal("UTC");
      expect(s.inputs.kmsKeyArn, s.name)
        .to.be.a("string")
        .and.match(/^arn:aws:kms:/);

      const role = ofType(plan, "aws:iam/role:Role").find((r) => r.outputs.arn === target.roleArn);
      expect(role, `${s.name}: its role`).to.not.equal(undefined);
      const policies = ofType(plan, "aws:iam/rolePolicy:RolePolicy").filter(
        (p) => p.inputs.role === role!.outputs.name || p.inputs.role === role!.id,
      );
      expect(policies, `${s.name}: one inline policy`).to.have.length(1);
      const statements = (JSON.parse(policies[0].inputs.policy as string) as { Statement: PolicyStatement[] })
        .Statement;
      const athena = statements.filter((st) => [st.Action].flat().some((a) => a.startsWith("athena:")));
      expect(athena, `${s.name}: one Athena statement`).to.have.length(1);
      expect(athena[0].Action).to.deep.equal([
        "athena:StartQueryExecution",
        "athena:GetQueryExecution",
        "athena:GetWorkGroup",
      ]);
      expect(athena[0].Resource, s.name).to.match(new RegExp(`:workgroup/${input.WorkGroup}$`));
      expect(waitsFor(plan, s).has(policies[0].urn), `${s.name} waits for ${policies[0].name}`).to.equal(true);
    }
  });
});

describe("federation: readable sizes", () => {
  it("no constructor runs over 120 lines", () => {
    const long: string[] = [];
    for (const { file, lines } of sources) {
      const start = lines.findIndex((l) => /^ {2}constructor\(/.test(l));
      if (start < 0) continue;
      const end = lines.findIndex((l, i) => i > start && l === "  }");
      if (end - start + 1 > 120) long.push(`${file}: ${end - start + 1} lines`);
    }
    expect(long).to.deep.equal([]);
  });

  it("every args field has a doc comment, with @default when optional", () => {
    const missing: string[] = [];
    for (const { file, lines } of sources) {
      let inArgs: string | undefined;
      lines.forEach((line, i) => {
        const open = /^export interface (\w+Args)\b/.exec(line);
        if (open) inArgs = open[1];
        else if (inArgs && line === "}") inArgs = undefined;
        const field = inArgs && /^ {2}readonly (\w+)(\??):/.exec(line);
        if (!field) return;
        // The comment ends on the line above: `/** ... */` or the closing ` */` of a block.
        let j = i - 1;
        if (!/\*\/\s*$/.test(lines[j])) {
          missing.push(`${file} ${inArgs}.${field[1]}: no doc comment`);
          return;
        }
        while (j > 0 && !/^\s*\/\*\*/.test(lines[j])) j--;
        const doc = lines.slice(j, i).join("\n");
        if (field[2] === "?" && !doc.includes("@default")) missing.push(`${file} ${inArgs}.${field[1]}: no @default`);
      });
    }
    expect(missing).to.deep.equal([]);
  });
});
