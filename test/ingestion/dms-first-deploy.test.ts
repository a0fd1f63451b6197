/**
 * Issue 10, finding 9: a first deployment cannot reach the sources yet, and Oracle TLS needs a wallet.
 * - A replication starts only when its source's `networkReady` says the network path exists (a started
 *   DMS Serverless replication connects to the source at once: StartReplication, DMS API reference).
 * - Oracle sources import their CA as an Oracle wallet (`certificateWallet`), never a PEM ("SSL support for
 *   an Oracle endpoint", DMS user guide); config with the wrong form is rejected with key and stack file.
 */
import { expect } from "chai";
import { parseStackConfig, StackConfigError } from "../../components/config";
import { evaluateStack, type Plan, type PlannedResource } from "../../tools/plan/evaluate";
import { readStackConfig } from "../../tools/plan/stack-config";
import { configOf, ofType, planOf } from "../helpers/plan";

const T = {
  replication: "aws:dms/replicationConfig:ReplicationConfig",
  certificate: "aws:dms/certificate:Certificate",
  endpoint: "aws:dms/endpoint:Endpoint",
  alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
} as const;

const byName = (plan: Plan, type: string, name: string): PlannedResource => {
  const found = ofType(plan, type).filter((r) => r.name === name);
  expect(found, `${type} ${name}`).to.have.length(1);
  return found[0];
};

type RawSource = Record<string, unknown>;

/** Problems of the prod stack's config after `change` edits its transactional sources. */
function prodProblemsWith(change: (transactional: RawSource[]) => void): string[] {
  const { config, stackFile } = readStackConfig("prod");
  const sources = JSON.parse(config["lakehouse:sources"]) as { transactional: RawSource[] };
  change(sources.transactional);
  try {
    parseStackConfig({ ...config, "lakehouse:sources": JSON.stringify(sources) }, stackFile);
  } catch (e) {
    expect(e).to.be.instanceOf(StackConfigError);
    expect((e as StackConfigError).stackFile).to.equal(stackFile);
    expect((e as Error).message).to.include("Pulumi.prod.yaml");
    return [...(e as StackConfigError).problems];
  }
  throw new Error("config was accepted");
}

describe("DMS on a first deployment (finding 9)", function () {
  this.timeout(180_000);

  describe("prod as committed: no network path declared yet", function () {
    let plan: Plan;
    before(async function () {
      plan = await planOf("prod");
    });
    const config = configOf("prod");

    it("the stack file declares networkReady false for every transactional source", function () {
      expect(config.sources.transactional.length).to.be.greaterThan(0);
      for (const s of config.sources.transactional) expect(s.networkReady, s.name).to.equal(false);
    });

    it("creates every replication stopped, and its latency alarms do not fire on the missing data", function () {
      for (const s of config.sources.transactional) {
        const base = `${s.cell}-ingestion-${s.name}`;
        expect(byName(plan, T.replication, `${base}-replication`).inputs.startReplication, s.name).to.equal(false);
        for (const metric of ["cdclatencysource", "cdclatencytarget"]) {
          expect(byName(plan, T.alarm, `${base}-${metric}`).inputs.treatMissingData, `${s.name} ${metric}`).to.equal(
            "notBreaching",
          );
        }
      }
    });

    it("imports each Oracle source's CA as an Oracle wallet (certificateWallet, no PEM) and verifies against it", function () {
      const oracle = config.sources.transactional.filter((s) => s.engine === "oracle");
      expect(oracle.length).to.be.greaterThan(0);
      for (const s of oracle) {
        const base = `${s.cell}-ingestion-${s.name}`;
        const cert = byName(plan, T.certificate, `${base}-ca`);
        expect(cert.inputs.certificateWallet).to.equal(s.caCertificateWallet);
        expect(cert.inputs).not.to.have.property("certificatePem");
        const endpoint = byName(plan, T.endpoint, `${base}-source`);
        expect(endpoint.inputs.sslMode).to.equal("verify-ca");
        expect(endpoint.inputs.certificateArn).to.equal(cert.outputs.certificateArn);
      }
    });

    it("keeps PEM CAs for MySQL and SQL Server", function () {
      for (const s of config.sources.transactional.filter((x) => x.engine !== "oracle")) {
        const cert = byName(plan, T.certificate, `${s.cell}-ingestion-${s.name}-ca`);
        expect(cert.inputs.certificatePem).to.equal(s.caCertificatePem);
        expect(cert.inputs).not.to.have.property("certificateWallet");
      }
    });
  });

  describe("once the network path exists (networkReady: true)", function () {
    let plan: Plan;
    before(async function () {
      const dev = readStackConfig("dev");
      const sources = JSON.parse(dev.config["lakehouse:sources"]);
      sources.transactional[0].networkReady = true;
      plan = await evaluateStack({ stack: "dev", configOverrides: { "lakehouse:sources": sources } });
    });

    it("starts the replication and alarms when it reports no latency", function () {
      const s = configOf("dev").sources.transactional[0];
      const base = `${s.cell}-ingestion-${s.name}`;
      expect(byName(plan, T.replication, `${base}-replication`).inputs.startReplication).to.equal(true);
      expect(byName(plan, T.alarm, `${base}-cdclatencysource`).inputs.treatMissingData).to.equal("breaching");
    });
  });

  describe("config validation", function () {
    const oracleIndex = (t: RawSource[]) => t.findIndex((s) => s.engine === "oracle");
    const mysqlIndex = (t: RawSource[]) => t.findIndex((s) => s.engine === "mysql");
    const pem = "-----BEGIN CERTIFICATE-----\nUkVQTEFDRQ==\n-----END CERTIFICATE-----\n";

    it("rejects an Oracle source with a PEM CA, explaining the wallet", function () {
      let i = -1;
      const problems = prodProblemsWith((t) => {
        i = oracleIndex(t);
        delete t[i].caCertificateWallet;
        t[i].caCertificatePem = pem;
      });
      expect(problems).to.have.length(1);
      expect(problems[0]).to.match(
        new RegExp(
          `^lakehouse:sources\\.transactional\\[${i}\\]\\.caCertificatePem: DMS does not accept a PEM for Oracle`,
        ),
      );
      expect(problems[0]).to.include("caCertificateWallet");
    });

    it("rejects an Oracle source without a wallet", function () {
      let i = -1;
      const problems = prodProblemsWith((t) => {
        i = oracleIndex(t);
        delete t[i].caCertificateWallet;
      });
      expect(problems).to.deep.equal([
        `lakehouse:sources.transactional[${i}].caCertificateWallet: is required for engine oracle: DMS encrypts ` +
          `Oracle connections only with verify-ca against an Oracle wallet holding the source's CA (base64 of cwallet.sso)`,
      ]);
    });

    it("rejects a wallet on a MySQL source", function () {
      let i = -1;
      const problems = prodProblemsWith((t) => {
        i = mysqlIndex(t);
        t[i].caCertificateWallet = "UkVQTEFDRQ==";
      });
      expect(problems).to.deep.equal([
        `lakehouse:sources.transactional[${i}].caCertificateWallet: an Oracle wallet is only for engine oracle; ` +
          `give mysql its CA as caCertificatePem`,
      ]);
    });

    it("rejects a wallet that is not base64, and a networkReady that is not a boolean", function () {
      let i = -1;
      const problems = prodProblemsWith((t) => {
        i = oracleIndex(t);
        t[i].caCertificateWallet = "-----BEGIN CERTIFICATE-----";
        t[i].networkReady = "yes";
      });
      expect(problems.join("\n")).to.match(
        new RegExp(
          `lakehouse:sources\\.transactional\\[${i}\\]\\.caCertificateWallet: must be the base64 of an Oracle wallet`,
        ),
      );
      expect(problems.join("\n")).to.match(new RegExp(`lakehouse:sources\\.transactional\\[${i}\\]\\.networkReady:`));
    });
  });
});
