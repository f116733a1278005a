import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { evaluateOffline } from "../../cli/graph/offline";
import { readStackFile } from "../../cli/graph/stack-file";
import { PROJECT } from "../../config/load";
import { readStackConfig } from "../../config/pulumi";
import { platformNamed, type PlatformName } from "../../components/platforms";
import { createStack, type Stack } from "../../components/stack";
import {
  catalogue,
  env,
  expectedSummary,
  nodeHttpCheck,
  SERVICES_IMAGE,
  text,
  type Catalogue,
  type CatalogueContext,
  type EnvValue,
  type ServiceDraft,
  type ServiceName,
} from "../../components/topology";
import { env as field, type EnvFor } from "../../services/core/settings";

/**
 * "Adding a service is one catalogue entry plus its env schema" (issue 13): a stateless service
 * that is not part of mixstack, added here and nowhere else, is deployed by all three platforms,
 * wired to what its env refers to, published, and in every platform's parity summary.
 */

const root = resolve(__dirname, "..", "..");
/** Not in the `ServiceName` union of mixstack's own services: the platforms must not need it there. */
const ECHO = "echo" as ServiceName;

/** The new service's env schema, as its settings reader would use it. */
const echoEnvironment = z.object({
  PORT: field.port(8091),
  REDIS_URL: field.redisUrl(),
  INFLUX_URL: field.url(),
  LOG_LEVEL: z.string().default("info"),
});

/** The one catalogue entry. */
function echo({ config, wiring }: CatalogueContext): ServiceDraft {
  return {
    name: ECHO,
    kind: "stateless",
    description: "a service the platforms have never heard of",
    image: SERVICES_IMAGE,
    command: ["echo"],
    env: { PORT: text(8091), REDIS_URL: wiring.redisUrl, INFLUX_URL: wiring.influxUrl, LOG_LEVEL: wiring.logLevel } satisfies EnvFor<typeof echoEnvironment, EnvValue>,
    ports: [{ name: "http", port: 8091, protocol: "http", public: true }],
    volumes: [],
    health: { http: { port: "http", path: "/healthz" }, command: nodeHttpCheck(8091, "/healthz"), intervalSeconds: 10, timeoutSeconds: 5, retries: 3, startPeriodSeconds: 10 },
    resources: { memoryMb: 256, cpus: 0.25 },
    scaling: { min: 1, max: config.ingest.maxReplicas },
    dependsOn: [{ service: "queue", condition: "healthy" }],
    stopGraceSeconds: 10,
  };
}

const withEcho: Catalogue = { ...catalogue, echo };

async function evaluateWithEcho(stack: string): Promise<{ stack: Stack; summary: unknown; resources: Array<{ type: string; name: string }> }> {
  let created: Stack | undefined;
  const file = readStackFile(stack, root);
  const evaluation = await evaluateOffline({
    project: PROJECT,
    stack,
    ...file,
    run: () => {
      created = createStack(readStackConfig(), { catalogue: withEcho });
      return { summary: created.deployment.summary };
    },
  });
  return { stack: created!, summary: evaluation.outputs.summary!.value, resources: evaluation.resources };
}

describe("a service added to the catalogue only", () => {
  it("is typed by its env schema", () => {
    // Renaming a variable in echoEnvironment fails `tsc` at the `satisfies` above; the values pass the schema too.
    const parsed = echoEnvironment.safeParse({ PORT: "8091", REDIS_URL: "redis://:pw@queue:6379", INFLUX_URL: "http://influxdb:8086" });
    expect(parsed.success).toBe(true);
    expect(env.endpoint("queue", "redis")).toEqual({ kind: "endpoint", service: "queue", port: "redis" });
  });

  // One stack after the other: evaluations share the process-wide Pulumi mocks.
  it.each<[string, PlatformName, string]>([
    ["local", "docker", "docker:index/container:Container"],
    ["aws-example", "aws", "aws:ecs/service:Service"],
    ["gcp-example", "gcp", "gcp:cloudrunv2/service:Service"],
  ])("%s: %s deploys it by its kind, wires it and publishes it", async (stackName, platform, workloadType) => {
    const { stack, summary, resources } = await evaluateWithEcho(stackName);
    const spec = stack.topology.services.find((s) => s.name === ECHO)!;
    expect(spec.talksTo.map((edge) => `${edge.to}:${edge.port}`).sort()).toEqual(["influxdb:http", "queue:redis"]);
    // The platform's own summary, built from what it created, equals what any platform must deploy.
    expect(summary).toEqual(expectedSummary(stack.topology, platformNamed(platform).volumeSubstitutions));
    const entry = (summary as ReturnType<typeof expectedSummary>).services.find((s) => s.name === ECHO);
    expect(entry).toEqual({ name: "echo", kind: "stateless", image: "build:services", publicPorts: [8091], volumes: [], command: ["echo"] });
    expect((summary as ReturnType<typeof expectedSummary>).edges).toEqual(expect.arrayContaining(["echo -> influxdb:8086", "echo -> queue:6379"]));
    expect(resources.filter((r) => r.type === workloadType && r.name.includes("echo")).length).toBeGreaterThan(0);
    expect(stack.deployment.publicUrls[ECHO]).toBeDefined();
  });
});
