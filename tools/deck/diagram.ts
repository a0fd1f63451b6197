/**
 * The architecture diagram: Graphviz `dot` (compiled to WebAssembly, @hpcc-js/wasm-graphviz) lays out the
 * architecture extracted from the plan — AWS and GCP as two regions, a lane per cell in each, sources on the
 * left, personas on the right — to SVG; resvg renders the SVG to PNG for the deck. Every box, source,
 * consumer and flow carries an `id` in the SVG (`box-…`, `source-…`, `consumer-…`, `edge-…`), which the
 * tests read back.
 */
import { Graphviz } from "@hpcc-js/wasm-graphviz";
import { Resvg } from "@resvg/resvg-js";
import type { Architecture, Box, Cloud } from "./architecture";

/** Services named on a box; the rest are in the deck's tables. */
const SERVICES_ON_BOX = 3;

const STYLE: Record<Cloud, { title: string; lane: string; fill: string; border: string }> = {
  aws: { title: "AWS", lane: "#FFF6EA", fill: "#FFFFFF", border: "#E07B00" },
  gcp: { title: "Google Cloud", lane: "#EEF3FD", fill: "#FFFFFF", border: "#1A73E8" },
};

const FONT = "Helvetica";

/** HTML-label escaping (Graphviz HTML-like labels are XML). */
const esc = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
/** A DOT identifier. */
const q = (s: string): string => `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;

export const nodeId = {
  box: (id: string) => `box-${id}`,
  source: (id: string) => id,
  consumer: (id: string) => id,
};
export const edgeId = (id: string): string => `edge-${id.replace(/->/g, "--")}`;

function boxLabel(b: Box): string {
  const shown = b.services.slice(0, SERVICES_ON_BOX);
  const more = b.services.length > shown.length ? " …" : "";
  return (
    `<<B>${esc(b.title)}</B><BR/>` + `<FONT POINT-SIZE="10" COLOR="#444444">${esc(shown.join(" · ") + more)}</FONT>>`
  );
}

/** The DOT source of the diagram. */
export function toDot(a: Architecture): string {
  const out: string[] = [];
  out.push("digraph architecture {");
  out.push(
    `  graph [rankdir=LR, newrank=true, fontname=${q(FONT)}, fontsize=16, nodesep=0.10, ranksep=0.12, ` +
      `pad=0.2, splines=true, bgcolor="white", labelloc=t, ` +
      `label=<<B>Lakehouse architecture · stack ${esc(a.stack)}</B><BR/><FONT POINT-SIZE="10">generated from the offline plan by npm run deck · dashed: control flows</FONT>>];`,
  );
  out.push(
    `  node [shape=box, style="rounded,filled", fontname=${q(FONT)}, fontsize=13, margin="0.06,0.02", penwidth=1.2];`,
  );
  out.push(`  edge [fontname=${q(FONT)}, fontsize=10, color="#555555", fontcolor="#333333", arrowsize=0.7];`);

  out.push("  subgraph cluster_sources {");
  out.push(`    label=<<B>Sources</B>>; style="rounded,dashed"; color="#999999";`);
  for (const cell of a.cells) {
    const srcs = a.sources.filter((s) => s.cell === cell);
    if (srcs.length === 0) continue;
    out.push(`    subgraph cluster_sources_${cell} {`);
    out.push(`      label=<cell ${esc(cell)}>; style="rounded"; color="#CCCCCC";`);
    for (const s of srcs) {
      const items = s.items.length > 0 ? `<BR/><FONT POINT-SIZE="9">${s.items.map(esc).join("<BR/>")}</FONT>` : "";
      out.push(
        `      ${q(nodeId.source(s.id))} [id=${q(nodeId.source(s.id))}, label=<<B>${esc(s.family)}</B>${items}>, ` +
          `fillcolor="#F2F2F2", color="#888888"];`,
      );
    }
    out.push("    }");
  }
  out.push("  }");

  for (const cloud of ["aws", "gcp"] as const) {
    const lanes = a.lanes.filter((l) => l.cloud === cloud);
    if (lanes.length === 0) continue;
    const st = STYLE[cloud];
    out.push(`  subgraph cluster_${cloud} {`);
    out.push(
      `    label=<<B>${esc(st.title)}</B>>; style="rounded,filled"; fillcolor="#FAFAFA"; color=${q(st.border)}; penwidth=1.5;`,
    );
    for (const lane of lanes) {
      out.push(`    subgraph cluster_${cloud}_${lane.cell} {`);
      out.push(
        `      id=${q(`lane-${cloud}-${lane.cell}`)}; label=<cell <B>${esc(lane.cell)}</B> · ${esc(lane.region)}>; ` +
          `style="rounded,filled"; fillcolor=${q(st.lane)}; color=${q(st.border)};`,
      );
      for (const b of a.boxes.filter((x) => x.cloud === cloud && x.cell === lane.cell)) {
        out.push(
          `      ${q(nodeId.box(b.id))} [id=${q(nodeId.box(b.id))}, label=${boxLabel(b)}, fillcolor=${q(st.fill)}, color=${q(st.border)}, tooltip=${q(b.type)}];`,
        );
      }
      out.push("    }");
    }
    out.push("  }");
  }

  out.push("  subgraph cluster_consumers {");
  out.push(`    label=<<B>Consumers</B>>; style="rounded,dashed"; color="#999999";`);
  for (const c of a.consumers) {
    out.push(
      `    ${q(nodeId.consumer(c.id))} [id=${q(nodeId.consumer(c.id))}, label=<<B>${esc(c.title)}</B>>, shape=box, style="rounded,filled", fillcolor="#E8F5E9", color="#2E7D32"];`,
    );
  }
  out.push("  }");
  // Sources first, consumers last, whatever the lanes' depth.
  out.push(`  { rank=min; ${a.sources.map((s) => q(nodeId.source(s.id))).join("; ")} }`);
  out.push(`  { rank=max; ${a.consumers.map((c) => q(nodeId.consumer(c.id))).join("; ")} }`);

  const idOf = (id: string) =>
    a.boxes.some((b) => b.id === id)
      ? nodeId.box(id)
      : id.startsWith("source-")
        ? nodeId.source(id)
        : nodeId.consumer(id);
  for (const e of a.edges) {
    const style = e.control ? `, style=dashed, color="#8E24AA", fontcolor="#6A1B9A"` : "";
    // A control flow between boxes (erasure, suppression, keys) is laid out from its target, arrow reversed:
    // the worker sits after the data it acts on instead of pushing the data pipeline to the right.
    const [tail, head, dir] = e.control && e.internal ? [e.to, e.from, ", dir=back"] : [e.from, e.to, ""];
    out.push(`  ${q(idOf(tail))} -> ${q(idOf(head))} [id=${q(edgeId(e.id))}, label=${q(e.label)}${style}${dir}];`);
  }
  out.push("}");
  return out.join("\n");
}

let graphviz: Promise<Graphviz> | undefined;

/** The diagram as SVG (Graphviz `dot` layout). */
export async function renderSvg(a: Architecture): Promise<string> {
  graphviz ??= Graphviz.load();
  // Graphviz measures text with Helvetica's metrics; Arial and Liberation Sans share them, so the text fits
  // its boxes wherever one of the three is installed (a browser, LibreOffice, resvg on Debian).
  // Graphviz writes `-` as `&#45;` so that its comments (node names) never hold `--`; without the comments,
  // plain hyphens keep the ids and labels searchable.
  return (await graphviz)
    .dot(toDot(a), "svg")
    .replace(/<!--[\s\S]*?-->\n?/g, "")
    .replace(/&#45;/g, "-")
    .replace(/font-family="Helvetica,sans-Serif"/g, `font-family="Helvetica, Arial, 'Liberation Sans', sans-serif"`);
}

/** The SVG as PNG, `width` pixels wide, on white. */
export function svgToPng(svg: string, width = 3000): Buffer {
  const resvg = new Resvg(svg, {
    background: "white",
    fitTo: { mode: "width", value: width },
    font: { loadSystemFonts: true, defaultFontFamily: "Liberation Sans", sansSerifFamily: "Liberation Sans" },
  });
  return Buffer.from(resvg.render().asPng());
}

/** Width and height of an SVG from its `width`/`height` attributes (points), for the slide's aspect. */
export function svgSize(svg: string): { width: number; height: number } {
  const w = /<svg[^>]*\swidth="([\d.]+)pt"/.exec(svg);
  const h = /<svg[^>]*\sheight="([\d.]+)pt"/.exec(svg);
  if (!w || !h) throw new Error("SVG without width/height in points");
  return { width: Number(w[1]), height: Number(h[1]) };
}
