/**
 * The `lakehouse:workbench` key: defaults when absent, validated bounds, and the plan follows it.
 */
import { expect } from "chai";
import { parseStackConfig, StackConfigError } from "../../components/config";
import { evaluateStack } from "../../tools/plan/evaluate";
import { readStackConfig } from "../../tools/plan/stack-config";

const devRaw = (): Record<string, string> => ({ ...readStackConfig("dev").config });

function problemsOf(raw: Record<string, string>): readonly string[] {
  try {
    parseStackConfig(raw, "Pulumi.dev.yaml");
  } catch (e) {
    expect(e).to.be.instanceOf(StackConfigError);
    return (e as StackConfigError).problems;
  }
  return [];
}

describe("lakehouse:workbench config", () => {
  it("defaults to one e2-standard-4 instance that shuts down after 60 idle minutes", () => {
    const raw = devRaw();
    delete raw["lakehouse:workbench"];
    expect(parseStackConfig(raw, "Pulumi.dev.yaml").workbench).to.deep.equal({
      instances: 1,
      machineType: "e2-standard-4",
      idleTimeoutMinutes: 60,
    });
  });

  it("fills the fields a stack leaves out", () => {
    const raw = { ...devRaw(), "lakehouse:workbench": JSON.stringify({ instances: 3 }) };
    expect(parseStackConfig(raw, "Pulumi.dev.yaml").workbench).to.deep.equal({
      instances: 3,
      machineType: "e2-standard-4",
      idleTimeoutMinutes: 60,
    });
  });

  const bad: [string, unknown, RegExp][] = [
    [
      "an idle timeout under 10 minutes",
      { idleTimeoutMinutes: 5 },
      /^lakehouse:workbench\.idleTimeoutMinutes.*at least 10/,
    ],
    [
      "an idle timeout over a day",
      { idleTimeoutMinutes: 2000 },
      /^lakehouse:workbench\.idleTimeoutMinutes.*at most 1440/,
    ],
    ["a fractional instance count", { instances: 1.5 }, /^lakehouse:workbench\.instances/],
    ["a negative instance count", { instances: -1 }, /^lakehouse:workbench\.instances/],
    ["a machine type that is not one", { machineType: "big" }, /^lakehouse:workbench\.machineType.*machine type/],
    ["an unknown field (typo)", { idleTimeout: 30 }, /^lakehouse:workbench.*idleTimeout/],
  ];
  for (const [name, value, expected] of bad) {
    it(`rejects ${name}, naming the key`, () => {
      const problems = problemsOf({ ...devRaw(), "lakehouse:workbench": JSON.stringify(value) });
      expect(
        problems.some((p) => expected.test(p)),
        problems.join("\n"),
      ).to.equal(true);
    });
  }

  it("the plan has one instance per configured count, with the configured machine type and idle timeout", async () => {
    const plan = await evaluateStack({
      stack: "dev",
      configOverrides: {
        "lakehouse:workbench": { instances: 2, machineType: "n2-standard-8", idleTimeoutMinutes: 30 },
      },
    });
    const instances = plan.resources.filter((r) => r.type === "gcp:workbench/instance:Instance");
    expect(instances.map((i) => i.name).sort()).to.deep.equal([
      "br-clickstream-workbench-1",
      "br-clickstream-workbench-2",
    ]);
    for (const i of instances) {
      const g = i.inputs.gceSetup as Record<string, any>;
      expect(g.machineType).to.equal("n2-standard-8");
      expect(g.metadata["idle-timeout-seconds"]).to.equal("1800");
      // Every instance installs from the cell's mirror and runs the same post-startup script.
      expect(g.metadata["lakehouse-pip-index-url"]).to.equal(
        "https://southamerica-east1-python.pkg.dev/acme-lakehouse-br-dev/pypi-mirror/simple/",
      );
      expect(g.metadata["post-startup-script"]).to.match(/^gs:\/\/.+-notebooks\/scripts\/post-startup\.sh$/);
    }
  });
});
