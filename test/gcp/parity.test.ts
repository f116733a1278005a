import { describe, expect, it } from "vitest";
import { createStack } from "../../components/stack";
import { platformNamed } from "../../components/platforms";
import { expectedSummary, type DeploymentSummary, type Topology } from "../../components/topology";
import { readStackConfig } from "../../config/pulumi";
import { evaluate } from "../pulumi/mocks";
import { evaluateExample, gcpBase, gcpTopology } from "./support";

/**
 * The parity promise (docs/topology.md): GCP deploys the same services and wiring as the Docker
 * target. Both summaries are built by each platform from the resources it created; GCP differs
 * only where docs/topology.md allows it: Grafana's `preferred` volume is ephemeral on Cloud Run
 * (the backups volume counts, replaced by the GCS bucket the backup job writes to).
 */

const GCP_SUBSTITUTIONS = platformNamed("gcp").volumeSubstitutions;

async function summaryOf(values: Record<string, unknown>, stack: string): Promise<DeploymentSummary> {
  const evaluation = await evaluate({ stack, values }, () => {
    const created = createStack(readStackConfig());
    return { summary: created.deployment.summary };
  });
  return evaluation.outputs.summary!.value as DeploymentSummary;
}

/** A Docker summary with the volumes GCP provides otherwise taken out (by path, as the topology names them). */
function withoutSubstituted(summary: DeploymentSummary, removed: DeploymentSummary): DeploymentSummary {
  return {
    ...summary,
    services: summary.services.map((s) => {
      const kept = removed.services.find((r) => r.name === s.name)!.volumes;
      return { ...s, volumes: s.volumes.filter((path) => kept.includes(path)) };
    }),
  };
}

describe("parity with the Docker target", () => {
  it("gcp-example deploys exactly the summary its topology asks for", async () => {
    const evaluation = await evaluateExample();
    const summary = evaluation.outputs.summary!.value as DeploymentSummary;
    expect(summary).toEqual(expectedSummary(evaluation.stack.topology, GCP_SUBSTITUTIONS));
    // Not vacuous: seven services and eight private paths.
    expect([summary.services.length, summary.edges.length]).toEqual([7, 8]);
  });

  it.each<[string, Record<string, unknown>, string[]]>([
    ["a managed queue (Memorystore)", { queue: { managed: true } }, []],
    ["an external InfluxDB", { influxdb: { external: { url: "https://influx.example.com:8086" } }, influxAdminPassword: "an-admin-password-1" }, ["influxAdminPassword"]],
    ["a managed queue and an external InfluxDB (no VM)", { queue: { managed: true }, influxdb: { external: { url: "https://influx.example.com:8086" } }, influxAdminPassword: "an-admin-password-1" }, ["influxAdminPassword"]],
  ])("GCP deploys exactly the summary its topology asks for with %s (options Docker refuses)", async (_case, values, secretKeys) => {
    let topology: Topology | undefined;
    const evaluation = await evaluate({ stack: "parity", values: { ...gcpBase, ...values }, secretKeys }, () => {
      const created = createStack(readStackConfig());
      topology = created.topology;
      return { summary: created.deployment.summary };
    });
    const summary = evaluation.outputs.summary!.value as DeploymentSummary;
    expect(summary).toEqual(expectedSummary(topology!, GCP_SUBSTITUTIONS));
    expect(summary.services.length).toBeGreaterThanOrEqual(5);
  });

  it.each([
    ["the defaults", {}],
    ["scaled ingest and workers", { ingest: { minReplicas: 2, maxReplicas: 8 }, worker: { replicas: 3 } }],
    ["an external backup target", { backup: { target: "gs://elsewhere/mixstack" } }],
  ])("GCP and Docker deploy the same services and wiring for %s", async (_case, values) => {
    const gcp = await summaryOf({ ...gcpBase, ...values }, "parity");
    const docker = await summaryOf({ platform: "docker", ...values }, "parity");
    const expected = gcpTopology(values, "parity");
    expect(gcp).toEqual(withoutSubstituted(docker, expectedSummary(expected, GCP_SUBSTITUTIONS)));
    expect(gcp.edges).toEqual(docker.edges);
    expect(gcp.services.map((s) => [s.name, s.kind, s.image, s.publicPorts, s.command])).toEqual(
      docker.services.map((s) => [s.name, s.kind, s.image, s.publicPorts, s.command]),
    );
  });

  it("differs from Docker's volumes only by Grafana's ephemeral storage", async () => {
    const gcp = await summaryOf({ ...gcpBase }, "parity");
    const docker = await summaryOf({ platform: "docker" }, "parity");
    const differences = docker.services.flatMap((d) => {
      const g = gcp.services.find((s) => s.name === d.name)!;
      return d.volumes.filter((path) => !g.volumes.includes(path)).map((path) => `${d.name}:${path}`);
    });
    expect(differences).toEqual(["grafana:/var/lib/grafana"]);
  });
});
