/**
 * The build cache (components/build-cache.ts): what the program builds while it is evaluated is
 * reused only while every file it was built from is unchanged, and is the same as a fresh build.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { cachedBuild, cacheKey } from "../../components/build-cache";
import { bundleFunction } from "../../components/aws/sources/source-function";
import { transpile } from "../../components/gcp/source-archive";

describe("build cache", () => {
  const saved = process.env.LAKEHOUSE_BUILD_CACHE;
  let dir: string;
  let input: string;
  let builds: number;
  const build = () => {
    builds++;
    return { output: `built from ${fs.readFileSync(input, "utf8")}`, inputs: [input] };
  };

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "lakehouse-build-cache-"));
    input = path.join(dir, "input.ts");
    fs.writeFileSync(input, "one");
    process.env.LAKEHOUSE_BUILD_CACHE = path.join(dir, "cache");
    builds = 0;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.LAKEHOUSE_BUILD_CACHE;
    else process.env.LAKEHOUSE_BUILD_CACHE = saved;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("builds once, then answers from the cache while the inputs are unchanged", () => {
    expect(cachedBuild("t", "k", build)).to.equal("built from one");
    expect(cachedBuild("t", "k", build)).to.equal("built from one");
    expect(builds).to.equal(1);
  });

  it("rebuilds when an input changed, and when the entry is unreadable", () => {
    cachedBuild("t", "k", build);
    fs.writeFileSync(input, "two");
    expect(cachedBuild("t", "k", build)).to.equal("built from two");
    expect(builds).to.equal(2);
    fs.writeFileSync(path.join(dir, "cache", "t", "k.json"), "{ half an entr");
    expect(cachedBuild("t", "k", build)).to.equal("built from two");
    expect(builds).to.equal(3);
  });

  it("rebuilds when an input is gone, and builds every time when turned off", () => {
    cachedBuild("t", "k", build);
    fs.renameSync(input, `${input}.moved`);
    expect(() => cachedBuild("t", "k", build)).to.throw(/ENOENT/);
    fs.renameSync(`${input}.moved`, input);
    process.env.LAKEHOUSE_BUILD_CACHE = "off";
    cachedBuild("t", "k", build);
    cachedBuild("t", "k", build);
    expect(builds).to.equal(4);
  });

  it("keys on every part, unambiguously", () => {
    expect(cacheKey("ab", "c")).to.not.equal(cacheKey("a", "bc"));
    expect(cacheKey("a", "b")).to.equal(cacheKey("a", "b"));
  });

  it("a cached Lambda bundle and a cached transpiled module are the fresh builds", function () {
    this.timeout(60_000);
    const collector = path.join(__dirname, "..", "..", "functions", "collector");
    process.env.LAKEHOUSE_BUILD_CACHE = "off";
    const freshBundle = bundleFunction("functions/api-puller/index.ts");
    const freshModule = transpile(collector, "server.ts");
    process.env.LAKEHOUSE_BUILD_CACHE = path.join(dir, "cache");
    for (let i = 0; i < 2; i++) {
      expect(bundleFunction("functions/api-puller/index.ts")).to.equal(freshBundle);
      expect(transpile(collector, "server.ts")).to.equal(freshModule);
    }
    const entries = (kind: string) => fs.readdirSync(path.join(dir, "cache", kind)).length;
    expect([entries("bundle"), entries("transpile")]).to.deep.equal([1, 1]);
    // A bundle is checked against every file esbuild read and the lock file.
    const bundleEntry = fs.readdirSync(path.join(dir, "cache", "bundle"))[0];
    const recorded = Object.keys(
      (JSON.parse(fs.readFileSync(path.join(dir, "cache", "bundle", bundleEntry), "utf8")) as { inputs: object })
        .inputs,
    ).map((f) => path.relative(path.join(__dirname, "..", ".."), f));
    expect(recorded).to.include.members(["functions/api-puller/index.ts", "package-lock.json"]);
    expect(freshModule).to.match(/require\(/); // CommonJS, as the service's tsconfig.build.json asks
  });
});
