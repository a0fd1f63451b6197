import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { renderPersonaTable } from "../../components/federation/persona-matrix";
import { PROJECT_ROOT } from "../../components/project-root";

const readme = fs.readFileSync(path.join(PROJECT_ROOT, "README.md"), "utf8");

describe("README", () => {
  it("shows the persona x zone table the components grant from", () => {
    const block = /<!-- persona-matrix:start -->\n([\s\S]*?)\n<!-- persona-matrix:end -->/.exec(readme);
    expect(block, "persona-matrix markers").to.not.equal(null);
    expect(block![1].trim()).to.equal(renderPersonaTable().trim());
  });

  it("quick start is the two commands CI runs", () => {
    expect(readme).to.contain("npm ci && npm start");
    expect(readme).to.contain("npm ci && npm test");
    const ci = fs.readFileSync(path.join(PROJECT_ROOT, ".ci", "run"), "utf8");
    expect(ci).to.contain("npm ci");
    expect(ci).to.contain("npm test");
  });

  it("links only files that exist", () => {
    const links = [...readme.matchAll(/\]\(([^)#]+)(#[^)]*)?\)/g)].map((m) => m[1]).filter((l) => !/^https?:/.test(l));
    const missing = links.filter((l) => !fs.existsSync(path.join(PROJECT_ROOT, l)));
    expect(missing).to.deep.equal([]);
  });
});
