/** The stack config namespace this program reads (`lakehouse:<key>`); every problem's key starts with it. */
export const NAMESPACE = "lakehouse";

/** `lakehouse-<environment>`: the start of every physical name of the stack. */
export function stackPrefix(environment: string): string {
  return `lakehouse-${environment}`;
}

/** `lakehouse-<environment>-<cell>`: the start of every physical name of a cell. */
export function cellPrefix(environment: string, cell: string): string {
  return `${stackPrefix(environment)}-${cell}`;
}
