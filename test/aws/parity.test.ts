import { describe, expect, it } from "vitest";
import { readStackFile } from "../../cli/graph/stack-file";
import { evaluateStack } from "../../cli/graph/program";
import { expectedSummary, type DeploymentSummary } from "../../components/topology";
import { evaluateOffline } from "../../cli/graph/offline";
import { readStackConfig } from "../../config/pulumi";
import { createStack, type Stack } from "../../components/stack";
import { PROJECT } from "../../config/load";
import { evaluateAws, evaluateExample, projectRoot } from "./support";

/**
 * The parity test of docs/topology.md for the AWS target: what AWS deployed (its summary, built
 * from the resources it created) equals what the topology asks for, on the example stack and every
 * option variant, and equals what the Docker target deploys for the same shared config.
 */

const external = { influxdb: { external: { url: "https://influx.example.com:8086" } }, influxAdminPassword: "an-admin-password-1" };

describe("AWS deploys the topology's services and wiring", () => {
  it("on the aws-example stack", async () => {
    const example = await evaluateExample();
    expect(example.summary).toEqual(expectedSummary(example.stack.topology));
    expect(example.summary.services.map((s) => s.name)).toEqual(["backup", "bootstrap", "grafana", "influxdb", "ingest", "queue", "worker"]);
  });

  it.each<[string, Record<string, unknown>, string[]]>([
    ["with the defaults (HTTP only)", {}, []],
    ["with a managed queue", { queue: { managed: true } }, []],
    ["with an external InfluxDB", external, ["influxAdminPassword"]],
    ["with state on Fargate + EFS", { aws: { stateStorage: "fargate-efs" } }, []],
    ["in an existing VPC", { aws: { vpc: { id: "vpc-0abc", publicSubnetIds: ["subnet-0a1", "subnet-0b1"], privateSubnetIds: ["subnet-0a2", "subnet-0b2"] } } }, []],
    ["with backups to a configured S3 URL", { backup: { target: "s3://company-backups/mixstack/prod" } }, []],
  ])("%s", async (_name, values, secretKeys) => {
    const evaluation = await evaluateAws(values, secretKeys);
    expect(evaluation.summary).toEqual(expectedSummary(evaluation.stack.topology));
  });
});

/** A stack file's config with another platform: the shared keys stay, the platform sections are swapped. */
async function summaryOn(stackName: string, platform: "docker" | "aws"): Promise<{ summary: DeploymentSummary; stack: Stack }> {
  const file = readStackFile(stackName, projectRoot);
  const config = Object.fromEntries(Object.entries(file.config).filter(([key]) => key !== `${PROJECT}:aws` && key !== `${PROJECT}:docker`));
  config[`${PROJECT}:platform`] = platform;
  if (platform === "aws") config[`${PROJECT}:aws`] = JSON.stringify({ region: "eu-west-1", allowHttp: true });
  let stack: Stack | undefined;
  const evaluation = await evaluateOffline({
    project: PROJECT,
    stack: stackName,
    config,
    secretKeys: file.secretKeys,
    run: () => {
      stack = createStack(readStackConfig());
      return { summary: stack.deployment.summary };
    },
  });
  return { summary: evaluation.outputs.summary!.value as DeploymentSummary, stack: stack! };
}

describe("AWS and Docker deploy the same services and wiring", () => {
  it("for the shared config of the aws-example stack", async () => {
    const aws = await evaluateExample();
    const docker = await summaryOn("aws-example", "docker");
    expect(docker.summary).toEqual(expectedSummary(docker.stack.topology));
    expect(aws.summary).toEqual(docker.summary);
  });

  it.each(["local", "remote"])("for the shared config of Docker's %s stack", async (name) => {
    const docker = await evaluateStack(name, projectRoot);
    const aws = await summaryOn(name, "aws");
    expect(aws.summary).toEqual(docker.outputs.summary!.value);
    expect(aws.summary).toEqual(expectedSummary(aws.stack.topology));
  });
});
