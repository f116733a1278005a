import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { evaluateStack } from "../../cli/graph/program";
import { readStackFile, stackNames } from "../../cli/graph/stack-file";
import { platformNamed, type PlatformName } from "../../components/platforms";
import { expectedSummary, type DeploymentSummary } from "../../components/topology";

/**
 * Parity: every platform deploys the services and wiring the topology describes. Each platform
 * builds its summary from the resources it created; AWS and GCP example stacks join this table and
 * must produce the same summary as the Docker target does (docs/topology.md).
 */
const root = resolve(__dirname, "..", "..");

describe.each(stackNames(root))("stack %s", (stack) => {
  it("deploys exactly the topology's services, public ports, volumes and wiring", async () => {
    const evaluation = await evaluateStack(stack, root);
    const summary = evaluation.outputs.summary?.value as DeploymentSummary;
    const platform = readStackFile(stack, root).config["mixstack:platform"] as PlatformName;
    expect(summary).toEqual(expectedSummary(evaluation.stack.topology, platformNamed(platform).volumeSubstitutions));
  });
});

describe("the parity summary", () => {
  it("notices a service the platform did not deploy and a path it did not wire", async () => {
    const evaluation = await evaluateStack("local", root);
    const summary = evaluation.outputs.summary?.value as DeploymentSummary;
    const expected = expectedSummary(evaluation.stack.topology);
    const missingWorker: DeploymentSummary = {
      services: summary.services.filter((s) => s.name !== "worker"),
      edges: summary.edges.filter((e) => !e.startsWith("worker ")),
    };
    expect(missingWorker).not.toEqual(expected);
    expect(expected.edges).toContain("worker -> influxdb:8086");
  });
});
