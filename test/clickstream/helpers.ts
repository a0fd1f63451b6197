/**
 * The typed, validated config of a repository stack, as index.ts sees it (secure values are placeholders).
 */
import { parseStackConfig, type LakehouseConfig } from "../../components/config";
import { readStackConfig } from "../../tools/plan/stack-config";

export function loadStackConfig(stack: string): LakehouseConfig {
  const { config, stackFile } = readStackConfig(stack);
  return parseStackConfig(config, stackFile);
}
