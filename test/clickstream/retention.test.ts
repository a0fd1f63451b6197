/**
 * Retention flows from config into every clickstream store: a shorter clickstream retention shortens
 * partition expiry, the Pub/Sub replay window and the views' look-backs; the erasure SLA caps the replay.
 */
import { expect } from "chai";
import { replayWindowDays } from "../../components/gcp/clickstream/event-topic";
import { evaluateStack, type Plan } from "../../tools/plan/evaluate";
import { readStackConfig } from "../../tools/plan/stack-config";

const DAY_MS = 86_400_000;

async function devWith(overrides: Record<string, unknown>): Promise<Plan> {
  return evaluateStack({ stack: "dev", configOverrides: overrides });
}

function baseRetention(): Record<string, number> {
  return JSON.parse(readStackConfig("dev").config["lakehouse:retention"]) as Record<string, number>;
}

describe("clickstream retention from config", () => {
  it("a 5-day clickstream retention: partitions, replay window, subscriptions and look-backs all stay within 5 days", async () => {
    const plan = await devWith({ "lakehouse:retention": { ...baseRetention(), clickstream: 5 } });
    const table = plan.resources.find((r) => r.type === "gcp:bigquery/table:Table" && r.inputs.tableId === "events")!;
    expect((table.inputs.timePartitioning as any).expirationMs).to.equal(5 * DAY_MS);
    const topics = plan.resources.filter(
      (r) => r.type === "gcp:pubsub/topic:Topic" && String(r.inputs.name).includes("clickstream"),
    );
    expect(topics.map((t) => t.inputs.messageRetentionDuration)).to.deep.equal(["432000s", "432000s"]);
    const subs = plan.resources.filter(
      (r) => r.type === "gcp:pubsub/subscription:Subscription" && String(r.inputs.name).includes("clickstream"),
    );
    for (const s of subs) expect(s.inputs.messageRetentionDuration).to.equal("432000s");
    const features = plan.resources.find(
      (r) => r.type === "gcp:bigquery/table:Table" && r.inputs.tableId === "user_features",
    )!;
    expect((features.inputs.view as any).query).to.contain("INTERVAL 5 DAY");
    const sessions = plan.resources.find(
      (r) => r.type === "gcp:bigquery/table:Table" && r.inputs.tableId === "sessions",
    )!;
    expect((sessions.inputs.view as any).query).to.contain("INTERVAL 2 DAY");
  });

  it("the erasure SLA caps the Pub/Sub replay window (Pub/Sub cannot erase one subject's messages)", () => {
    // A valid config cannot reach the cap today (BigQuery's time travel and fail-safe need an SLA of 10
    // days or more, over the 7-day default replay), so the rule is checked where it is computed.
    expect(replayWindowDays({ retentionDays: 30, erasureSlaDays: 3 })).to.equal(3);
    expect(replayWindowDays({ retentionDays: 30, erasureSlaDays: 15, replayDays: 20 })).to.equal(15);
    expect(replayWindowDays({ retentionDays: 5, erasureSlaDays: 15 })).to.equal(5);
  });
});
