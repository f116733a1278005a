import { beforeAll, describe, expect, it } from "vitest";
import { parseBackupJob } from "../../cli/stack/backup-job";
import { evaluateAws, evaluateExample, type AwsEvaluation } from "./support";

/** The AWS stack outputs as `mixstack backup|restore --stack NAME` reads them (cli/stack/). */

function outputsOf(evaluation: AwsEvaluation): Record<string, unknown> {
  // What the Automation API hands the CLI: values only, undefined outputs absent.
  return Object.fromEntries(Object.entries(evaluation.outputs).filter(([, output]) => output.value !== undefined).map(([key, output]) => [key, output.value]));
}

describe("the backupJob of an AWS stack, read by the CLI", () => {
  let example: AwsEvaluation;
  beforeAll(async () => {
    example = await evaluateExample();
  });

  it("is accepted as an AWS job the CLI can run", () => {
    const job = parseBackupJob("aws-example", outputsOf(example));
    expect(job).not.toBeInstanceOf(Error);
    expect(job).toMatchObject({ platform: "aws", containerName: "backup", logStreamPrefix: "mixstack" });
  });

  it("is absent with an external InfluxDB, and the CLI says why instead of asking for a redeploy", async () => {
    const external = await evaluateAws({ influxdb: { external: { url: "https://influx.example.com" } }, influxAdminPassword: "an-admin-password-1" }, ["influxAdminPassword"]);
    const job = parseBackupJob("prod", outputsOf(external));
    expect(job).toBeInstanceOf(Error);
    expect((job as Error).message).toMatch(/^stack prod has no backup job: InfluxDB is external \(https:\/\/influx\.example\.com\): .*its provider's job\./);
  });
});
