import { beforeAll, describe, expect, it } from "vitest";
import { CA_DIR } from "../../components/gcp/deployment";
import { primaryEndpoint, serverCaPem } from "../../components/gcp/managed-queue";
import type { DeploymentSummary } from "../../components/topology";
import { parseStackConfig } from "../../config/load";
import { pulumiConfig, resourcesOfType, unwrapSecrets, type Evaluation } from "../pulumi/mocks";
import { evaluateGcp, only, TYPES } from "./support";

/** `queue.managed: true` on GCP: Memorystore for Valkey instead of the queue's unit on the VM. */

let evaluation: Evaluation;
const PREFIX = "mixstack-gcp-test";

beforeAll(async () => {
  evaluation = await evaluateGcp({ queue: { managed: true } });
});

describe("a managed queue on GCP", () => {
  it("is Memorystore for Valkey with AOF every second, noeviction and TLS, reached through Private Service Connect", () => {
    const valkey = unwrapSecrets(only(evaluation, TYPES.memorystore).inputs) as Record<string, any>;
    expect({
      engine: valkey.engineVersion,
      mode: valkey.mode,
      persistence: valkey.persistenceConfig,
      eviction: valkey.engineConfigs["maxmemory-policy"],
      auth: valkey.authorizationMode,
      tls: valkey.transitEncryptionMode,
      replicas: valkey.replicaCount,
      zones: valkey.zoneDistributionConfig.mode,
      endpoints: valkey.desiredAutoCreatedEndpoints,
      deletionProtection: valkey.deletionProtectionEnabled,
    }).toEqual({
      engine: "VALKEY_8_0",
      mode: "CLUSTER_DISABLED",
      persistence: { mode: "AOF", aofConfig: { appendFsync: "EVERY_SEC" } },
      eviction: "noeviction",
      auth: "AUTH_DISABLED",
      tls: "SERVER_AUTHENTICATION",
      replicas: 1,
      zones: "MULTI_ZONE",
      endpoints: [{ network: "mixstack-network-vpc-id", projectId: "acme-analytics" }],
      deletionProtection: true,
    });
    const policy = only(evaluation, TYPES.pscPolicy).inputs;
    expect([policy.serviceClass, policy.network, policy.pscConfig]).toEqual(["gcp-memorystore", "mixstack-network-vpc-id", { subnetworks: ["mixstack-network-psc-id"] }]);
  });

  it("leaves the VM with InfluxDB only: no queue unit, no queue disk, no queue password", () => {
    const userData = (unwrapSecrets(only(evaluation, TYPES.instance).inputs) as { metadata: Record<string, string> }).metadata["user-data"]!;
    expect(userData).toContain("mixstack-influxdb.service");
    expect(userData).not.toContain("mixstack-queue");
    expect(resourcesOfType(evaluation, TYPES.disk).map((d) => d.inputs.name)).toEqual([`${PREFIX}-influxdb-data`]);
    expect(resourcesOfType(evaluation, TYPES.secret).map((s) => s.inputs.secretId)).not.toContain(`${PREFIX}-queue-password`);
  });

  it("stores REDIS_URL as the Memorystore primary endpoint over TLS, without a password (Valkey there has none)", () => {
    const redisUrl = resourcesOfType(evaluation, TYPES.secret).find((s) => s.inputs.secretId === `${PREFIX}-redis-url`)!;
    const version = resourcesOfType(evaluation, TYPES.secretVersion).find((v) => v.inputs.secret === `${redisUrl.name}-id`)!;
    expect(unwrapSecrets(version.inputs.secretData)).toBe("rediss://:@10.255.255.2:6379");
  });

  it("lets exactly the queue's clients trust its server CA, as a file Node reads", () => {
    const ca = resourcesOfType(evaluation, TYPES.secret).find((s) => s.inputs.secretId === `${PREFIX}-queue-ca`)!;
    const readers = resourcesOfType(evaluation, TYPES.secretAccessor)
      .filter((g) => g.inputs.secretId === `${ca.name}-id`)
      .map((g) => String(g.inputs.member).replace(/^serviceAccount:mixstack-gcp-test-|@.*$/g, ""));
    expect(readers.sort()).toEqual(["backup", "ingest", "worker"]);
    for (const type of [TYPES.service, TYPES.workerPool, TYPES.job]) {
      for (const resource of resourcesOfType(evaluation, type)) {
        const args = unwrapSecrets(resource.inputs) as Record<string, any>;
        const template = type === TYPES.job ? args.template.template : args.template;
        const container = template.containers[0];
        if (args.labels["mixstack-role"] === "start-gate") continue;
        const service = args.labels["mixstack-service"] as string;
        const caEnv = container.envs.find((e: { name: string }) => e.name === "NODE_EXTRA_CA_CERTS")?.value;
        if (["ingest", "worker", "backup"].includes(service)) {
          expect(caEnv).toBe(`${CA_DIR}/queue/ca.pem`);
          expect(container.volumeMounts).toEqual([{ name: "file-0", mountPath: `${CA_DIR}/queue` }]);
          expect(template.volumes).toEqual([{ name: "file-0", secret: { secret: `${PREFIX}-queue-ca`, items: [{ version: "1", path: "ca.pem" }] } }]);
        } else {
          expect([service, caEnv, template.volumes]).toEqual([service, undefined, undefined]);
        }
      }
    }
  });

  it("keeps the same services and wiring, the queue shown as managed", () => {
    const summary = evaluation.outputs.summary!.value as DeploymentSummary;
    expect(summary.services.find((s) => s.name === "queue")).toEqual({ name: "queue", kind: "stateful", image: "managed:valkey", publicPorts: [], volumes: [], command: [] });
    expect(summary.edges.filter((e) => e.includes("queue"))).toEqual(["backup -> queue:6379", "ingest -> queue:6379", "worker -> queue:6379"]);
  });

  it("enables the Memorystore and networking APIs", () => {
    const apis = resourcesOfType(evaluation, TYPES.api).map((a) => a.inputs.service);
    expect(apis).toEqual(expect.arrayContaining(["memorystore.googleapis.com", "networkconnectivity.googleapis.com"]));
  });

  it("is refused on docker, naming the key", () => {
    const raw = pulumiConfig({ values: { platform: "docker", queue: { managed: true } } });
    expect(() => parseStackConfig({ stack: "local", values: raw.config, secretKeys: new Set() })).toThrow(
      "invalid stack config in stacks/Pulumi.local.yaml:\n  mixstack:queue.managed: the docker platform has no managed queue (supported on: aws, gcp)",
    );
  });

  it.each([
    ["one chain", [{ caCerts: [{ certificates: ["A\n", "B"] }] }], "A\nB\n"],
    ["two CAs (rotation)", [{ caCerts: [{ certificates: ["A\n"] }] }, { caCerts: [{ certificates: ["C\n"] }] }], "A\nC\n"],
  ])("joins the server CA certificates: %s", (_case, cas, pem) => {
    expect(serverCaPem(cas)).toBe(pem);
    expect(() => serverCaPem([])).toThrow("the Memorystore instance reports no server CA");
  });

  it.each([
    ["the primary among reader and primary", [{ connections: [{ pscAutoConnection: { connectionType: "CONNECTION_TYPE_READER", ipAddress: "10.0.0.3", port: 6379 } }, { pscAutoConnection: { connectionType: "CONNECTION_TYPE_PRIMARY", ipAddress: "10.0.0.2", port: 6379 } }] }], "10.0.0.2:6379"],
    ["the only connection", [{ connections: [{ pscAutoConnection: { ipAddress: "10.0.0.9", port: 6380 } }] }], "10.0.0.9:6380"],
  ])("reads the endpoint: %s", (_case, endpoints, expected) => {
    const { host, port } = primaryEndpoint(endpoints);
    expect(`${host}:${port}`).toBe(expected);
  });

  it("fails clearly when Memorystore reports no endpoint", () => {
    expect(() => primaryEndpoint([])).toThrow("the Memorystore instance reports no endpoint");
  });
});
