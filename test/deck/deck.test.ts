/**
 * `npm run deck`: the diagram holds every drawn component and flow of the prod plan, each flow backed by a
 * reference in the plan; the deck has the outline's slides, titles and speaker notes, and its numbers are
 * the plan's and the config's; docs/ holds the generated diagram.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import JSZip from "jszip";
import { DRAWN_COMPONENTS } from "../../components/flows";
import { cellErasureBounds } from "../../components/config/erasure-budget";
import { deriveSizing } from "../../components/config/sizing";
import { deriveCellSpecs } from "../../components/config/spec";
import type { Plan } from "../../tools/plan/evaluate";
import {
  extractArchitecture,
  flowBacked,
  UndrawnComponentError,
  type Architecture,
} from "../../tools/deck/architecture";
import { edgeId, nodeId, renderSvg } from "../../tools/deck/diagram";
import { fmtInt } from "../../tools/deck/facts";
import { writeDeck } from "../../tools/deck/index";
import { SLIDE_TITLES } from "../../tools/deck/slides";
import { configOf, ofType, planOf } from "../helpers/plan";

/** The slides' and notes' texts of a PPTX. */
async function deckText(pptx: Buffer): Promise<{ slides: string[]; notes: string[] }> {
  const zip = await JSZip.loadAsync(pptx);
  const count = Object.keys(zip.files).filter((f) => /^ppt\/slides\/slide\d+\.xml$/.test(f)).length;
  const out = { slides: [] as string[], notes: [] as string[] };
  for (let i = 1; i <= count; i++) {
    out.slides.push(textOf(await zip.file(`ppt/slides/slide${i}.xml`)!.async("string")));
    const n = zip.file(`ppt/notesSlides/notesSlide${i}.xml`);
    out.notes.push(n ? textOf(await n.async("string")) : "");
  }
  return out;
}

/** The text runs of an OOXML part, joined by spaces. */
function textOf(xml: string): string {
  return [...xml.matchAll(/<a:t>([^<]*)<\/a:t>/g)]
    .map((m) => m[1])
    .join(" ")
    .replace(/&amp;/g, "&")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'");
}

const xmlEscape = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

describe("deck: diagram and slides from the prod plan", function () {
  this.timeout(180_000);
  let plan: Plan;
  let arch: Architecture;
  let svg: string;
  let slides: string[];
  let notes: string[];
  let outDir: string;
  let slideSize: { cx: number; cy: number };

  before(async () => {
    plan = await planOf("prod");
    arch = extractArchitecture(plan);
    outDir = fs.mkdtempSync(path.join(os.tmpdir(), "deck-test-"));
    const out = await writeDeck(plan, outDir);
    svg = fs.readFileSync(out.svg, "utf8");
    const deck = fs.readFileSync(out.pptx);
    const zip = await JSZip.loadAsync(deck);
    const presentation = await zip.file("ppt/presentation.xml")!.async("string");
    const size = /<p:sldSz cx="(\d+)" cy="(\d+)"/.exec(presentation)!;
    slideSize = { cx: Number(size[1]), cy: Number(size[2]) };
    ({ slides, notes } = await deckText(deck));
  });

  after(() => fs.rmSync(outDir, { recursive: true, force: true }));

  const slide = (title: (typeof SLIDE_TITLES)[number]): string => slides[SLIDE_TITLES.indexOf(title)];

  describe("the diagram", () => {
    it("draws one box per drawn component instance of the plan, in its cell", () => {
      const drawn = plan.resources.filter((r) => !r.custom && r.type in DRAWN_COMPONENTS);
      expect(drawn.length).to.be.greaterThan(30);
      expect(arch.boxes.map((b) => b.id).sort()).to.deep.equal(drawn.map((r) => r.name).sort());
      for (const r of drawn) {
        expect(svg, r.name).to.include(`id="${nodeId.box(r.name)}"`);
        expect(arch.boxes.find((b) => b.id === r.name)!.cell).to.equal(r.cell);
      }
    });

    it("draws every flow with its label, and the plan backs every flow between two components", () => {
      expect(arch.edges.length).to.be.greaterThan(40);
      const byId = new Map(arch.boxes.map((b) => [b.id, b]));
      for (const e of arch.edges) {
        expect(svg, e.id).to.include(`id="${edgeId(e.id)}"`);
        expect(svg, e.label).to.include(`>${xmlEscape(e.label)}</text>`);
        if (e.internal) expect(flowBacked(plan, byId.get(e.from)!, byId.get(e.to)!), e.id).to.equal(true);
      }
      // A flow the program does not wire is caught: the collector never references the Athena marts.
      const collector = arch.boxes.find((b) => b.type === "lakehouse:gcp:CollectorService" && b.cell === "br")!;
      const marts = arch.boxes.find((b) => b.type === "lakehouse:federation:AthenaMarts" && b.cell === "br")!;
      expect(flowBacked(plan, collector, marts)).to.equal(false);
    });

    it("places AWS and GCP lanes per cell in the cell providers' regions, sources left and consumers right", () => {
      const regions = (cloud: string) =>
        Object.fromEntries(
          plan.resources
            .filter((r) => r.type === `pulumi:providers:${cloud}`)
            .map((r) => [r.cell, r.inputs.region as string]),
        );
      for (const cloud of ["aws", "gcp"] as const) {
        for (const lane of arch.lanes.filter((l) => l.cloud === cloud)) {
          expect(lane.region).to.equal(regions(cloud)[lane.cell]);
          expect(svg).to.include(`id="lane-${cloud}-${lane.cell}"`);
        }
      }
      expect(arch.lanes.map((l) => `${l.cloud}-${l.cell}`).sort()).to.deep.equal([
        "aws-br",
        "aws-eu",
        "gcp-br",
        "gcp-eu",
      ]);
      for (const s of arch.sources) expect(svg).to.include(`id="${nodeId.source(s.id)}"`);
      for (const c of arch.consumers) expect(svg).to.include(`id="${nodeId.consumer(c.id)}"`);
    });

    it("names boxes with the services of the resources they hold", () => {
      const ingestion = arch.boxes.find((b) => b.id === "br-ingestion")!;
      expect(ingestion.services).to.include("DMS Serverless");
      expect(ingestion.services).to.include("Glue");
      expect(arch.boxes.find((b) => b.id === "br-clickstream-dataflow")!.services).to.include("Dataflow");
      expect(arch.boxes.find((b) => b.id === "br-clickstream-collector")!.services[0]).to.equal("Cloud Run");
      // The DMS endpoints' engines name the transactional sources.
      const engines = ofType(plan, "aws:dms/endpoint:Endpoint", "br")
        .filter((r) => r.inputs.endpointType === "source")
        .map((r) => r.inputs.engineName as string);
      const source = arch.sources.find((s) => s.id === "source-br-transactional-databases")!;
      for (const e of engines)
        expect(
          source.items.some((i) => i.endsWith(`(${e})`)),
          e,
        ).to.equal(true);
    });

    it("refuses a plan holding a component that no box covers", () => {
      const stack = plan.resources.find((r) => r.type === "pulumi:pulumi:Stack")!;
      const stray = {
        ...stack,
        urn: `${stack.urn}$lakehouse:test:Stray::stray`,
        type: "lakehouse:test:Stray",
        name: "stray",
        parent: stack.urn,
      };
      expect(() => extractArchitecture({ ...plan, resources: [...plan.resources, stray] })).to.throw(
        UndrawnComponentError,
        /lakehouse:test:Stray \(stray\)/,
      );
    });

    it("docs/architecture.svg is the generated one (npm run deck)", async () => {
      const committed = fs.readFileSync(path.join(__dirname, "..", "..", "docs", "architecture.svg"), "utf8");
      expect(committed === (await renderSvg(arch)), "run npm run deck and commit docs/").to.equal(true);
    });
  });

  describe("the deck", () => {
    it("has the outline's slides at 16:9, in order, each with speaker notes", () => {
      expect(slides.length).to.equal(SLIDE_TITLES.length);
      expect(slides.length).to.be.within(12, 18);
      // LAYOUT_WIDE: 13.333 × 7.5 in, in EMU (914,400 per inch).
      expect(slideSize.cx / slideSize.cy).to.be.closeTo(16 / 9, 0.01);
      SLIDE_TITLES.forEach((t, i) => {
        expect(slides[i].startsWith(t), `slide ${i + 1}`).to.equal(true);
        expect(notes[i].length, `notes of slide ${i + 1}`).to.be.greaterThan(80);
      });
    });

    it("shows the scale in events/s and transactions/s from the config's sizing", () => {
      const config = configOf("prod");
      const sizing = deriveSizing(config.scale);
      const scale = slide("Scale: 100 million transactions a day");
      expect(scale).to.include(fmtInt(sizing.eventsPerSecond.peak));
      const problem = slide("The problem and what it requires");
      expect(problem).to.include(
        `${fmtInt(sizing.transactionsPerSecond.average)} / ${fmtInt(sizing.transactionsPerSecond.peak)}`,
      );
      expect(problem).to.include(`${fmtInt(sizing.eventsPerSecond.average)} / ${fmtInt(sizing.eventsPerSecond.peak)}`);
      expect(problem).to.include(fmtInt(config.scale.transactionsPerDay));
    });

    it("shows the plan's capacities: cells, Dataflow workers, collector instances, DMS capacity", () => {
      const cells = ofType(plan, "lakehouse:cell:Cell");
      expect(slides[0]).to.match(new RegExp(`^${SLIDE_TITLES[0]}.* ${cells.length} cells: `));
      const workers = ofType(plan, "gcp:dataflow/flexTemplateJob:FlexTemplateJob").map((r) => r.inputs.maxWorkers);
      expect(slide("Clickstream: collected, pseudonymised, streamed")).to.include(`up to ${workers[0]} workers`);
      const scaling = ofType(plan, "gcp:cloudrunv2/service:Service")
        .filter((r) => r.name.endsWith("-clickstream-collector"))
        .map((r) => (r.inputs.template as { scaling: { minInstanceCount: number; maxInstanceCount: number } }).scaling);
      expect(slide("Clickstream: collected, pseudonymised, streamed")).to.include(
        `${scaling[0].minInstanceCount}-${scaling[0].maxInstanceCount}`,
      );
      const dms = ofType(plan, "aws:dms/replicationConfig:ReplicationConfig").map(
        (r) => r.inputs.computeConfig as { minCapacityUnits: number; maxCapacityUnits: number },
      );
      expect(slide("Transactional databases: change data capture")).to.include(
        `${dms[0].minCapacityUnits}-${dms[0].maxCapacityUnits} DCU`,
      );
    });

    it("shows each cell's erasure bound per store, as the config computes it", () => {
      const { config, stackFile } = { config: configOf("prod"), stackFile: plan.stackFile };
      const ops = slide("Operations: the gate, alerts, the erasure bound");
      for (const spec of deriveCellSpecs(config, stackFile)) {
        expect(ops).to.include(`${spec.name} (SLA ${spec.erasure.slaDays})`);
        for (const b of cellErasureBounds(spec)) {
          expect(ops).to.match(new RegExp(`${b.store.replace(/[()/]/g, "\\$&")} [^A-Z]*\\b${b.days}\\b`));
        }
      }
    });

    it("docs/lakehouse-architecture.pptx says what a fresh deck says (npm run deck)", async () => {
      const committed = await deckText(
        fs.readFileSync(path.join(__dirname, "..", "..", "docs", "lakehouse-architecture.pptx")),
      );
      expect(committed.slides, "run npm run deck and commit docs/").to.deep.equal(slides);
      expect(committed.notes).to.deep.equal(notes);
    });

    it("lists the articles of both laws with their rules, from the pack's metadata", () => {
      const gdpr = slide("GDPR and LGPD: articles → controls");
      for (const a of ["GDPR Art. 5(1)(f)", "GDPR Art. 17(1)", "GDPR Art. 32(1)(a)", "LGPD Art. 46", "LGPD Art. 18 VI"])
        expect(gdpr).to.include(a);
    });
  });
});
