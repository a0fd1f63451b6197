/**
 * The loader's CloudWatch metrics (embedded metric format, handler.ts): `QuarantinedFiles`, `LoadedFiles`
 * and `LoadedRows` per feed. Kept apart from the handler so the component reads the names without
 * importing the AWS SDK at plan time.
 */
export const METRIC_NAMESPACE = "Lakehouse/CsvFeeds";
export const METRIC_DIMENSION = "Feed";
