/**
 * The contract between the program and the policy pack: the facts both need, written once. It lives
 * inside the pack (which is published on its own and may import nothing from outside `policy/`), and
 * the program imports it from here. It has no dependencies. `test/policy/contract.test.ts` fails if one
 * of these facts is written again elsewhere.
 */
export * from "./erasure";
export * from "./erasure-bounds";
export * from "./jurisdictions";
export * from "./stateful";
export * from "./tags";
