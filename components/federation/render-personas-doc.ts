/**
 * Writes docs/personas.md from the persona matrix: `npx tsx components/federation/render-personas-doc.ts`.
 * `--check` exits 1 when the file differs (CI); test/federation/personas.test.ts checks the same.
 */
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { renderPersonaDoc } from "./persona-matrix";

export const PERSONAS_DOC = path.resolve(__dirname, "../../docs/personas.md");

if (require.main === module) {
  const want = renderPersonaDoc();
  if (process.argv.includes("--check")) {
    const have = readFileSync(PERSONAS_DOC, "utf8");
    if (have !== want) {
      console.error(`${PERSONAS_DOC} is stale: run npx tsx components/federation/render-personas-doc.ts`);
      process.exit(1);
    }
  } else {
    writeFileSync(PERSONAS_DOC, want);
    console.log(`wrote ${PERSONAS_DOC}`);
  }
}
