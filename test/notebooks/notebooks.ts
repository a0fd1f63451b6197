/**
 * The repository's notebooks as the tests read them: cells, code, and the SQL constants the code cells
 * declare (`NAME_SQL = """..."""`, formatted with `{events_table}` / `{features_view}` and run with
 * BigQuery named parameters `@name`).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { NOTEBOOKS_DIR, notebookFiles as uploadedFiles } from "../../components/gcp/clickstream/notebooks-bucket";

export { NOTEBOOKS_DIR };

export interface Cell {
  readonly cell_type: string;
  readonly id?: string;
  readonly metadata: Record<string, unknown>;
  readonly source: string | string[];
  readonly outputs?: unknown[];
  readonly execution_count?: number | null;
  readonly [key: string]: unknown;
}

export interface Notebook {
  readonly cells: Cell[];
  readonly metadata: Record<string, unknown>;
  readonly nbformat: number;
  readonly nbformat_minor: number;
  readonly [key: string]: unknown;
}

/** File names of the notebooks, sorted: the `.ipynb` among what the program uploads. */
export function notebookFiles(): string[] {
  return uploadedFiles().filter((f) => f.endsWith(".ipynb"));
}

export function readNotebook(file: string): Notebook {
  return JSON.parse(fs.readFileSync(path.join(NOTEBOOKS_DIR, file), "utf8")) as Notebook;
}

export const sourceOf = (c: Cell): string => (Array.isArray(c.source) ? c.source.join("") : c.source);

/** The code cells' text. */
export function codeCells(nb: Notebook): string[] {
  return nb.cells.filter((c) => c.cell_type === "code").map(sourceOf);
}

/** `NAME_SQL = """..."""` constants of every code cell of a notebook. */
export function sqlConstants(nb: Notebook): Map<string, string> {
  const out = new Map<string, string>();
  for (const code of codeCells(nb)) {
    for (const m of code.matchAll(/^([A-Z][A-Z0-9_]*_SQL) = """([\s\S]*?)"""/gm)) out.set(m[1], m[2]);
  }
  return out;
}
