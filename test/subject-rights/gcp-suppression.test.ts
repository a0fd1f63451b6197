/**
 * The GCS suppression object (issue 14, item 4) through the real `@google-cloud/storage` client against
 * the loopback fake: pseudonyms land once, sorted; a re-run writes nothing; concurrent writers both land
 * (the loser's 412 is merged again); a corrupt object is refused, not read as a shorter list.
 */
import { expect } from "chai";
import { createHash } from "node:crypto";
import { SuppressionFormatError } from "../../functions/collector/suppression";
import { SUPPRESSION_OBJECT } from "../../functions/subject-rights/registry";
import { SuppressionObject, formatSuppressionList } from "../../functions/subject-rights/suppression";
import { FakeGcs } from "./fake-gcs";

const BUCKET = "lake-eu-suppression";

/** A pseudonym-shaped value (64 lower-case hex). */
export function pseudo(s: string): string {
  return createHash("sha256").update(s).digest("hex");
}

describe("subject rights: GCS suppression object", () => {
  let gcs: FakeGcs;
  let endpoint: string;
  const client = () => new SuppressionObject(BUCKET, { apiEndpoint: endpoint, projectId: "test-project" });

  beforeEach(async () => {
    gcs = new FakeGcs();
    endpoint = await gcs.start();
  });
  afterEach(() => gcs.close());

  it("creates the object with the pseudonyms sorted, once; a re-run writes nothing", async () => {
    const [a, b] = [pseudo("alice"), pseudo("bob")];
    const first = await client().add([b, a, b]);
    expect(first).to.deep.equal({ added: 2, total: 2, conflicts: 0 });
    expect(gcs.text(BUCKET, SUPPRESSION_OBJECT)).to.equal([a, b].sort().join("\n") + "\n");
    // Created with ifGenerationMatch=0: it could not have overwritten an object made meanwhile.
    expect(gcs.calls.filter((c) => c.startsWith("UPLOAD"))).to.deep.equal([
      `UPLOAD ${BUCKET}/${SUPPRESSION_OBJECT} ifGenerationMatch=0`,
    ]);
    const generation = gcs.objects.get(`${BUCKET}/${SUPPRESSION_OBJECT}`)!.generation;

    const again = await client().add([a, b]);
    expect(again).to.deep.equal({ added: 0, total: 2, conflicts: 0 });
    expect(gcs.objects.get(`${BUCKET}/${SUPPRESSION_OBJECT}`)!.generation).to.equal(generation);
    expect(gcs.calls.filter((c) => c.startsWith("UPLOAD"))).to.have.length(1);
  });

  it("merges into the existing list under the generation it read", async () => {
    const existing = gcs.put(BUCKET, SUPPRESSION_OBJECT, formatSuppressionList([pseudo("carol")]));
    const r = await client().add([pseudo("dave")]);
    expect(r).to.deep.equal({ added: 1, total: 2, conflicts: 0 });
    expect(gcs.calls).to.include(`UPLOAD ${BUCKET}/${SUPPRESSION_OBJECT} ifGenerationMatch=${existing.generation}`);
    expect((await client().read()).pseudonyms).to.deep.equal([pseudo("carol"), pseudo("dave")].sort());
  });

  it("a writer that lost the race gets 412, reads again and lands on top of the winner", async () => {
    const mine = pseudo("erin");
    const theirs = pseudo("frank");
    // Another worker's write lands after this one read the object and before its write.
    gcs.beforeWrite = async () => {
      gcs.put(BUCKET, SUPPRESSION_OBJECT, formatSuppressionList([theirs]));
    };
    const r = await client().add([mine]);
    expect(r.conflicts).to.equal(1);
    expect(r.added).to.equal(1);
    expect((await client().read()).pseudonyms).to.deep.equal([mine, theirs].sort());
  });

  it("five concurrent writers: every pseudonym lands", async () => {
    const sets = [0, 1, 2, 3, 4].map((i) => [pseudo(`w${i}-a`), pseudo(`w${i}-b`)]);
    const results = await Promise.all(sets.map((s) => client().add(s)));
    const all = sets.flat().sort();
    expect((await client().read()).pseudonyms).to.deep.equal(all);
    // They all read generation 0 before anyone wrote: at least one had to retry.
    expect(results.reduce((n, r) => n + r.conflicts, 0)).to.be.greaterThan(0);
    expect(results.reduce((n, r) => n + r.added, 0)).to.equal(all.length);
  });

  it("refuses an object that is not a suppression list (the last good list stays in force elsewhere)", async () => {
    gcs.put(BUCKET, SUPPRESSION_OBJECT, `${pseudo("x")}\nalice@example.com\n`);
    let caught: unknown;
    await client()
      .add([pseudo("y")])
      .catch((e: unknown) => (caught = e));
    expect(caught).to.be.instanceOf(SuppressionFormatError);
    expect((caught as Error).message).to.match(/^line 2: not a pseudonym/);
    expect(gcs.calls.filter((c) => c.startsWith("UPLOAD"))).to.have.length(0);
  });

  it("rejects a pseudonym that is not 64 lower-case hex before writing anything", () => {
    expect(() => formatSuppressionList(["ABC"])).to.throw(SuppressionFormatError);
  });
});
