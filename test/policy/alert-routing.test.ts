/**
 * Alerts reach people: lakehouse:alertEmails becomes an SNS e-mail subscription per cell (ingestion)
 * and a Cloud Monitoring e-mail channel every clickstream alert policy notifies; the pack rejects a
 * subscription that would deliver alerts without TLS.
 */
import { expect } from "chai";
import type { Plan } from "../../tools/plan/evaluate";
import { runPolicyGate } from "../../tools/policy/gate";
import { configOf, ofType, planOf } from "../helpers/plan";
import { closeSession, session } from "./helpers";

describe("alert routing", function () {
  after(closeSession);
  const prodConfig = configOf("prod");

  it("subscribes every configured address to each cell's ingestion alert topic", async () => {
    const plan = await planOf("prod");
    for (const cell of prodConfig.cells) {
      const subs = ofType(plan, "aws:sns/topicSubscription:TopicSubscription", cell.name);
      expect(subs.map((s) => s.inputs.endpoint)).to.have.members(prodConfig.alertEmails);
      const [topic] = ofType(plan, "aws:sns/topic:Topic", cell.name).filter((t) =>
        String(t.inputs.name).endsWith("-ingestion-alerts"),
      );
      for (const s of subs) {
        expect(s.inputs.protocol).to.equal("email");
        expect(s.inputs.topic).to.equal(topic.outputs.arn);
      }
    }
  });

  it("makes every clickstream alert policy notify the cell's e-mail channels", async () => {
    const plan = await planOf("prod");
    for (const cell of prodConfig.cells) {
      const channels = ofType(plan, "gcp:monitoring/notificationChannel:NotificationChannel", cell.name);
      expect(channels.map((c) => (c.inputs.labels as Record<string, string>).email_address)).to.have.members(
        prodConfig.alertEmails,
      );
      const policies = ofType(plan, "gcp:monitoring/alertPolicy:AlertPolicy", cell.name);
      expect(policies.length).to.be.greaterThan(0);
      for (const p of policies)
        expect(p.inputs.notificationChannels).to.have.members(channels.map((c) => c.outputs.name));
    }
  });

  it("the pack rejects an alert subscription over plain http", async () => {
    const prod = await planOf("prod");
    let changed = false;
    const resources = prod.resources.map((r) => {
      if (changed || r.type !== "aws:sns/topicSubscription:TopicSubscription") return r;
      changed = true;
      const inputs = { ...r.inputs, protocol: "http", endpoint: "http://alerts.acme.example/hook" };
      return { ...r, inputs, outputs: { ...r.outputs, ...inputs } };
    });
    const plan: Plan = { ...prod, resources };
    const found = (await runPolicyGate(plan, { session: await session() })).diagnostics
      .filter((d) => d.enforcementLevel === "mandatory")
      .map((d) => `${d.policyName}: ${d.detail}`);
    expect(found).to.have.length(1);
    expect(found[0]).to.match(
      /^alerts-routed-in-jurisdiction: aws:sns\/topicSubscription:TopicSubscription '.+' delivers alerts over 'http'; use email, https or an AWS service in the cell's region\.$/,
    );
  });
});
