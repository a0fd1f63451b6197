/** Rule metadata: every rule cites both laws, has a severity and remediation in full sentences. */
import { expect } from "chai";
import { rules } from "../../policy/policies";

describe("policy pack: metadata", () => {
  it("has unique kebab-case names", () => {
    const names = rules.map((r) => r.name);
    expect(new Set(names).size).to.equal(names.length);
    for (const n of names) expect(n).to.match(/^[a-z0-9]+(-[a-z0-9]+)*$/);
  });

  for (const r of rules) {
    it(`${r.name}: cites GDPR and LGPD, has a severity, remediation in sentences and resource types`, () => {
      expect(
        r.articles.some((a) => a.law === "GDPR"),
        "GDPR",
      ).to.equal(true);
      expect(
        r.articles.some((a) => a.law === "LGPD"),
        "LGPD",
      ).to.equal(true);
      for (const a of r.articles) expect(a.article).to.match(/^Art\. \d+/);
      expect(["low", "medium", "high", "critical"]).to.include(r.severity);
      const sentences = r.remediation.split(/(?<=\.)\s+(?=[A-Z])/);
      for (const s of sentences) expect(s, r.remediation).to.match(/^[A-Z].*[.]$/);
      expect(r.resourceTypes.length).to.be.greaterThan(0);
    });
  }
});
