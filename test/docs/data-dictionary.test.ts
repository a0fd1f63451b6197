/**
 * The data dictionary is the program's own catalogue rendered (docs/data-dictionary.md, and the
 * features embedded in notebooks/01-explore.ipynb): a table, column, policy tag or feature that changes
 * without `npm run dictionary` leaves the published dictionary describing another lakehouse. The view
 * columns it prints (tools/dictionary/view-columns.ts) are checked against the views' SQL run on DuckDB.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import type { DuckDBConnection } from "@duckdb/node-api";
import {
  DATA_DICTIONARY_FILE,
  EXPLORE_NOTEBOOK,
  renderDataDictionary,
  renderFeatures,
  withFeaturesInNotebook,
} from "../../tools/data-dictionary";
import { VIEW_COLUMNS } from "../../tools/dictionary/view-columns";
import { listStacks, type Plan, type PlannedResource } from "../../tools/plan/evaluate";
import { planOf } from "../helpers/plan";
import { describeQuery, toDuckDb, withEvents } from "../helpers/bigquery-duckdb";

const STALE = "is stale: run `npm run dictionary` and commit the result";

/** DuckDB result types as BigQuery names them. */
function bigQueryType(duck: string): string {
  if (/^(BIGINT|HUGEINT|INTEGER)$/.test(duck)) return "INT64";
  if (/^DECIMAL\(/.test(duck)) return "NUMERIC";
  const simple: Record<string, string> = {
    VARCHAR: "STRING",
    "VARCHAR[]": "ARRAY<STRING>",
    TIMESTAMP: "TIMESTAMP",
    DATE: "DATE",
    DOUBLE: "FLOAT64",
    BOOLEAN: "BOOL",
  };
  return simple[duck] ?? `unmapped DuckDB type ${duck}`;
}

/** `project.dataset.table` in a view's SQL -> a DuckDB relation `dataset__table`. */
function relationsOf(sql: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of sql.matchAll(/`([^`.]+)\.([^`.]+)\.([^`.]+)`/g)) out[`${m[1]}.${m[2]}.${m[3]}`] = `${m[2]}__${m[3]}`;
  return out;
}

/** Creates every view of a cell as a DuckDB view (dependencies first), returns their columns. */
async function viewsOf(c: DuckDBConnection, views: PlannedResource[]) {
  await c.run("CREATE VIEW clickstream_raw__events AS SELECT * FROM events_src");
  await c.run("CREATE TABLE lake_feed__orders_daily (order_date DATE, customer_pseudo_id VARCHAR, orders BIGINT)");
  const out = new Map<string, { name: string; type: string }[]>();
  let pending = [...views];
  while (pending.length > 0) {
    const failed: PlannedResource[] = [];
    let lastError: unknown;
    for (const v of pending) {
      const id = `${String(v.inputs.datasetId)}.${String(v.inputs.tableId)}`;
      const query = String((v.inputs.view as { query: string }).query);
      const duck = toDuckDb(query, { now: "2026-11-26 12:00:00", tables: relationsOf(query) });
      try {
        await c.run(`CREATE VIEW ${id.replace(".", "__")} AS ${duck}`);
        out.set(id, await describeQuery(c, `SELECT * FROM ${id.replace(".", "__")}`));
      } catch (e) {
        failed.push(v);
        lastError = e;
      }
    }
    if (failed.length === pending.length) throw lastError;
    pending = failed;
  }
  return out;
}

describe("data dictionary", () => {
  let plans: Plan[];
  before(async function () {
    this.timeout(600_000); // evaluates the plans when the global fixture has not
    plans = [];
    for (const stack of listStacks()) plans.push(await planOf(stack));
  });

  it("docs/data-dictionary.md is generated from the current program (npm run dictionary)", () => {
    const committed = fs.existsSync(DATA_DICTIONARY_FILE) ? fs.readFileSync(DATA_DICTIONARY_FILE, "utf8") : "";
    expect(committed === renderDataDictionary(plans), `docs/data-dictionary.md ${STALE}`).to.equal(true);
  });

  it("notebooks/01-explore.ipynb embeds the current features (npm run dictionary)", () => {
    const committed = fs.readFileSync(EXPLORE_NOTEBOOK, "utf8");
    const expected = withFeaturesInNotebook(committed, renderFeatures(plans));
    expect(committed === expected, `notebooks/01-explore.ipynb ${STALE}`).to.equal(true);
    expect(committed).to.include("| `recency_seconds` | INT64 | yes |");
  });

  it("lists every BigQuery dataset, table and view, and every Glue table of every stack", () => {
    const text = renderDataDictionary(plans);
    for (const plan of plans) {
      for (const r of plan.resources) {
        if (r.type === "gcp:bigquery/dataset:Dataset")
          expect(text).to.include(`### Dataset \`${String(r.inputs.datasetId)}\``);
        if (r.type === "gcp:bigquery/table:Table") {
          expect(text).to.include(`#### \`${String(r.inputs.datasetId)}.${String(r.inputs.tableId)}\``);
        }
        if (r.type === "aws:glue/catalogTable:CatalogTable")
          expect(text).to.include(`#### \`${String(r.inputs.name)}\``);
      }
    }
    // Policy tags come from the plan's taxonomy, by display name.
    expect(text).to.match(/\| `user_pseudo_id` \| STRING \| NULLABLE \| pseudonymous-id \|/);
    expect(text).to.match(/\| `ip_truncated` \| STRING \| NULLABLE \| network-address \|/);
    expect(text).to.match(
      /\| `entity_id` \| STRING \|  \| pseudonymous-id \(from `events\.user_pseudo_id`, `events\.anonymous_pseudo_id`\) \|/,
    );
  });

  it("a view the dictionary has no columns for, or a column without a meaning, stops the generator", () => {
    const plan = plans[0];
    const view = plan.resources.find((r) => r.type === "gcp:bigquery/table:Table" && r.inputs.view)!;
    const extra = { ...view, urn: `${view.urn}-new`, inputs: { ...view.inputs, tableId: "new_view" } };
    expect(() => renderDataDictionary([{ ...plan, resources: [...plan.resources, extra] }])).to.throw(
      /columns of view .*\.new_view/,
    );
    const table = plan.resources.find((r) => r.type === "gcp:bigquery/table:Table" && r.inputs.tableId === "events")!;
    const schema = (JSON.parse(String(table.inputs.schema)) as { name: string; description?: string }[]).map((c) =>
      c.name === "locale" ? { ...c, description: undefined } : c,
    );
    const bare = { ...table, inputs: { ...table.inputs, schema: JSON.stringify(schema) } };
    expect(() =>
      renderDataDictionary([{ ...plan, resources: plan.resources.map((r) => (r === table ? bare : r)) }]),
    ).to.throw(/no description for locale/);
  });

  it("the view columns it prints are the views' own: names, order and types, from their SQL on DuckDB", async function () {
    this.timeout(120_000);
    const checked = new Set<string>();
    for (const plan of plans) {
      const byCell = new Map<string, PlannedResource[]>();
      for (const r of plan.resources.filter((x) => x.type === "gcp:bigquery/table:Table" && x.inputs.view)) {
        byCell.set(r.cell ?? "", [...(byCell.get(r.cell ?? "") ?? []), r]);
      }
      for (const [cell, views] of byCell) {
        await withEvents([], async (c) => {
          for (const [id, actual] of await viewsOf(c, views)) {
            const declared = VIEW_COLUMNS[id];
            expect(declared, `${plan.stack}/${cell} ${id}: no entry in tools/dictionary/view-columns.ts`).to.not.equal(
              undefined,
            );
            expect(
              declared.map((d) => `${d.name} ${d.type}`),
              `${plan.stack}/${cell} ${id}`,
            ).to.deep.equal(actual.map((a) => `${a.name} ${bigQueryType(a.type)}`));
            checked.add(id);
          }
        });
      }
    }
    expect([...checked].sort()).to.deep.equal(Object.keys(VIEW_COLUMNS).sort());
  });
});
