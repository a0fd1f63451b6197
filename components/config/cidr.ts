/**
 * IPv4 CIDR blocks of the stack config, parsed exactly: a pattern such as `\d{1,3}(\.\d{1,3}){3}/\d{1,2}`
 * accepts `300.1.2.0/16` and `10.0.0.0/99`, which AWS rejects only at `up` (or, for security group rules,
 * silently normalises to another network).
 */
import { isIPv4 } from "node:net";

export interface Cidr {
  /** The network address as an unsigned 32-bit integer. */
  readonly network: number;
  readonly prefix: number;
}

/**
 * Parses `a.b.c.d/n`. Node's `net.isIPv4` accepts exactly the dotted-quad form (each octet 0-255, no
 * leading zeros, which some parsers read as octal); the prefix is 0-32 in decimal. The address must be the
 * network address of its prefix (RFC 4632 §3.1: the host bits of a prefix are zero), so `10.1.2.3/16` is an
 * error rather than a silent `10.1.0.0/16`.
 * @returns the block, or the reason it is not one
 */
export function parseCidr(text: string): Cidr | { readonly problem: string } {
  const slash = text.indexOf("/");
  const address = slash < 0 ? text : text.slice(0, slash);
  const prefixText = slash < 0 ? "" : text.slice(slash + 1);
  if (!isIPv4(address)) return { problem: `'${text}': '${address}' is not an IPv4 address (four numbers 0-255)` };
  if (!/^(0|[1-9]\d?)$/.test(prefixText) || Number(prefixText) > 32)
    return { problem: `'${text}': the prefix length must be /0 to /32` };
  const prefix = Number(prefixText);
  const value = address.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
  const network = prefix === 0 ? 0 : value - (value % 2 ** (32 - prefix));
  if (network !== value) {
    return {
      problem: `'${text}' has host bits set; the network of a /${prefix} there is ${format(network)}/${prefix}`,
    };
  }
  return { network, prefix };
}

export const isCidr = (c: Cidr | { readonly problem: string }): c is Cidr => !("problem" in c);

function format(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");
}

/** Whether two blocks share an address: either contains the other's network address. */
export function cidrOverlaps(a: Cidr, b: Cidr): boolean {
  const contains = (outer: Cidr, inner: Cidr) => {
    const size = 2 ** (32 - outer.prefix);
    return inner.network >= outer.network && inner.network < outer.network + size;
  };
  return contains(a, b) || contains(b, a);
}
