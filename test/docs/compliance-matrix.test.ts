/**
 * The compliance matrix is the pack's own metadata rendered (articles → controls); a rule's text that
 * changes without `npm run compliance:matrix` leaves the published matrix describing another pack.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { renderMatrix } from "../../tools/compliance-matrix";
import { PROJECT_ROOT } from "../../components/project-root";

describe("compliance matrix", () => {
  it("docs/compliance-matrix.md is generated from the current pack (npm run compliance:matrix)", () => {
    const file = path.join(PROJECT_ROOT, "docs", "compliance-matrix.md");
    expect(fs.readFileSync(file, "utf8")).to.equal(renderMatrix());
  });
});
