/**
 * The notebooks are valid nbformat 4 documents (structure of the nbformat v4.5 JSON schema,
 * github.com/jupyter/nbformat/blob/main/nbformat/v4/nbformat.v4.5.schema.json: required keys, no others,
 * cell types, unique cell ids) with a Python 3 kernel, and they are committed without outputs: an
 * output can hold query results, which must stay in the cell.
 */
import { expect } from "chai";
import { notebookFiles, readNotebook, type Cell } from "./notebooks";

const TOP_LEVEL = ["cells", "metadata", "nbformat", "nbformat_minor"];
const CELL_KEYS: Record<string, { required: string[]; optional: string[] }> = {
  markdown: { required: ["cell_type", "id", "metadata", "source"], optional: ["attachments"] },
  code: { required: ["cell_type", "execution_count", "id", "metadata", "outputs", "source"], optional: [] },
  raw: { required: ["cell_type", "id", "metadata", "source"], optional: ["attachments"] },
};
/** nbformat 4.5: `^[a-zA-Z0-9-_]+$`, 1 to 64 characters. */
const CELL_ID = /^[a-zA-Z0-9-_]{1,64}$/;

function checkSource(where: string, source: unknown): void {
  const ok = typeof source === "string" || (Array.isArray(source) && source.every((l) => typeof l === "string"));
  expect(ok, `${where}: source is a string or a list of strings`).to.equal(true);
  if (Array.isArray(source)) {
    // Multi-line strings split as nbformat writes them: every line but the last ends with "\n".
    source.slice(0, -1).forEach((l: string, i) => expect(l.endsWith("\n"), `${where} line ${i + 1}`).to.equal(true));
  }
}

describe("notebooks: nbformat 4", () => {
  const files = notebookFiles();

  it("the four notebooks exist, numbered in the order a data scientist runs them", () => {
    expect(files).to.deep.equal([
      "01-explore.ipynb",
      "02-train-propensity.ipynb",
      "03-register-deploy.ipynb",
      "04-online-prediction.ipynb",
    ]);
  });

  for (const file of files) {
    it(`${file}: valid nbformat 4.5, Python 3 kernel, no outputs committed`, () => {
      const nb = readNotebook(file);
      expect(Object.keys(nb).sort()).to.deep.equal(TOP_LEVEL);
      expect(nb.nbformat).to.equal(4);
      expect(nb.nbformat_minor).to.be.a("number").and.to.be.at.least(5); // cell ids are required from 4.5
      const kernel = nb.metadata.kernelspec as Record<string, unknown>;
      expect(kernel).to.include({ name: "python3", language: "python" });
      expect(kernel.display_name).to.be.a("string");
      expect((nb.metadata.language_info as Record<string, unknown>).name).to.equal("python");
      expect(nb.cells.length).to.be.greaterThan(3);
      const ids = new Set<string>();
      nb.cells.forEach((cell: Cell, i) => {
        const where = `${file} cell ${i + 1}`;
        const spec = CELL_KEYS[cell.cell_type];
        expect(spec, `${where}: cell_type ${cell.cell_type}`).to.not.equal(undefined);
        const keys = Object.keys(cell);
        for (const k of spec.required) expect(keys, where).to.include(k);
        for (const k of keys)
          expect([...spec.required, ...spec.optional], `${where}: unexpected key ${k}`).to.include(k);
        expect(cell.id, where).to.match(CELL_ID);
        expect(ids.has(cell.id!), `${where}: duplicate id ${cell.id}`).to.equal(false);
        ids.add(cell.id!);
        expect(cell.metadata, where).to.be.an("object");
        checkSource(where, cell.source);
        if (cell.cell_type === "code") {
          expect(cell.outputs, `${where}: committed without outputs`).to.deep.equal([]);
          expect(cell.execution_count, `${where}: committed unexecuted`).to.equal(null);
        }
      });
      // A notebook opens with its purpose, in prose.
      expect(nb.cells[0].cell_type).to.equal("markdown");
    });
  }
});
