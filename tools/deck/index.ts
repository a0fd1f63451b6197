/**
 * `npm run deck`: evaluates the prod stack offline and writes the architecture diagram
 * (docs/architecture.svg, docs/architecture.png) and the deck (docs/lakehouse-architecture.pptx), every box,
 * flow and number taken from the plan and the config.
 *
 *   npm run deck                        # prod, into docs/
 *   npm run deck -- --stack dev --out /tmp/deck
 *   npm run deck -- --plan plan.json    # a plan already evaluated (JSON of tools/plan's Plan)
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { evaluateStack, type Plan } from "../plan/evaluate";
import { PROJECT_ROOT } from "../../components/project-root";
import { renderSvg, svgSize, svgToPng } from "./diagram";
import { deckFacts } from "./facts";
import { buildDeck } from "./slides";

export interface DeckOutputs {
  readonly svg: string;
  readonly png: string;
  readonly pptx: string;
}

/** Writes the three files for `plan` into `outDir`; returns their paths. */
export async function writeDeck(plan: Plan, outDir: string): Promise<DeckOutputs> {
  const facts = deckFacts(plan);
  const svg = await renderSvg(facts.architecture);
  const png = svgToPng(svg);
  const { width, height } = svgSize(svg);
  const pptx = buildDeck({ facts, diagramPng: png, diagramAspect: width / height });
  const deck = (await pptx.write({ outputType: "nodebuffer" })) as Buffer;
  fs.mkdirSync(outDir, { recursive: true });
  const out = {
    svg: path.join(outDir, "architecture.svg"),
    png: path.join(outDir, "architecture.png"),
    pptx: path.join(outDir, "lakehouse-architecture.pptx"),
  };
  fs.writeFileSync(out.svg, svg);
  fs.writeFileSync(out.png, png);
  fs.writeFileSync(out.pptx, deck);
  return out;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      stack: { type: "string", default: "prod" },
      out: { type: "string", default: path.join(PROJECT_ROOT, "docs") },
      plan: { type: "string" },
    },
  });
  const plan: Plan =
    values.plan !== undefined
      ? (JSON.parse(fs.readFileSync(values.plan, "utf8")) as Plan)
      : await evaluateStack({ stack: values.stack });
  const out = await writeDeck(plan, path.resolve(values.out));
  for (const f of Object.values(out)) console.log(`wrote ${path.relative(process.cwd(), f)}`);
  return 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(e instanceof Error ? e.message : e);
      process.exit(1);
    },
  );
}
