/**
 * `lakehouse:sources.csvFeeds` in stack config: the defaults a feed gets, and every mistake in a feed
 * reported at once with its key and the stack file.
 */
import { expect } from "chai";
import { parseStackConfig, StackConfigError } from "../../../components/config";
import { readStackConfig } from "../../../tools/plan/stack-config";

type Raw = Record<string, string>;

/** The dev stack's config with its csvFeeds replaced. */
function withFeeds(feeds: unknown[]): Raw {
  const raw: Raw = { ...readStackConfig("dev").config };
  const sources = JSON.parse(raw["lakehouse:sources"]) as Record<string, unknown>;
  sources.csvFeeds = feeds;
  return { ...raw, "lakehouse:sources": JSON.stringify(sources) };
}

function problemsOf(raw: Raw): string[] {
  try {
    parseStackConfig(raw, "Pulumi.dev.yaml", readStackConfig("dev").secretKeys);
  } catch (e) {
    expect(e).to.be.instanceOf(StackConfigError);
    expect((e as Error).message).to.match(/^Invalid stack config in Pulumi\.dev\.yaml /);
    return [...(e as StackConfigError).problems];
  }
  throw new Error("the config was accepted");
}

const FEED = {
  name: "supplier-prices",
  cell: "br",
  key: ["sku"],
  columns: [
    { name: "sku", type: "string" },
    { name: "price", type: "decimal" },
  ],
};

describe("CSV feeds in stack config", () => {
  it("fills in the documented defaults", () => {
    const config = parseStackConfig(withFeeds([FEED]), "Pulumi.dev.yaml", readStackConfig("dev").secretKeys);
    expect(config.sources.csvFeeds[0]).to.deep.equal({
      ...FEED,
      delimiter: ",",
      header: true,
      encoding: "utf-8",
      requireFinalNewline: true,
      maxFileMiB: 4096,
      columns: [
        { name: "sku", type: "string", nullable: true, pii: false },
        { name: "price", type: "decimal", nullable: true, pii: false },
      ],
    });
  });

  it("reports every mistake of every feed at once, each with its key", () => {
    const problems = problemsOf(
      withFeeds([
        {
          ...FEED,
          delimiter: '"',
          encoding: "ebcdic",
          key: ["nope", "email"],
          columns: [
            { name: "sku", type: "string" },
            { name: "SKU", type: "string" },
            { name: "email", type: "string", pii: true },
            { name: "qty", type: "int", precision: 4 },
            { name: "price", type: "decimal", precision: 4, scale: 6 },
          ],
          maxFileMiB: 8192,
        },
        { name: "no-key", cell: "br", columns: [{ name: "a", type: "varchar" }] },
      ]),
    );
    const ours = problems.filter((p) => p.startsWith("lakehouse:sources.csvFeeds"));
    const expected = [
      "lakehouse:sources.csvFeeds[0].delimiter: must not be a double quote or a line break",
      "lakehouse:sources.csvFeeds[0].encoding:",
      "lakehouse:sources.csvFeeds[0].maxFileMiB:",
      "lakehouse:sources.csvFeeds[1].key:",
      "lakehouse:sources.csvFeeds[1].columns[0].type:",
    ];
    for (const e of expected)
      expect(
        ours.some((p) => p.startsWith(e)),
        `${e} in\n${ours.join("\n")}`,
      ).to.equal(true);
    // The cross-field checks run once the fields parse: a feed whose fields are valid.
    const crossField = problemsOf(
      withFeeds([
        {
          ...FEED,
          key: ["nope", "email"],
          columns: [
            { name: "sku", type: "string" },
            { name: "SKU", type: "string" },
            { name: "email", type: "string", pii: true },
            { name: "qty", type: "int", precision: 4 },
            { name: "price", type: "decimal", precision: 4, scale: 6 },
          ],
        },
      ]),
    ).filter((p) => p.startsWith("lakehouse:sources.csvFeeds"));
    expect(crossField).to.deep.equal([
      "lakehouse:sources.csvFeeds[0].columns[1].name: duplicate column 'sku' (case-insensitive)",
      "lakehouse:sources.csvFeeds[0].key[0]: 'nope' is not a column of the feed",
      "lakehouse:sources.csvFeeds[0].key[1]: 'email' is a pii column; the key reaches the curated table",
      "lakehouse:sources.csvFeeds[0].columns[3]: precision and scale are for decimal columns only",
      "lakehouse:sources.csvFeeds[0].columns[4].scale: must not exceed precision",
    ]);
  });
});
