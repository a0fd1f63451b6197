/**
 * A br cell routed through a non-Brazilian Omni region is refused twice: by config validation
 * (config-and-sql.test.ts) and, should such resources be declared anyway, by the policy pack's residency
 * rule on what the Omni path creates (the connection and the federated dataset in `aws-us-east-1`).
 */
import { expect } from "chai";
import { closeSession, gate, lines, mutate, planBaseline } from "../policy/helpers";
import type { ResourceInput } from "../../tools/policy/requests";

describe("policy pack on a br cell federated through Omni", () => {
  after(closeSession);

  it("rejects the Omni connection and the Glue-federated dataset outside Brazil", async () => {
    const base = mutate(await planBaseline(), "br-lake-connection", (i) => {
      i.location = "aws-us-east-1";
      delete i.cloudResource;
      i.aws = { accessRole: { iamRoleId: "arn:aws:iam::222222222222:role/lakehouse-prod-br-bigquery-omni" } };
    });
    const connection = base.find((r) => r.name === "br-lake-connection")!;
    const dataset: ResourceInput = {
      ...connection,
      urn: connection.urn.replace(
        "gcp:bigquery/connection:Connection::br-lake-connection",
        "gcp:bigquery/dataset:Dataset::br-omni-lake",
      ),
      type: "gcp:bigquery/dataset:Dataset",
      name: "br-omni-lake",
      inputs: {
        datasetId: "lake",
        location: "aws-us-east-1",
        externalDatasetReference: {
          externalSource: "aws-glue://arn:aws:glue:sa-east-1:222222222222:database/prod_br_curated",
          connection: "projects/acme-br/locations/aws-us-east-1/connections/lakehouse_prod_br_omni",
        },
      },
      propertyDependencies: {},
      dependencies: [],
    };
    const result = await gate([...base, dataset]);
    const residency = lines(result.diagnostics).filter((l) => l.startsWith("resource-residency"));
    expect(residency).to.deep.equal([
      "resource-residency: gcp:bigquery/connection:Connection 'br-lake-connection' is in 'aws-us-east-1' (location), outside jurisdiction 'br' (LGPD); allowed GCP locations: southamerica-east1.",
      "resource-residency: gcp:bigquery/dataset:Dataset 'br-omni-lake' is in 'aws-us-east-1' (location), outside jurisdiction 'br' (LGPD); allowed GCP locations: southamerica-east1.",
    ]);
  });
});
