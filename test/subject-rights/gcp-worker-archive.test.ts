/**
 * The GCP worker's source archive (components/gcp/source-archive.ts, ADR 0009): the compiled runtime
 * modules, its sibling import from functions/collector placed where the relative import finds it, the
 * package.json and the dependency closure, nothing else; a module requiring a package the service's
 * package.json does not declare fails the build (the cloud would not have it); and the archive, unpacked
 * alone into an empty folder (no repository node_modules), starts and answers its health check on PORT.
 */
import { expect } from "chai";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { SUBJECT_RIGHTS_SOURCE_DIR, WORKER_ENV, workerArchive } from "../../components/gcp/rights/worker-source";
import { runtimeModules, sourceArchive } from "../../components/gcp/source-archive";
import { unpackArchive } from "../helpers/unpack-archive";

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => resolve(typeof a === "object" && a !== null ? a.port : 0));
    });
  });

describe("GCP subject-rights worker archive (issue 14)", function () {
  this.timeout(180_000);

  it("holds the compiled modules, the sibling module at its relative place, package.json and the dependencies only", () => {
    const { archive, command } = workerArchive();
    const modules = runtimeModules(SUBJECT_RIGHTS_SOURCE_DIR);
    expect(modules).to.include.members(["gcp-server.ts", "../collector/suppression.ts"]);
    const texts = archive.entries.filter((e) => e.kind !== "dir").map((e) => e.path);
    expect(texts).to.deep.equal(
      [
        ...modules.map((m) => `dist/${path.posix.join("subject-rights", m).replace(/\.ts$/, ".js")}`),
        "package.json",
      ].sort(),
    );
    expect(texts).to.include("dist/collector/suppression.js");
    expect(command).to.deep.equal(["node", "dist/subject-rights/gcp-server.js"]);
    const pkg = JSON.parse(readFileSync(path.join(SUBJECT_RIGHTS_SOURCE_DIR, "package.json"), "utf8")) as {
      scripts: { start: string };
      dependencies: Record<string, string>;
    };
    expect(pkg.scripts.start, "the service runs the package's start command").to.equal(command.join(" "));
    // Every top-level installed package is a declared dependency or one of theirs: no development package.
    const dirs = archive.entries.filter((e) => e.kind === "dir").map((e) => e.path);
    for (const dev of ["typescript", "mocha", "@pulumi/pulumi", "@duckdb/node-api", "esbuild"])
      expect(dirs, dev).to.not.include(`node_modules/${dev}`);
    for (const dep of Object.keys(pkg.dependencies)) expect(dirs).to.include(`node_modules/${dep}`);
    // The tests, the AWS handlers and the fakes stay out.
    expect(texts.filter((p) => /aws-intake|aws-worker|athena|test/.test(p))).to.deep.equal([]);
  });

  it("refuses a module that requires a package its package.json does not declare", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "source-archive-"));
    try {
      const svc = path.join(dir, "svc");
      mkdirSync(svc);
      writeFileSync(
        path.join(svc, "package.json"),
        JSON.stringify({ name: "svc", version: "1.0.0", dependencies: {} }),
      );
      writeFileSync(
        path.join(svc, "tsconfig.build.json"),
        JSON.stringify({ compilerOptions: { module: "commonjs", target: "ES2022" }, files: ["main.ts"] }),
      );
      // A type-only import is erased and does not count; the runtime one does.
      writeFileSync(
        path.join(svc, "main.ts"),
        'import type { Server } from "node:http";\nimport type { Foo } from "type-only-pkg";\nimport { x } from "undeclared-pkg";\nexport const s: Server | Foo | undefined = x;\n',
      );
      expect(() => sourceArchive(svc)).to.throw(/requires undeclared-pkg, which .*package\.json does not declare/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("unpacked alone, starts with its configuration and answers GET /health on PORT", async () => {
    const { archive, command } = workerArchive();
    const dir = mkdtempSync(path.join(tmpdir(), "subject-rights-archive-"));
    let proc: ChildProcess | undefined;
    try {
      unpackArchive(archive.entries, dir);
      const port = await freePort();
      const env: Record<string, string> = {
        PATH: process.env.PATH ?? "",
        PORT: String(port),
        [WORKER_ENV.requestsTable]: "requests",
        [WORKER_ENV.auditBucket]: "audit",
        [WORKER_ENV.awsRegion]: "eu-west-1",
        [WORKER_ENV.awsRoleArn]: "arn:aws:iam::111111111111:role/worker",
        [WORKER_ENV.exportsBucket]: "exports",
        [WORKER_ENV.suppressionBucket]: "suppression",
        [WORKER_ENV.registryJson]: JSON.stringify({ cell: "eu", tables: [], prefixes: [] }),
        [WORKER_ENV.cell]: "eu",
      };
      const child = spawn(command[0], [command[1]], { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] });
      proc = child;
      let err = "";
      child.stderr?.on("data", (d: Buffer) => (err += d.toString()));
      const exited = new Promise<never>((_, reject) =>
        child.once("exit", (code) => reject(new Error(`exited ${code}:\n${err}`))),
      );
      const healthy = (async () => {
        for (let i = 0; i < 200; i++) {
          try {
            const res = await fetch(`http://127.0.0.1:${port}/health`);
            return { status: res.status, body: (await res.json()) as unknown };
          } catch {
            await new Promise((r) => setTimeout(r, 100));
          }
        }
        throw new Error(`did not start:\n${err}`);
      })();
      const answer = await Promise.race([healthy, exited]);
      expect(answer).to.deep.equal({ status: 200, body: { ok: true } });
    } finally {
      proc?.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
