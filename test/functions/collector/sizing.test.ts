import { expect } from "chai";
import fc from "fast-check";
import { collectorInstances, MEASURED_EVENTS_PER_SECOND_PER_INSTANCE } from "../../../functions/collector/index";

describe("collectorInstances", () => {
  const table: { name: string; input: Parameters<typeof collectorInstances>[0]; want: { min: number; max: number } }[] =
    [
      // 864M/day = 10,000/s average; peak 30,000/s; ×1.5 headroom = 45,000 / 5,000 = 9.
      {
        name: "prod-like",
        input: { eventsPerDay: 864_000_000, peakFactor: 3, measuredEventsPerSecondPerInstance: 5_000, headroom: 1.5 },
        want: { min: 2, max: 9 },
      },
      // 8.64M/day = 100/s: everything fits one instance.
      {
        name: "dev-like",
        input: { eventsPerDay: 8_640_000, peakFactor: 4, measuredEventsPerSecondPerInstance: 5_000 },
        want: { min: 1, max: 1 },
      },
      {
        name: "no traffic keeps the floor",
        input: { eventsPerDay: 0, peakFactor: 1, measuredEventsPerSecondPerInstance: 5_000, minFloor: 2 },
        want: { min: 2, max: 2 },
      },
      {
        name: "scale to zero allowed",
        input: { eventsPerDay: 0, peakFactor: 1, measuredEventsPerSecondPerInstance: 5_000, minFloor: 0 },
        want: { min: 0, max: 1 },
      },
      // 8.64B/day = 100,000/s; peak ×2 = 200,000 × 1.2 = 240,000 / 12,000 = 20; min = ceil(100,000/12,000) = 9.
      {
        name: "billions per day",
        input: {
          eventsPerDay: 8_640_000_000,
          peakFactor: 2,
          measuredEventsPerSecondPerInstance: 12_000,
          headroom: 1.2,
        },
        want: { min: 9, max: 20 },
      },
    ];
  for (const t of table) it(t.name, () => expect(collectorInstances(t.input)).to.deep.equal(t.want));

  it("rejects impossible inputs", () => {
    expect(() =>
      collectorInstances({ eventsPerDay: 1, peakFactor: 0.5, measuredEventsPerSecondPerInstance: 1 }),
    ).to.throw(RangeError, /peakFactor/);
    expect(() =>
      collectorInstances({ eventsPerDay: -1, peakFactor: 1, measuredEventsPerSecondPerInstance: 1 }),
    ).to.throw(RangeError, /eventsPerDay/);
    expect(() =>
      collectorInstances({ eventsPerDay: 1, peakFactor: 1, measuredEventsPerSecondPerInstance: 0 }),
    ).to.throw(RangeError, /measured/);
    expect(() =>
      collectorInstances({ eventsPerDay: 1, peakFactor: 1, measuredEventsPerSecondPerInstance: 1, headroom: 0.9 }),
    ).to.throw(RangeError, /headroom/);
  });

  it("defaults to the benchmark's measured figure", () => {
    expect(MEASURED_EVENTS_PER_SECOND_PER_INSTANCE).to.be.greaterThan(0);
    const day = 86_400 * MEASURED_EVENTS_PER_SECOND_PER_INSTANCE;
    expect(collectorInstances({ eventsPerDay: day, peakFactor: 1, headroom: 1 })).to.deep.equal({ min: 1, max: 1 });
  });

  it("always: 0 ≤ min ≤ max, max ≥ 1, and capacity at max covers the peak with headroom", () =>
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10 ** 11 }),
        fc.double({ min: 1, max: 50, noNaN: true }),
        fc.integer({ min: 100, max: 100_000 }),
        fc.double({ min: 1, max: 3, noNaN: true }),
        (eventsPerDay, peakFactor, measured, headroom) => {
          const { min, max } = collectorInstances({
            eventsPerDay,
            peakFactor,
            measuredEventsPerSecondPerInstance: measured,
            headroom,
          });
          expect(min).to.be.at.least(0).and.at.most(max);
          expect(max).to.be.at.least(1);
          expect(max * measured).to.be.at.least((eventsPerDay / 86_400) * peakFactor * headroom - 1e-6);
        },
      ),
    ));
});
