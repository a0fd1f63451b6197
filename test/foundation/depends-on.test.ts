/**
 * `dependsOn` is written as resources, never as an Output. The SDK checks every Output's value for
 * unknowns by walking it (`containsUnknowns` in @pulumi/pulumi output.js), and an Output whose value holds
 * resources walks everything reachable from them: parents, providers, every output of each. Five such
 * options (and the merges the cell's API transformation made with them) cost about a fifth of a plan's
 * evaluation, in `pulumi preview` as in the tests (ADR 0016, decision 8). A resource still waits for an
 * Output's resources by listing them: `ProjectServices.enabled` instead of `ready`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import ts from "typescript";
import { PROJECT_ROOT } from "../../components/project-root";

function sourceFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))
    .map((f) => path.join(dir, f));
}

/** The SDK's functions that make an Output. */
const MAKES_OUTPUT = new Set(["output", "all", "apply", "secret", "unsecret", "interpolate", "concat"]);

/**
 * Whether `e` computes the option: it is a call itself (a helper returning an Output, say), or calls one
 * of the SDK's Output makers anywhere inside. Array elements that call something else name one resource.
 */
function computed(e: ts.Expression): boolean {
  if (ts.isParenthesizedExpression(e)) return computed(e.expression);
  if (ts.isCallExpression(e)) return true;
  let found = false;
  const visit = (n: ts.Node): void => {
    if (ts.isCallExpression(n)) {
      const callee = n.expression;
      const name = ts.isPropertyAccessExpression(callee)
        ? callee.name.text
        : ts.isIdentifier(callee)
          ? callee.text
          : "";
      if (MAKES_OUTPUT.has(name)) found = true;
    }
    if (ts.isTaggedTemplateExpression(n)) found = true;
    ts.forEachChild(n, visit);
  };
  visit(e);
  return found;
}

/** Every `dependsOn` option in `file` whose value is computed (a call: `pulumi.output(...).apply(...)`, `all`...). */
function computedDependsOn(file: string, text = fs.readFileSync(file, "utf8")): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (
      ts.isPropertyAssignment(node) &&
      (ts.isIdentifier(node.name) || ts.isStringLiteral(node.name)) &&
      node.name.text === "dependsOn" &&
      computed(node.initializer)
    ) {
      const { line } = source.getLineAndCharacterOfPosition(node.getStart());
      found.push(
        `${path.relative(PROJECT_ROOT, file)}:${line + 1}: dependsOn: ${node.initializer.getText().slice(0, 80)}`,
      );
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe("dependsOn: resources, not Outputs", () => {
  it("no component or the program computes a dependsOn (it would be walked as an Output)", () => {
    const files = [...sourceFiles(path.join(PROJECT_ROOT, "components")), path.join(PROJECT_ROOT, "index.ts")];
    expect(files.length).to.be.greaterThan(50);
    expect(files.flatMap((f) => computedDependsOn(f))).to.deep.equal([]);
  });

  it("the check finds the Output forms it forbids, and passes the plain ones", () => {
    const text = [
      "new A('a', {}, { dependsOn: pulumi.output(ready).apply(() => [x, y]) });",
      "new B('b', {}, { dependsOn: readyOf(services) });",
      "new C('c', {}, { dependsOn: [x, ...services.enabled, cond ? [y] : []] });",
      "new D('d', {}, { parent: this, dependsOn: grants });",
      "new E('e', {}, { dependsOn: [context.network(), ...(args.dependsOn ?? [])] });",
      "new F('f', {}, { dependsOn: [pulumi.all([a.id, b.id]).apply(() => a)] });",
    ].join("\n");
    const found = computedDependsOn(path.join(PROJECT_ROOT, "x.ts"), text);
    expect(found).to.deep.equal([
      "x.ts:1: dependsOn: pulumi.output(ready).apply(() => [x, y])",
      "x.ts:2: dependsOn: readyOf(services)",
      "x.ts:6: dependsOn: [pulumi.all([a.id, b.id]).apply(() => a)]",
    ]);
  });
});
