import { expect } from "chai";
import * as fs from "node:fs";
import { lakehouseSchema } from "../../components/config/schema";
import { CONFIG_REFERENCE_FILE, renderConfigReference, TOP_LEVEL_DOCS } from "../../tools/config-reference";

describe("config reference", () => {
  it("documents exactly the schema's top-level keys", () => {
    expect(Object.keys(TOP_LEVEL_DOCS).sort()).to.deep.equal(Object.keys(lakehouseSchema.shape).sort());
  });

  it("docs/config-reference.md is generated from the current schema (npm run config:reference)", () => {
    expect(fs.readFileSync(CONFIG_REFERENCE_FILE, "utf8")).to.equal(renderConfigReference());
  });
});
