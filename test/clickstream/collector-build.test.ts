/**
 * Issue 10, finding 6: the collector's Cloud Run service runs what the same `pulumi up` uploads (no
 * image that nothing builds), and finding 15: it runs on a supported Node.js LTS.
 * Over the prod plan: the service takes its code from the archive object the plan uploads, in the cell
 * region, on Google's regional Node.js 24 base image, and depends on the object; the recorded archive
 * holds the compiled entry point and a package.json whose start command is the service's command; the
 * only new identity grant is the Cloud Run agent's read of the archive prefix. Over the archive builder:
 * exactly the runtime modules, package.json and the production dependency closure of the lock file,
 * nothing else; and unpacked alone (no repository node_modules), it serves and publishes to Pub/Sub.
 */
import { expect } from "chai";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { PROJECT_ROOT } from "../../components/project-root";
import {
  COLLECTOR_COMMAND,
  COLLECTOR_ENTRY,
  COLLECTOR_RUNTIME,
  COLLECTOR_SOURCE_DIR,
  collectorArchive,
  collectorBaseImage,
  collectorRuntimeModules,
  listArchiveFiles,
} from "../../components/gcp/clickstream/collector-archive";
import { configOf, descendants, planOf } from "../helpers/plan";
import type { Plan, PlannedResource } from "../../tools/plan/evaluate";
import { FakePubSub } from "../functions/collector/helpers/fake-pubsub";
import { basic, request } from "../functions/collector/helpers/http";
import { unpackArchive } from "../helpers/unpack-archive";

const RUN = "gcp:cloudrunv2/service:Service";
const OBJECT = "gcp:storage/bucketObject:BucketObject";

type Rec = Record<string, unknown>;
interface RecordedAsset {
  readonly path?: string;
  readonly text?: string;
  readonly assets?: Record<string, RecordedAsset>;
}

function collectorOf(plan: Plan, cell: string): { component: PlannedResource; inside: PlannedResource[] } {
  const found = plan.resources.filter((r) => r.type === "lakehouse:gcp:CollectorService" && r.cell === cell);
  expect(found, `CollectorService in ${cell}`).to.have.length(1);
  return { component: found[0], inside: descendants(plan, found[0].urn) };
}

function one(rs: PlannedResource[], type: string): PlannedResource {
  const found = rs.filter((r) => r.type === type);
  expect(found, type).to.have.length(1);
  return found[0];
}

/** The packages `npm ci` installs for `name`, from the lock file alone (an oracle independent of the builder). */
function lockClosure(rootPackage: Rec): Set<string> {
  const lock = JSON.parse(readFileSync(path.join(PROJECT_ROOT, "package-lock.json"), "utf8")) as {
    packages: Record<string, { dependencies?: Rec; optionalDependencies?: Rec }>;
  };
  const out = new Set<string>();
  const resolve = (from: string, name: string): string | undefined => {
    for (let base = from; ;) {
      const key = `${base === "" ? "" : `${base}/`}node_modules/${name}`;
      if (lock.packages[key] !== undefined) return key;
      if (base === "") return undefined;
      const i = base.lastIndexOf("/node_modules/");
      base = i < 0 ? "" : base.slice(0, i);
    }
  };
  const visit = (from: string, deps: Rec) => {
    for (const name of Object.keys(deps)) {
      const key = resolve(from, name);
      if (key === undefined || out.has(key)) continue;
      out.add(key);
      const p = lock.packages[key];
      visit(key, { ...(p.dependencies ?? {}), ...(p.optionalDependencies ?? {}) });
    }
  };
  visit("", { ...((rootPackage.dependencies as Rec) ?? {}), ...((rootPackage.optionalDependencies as Rec) ?? {}) });
  return out;
}

const collectorPkg = JSON.parse(readFileSync(path.join(COLLECTOR_SOURCE_DIR, "package.json"), "utf8")) as {
  engines: { node: string };
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
};

describe("collector build (issue 10, findings 6 and 15)", () => {
  describe("on the prod plan", function () {
    this.timeout(120_000);
    let plan: Plan;
    const config = configOf("prod");
    before(async () => {
      plan = await planOf("prod");
    });

    for (const cell of config.cells) {
      const region = cell.gcp.region;
      const project = cell.gcp.project;

      describe(`cell ${cell.name}`, () => {
        it("runs the archive object this plan uploads to the cell's staging bucket, and waits for it", () => {
          const { inside } = collectorOf(plan, cell.name);
          const svc = one(inside, RUN);
          const source = one(inside, OBJECT);
          expect(svc.inputs.location).to.equal(region);
          const container = (svc.inputs.template as Rec & { containers: Rec[] }).containers[0];
          const gcs = (container.sourceCode as { cloudStorageSource: Rec }).cloudStorageSource;
          expect(gcs.bucket).to.equal(source.inputs.bucket);
          expect(gcs.object).to.equal(source.inputs.name);
          expect(source.inputs.name).to.equal(`functions/collector/source-${collectorArchive().hash}.zip`);
          expect(svc.dependencies, "the service waits for the uploaded object").to.include(source.urn);
          // The object lives in the cell's staging bucket, which is in the cell region.
          const bucket = plan.resources.filter(
            (r) => r.type === "gcp:storage/bucket:Bucket" && r.inputs.name === source.inputs.bucket,
          );
          expect(bucket).to.have.length(1);
          expect(String(bucket[0].inputs.location).toLowerCase()).to.equal(region);
        });

        it("builds no image: no registry tag, Google's Node.js 24 base image from the cell region", () => {
          const { inside } = collectorOf(plan, cell.name);
          const svc = one(inside, RUN);
          const container = (svc.inputs.template as Rec & { containers: Rec[] }).containers[0];
          expect(container.image).to.equal("scratch");
          expect(container.baseImageUri).to.equal(
            `${region}-docker.pkg.dev/serverless-runtimes/google-24/runtimes/nodejs24`,
          );
          expect(container.baseImageUri).to.equal(collectorBaseImage(region));
          // Nothing in the cell points at an image in the project's own registries.
          const images = plan.resources
            .filter((r) => r.cell === cell.name && r.type === RUN)
            .flatMap((r) =>
              ((r.inputs.template as { containers: Rec[] }).containers ?? []).map((c) => String(c.image)),
            );
          expect(images.filter((i) => i.includes(`/${project}/`))).to.deep.equal([]);
          expect(inside.filter((r) => r.type.startsWith("gcp:artifactregistry/"))).to.deep.equal([]);
        });

        it("starts the compiled entry point with the package's start command", () => {
          const { inside } = collectorOf(plan, cell.name);
          const svc = one(inside, RUN);
          const container = (svc.inputs.template as Rec & { containers: Rec[] }).containers[0];
          const command = [...(container.commands as string[]), ...(container.args as string[])];
          expect(command).to.deep.equal([...COLLECTOR_COMMAND]);

          const recorded = one(inside, OBJECT).inputs.source as RecordedAsset;
          const assets = recorded.assets ?? {};
          const pkgPath = assets["package.json"]?.path;
          expect(pkgPath, "package.json in the archive").to.be.a("string");
          const pkg = JSON.parse(readFileSync(pkgPath as string, "utf8")) as { scripts: Record<string, string> };
          expect(pkg.scripts.start).to.equal(command.join(" "));
          expect(command[1]).to.equal(COLLECTOR_ENTRY);
          const entry = assets[COLLECTOR_ENTRY]?.text;
          expect(entry, `${COLLECTOR_ENTRY} in the archive`).to.be.a("string");
          expect(entry).to.contain("require.main === module");
          expect(assets["dist/transform-worker.js"]?.text, "the worker thread's module").to.be.a("string");
          expect(Object.keys(assets).filter((k) => k.startsWith("node_modules/"))).to.include(
            "node_modules/@google-cloud/pubsub",
          );
        });

        it("grants only the Cloud Run agent read access to the archive prefix; no build identity", () => {
          const { inside } = collectorOf(plan, cell.name);
          const accounts = inside.filter((r) => r.type === "gcp:serviceaccount/account:Account");
          expect(accounts.map((a) => a.inputs.accountId)).to.deep.equal([
            `lh-${config.environment}-${cell.name}-collector`,
          ]);
          const source = one(inside, OBJECT);
          const bucketGrants = inside.filter((r) => r.type === "gcp:storage/bucketIAMMember:BucketIAMMember");
          expect(bucketGrants).to.have.length(1);
          const g = bucketGrants[0].inputs as Rec & { condition: Rec };
          expect(g.bucket).to.equal(source.inputs.bucket);
          expect(g.role).to.equal("roles/storage.objectViewer");
          expect(g.member).to.match(/^serviceAccount:service-\d+@serverless-robot-prod\.iam\.gserviceaccount\.com$/);
          expect(g.condition.expression).to.equal(
            `resource.name.startsWith("projects/_/buckets/${String(source.inputs.bucket)}/objects/functions/collector/")`,
          );
          expect(inside.filter((r) => r.type === "gcp:projects/iAMMember:IAMMember")).to.deep.equal([]);
          const svc = one(inside, RUN);
          expect(svc.dependencies, "the service waits for the read grant").to.include(bucketGrants[0].urn);
        });
      });
    }
  });

  describe("the archive builder", () => {
    const archive = collectorArchive();
    const files = listArchiveFiles(archive);

    it("holds exactly the compiled runtime modules, package.json and node_modules", () => {
      const modules = collectorRuntimeModules();
      expect(modules).to.include.members(["server.ts", "transform-worker.ts", "worker-pool.ts", "publisher.ts"]);
      expect(modules).to.not.include("local.ts");
      const dist = files.filter((f) => f.startsWith("dist/"));
      expect(dist).to.deep.equal(modules.map((m) => `dist/${m.replace(/\.ts$/, ".js")}`).sort());
      const rest = files.filter((f) => !f.startsWith("dist/") && !f.startsWith("node_modules/"));
      expect(rest).to.deep.equal(["package.json"]);
    });

    it("leaves out tests, TypeScript sources, the loopback entry, READMEs of its own and secrets", () => {
      const own = files.filter((f) => !f.startsWith("node_modules/"));
      expect(own.filter((f) => /\.ts$|\.test\.|local\.js$|README/i.test(f))).to.deep.equal([]);
      expect(
        files.filter((f) => /(^|\/)\.env(\.|$)|\.(pem|p12|pfx|key)$|id_rsa|credentials\.json$/i.test(f)),
      ).to.deep.equal([]);
    });

    it("holds the production dependency closure the lock file gives, and no development package", () => {
      const installed = new Set(
        files
          .filter((f) => f.startsWith("node_modules/") && f.endsWith("/package.json"))
          .map((f) => f.slice(0, -"/package.json".length))
          // a package's own folder, not a nested package.json inside its files
          .filter((d) => /(^|\/)node_modules\/(@[^/]+\/)?[^/@]+$/.test(d)),
      );
      const expected = lockClosure(collectorPkg as unknown as Rec);
      expect(
        [...expected].filter((p) => !installed.has(p)),
        "missing from the archive",
      ).to.deep.equal([]);
      for (const dev of ["typescript", "tsx", "mocha", "@pulumi/pulumi", "@pulumi/gcp", "chai", "esbuild"]) {
        expect(installed.has(`node_modules/${dev}`), dev).to.equal(false);
      }
    });

    it("targets a supported Node.js LTS (finding 15)", () => {
      expect(COLLECTOR_RUNTIME.runtimeId).to.equal("nodejs24");
      expect(collectorPkg.engines.node).to.equal(`${COLLECTOR_RUNTIME.nodeMajor}.x`);
      expect(collectorPkg.scripts.start).to.equal(COLLECTOR_COMMAND.join(" "));
      const root = JSON.parse(readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8")) as {
        engines: { node: string };
      };
      // The pinned @pulumi/pulumi declares node >=22; the root package cannot honestly claim less.
      expect(root.engines.node).to.equal(">=22");
    });

    it("runs unpacked on its own: no repository node_modules, serves and publishes to Pub/Sub", async function () {
      this.timeout(60_000);
      const dir = mkdtempSync(path.join(tmpdir(), "collector-archive-"));
      const fake = new FakePubSub();
      let child: ChildProcess | undefined;
      try {
        unpackArchive(archive.entries, dir);
        await fake.start();
        const writeKey = "wk_archive_0123456789";
        const proc = spawn(process.execPath, COLLECTOR_COMMAND.slice(1), {
          cwd: dir,
          env: {
            PATH: process.env.PATH ?? "",
            PORT: "0",
            COLLECTOR_HOST: "127.0.0.1",
            GOOGLE_CLOUD_PROJECT: "test-project",
            COLLECTOR_TOPIC: "clickstream",
            COLLECTOR_HMAC_KEY: "8f1c3a5e7b9d0f2143658709badcfe1032547698a0b1c2d3e4f5061728394a5b",
            COLLECTOR_WRITE_KEYS: `${writeKey}=web`,
            PUBSUB_EMULATOR_HOST: fake.host,
            METADATA_SERVER_DETECTION: "none",
          },
          stdio: ["ignore", "pipe", "pipe"],
        });
        child = proc;
        let out = "";
        let err = "";
        proc.stderr?.on("data", (d: Buffer) => (err += d.toString()));
        const port = await new Promise<number>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`did not start:\n${err}`)), 20_000);
          proc.once("exit", (code) => reject(new Error(`exited ${code}:\n${err}`)));
          proc.stdout?.on("data", (d: Buffer) => {
            out += d.toString();
            const m = /"message":"listening","port":(\d+)/.exec(out);
            if (m) {
              clearTimeout(timer);
              resolve(Number(m[1]));
            }
          });
        });
        const reply = await request(
          `http://127.0.0.1:${port}/v1/track`,
          "POST",
          JSON.stringify({
            userId: "u-1",
            event: "Archive Smoke",
            messageId: "m-archive-1",
            context: { consent: { categoryPreferences: { Analytics: true } } },
          }),
          { "content-type": "application/json", authorization: basic(writeKey) },
        );
        expect(reply.status, reply.text).to.equal(200);
        const events = fake.events();
        expect(events).to.have.length(1);
        expect(events[0].messageId).to.equal("m-archive-1");
        expect(events[0].userId, "pseudonymised").to.not.equal("u-1");
      } finally {
        child?.kill("SIGTERM");
        await fake.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
