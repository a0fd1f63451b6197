/**
 * The notebooks' Python compiles (python3, IPython magics stripped), names nothing it never defines,
 * uses only what the offers module exports, and the offers module's label, split, evaluation,
 * configuration and latency maths pass their unit tests (test/notebooks/test_offers.py) — all without
 * a package installed: the module is standard library only.
 */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { NOTEBOOK_METADATA_KEYS } from "../../components/gcp/clickstream/workbench-startup";
import { PROJECT_ROOT } from "../../components/project-root";
import { NOTEBOOKS_DIR, codeCells, notebookFiles, readNotebook } from "./notebooks";

/** An IPython magic or shell line becomes a comment (same line numbers in error messages). */
const stripMagics = (code: string) =>
  code
    .split("\n")
    .map((l) => (/^\s*[%!]/.test(l) ? `# ${l}` : l))
    .join("\n");

function python(args: string[], input?: string) {
  const r = spawnSync("python3", args, {
    cwd: PROJECT_ROOT,
    input,
    encoding: "utf8",
    env: { ...process.env, PYTHONPATH: NOTEBOOKS_DIR, PYTHONDONTWRITEBYTECODE: "1" },
  });
  if (r.error) throw r.error;
  return r;
}

/**
 * Names a notebook loads but never binds (anywhere in it: imports, assignments, defs, arguments,
 * loop and comprehension targets), builtins aside; and `offers.X` attributes the module lacks.
 * Scope-insensitive on purpose: it catches typos and leftovers, not shadowing.
 */
const CHECK = String.raw`
import ast, builtins, json, sys
import offers
source = sys.stdin.read()
tree = ast.parse(source)
bound, loaded, offers_attrs = set(dir(builtins)), [], set()
for node in ast.walk(tree):
    if isinstance(node, ast.Name):
        if isinstance(node.ctx, ast.Load):
            loaded.append(node.id)
        else:
            bound.add(node.id)
    elif isinstance(node, (ast.Import, ast.ImportFrom)):
        bound.update((a.asname or a.name).split(".")[0] for a in node.names)
    elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        bound.add(node.name)
    elif isinstance(node, ast.arg):
        bound.add(node.arg)
    elif isinstance(node, ast.ExceptHandler) and node.name:
        bound.add(node.name)
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "offers":
        offers_attrs.add(node.attr)
print(json.dumps({
    "unbound": sorted(set(loaded) - bound),
    "missing_offers": sorted(a for a in offers_attrs if not hasattr(offers, a)),
}))
`;

describe("notebooks: Python", () => {
  it("python3 is available (the notebooks' checks need it)", () => {
    const r = python(["--version"]);
    expect(r.status).to.equal(0);
    expect(r.stdout + r.stderr).to.match(/Python 3\.(\d+)/);
  });

  for (const file of notebookFiles()) {
    it(`${file}: code cells compile, every name is bound, offers.* exists`, () => {
      const code = codeCells(readNotebook(file)).map(stripMagics).join("\n\n");
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "notebook-py-"));
      try {
        const py = path.join(dir, file.replace(/\.ipynb$/, ".py"));
        fs.writeFileSync(py, code);
        const compiled = python(["-c", "import sys, py_compile; py_compile.compile(sys.argv[1], doraise=True)", py]);
        expect(compiled.status, compiled.stderr).to.equal(0);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
      const checked = python(["-c", CHECK], code);
      expect(checked.status, checked.stderr).to.equal(0);
      const { unbound, missing_offers } = JSON.parse(checked.stdout) as { unbound: string[]; missing_offers: string[] };
      expect(unbound, "names used but never defined").to.deep.equal([]);
      expect(missing_offers, "offers.* the module does not export").to.deep.equal([]);
    });
  }

  it("every notebook reads its configuration through offers.read_config (metadata, then environment)", () => {
    for (const file of notebookFiles()) {
      expect(codeCells(readNotebook(file)).join("\n"), file).to.match(/cfg = offers\.read_config\(\)/);
    }
  });

  it("the notebooks read exactly the metadata keys the program writes on the instances", () => {
    const r = python(["-c", "import json, offers; print(json.dumps(sorted(offers.CONFIG_KEYS)))"]);
    expect(r.status, r.stderr).to.equal(0);
    expect(JSON.parse(r.stdout)).to.deep.equal([...NOTEBOOK_METADATA_KEYS].sort());
  });

  it("the offers module's unit tests pass under bare python3 (label, split, evaluation, config, latency)", function () {
    this.timeout(60_000);
    const r = python(["-m", "unittest", "discover", "-s", path.join("test", "notebooks"), "-p", "test_*.py", "-v"]);
    expect(r.status, r.stderr).to.equal(0);
    const ran = /Ran (\d+) tests?/.exec(r.stderr);
    expect(Number(ran?.[1])).to.be.at.least(20);
    expect(r.stderr).to.match(/\nOK\s*$/);
  });

  it("the offers module imports nothing outside the standard library", () => {
    const r = python([
      "-c",
      // Modules loaded before the import (site hooks of the interpreter) do not count.
      "import sys; before = set(sys.modules); import offers; " +
        "mods = {m.split('.')[0] for m in set(sys.modules) - before}; " +
        "print(sorted(m for m in mods if m not in sys.stdlib_module_names and m != 'offers' and not m.startswith('_')))",
    ]);
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout.trim()).to.equal("[]");
  });
});
