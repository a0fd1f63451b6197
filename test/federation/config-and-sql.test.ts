import { expect } from "chai";
import { parseStackConfig, StackConfigError } from "../../components/config";
import { exportExpirationDays, martLookbackDays } from "../../components/federation/federation";
import { loadParams, STAGE_HOURS } from "../../components/federation/in-country-copy";
import {
  BI_ENGINE_MAX_BYTES,
  biEngineBytes,
  dailyFeedBytes,
  OMNI_CROSS_CLOUD_TRANSFER_BYTES,
  omniTransferProblems,
} from "../../components/federation/limits";
import {
  athenaFeedUnload,
  customerSegmentsView,
  kpiDailyView,
  omniFeedInsert,
  ordersTableOf,
  SCHEDULED_TIME,
} from "../../components/federation/sql";
import { breakGlassCondition, datasetAccessMember } from "../../components/federation/personas-gcp";
import { evaluateStack, PlanConfigError } from "../../tools/plan/evaluate";
import { readStackConfig } from "../../tools/plan/stack-config";
import { configOf } from "../helpers/plan";

const load = configOf;
const GiB = 1024 ** 3;

describe("federation config", () => {
  it("rejects a br cell configured for Omni, with the validation message", () => {
    const { config } = readStackConfig("prod");
    const cells = JSON.parse(config["lakehouse:cells"]) as Record<string, unknown>[];
    cells[0] = { ...cells[0], federation: "omni" };
    let problems: readonly string[] = [];
    try {
      parseStackConfig({ ...config, "lakehouse:cells": JSON.stringify(cells) }, "Pulumi.prod.yaml");
    } catch (e) {
      expect(e).to.be.instanceOf(StackConfigError);
      problems = (e as StackConfigError).problems;
    }
    expect(problems).to.deep.equal([
      "lakehouse:cells[0].federation: 'omni' needs a BigQuery Omni region for AWS 'sa-east-1', and there is none " +
        "(Omni regions: us-east-1, us-west-2, ap-northeast-2, ap-southeast-2, eu-west-1, eu-central-1); use 'in-country-copy'",
    ]);
  });

  it("keeps the prod eu Omni feed under the 60 GB cross-cloud transfer cap, and refuses a scale that breaks it", () => {
    const prod = load("prod");
    const eu = prod.cells.find((c) => c.name === "eu")!;
    expect(dailyFeedBytes(prod.scale)).to.be.below(OMNI_CROSS_CLOUD_TRANSFER_BYTES);
    expect(eu.federation).to.equal("omni");
    expect(omniTransferProblems("cells[1]", prod.scale)).to.deep.equal([]);
    const huge = { ...prod.scale, transactionsPerDay: 1_000_000_000 };
    expect(omniTransferProblems("cells[1]", huge)).to.deep.equal([
      "lakehouse:scale.transactionsPerDay: 1000000000 orders a day make a daily Omni cross-cloud transfer of 96.0 GB " +
        "for cells[1] (federation: omni), above BigQuery Omni's 60 GB per transfer; use federation 'in-country-copy' for this cell or split the feed",
    ]);
    // The in-country path has no such cap: validation asks only omni cells (validate.test.ts runs it on prod).
    expect(prod.cells.find((c) => c.name === "br")!.federation).to.equal("in-country-copy");
  });

  it("fails the prod program as a config error when the scale breaks the Omni transfer cap", async () => {
    const scale = { transactionsPerDay: 1_000_000_000, clickstreamEventsPerDay: 2_000_000_000, peakFactor: 4 };
    const err = await evaluateStack({ stack: "prod", configOverrides: { "lakehouse:scale": scale } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(PlanConfigError);
    expect((err as PlanConfigError).message).to.include("Pulumi.prod.yaml");
    expect((err as PlanConfigError).message).to.include("above BigQuery Omni's 60 GB per transfer");
    // Only the Omni cell (eu, cells[1]) is held to the cap; br's in-country copy has none.
    const transfer = (err as PlanConfigError).problems.filter((p) => p.includes("Omni cross-cloud transfer"));
    expect(transfer.map((p) => /for (cells\[\d+\])/.exec(p)?.[1])).to.deep.equal(["cells[1]"]);
  });

  it("sizes BI Engine from the clickstream volume, between 1 GiB and 250 GiB", () => {
    const scale = { transactionsPerDay: 1, peakFactor: 1 };
    const cases: [number, number][] = [
      [5_000_000, 1 * GiB],
      [100_000_000, 1 * GiB],
      [2_000_000_000, 20 * GiB],
      [1e12, BI_ENGINE_MAX_BYTES],
    ];
    for (const [events, bytes] of cases)
      expect(biEngineBytes({ ...scale, clickstreamEventsPerDay: events })).to.equal(bytes);
    expect(biEngineBytes(load("prod").scale)).to.equal(20 * GiB);
  });

  it("bounds the marts window and the exports' life by retention and the erasure SLA", () => {
    expect(martLookbackDays({ raw: 1, curated: 730, marts: 1, clickstream: 395, logs: 1, audit: 1 })).to.equal(90);
    expect(martLookbackDays({ raw: 1, curated: 90, marts: 1, clickstream: 30, logs: 1, audit: 1 })).to.equal(30);
    expect(exportExpirationDays(15)).to.equal(3);
    expect(exportExpirationDays(4)).to.equal(1);
  });
});

describe("federation SQL", () => {
  const prod = load("prod");

  it("finds each cell's curated orders table and its timestamp column from config", () => {
    expect(ordersTableOf(prod, "br")).to.deep.equal({
      table: "orders_br_orders",
      timestampColumn: "created_at",
      piiColumns: [],
    });
    expect(ordersTableOf(load("dev"), "br")).to.deep.equal({
      table: "orders_orders",
      timestampColumn: "created_at",
      piiColumns: [],
    });
  });

  it("never selects a configured piiColumns column in the feed or the marts", () => {
    const pii = new Set(
      prod.sources.transactional.flatMap((s) =>
        s.tables.flatMap((t) => (t.piiColumns ?? []).map((c) => c.toLowerCase())),
      ),
    );
    expect(pii.size).to.be.greaterThan(0);
    const orders = ordersTableOf(prod, "br")!;
    const sources = { events: "p.clickstream_raw.events", ordersFeed: "p.lake_feed.orders_daily", lookbackDays: 90 };
    for (const sql of [
      athenaFeedUnload(orders, "prod_br_curated", "s3://x/orders_daily/"),
      omniFeedInsert(orders, "p", "lake", "p.lake_feed.orders_daily"),
      kpiDailyView(sources),
      customerSegmentsView(sources),
    ]) {
      const words = new Set(sql.toLowerCase().match(/[a-z_][a-z0-9_]*/g));
      for (const c of pii) expect(words.has(c), `${c} in\n${sql}`).to.equal(false);
    }
    expect(() => athenaFeedUnload({ ...orders, piiColumns: ["customer_pseudo_id"] }, "db", "s3://x/")).to.throw(
      /PII-free/,
    );
  });

  it("joins the clickstream to orders on the pseudonymous customer key", () => {
    const sql = kpiDailyView({ events: "p.c.events", ordersFeed: "p.f.orders_daily", lookbackDays: 30 });
    expect(sql).to.include("v.user_pseudo_id = f.customer_pseudo_id");
    expect(sql).to.include("INTERVAL 30 DAY");
  });

  it("has the in-country load read exactly the export of its own night and mirror yesterday's partition", () => {
    const p = loadParams("feed-bucket", "orders_daily");
    expect(p.data_path_template).to.equal(
      `gs://feed-bucket/orders_daily/{run_time-${STAGE_HOURS.load - STAGE_HOURS.export}h|"%Y-%m-%dT%H:%M:%SZ"}/*`,
    );
    expect(p.destination_table_name_template).to.equal('orders_daily${run_time-27h|"%Y%m%d"}');
    expect(p.write_disposition).to.equal("MIRROR");
    expect(athenaFeedUnload(ordersTableOf(prod, "br")!, "db", "s3://b/orders_daily/")).to.include(
      `TO 's3://b/orders_daily/${SCHEDULED_TIME}/'`,
    );
  });
});

describe("persona grant helpers", () => {
  it("maps IAM members to the dataset ACL fields BigQuery expects", () => {
    expect(datasetAccessMember("group:analysts@acme.example")).to.deep.equal({ groupByEmail: "analysts@acme.example" });
    expect(datasetAccessMember("user:dpo@acme.example")).to.deep.equal({ userByEmail: "dpo@acme.example" });
    expect(datasetAccessMember("serviceAccount:app@p.iam.gserviceaccount.com")).to.deep.equal({
      userByEmail: "app@p.iam.gserviceaccount.com",
    });
    expect(datasetAccessMember("principalSet://iam.googleapis.com/x")).to.deep.equal({
      iamMember: "principalSet://iam.googleapis.com/x",
    });
  });

  it("scopes a break-glass grant to exactly one dataset (lake does not match lake_feed)", () => {
    const c = breakGlassCondition("p", "lake");
    expect(c).to.equal(
      '(resource.name == "projects/p/datasets/lake" || resource.name.startsWith("projects/p/datasets/lake/"))',
    );
    expect(c).to.not.include('startsWith("projects/p/datasets/lake")');
  });
});
