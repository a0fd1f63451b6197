/**
 * What each jurisdiction allows: regions on both clouds, legal ceilings and floors. The table lives in
 * the contract the program shares with the policy pack (`policy/contract/jurisdictions.ts`); this
 * module re-exports it for the program's config layer.
 */
export {
  BIGQUERY_FAIL_SAFE_DAYS,
  DATA_CLASSES,
  JURISDICTIONS,
  OMNI_AWS_REGIONS,
  RETENTION_CEILING_DAYS,
  TIME_TRAVEL_HOURS,
  gcpLocationsOf,
  type DataClass,
  type Jurisdiction,
  type JurisdictionId,
} from "../../policy/contract";
