/**
 * policy/deserialize-once.ts: the served pack decodes a resource's properties once per request instead of
 * once per policy. The answers stay those of the plain server (in-process.test.ts holds the served pack to
 * the in-process one, gate.test.ts and first-preview.test.ts to the repository plans' results); here: the
 * memo itself, and that @pulumi/policy's server still calls through the export it replaces.
 */
import * as fs from "node:fs";
import { expect } from "chai";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { memoizeDeserialization } from "../../policy/deserialize-once";

/* eslint-disable @typescript-eslint/no-require-imports */
const deserialize = require("@pulumi/policy/deserialize") as {
  deserializeProperties(struct: object, proxySecrets: boolean): Record<string, unknown>;
};
/* eslint-enable @typescript-eslint/no-require-imports */

const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const SIG_KEY = "4dabf18193072939515e22adb298388d";

describe("policy pack: one deserialization per request", () => {
  it("decodes a Struct once, a different Struct again, and never memoizes the secret-keeping form", () => {
    const calls: Array<[object, boolean]> = [];
    const module = {
      deserializeProperties: (struct: object, proxySecrets: boolean): Record<string, unknown> => {
        calls.push([struct, proxySecrets]);
        return { decoded: calls.length };
      },
    };
    memoizeDeserialization(module);
    const a = {};
    const b = {};
    const first = module.deserializeProperties(a, false);
    expect(module.deserializeProperties(a, false)).to.equal(first);
    expect(module.deserializeProperties(b, false)).to.not.equal(first);
    expect(module.deserializeProperties(a, true)).to.not.equal(module.deserializeProperties(a, true));
    expect(calls).to.deep.equal([
      [a, false],
      [b, false],
      [a, true],
      [a, true],
    ]);
    // Wrapping again (the module imported twice) adds no second layer.
    const once = module.deserializeProperties;
    memoizeDeserialization(module);
    expect(module.deserializeProperties).to.equal(once);
  });

  it("is installed on @pulumi/policy's module and returns what the server's own function returns", () => {
    const struct = Struct.fromJavaScript({
      bucket: "lakehouse-raw",
      tags: { data_class: "personal" },
      versions: [1, 2],
      password: { [SIG_KEY]: SECRET_SIG, value: "s3cr3t" },
    });
    const props = deserialize.deserializeProperties(struct, false);
    // The secret is unwrapped as the server unwraps it for every policy.
    expect(props).to.deep.equal({
      bucket: "lakehouse-raw",
      tags: { data_class: "personal" },
      versions: [1, 2],
      password: "s3cr3t",
    });
    expect(deserialize.deserializeProperties(struct, false), "the memo serves the same Struct").to.equal(props);
    expect(deserialize.deserializeProperties(Struct.fromJavaScript({ bucket: "x" }), false)).to.deep.equal({
      bucket: "x",
    });
  });

  it("is what the server calls: server.js reads deserializeProperties from the module's exports at each call", () => {
    const server = fs.readFileSync(require.resolve("@pulumi/policy/server"), "utf8");
    expect(server).to.include('const deserialize_1 = require("./deserialize");');
    // analyze, analyzeStack and the provider lookup: through the export, with secrets unwrapped.
    const calls = server.match(/deserialize_1\.deserializeProperties\([^;]*, false\)/g) ?? [];
    expect(calls, "the three decodings of analyze, analyzeStack and getProviderResource").to.have.length(3);
    // Nothing else holds the original function (a destructured import would bypass the memo).
    expect(server).to.not.match(/\{\s*deserializeProperties\s*\}\s*=/);
  });
});
