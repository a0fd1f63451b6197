import { expect } from "chai";
import * as fc from "fast-check";
import { DMS_CAPACITY_UNITS, deriveSizing } from "../../components/config";

describe("sizing derived from scale", () => {
  const table = [
    // transactions/day, events/day, peak, sources -> dms {min,max}, dataflow max workers
    { tx: 1_000_000, ev: 5_000_000, peak: 3, sources: 1, dms: { min: 1, max: 1 }, workers: 2 },
    { tx: 100_000_000, ev: 2_000_000_000, peak: 4, sources: 3, dms: { min: 8, max: 32 }, workers: 47 },
  ];
  for (const row of table) {
    it(`${row.tx} tx/day, ${row.ev} events/day, peak x${row.peak}, ${row.sources} sources`, () => {
      const s = deriveSizing(
        { transactionsPerDay: row.tx, clickstreamEventsPerDay: row.ev, peakFactor: row.peak },
        row.sources,
      );
      expect(s.dmsCapacity).to.deep.equal(row.dms);
      expect(s.dataflowMaxWorkers).to.equal(row.workers);
    });
  }

  it("always yields DMS capacities DMS accepts, min <= max, and sizes that grow with scale (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2_000_000_000 }),
        fc.integer({ min: 1, max: 20_000_000_000 }),
        fc.double({ min: 1, max: 50, noNaN: true }),
        fc.integer({ min: 1, max: 20 }),
        (tx, ev, peak, sources) => {
          const s = deriveSizing({ transactionsPerDay: tx, clickstreamEventsPerDay: ev, peakFactor: peak }, sources);
          const bigger = deriveSizing(
            { transactionsPerDay: tx * 2, clickstreamEventsPerDay: ev * 2, peakFactor: peak },
            sources,
          );
          return (
            (DMS_CAPACITY_UNITS as readonly number[]).includes(s.dmsCapacity.min) &&
            (DMS_CAPACITY_UNITS as readonly number[]).includes(s.dmsCapacity.max) &&
            s.dmsCapacity.min <= s.dmsCapacity.max &&
            bigger.dmsCapacity.max >= s.dmsCapacity.max &&
            bigger.dataflowMaxWorkers >= s.dataflowMaxWorkers &&
            s.athenaBytesScannedCutoff >= 10 * 1024 ** 3 &&
            s.kafkaPartitions % 3 === 0
          );
        },
      ),
    );
  });
});
