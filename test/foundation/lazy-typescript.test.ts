/**
 * The plan worker's stand-in for TypeScript (tools/lazy-typescript.ts): importing `@pulumi/pulumi`
 * no longer loads the compiler, and a program that does use it (closure serialization) gets the real one.
 */
import { spawnSync } from "node:child_process";
import { expect } from "chai";
import { PROJECT_ROOT } from "../../components/project-root";
import { TSX_NODE_ARGS } from "../../tools/tsx-loader";

/** Runs `code` in a fresh Node process with tsx, as the plan worker runs; returns its stdout lines. */
function run(code: string, withTsx = true): string[] {
  const r = spawnSync(process.execPath, [...(withTsx ? TSX_NODE_ARGS : []), "-e", code], {
    cwd: PROJECT_ROOT,
    encoding: "utf8",
  });
  expect(r.status, r.stderr).to.equal(0);
  return r.stdout.trim().split("\n");
}

describe("plan worker: TypeScript loads only when used", function () {
  this.timeout(60_000);

  it("TypeScript's exports have neither key the stand-in answers without it", () => {
    expect(
      run(
        `const t = require("typescript"); console.log(JSON.stringify([t.__esModule, Object.getOwnPropertyDescriptor(t, "module.exports")]));`,
        false,
      ),
    ).to.deep.equal(["[null,null]"]);
  });

  it("importing @pulumi/pulumi after the stand-in does not load the compiler; using it does", () => {
    const out = run(`
      const { typescriptLoaded } = require("./tools/lazy-typescript.ts");
      require("@pulumi/pulumi");
      console.log(typescriptLoaded());
      const ts = require("@pulumi/pulumi/typescript-shim");
      console.log(ts.version === require("typescript/package.json").version, typescriptLoaded());
      const f = ts.createSourceFile("x.ts", "const a = 1;", ts.ScriptTarget.Latest);
      console.log(f.statements.length, Object.keys(ts).includes("createSourceFile"));
    `);
    expect(out).to.deep.equal(["false", "true true", "1 true"]);
  });
});
