/**
 * Node's arguments for a child process that runs a TypeScript entry point (plan workers, the served pack,
 * the CLIs and servers the tests start): tsx's CommonJS loader only, as mocha loads the tests
 * (.mocharc.json). The project compiles to CommonJS; `--import tsx` would also start tsx's ES module loader
 * in a thread of its own, about a quarter of a CPU-second per process (ADR 0016, decision 11).
 */
export const TSX_NODE_ARGS: readonly string[] = ["--require", "tsx/cjs"];
