import { expect } from "chai";
import { readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import { cmekKeyArgs, KEY_USER_ROLE } from "../../components/gcp/cmek-key";
import type { Plan } from "../../tools/plan/evaluate";
import { configOf, ofType, planOf } from "../helpers/plan";

const COMPONENTS = path.join(__dirname, "..", "..", "components");
const SHARED = path.join(COMPONENTS, "gcp", "cmek-key.ts");

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const p = path.join(dir, entry);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith(".ts") ? [p] : [];
  });
}

describe("Cloud KMS key defaults are defined once (components/gcp/cmek-key.ts)", () => {
  // The settings that made the cell key ring's keys and the service keys drift apart before: a second
  // copy of any of them fails here, whatever its value.
  for (const fact of [
    "destroyScheduledDuration",
    "GOOGLE_SYMMETRIC_ENCRYPTION",
    "rotationPeriod:",
    "ENCRYPT_DECRYPT",
  ]) {
    it(`only cmek-key.ts sets ${fact} on a Cloud KMS key`, () => {
      const elsewhere = sources(COMPONENTS)
        .filter((f) => f !== SHARED && !f.includes(`${path.sep}aws${path.sep}`))
        .filter((f) => readFileSync(f, "utf8").includes(fact));
      expect(elsewhere.map((f) => path.relative(COMPONENTS, f))).to.deep.equal([]);
    });
  }
});

for (const stack of ["dev", "prod"]) {
  const config = configOf(stack);
  describe(`every Cloud KMS key of the plan follows the shared definition (${stack})`, () => {
    let plan: Plan;
    before(async () => {
      plan = await planOf(stack);
    });

    it("creates each key (cell key ring and service keys alike) with exactly the shared settings", () => {
      const keys = ofType(plan, "gcp:kms/cryptoKey:CryptoKey");
      // Six per cell from the key ring, plus the collector's, the notebooks' disk key, the rights worker's and
      // the notebooks' PyPI mirror's (`artifacts`).
      expect(keys.length).to.equal(config.cells.length * 10);
      for (const k of keys) {
        const expected = cmekKeyArgs({
          name: String(k.inputs.name),
          keyRing: String(k.inputs.keyRing),
          protect: config.protect,
        });
        for (const [field, value] of Object.entries(expected)) {
          expect(k.inputs[field], `${k.name}.${field}`).to.deep.equal(value);
        }
      }
    });

    it("grants keys to service agents with the one CMEK role", () => {
      const grants = ofType(plan, "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember");
      expect(grants).to.not.be.empty;
      for (const g of grants) expect(g.inputs.role, g.name).to.equal(KEY_USER_ROLE);
    });
  });
}
