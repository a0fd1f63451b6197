import { expect } from "chai";
import { ConfigError, loadConfig, parseWriteKeys } from "../../../functions/collector/config";

const KEY = "8f1c3a5e7b9d0f2143658709badcfe1032547698a0b1c2d3e4f5061728394a5b";

describe("collector configuration", () => {
  it("reports every missing or bad variable at once", () => {
    let err: unknown;
    try {
      loadConfig({ COLLECTOR_HMAC_KEY: "abcd", PORT: "http" });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(ConfigError);
    const msg = (err as Error).message;
    for (const name of [
      "GOOGLE_CLOUD_PROJECT",
      "COLLECTOR_TOPIC",
      "COLLECTOR_WRITE_KEYS",
      "COLLECTOR_HMAC_KEY",
      "PORT",
    ])
      expect(msg).to.contain(name);
  });

  it("reads a complete environment with defaults", () => {
    const c = loadConfig({
      GOOGLE_CLOUD_PROJECT: "p",
      COLLECTOR_TOPIC: "t",
      COLLECTOR_WRITE_KEYS: "k1=web, k2",
      COLLECTOR_HMAC_KEY: KEY,
    });
    expect(c.port).to.equal(8080);
    expect(c.host).to.equal("0.0.0.0");
    expect(c.hmacKey.length).to.equal(32);
    expect([...c.writeKeys]).to.deep.equal([
      ["k1", "web"],
      ["k2", "default"],
    ]);
    expect(c.consentCategory).to.equal("analytics");
    expect(c.corsOrigins).to.deep.equal(["*"]);
  });

  it("accepts a base64 key of 32 bytes", () => {
    const b64 = Buffer.from(KEY, "hex").toString("base64");
    const c = loadConfig({
      GOOGLE_CLOUD_PROJECT: "p",
      COLLECTOR_TOPIC: "t",
      COLLECTOR_WRITE_KEYS: "k",
      COLLECTOR_HMAC_KEY: b64,
    });
    expect(c.hmacKey.toString("hex")).to.equal(KEY);
  });

  it("reads a hex key with a trailing newline (a secret file) as hex, not as base64", () => {
    const c = loadConfig({
      GOOGLE_CLOUD_PROJECT: "p",
      COLLECTOR_TOPIC: "t",
      COLLECTOR_WRITE_KEYS: "k",
      COLLECTOR_HMAC_KEY: `${KEY}\n`,
    });
    expect(c.hmacKey.toString("hex")).to.equal(KEY);
  });

  it("parses write keys", () => {
    expect([...parseWriteKeys(" a=web ,,b=ios,c")]).to.deep.equal([
      ["a", "web"],
      ["b", "ios"],
      ["c", "default"],
    ]);
  });
});
