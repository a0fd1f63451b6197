export * from "./jurisdictions";
export * from "./schema";
export * from "./validate";
export * from "./sizing";
export * from "./load";
export * from "./spec";
