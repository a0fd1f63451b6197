import { isIP } from "node:net";
import { expect } from "chai";
import fc from "fast-check";
import { transformEvent, validateEvent } from "../../../functions/collector/event";
import { analyticsConsent, Pseudonymiser, type JsonObject, truncateIp } from "../../../functions/collector/privacy";

describe("collector privacy rules", () => {
  describe("truncateIp", () => {
    const table: [string, string | undefined][] = [
      ["203.0.113.77", "203.0.113.0"],
      ["10.0.0.1", "10.0.0.0"],
      ["::ffff:198.51.100.9", "198.51.100.0"],
      ["2001:db8:85a3:1234:5678:8a2e:370:7334", "2001:db8:85a3::"],
      ["2001:db8::1", "2001:db8:0::"],
      ["::1", "0:0:0::"],
      ["fe80::1%eth0", "fe80:0:0::"],
      ["not an ip", undefined],
      ["", undefined],
    ];
    for (const [input, want] of table)
      it(`${JSON.stringify(input)} -> ${String(want)}`, () => expect(truncateIp(input)).to.equal(want));

    it("keeps exactly the /24 of any IPv4 address", () =>
      fc.assert(
        fc.property(fc.ipV4(), (ip) => {
          const out = truncateIp(ip)!;
          expect(out.split(".").slice(0, 3)).to.deep.equal(ip.split(".").slice(0, 3));
          expect(out.endsWith(".0")).to.equal(true);
        }),
      ));

    it("keeps at most the /48 of any IPv6 address, and the result is an IPv6 address", () =>
      fc.assert(
        fc.property(fc.ipV6(), (ip) => {
          const out = truncateIp(ip)!;
          expect(isIP(out)).to.equal(6);
          expect(out.endsWith("::")).to.equal(true);
          expect(out.split(":").filter((g) => g !== "")).to.have.length.at.most(3);
        }),
      ));
  });

  it("HMAC-SHA256 matches RFC 4231 test case 2", () => {
    expect(new Pseudonymiser(Buffer.from("Jefe")).hash("what do ya want for nothing?")).to.equal(
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    );
  });

  describe("analyticsConsent", () => {
    const table: [unknown, string][] = [
      [{ consent: { categoryPreferences: { Analytics: true } } }, "granted"],
      [{ consent: { categoryPreferences: { analytics: true } } }, "granted"],
      [{ consent: { categoryPreferences: { Analytics: "true" } } }, "denied"],
      [{ consent: { categoryPreferences: { Analytics: false } } }, "denied"],
      [{ consent: { categoryPreferences: { Advertising: true } } }, "denied"],
      [{ consent: {} }, "denied"],
      [{}, "denied"],
      [undefined, "denied"],
    ];
    for (const [context, want] of table) {
      it(`${JSON.stringify(context)} -> ${want}`, () =>
        expect(analyticsConsent({ context } as JsonObject, "analytics")).to.equal(want));
    }
  });

  it("without analytics consent, no event carries an identifier, trait, property or IP", () => {
    const p = new Pseudonymiser(Buffer.alloc(32, 7));
    const ev = fc.record({
      type: fc.constantFrom("track", "page", "screen", "identify", "group", "alias"),
      userId: fc.string({ minLength: 1 }),
      anonymousId: fc.string({ minLength: 1 }),
      previousId: fc.string({ minLength: 1 }),
      groupId: fc.string({ minLength: 1 }),
      event: fc.string({ minLength: 1 }),
      properties: fc.dictionary(fc.string(), fc.string()),
      traits: fc.dictionary(fc.string(), fc.string()),
      context: fc.record({
        ip: fc.ipV4(),
        consent: fc.constantFrom(undefined, {}, { categoryPreferences: { Analytics: false } }),
      }),
    });
    fc.assert(
      fc.property(ev, (e) => {
        const event = JSON.parse(JSON.stringify(e)) as JsonObject;
        validateEvent(event, "event");
        const out = transformEvent(
          event,
          p,
          { source: "s", receivedAt: "2024-01-01T00:00:00Z", clientIp: "192.0.2.1" },
          "analytics",
        );
        if (["identify", "group", "alias"].includes(e.type)) {
          expect(out).to.equal(undefined);
          return;
        }
        const o = JSON.parse(out!.data.toString()) as JsonObject;
        for (const f of ["userId", "anonymousId", "previousId", "groupId", "properties", "traits"])
          expect(o).to.not.have.property(f);
        expect(JSON.stringify(o.context ?? {})).to.not.contain("ip");
        expect(o.consent).to.equal("denied");
      }),
    );
  });
});
