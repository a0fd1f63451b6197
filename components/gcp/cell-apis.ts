/**
 * Every Google API a cell enables, once, before any layer: the storage core's, the clickstream's, the
 * subject-rights worker's and the federation's (which depends on the cell's federation mode). The cell's resource transformation
 * (api-requirements.ts) then makes each GCP resource wait for its own API's `projects.Service`.
 */
import type { CellConfig } from "../config/schema";
import { federationServices } from "../federation/federation";
import { CLICKSTREAM_SERVICES } from "./clickstream/clickstream";
import { CORE_SERVICES } from "./project-services";
import { SUBJECT_RIGHTS_SERVICES } from "./rights/subject-rights";

export function cellApis(cell: CellConfig): string[] {
  return [
    ...new Set<string>([
      ...CORE_SERVICES,
      ...CLICKSTREAM_SERVICES,
      ...SUBJECT_RIGHTS_SERVICES,
      ...federationServices(cell),
    ]),
  ].sort();
}
