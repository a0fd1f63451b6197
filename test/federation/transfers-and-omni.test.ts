/**
 * Issue 10, finding 11: what the BigQuery Data Transfer Service and BigQuery Omni accept.
 * - Cloud Storage transfers: `write_disposition` is `APPEND` or `MIRROR` (docs.cloud.google.com/bigquery/
 *   docs/cloud-storage-transfer, bq params); MIRROR into a partition decorator "only overwrites data in the
 *   specified partition" (.../cloud-storage-transfer-overview, Truncated transfers).
 * - Cross-cloud transfer from an Omni location: `CREATE TABLE AS SELECT` / `INSERT INTO SELECT` into the
 *   colocated region, and "INSERT INTO SELECT statement does not support transferring data into clustered
 *   table" (.../load-data-using-cross-cloud-transfer, Filter data > Limitations); `EXPORT DATA` writes to
 *   the bucket of the Omni region.
 */
import { expect } from "chai";
import { ordersTableOf, omniFeedInsert } from "../../components/federation/sql";
import type { Plan, PlannedResource } from "../../tools/plan/evaluate";
import { configOf, ofType, planOf } from "../helpers/plan";

const DTS = "gcp:bigquery/dataTransferConfig:DataTransferConfig";
const TABLE = "gcp:bigquery/table:Table";
/** Statements a scheduled query in an Omni location may run (sources above). */
const OMNI_STATEMENTS = [/^EXPORT DATA\b/i, /^INSERT INTO\b/i, /^CREATE (OR REPLACE )?TABLE\b/i];

const params = (t: PlannedResource) => (t.inputs.params ?? {}) as Record<string, string>;
/** `project.dataset.table` the statement writes, for INSERT INTO / CREATE TABLE. */
const targetOf = (sql: string): string | undefined =>
  /^(?:INSERT INTO|CREATE (?:OR REPLACE )?TABLE)\s+`?([\w.-]+)`?/i.exec(sql.trim())?.[1];
const tableByRef = (plan: Plan, ref: string): PlannedResource | undefined => {
  const [project, dataset, table] = ref.split(".");
  return ofType(plan, TABLE).find(
    (t) => t.inputs.tableId === table && t.inputs.datasetId === dataset && (t.inputs.project ?? project) === project,
  );
};

for (const stack of ["prod", "dev"]) {
  describe(`transfers and Omni, ${stack} (issue 10, finding 11)`, () => {
    it("uses only write dispositions the Data Transfer Service accepts, never WRITE_TRUNCATE", async () => {
      const plan = await planOf(stack);
      const transfers = ofType(plan, DTS);
      expect(transfers.length).to.be.greaterThan(0);
      for (const t of transfers) {
        const p = params(t);
        expect(p.write_disposition, t.name).to.not.equal("WRITE_TRUNCATE");
        if (t.inputs.dataSourceId === "google_cloud_storage") {
          expect(["APPEND", "MIRROR"], t.name).to.include(p.write_disposition);
          // A MIRROR run replaces its destination: only ever one day's partition, never the whole table.
          if (p.write_disposition === "MIRROR") expect(p.destination_table_name_template, t.name).to.include("$");
        }
      }
    });

    it("runs only EXPORT DATA or cross-cloud CTAS/INSERT in an Omni location, into an unclustered colocated table", async () => {
      const plan = await planOf(stack);
      const omni = ofType(plan, DTS).filter((t) => String(t.inputs.location).startsWith("aws-"));
      const config = configOf(stack);
      const omniCells = config.cells.filter((c) => c.federation === "omni" && ordersTableOf(config, c.name));
      expect(omni, "one Omni scheduled query per Omni cell with orders").to.have.length(omniCells.length);
      for (const t of omni) {
        expect(t.inputs.dataSourceId).to.equal("scheduled_query");
        const sql = params(t).query.trim();
        expect(
          OMNI_STATEMENTS.some((s) => s.test(sql)),
          `${t.name}: ${sql.slice(0, 40)}`,
        ).to.equal(true);
        const target = targetOf(sql);
        if (target === undefined) continue; // EXPORT DATA: no BigQuery destination table
        const table = tableByRef(plan, target);
        expect(table, `${t.name} writes ${target}, declared by the program`).to.not.equal(undefined);
        expect(table!.inputs.clusterings ?? [], `${target} must not be clustered`).to.deep.equal([]);
        expect(String(table!.inputs.project), "colocated: same project's cell region").to.equal(t.inputs.project);
      }
    });
  });
}

describe("Omni feed SQL (issue 10, finding 11)", () => {
  it("is a cross-cloud INSERT INTO SELECT of the three feed columns", () => {
    const orders = ordersTableOf(configOf("prod"), "eu")!;
    const sql = omniFeedInsert(orders, "p", "lake", "p.lake_feed.orders_daily");
    expect(sql).to.match(
      /^INSERT INTO `p\.lake_feed\.orders_daily` \(order_date, customer_pseudo_id, orders\)\nSELECT /,
    );
    expect(targetOf(sql)).to.equal("p.lake_feed.orders_daily");
  });

  it("keeps the in-country feed table clustered (a load job may write a clustered table)", async () => {
    const plan = await planOf("prod");
    const br = ofType(plan, TABLE, "br").find((t) => t.inputs.tableId === "orders_daily");
    expect(br?.inputs.clusterings).to.deep.equal(["customer_pseudo_id"]);
  });
});
