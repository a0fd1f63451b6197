import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { rootCertificates } from "node:tls";
import { parse } from "yaml";
import { isPlaceholder, placeholderKeys, secretPlaceholder } from "../../components/config/placeholders";
import { evaluateStack, PlanConfigError } from "../../tools/plan/evaluate";
import { PROJECT_ROOT } from "../../components/project-root";
import { readStackConfig } from "../../tools/plan/stack-config";
import { planOf } from "../helpers/plan";

/**
 * Issue 11, item 16: the stack files ship placeholder secrets and CA certificates. A preview may evaluate
 * them; a real update (`pulumi.runtime.isDryRun()` false, the plan's `preview: false`) refuses them before
 * any resource is declared, naming every key.
 */

/** Every string leaf of a YAML document under a key named `name`, with its path. */
function leavesNamed(doc: unknown, names: readonly string[]): { at: string; value: unknown }[] {
  const out: { at: string; value: unknown }[] = [];
  const walk = (v: unknown, at: string, key: string): void => {
    if (names.includes(key)) out.push({ at, value: v });
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${at}[${i}]`, ""));
    else if (typeof v === "object" && v !== null) for (const [k, x] of Object.entries(v)) walk(x, `${at}.${k}`, k);
  };
  walk(doc, "", "");
  return out;
}

/** The dev stack's credentials, in the stack file's order: one per source that needs one. */
const DEV_CREDENTIALS = ["partner-kafka", "orders", "sessions", "catalog-search", "payments"];
const DEV_PLACEHOLDERS = [
  "lakehouse:sources.transactional[0].caCertificatePem",
  ...DEV_CREDENTIALS.map((c) => `lakehouse:sourceCredentials.${c}.password`),
  "lakehouse:collectorWriteKeys",
];

describe("placeholders are refused by a real update (issue 11, item 16)", function () {
  this.timeout(180_000);

  describe("what a placeholder is", () => {
    it("the committed stack files' placeholders: secrets, CA PEMs and Oracle wallets", () => {
      for (const stack of ["dev", "prod"]) {
        const doc = parse(fs.readFileSync(path.join(PROJECT_ROOT, `Pulumi.${stack}.yaml`), "utf8")) as unknown;
        const shipped = leavesNamed(doc, ["secure", "caCertificatePem", "caCertificateWallet"]);
        expect(shipped.length, stack).to.be.greaterThan(2);
        for (const { at, value } of shipped) {
          expect(typeof value === "string" && isPlaceholder(value), `${stack} ${at}`).to.equal(true);
        }
      }
      // The offline plan's stand-in for a `secure:` value it cannot decrypt is one too.
      expect(isPlaceholder(secretPlaceholder("lakehouse:collectorWriteKeys"))).to.equal(true);
    });

    it("real values are not: every CA certificate Node.js trusts, a binary wallet, ordinary secrets", () => {
      expect(rootCertificates.length).to.be.greaterThan(50);
      for (const pem of rootCertificates) expect(isPlaceholder(pem), pem.slice(0, 120)).to.equal(false);
      const wallet = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7919) % 256)).toString("base64");
      expect(isPlaceholder(wallet)).to.equal(false);
      for (const v of ["s3cr3t-Pa55word", "wk_live_0123456789abcdef", "replace", "with"]) {
        expect(isPlaceholder(v), v).to.equal(false);
      }
      expect(isPlaceholder("REPLACE-WITH-yours")).to.equal(true);
    });

    it("names every placeholder key of a stack, in config order", () => {
      expect(placeholderKeys(readStackConfig("dev").config)).to.deep.equal(DEV_PLACEHOLDERS);
    });
  });

  describe("the offline plan", () => {
    it("as a real update (preview: false) fails before any resource, listing every placeholder key", async () => {
      const err = await evaluateStack({ stack: "dev", preview: false }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(PlanConfigError);
      const { problems, message } = err as PlanConfigError;
      expect(problems.map((p) => p.slice(0, p.indexOf(":", "lakehouse:".length)))).to.deep.equal(DEV_PLACEHOLDERS);
      expect(message).to.include("Pulumi.dev.yaml").and.include("no resource was declared");
      expect(problems[DEV_PLACEHOLDERS.indexOf("lakehouse:sourceCredentials.orders.password")]).to.include(
        "pulumi config set --secret --path 'lakehouse:sourceCredentials.orders.password'",
      );
      expect(problems[0]).to.include("placeholder").and.include("pulumi up");
    });

    it("prod as a real update lists its PEMs, wallets, passwords and write keys", async () => {
      const err = await evaluateStack({ stack: "prod", preview: false }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(PlanConfigError);
      const keys = (err as PlanConfigError).problems.map((p) => p.slice(0, p.indexOf(":", "lakehouse:".length)));
      expect(keys).to.deep.equal(placeholderKeys(readStackConfig("prod").config));
      expect(keys.filter((k) => k.endsWith(".caCertificateWallet"))).to.have.length(2);
      expect(keys.filter((k) => k.endsWith(".caCertificatePem")).length).to.be.greaterThan(0);
      expect(keys.filter((k) => k.startsWith("lakehouse:sourceCredentials."))).to.have.length(10);
      expect(keys).to.include("lakehouse:collectorWriteKeys");
    });

    it("as a preview it evaluates the same placeholders", async () => {
      // The repository plan is a preview (evaluateStack's default) of the stack file as committed.
      const plan = await planOf("dev");
      expect(plan.resources.length).to.be.greaterThan(100);
    });

    it("as a real update with real values it evaluates", async () => {
      const sources = JSON.parse(readStackConfig("dev").config["lakehouse:sources"]) as {
        transactional: { caCertificatePem?: string }[];
      };
      sources.transactional[0].caCertificatePem = rootCertificates[0];
      const plan = await evaluateStack({
        stack: "dev",
        preview: false,
        configOverrides: {
          "lakehouse:sources": sources,
          "lakehouse:sourceCredentials": Object.fromEntries(
            DEV_CREDENTIALS.map((c, i) => [c, { username: "lake_reader", password: `s3cr3t-Pa55word-000${i}` }]),
          ),
          "lakehouse:collectorWriteKeys": "wk_live_0123456789abcdef",
        },
      });
      expect(plan.resources.some((r) => r.type === "aws:dms/endpoint:Endpoint")).to.equal(true);
    });
  });
});
