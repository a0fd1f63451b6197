/** CDC merge: DMS change files -> Iceberg tables. See README.md for the semantics. */
export * from "./spec";
export * from "./merge-sql";
export * from "./files";
export * from "./cloud-config";
export * from "./pseudonymise";
export * from "./suppression";
export {
  CdcInputError,
  CdcValidationError,
  DuckDbCdcApplier,
  UnknownColumnError,
  explainLine,
  jsonSafe,
  readFileSchemas,
  readParquetSchema,
  schemaProblems,
  typeFamily,
  replayFiles,
  specFromSchema,
  type ApplyOptions,
  type BatchResult,
  type ColumnTypes,
  type FileSchema,
  type JsonRow,
  type ReplayOptions,
  type ReplayResult,
} from "./duckdb-applier";
