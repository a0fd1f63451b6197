/**
 * Stack outputs a platform engineer needs after `pulumi up` (docs/first-deploy.md, "Check each layer"):
 * per cell, the collector URL, the datasets, the marketing dataset, the Vertex endpoint and online store,
 * the Workbench URLs and the event topic.
 */
import { expect } from "chai";
import { UNKNOWN } from "../../tools/policy/requests";
import { configOf, firstPreviewOf, planOf } from "../helpers/plan";

const PER_CELL = [
  "lakeBuckets",
  "datasets",
  "athenaWorkgroups",
  "collectorUrls",
  "marketingDatasets",
  "vertexEndpoints",
  "featureOnlineStores",
  "workbenchUrls",
  "eventTopics",
  "ingestionVpcs",
] as const;

describe("stack outputs", function () {
  this.timeout(300_000);

  for (const stack of ["dev", "prod"]) {
    it(`${stack}: every output has one entry per cell, with values of the right shape`, async () => {
      const plan = await planOf(stack);
      const cells = configOf(stack).cells.map((c) => c.name);
      expect(plan.outputs.cellNames).to.deep.equal(cells);
      for (const key of PER_CELL) expect(Object.keys(plan.outputs[key] as object), key).to.deep.equal(cells);
      const o = plan.outputs as Record<string, Record<string, unknown>>;
      for (const cell of cells) {
        expect(o.collectorUrls[cell]).to.match(/^https:\/\/[a-z0-9-]+\.a\.run\.app$/);
        expect(o.datasets[cell]).to.include.keys("clickstream_raw", "curated", "marts");
        expect(o.vertexEndpoints[cell]).to.be.a("string").and.not.equal("");
        expect(o.workbenchUrls[cell]).to.be.an("array");
        for (const url of o.workbenchUrls[cell] as string[]) expect(url).to.match(/notebooks\.googleusercontent\.com$/);
        expect(o.eventTopics[cell]).to.match(/^projects\/[a-z0-9-]+\/topics\//);
      }
    });
  }

  it("in a first preview the collector URL is unknown (Cloud Run assigns it), the dataset ids are known", async () => {
    const plan = await firstPreviewOf("dev");
    const o = plan.outputs as Record<string, Record<string, unknown>>;
    expect(o.collectorUrls.br).to.equal(UNKNOWN);
    expect((o.datasets.br as Record<string, unknown>).marts).to.equal("marts");
  });
});
