/** `lakehouse:sources.apis[]`: defaults filled in, and every mistake reported at once with its key and stack file. */
import { expect } from "chai";
import { parseStackConfig, StackConfigError } from "../../../components/config";
import { readStackConfig } from "../../../tools/plan/stack-config";

const devRaw = (): Record<string, string> => ({ ...readStackConfig("dev").config });

function withApis(apis: unknown[]): Record<string, string> {
  const raw = devRaw();
  const sources = JSON.parse(raw["lakehouse:sources"]) as Record<string, unknown>;
  return { ...raw, "lakehouse:sources": JSON.stringify({ ...sources, apis }) };
}

const minimal = {
  name: "rates",
  cell: "br",
  baseUrl: "https://api.rates.example.com",
  schedule: "rate(15 minutes)",
  cursorField: "updated_at",
};

describe("API source config", () => {
  it("fills every default of a minimal entry", () => {
    const c = parseStackConfig(withApis([minimal]), "Pulumi.dev.yaml");
    expect(c.sources.apis[0]).to.deep.equal({
      ...minimal,
      path: "",
      cursorType: "timestamp",
      sinceParam: "since",
      idField: "id",
      recordsPointer: "/data",
      pagination: { style: "cursor", tokenParam: "cursor", nextTokenPointer: "/next_cursor" },
      pageSize: 100,
      pageSizeParam: "limit",
      requestsPerSecond: 5,
      maxPagesPerRun: 200,
      maxAttempts: 6,
      timeoutSeconds: 600,
      columns: [],
      mergeSchedule: "rate(1 hour)",
      mergeLookbackDays: 3,
    });
  });

  it("reports every problem of every entry together, with its key and the stack file", () => {
    let error: unknown;
    try {
      parseStackConfig(
        withApis([
          { ...minimal, name: "a", baseUrl: "http://api.example.com", schedule: "cron(0 * * * ? *)" },
          { ...minimal, name: "b", maxLagMinutes: 10, auth: { header: "X-Api-Key", scheme: "raw" } },
          { ...minimal, name: "c", schedule: "rate(12 hours)", credentials: "nobody" },
          {
            ...minimal,
            name: "d",
            schedule: "every 5 minutes",
            pagination: { style: "offset" },
            columns: [
              { name: "record_id", type: "string" },
              { name: "amount", type: "money" },
              { name: "status", type: "string" },
              { name: "status", type: "string", field: "/a b" },
            ],
          },
        ]),
        "Pulumi.dev.yaml",
      );
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(StackConfigError);
    const problems = (error as StackConfigError).problems.filter((p) => p.includes("sources.apis"));
    expect(problems).to.have.members([
      "lakehouse:sources.apis[0].baseUrl: must use https",
      "lakehouse:sources.apis[0].maxLagMinutes: is required with a cron(...) schedule",
      "lakehouse:sources.apis[1].maxLagMinutes: 10 minutes is shorter than the schedule's interval (15): the alarm would fire between runs",
      "lakehouse:sources.apis[1].auth: needs credentials (the secret it sends)",
      "lakehouse:sources.apis[2].maxLagMinutes: three intervals of rate(12 hours) exceed a day (a CloudWatch alarm's window): set maxLagMinutes",
      "lakehouse:sources.apis[2].credentials: no entry 'nobody' in lakehouse:sourceCredentials (pulumi config set --path 'lakehouse:sourceCredentials.nobody.username' <user>; pulumi config set --secret --path 'lakehouse:sourceCredentials.nobody.password' <password>)",
      "lakehouse:sources.apis[3].schedule: must be rate(N minutes|hours|days) or cron(6 fields)",
      "lakehouse:sources.apis[3].pagination.style: Invalid discriminator value. Expected 'cursor' | 'next-link' | 'page' | 'since'",
      "lakehouse:sources.apis[3].columns[1].type: must be string, long, double, boolean, date, timestamptz or decimal(P,S)",
      "lakehouse:sources.apis[3].columns[3].field: must be a field name or a JSON pointer of plain names (/a/b)",
    ]);
    expect(String(error)).to.contain("Invalid stack config in Pulumi.dev.yaml");
  });

  it("refuses reserved and duplicate curated column names", () => {
    let error: unknown;
    try {
      parseStackConfig(
        withApis([
          {
            ...minimal,
            columns: [
              { name: "record_id", type: "string" },
              { name: "status", type: "string" },
              { name: "status", type: "string" },
            ],
          },
        ]),
        "Pulumi.dev.yaml",
      );
    } catch (e) {
      error = e;
    }
    expect((error as StackConfigError).problems).to.include.members([
      "lakehouse:sources.apis[0].columns[0].name: 'record_id' is reserved (record_id, record_cursor, source_object)",
      "lakehouse:sources.apis[0].columns[2].name: duplicate column 'status'",
    ]);
  });
});
