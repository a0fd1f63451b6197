/**
 * The deck's pure parts: schedules in words, the list-price model's sources, and growth by cells held to
 * the validation's own service limits.
 */
import { expect } from "chai";
import { scaleLimitProblems } from "../../components/config/cell-limits";
import type { Scale } from "../../components/config/schema";
import { humanSchedule } from "../../tools/deck/facts";
import { cellsNeeded, costAt, PRICES } from "../../tools/deck/prices";

describe("deck: schedules, prices and growth", () => {
  it("writes schedules in words, and leaves what it cannot read as written", () => {
    const cases: [string, string][] = [
      ["rate(1 hour)", "hourly"],
      ["rate(15 minutes)", "every 15 min"],
      ["rate(1 day)", "daily"],
      ["cron(0/15 * * * ? *)", "every 15 min"],
      ["cron(30 1 * * ? *)", "daily 01:30 UTC"],
      ["0 * * * *", "hourly"],
      ["*/5 * * * *", "every 5 min"],
      ["cron(0 3 ? * SUN *)", "cron(0 3 ? * SUN *)"],
      ["@weekly", "@weekly"],
    ];
    for (const [expr, words] of cases) expect(humanSchedule(expr), expr).to.equal(words);
  });

  it("names a source page and the date read for every price, and says which are estimates", () => {
    for (const [name, p] of Object.entries(PRICES)) {
      expect(p.source, name).to.match(/^https:\/\/(aws\.amazon\.com|cloud\.google\.com)\//);
      expect(p.read, name).to.match(/^\d{4}-\d{2}-\d{2}$/);
      expect(p.usd, name).to.be.greaterThan(0);
      // A price called verified names what it was checked against.
      const checked: string | undefined = "checkedAgainst" in p ? p.checkedAgainst : undefined;
      expect(p.verified ? checked : "not verified", name).to.match(/^(https:\/\/|not verified)/);
    }
  });

  const prod: Scale = { transactionsPerDay: 100_000_000, clickstreamEventsPerDay: 2_000_000_000, peakFactor: 4 };

  it("splits a jurisdiction over the fewest cells in which no service limit binds", () => {
    for (const multiple of [1, 10, 30, 100]) {
      const grown = {
        ...prod,
        transactionsPerDay: prod.transactionsPerDay * multiple,
        clickstreamEventsPerDay: prod.clickstreamEventsPerDay * multiple,
      };
      const k = cellsNeeded(grown, 3);
      const share = (n: number): Scale => ({
        ...grown,
        transactionsPerDay: grown.transactionsPerDay / n,
        clickstreamEventsPerDay: grown.clickstreamEventsPerDay / n,
      });
      expect(scaleLimitProblems(share(k), 3), `${multiple}×`).to.deep.equal([]);
      if (k > 1) expect(scaleLimitProblems(share(k - 1), 3), `${multiple}×`).to.not.deep.equal([]);
    }
    expect(cellsNeeded(prod, 3)).to.equal(1);
  });

  it("prices 10× and 100× with more cells and more cost, each line from its quantity", () => {
    const [one, ten, hundred] = [1, 10, 100].map((m) => costAt(m, prod, 2, 3, 395));
    expect(one.cells).to.equal(2);
    expect(hundred.cells).to.equal(2 * hundred.cellsPerJurisdiction);
    expect(hundred.cellsPerJurisdiction).to.be.greaterThan(1);
    expect(ten.totalUsdPerMonth).to.be.greaterThan(one.totalUsdPerMonth);
    expect(hundred.totalUsdPerMonth).to.be.greaterThan(ten.totalUsdPerMonth);
    for (const c of [one, ten, hundred]) {
      expect(c.totalUsdPerMonth).to.be.closeTo(
        c.lines.reduce((s, l) => s + l.usdPerMonth, 0),
        1e-6,
      );
    }
    // Pub/Sub: publish + subscribe bytes of a month of events at the list price per TiB.
    const pubsub = one.lines.find((l) => l.component === "Pub/Sub")!;
    const bytes = 2 * prod.clickstreamEventsPerDay * 30.4 * 2 * 1_000;
    expect(pubsub.usdPerMonth).to.be.closeTo((bytes / 1024 ** 4) * PRICES.pubsubThroughput.usd, 1);
  });
});
