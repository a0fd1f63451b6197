/**
 * Imported first by the offline plan's worker (plan/worker.ts) and the policy analyzer's process
 * (policy/serve-pack.ts): `@pulumi/pulumi` loads its closure serializer when it is imported, and the
 * serializer loads TypeScript (`typescript-shim.js`: 9 MB of JavaScript to compile, about a tenth of an
 * offline plan's CPU) for `pulumi.runtime.serializeFunction`, which this program never calls (Lambda
 * code is bundled by esbuild: components/aws/sources/source-function.ts). So these processes register
 * TypeScript's module as a stand-in that loads the real one on first use: a program that did serialize
 * a function would still get the real compiler, one access later.
 */
import Module from "node:module";

const file = require.resolve("typescript");
let real: Record<string | symbol, unknown> | undefined;
const load = (): Record<string | symbol, unknown> => {
  if (real === undefined) {
    delete require.cache[file];
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    real = require(file) as Record<string | symbol, unknown>;
  }
  return real;
};

const INTEROP_KEYS: ReadonlySet<string | symbol> = new Set(["__esModule", "module.exports"]);

const standIn = new Module(file);
standIn.filename = file;
standIn.loaded = true;
standIn.exports = new Proxy(
  {},
  {
    get: (_t, key) => load()[key],
    has: (_t, key) => key in load(),
    ownKeys: () => Reflect.ownKeys(load()),
    getOwnPropertyDescriptor: (target, key) => {
      // tsx looks at every CommonJS module's exports once it is loaded (`__esModule`, and it defines a
      // `module.exports` key for ES module interop); TypeScript's exports have neither
      // (test/foundation/lazy-typescript.test.ts), so those answers need no compiler.
      if (real === undefined && INTEROP_KEYS.has(key)) return Reflect.getOwnPropertyDescriptor(target, key);
      const d = Reflect.getOwnPropertyDescriptor(load(), key);
      return d && { ...d, configurable: true };
    },
  },
);
require.cache[file] = standIn;

/** Whether the real TypeScript was loaded (for the test that keeps this stand-in honest). */
export const typescriptLoaded = (): boolean => real !== undefined;
