import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { readStackFile } from "../../cli/graph/stack-file";
import { topologyFor } from "../../components/stack";
import { resolveEnv, service, type ServiceName, type Topology } from "../../components/topology";
import { parseStackConfig } from "../../config/load";
import { readIngestSettings } from "../../services/ingest/settings";
import { readWorkerSettings } from "../../services/worker/settings";

/**
 * The limits of issue 12 set in stack config reach the services on every platform: the topology's
 * env, rendered as a platform would and read with the services' own settings readers.
 */

const root = resolve(__dirname, "..", "..");
const DAY = 86_400_000;

/** An example stack's config with some keys of `mixstack:<section>` overridden (merged into the section). */
function topologyOf(stack: string, overrides: Record<string, Record<string, unknown>> = {}): Topology {
  const file = readStackFile(stack, root);
  const config = { ...file.config };
  for (const [section, values] of Object.entries(overrides)) {
    const key = `mixstack:${section}`;
    config[key] = JSON.stringify({ ...(config[key] ? (JSON.parse(config[key]) as object) : {}), ...values });
  }
  return topologyFor(parseStackConfig({ stack, values: config, secretKeys: new Set(file.secretKeys) }));
}

/** The env of one service as its container gets it, with stand-ins for secrets and addresses. */
function envOf(topology: Topology, name: ServiceName): Record<string, string> {
  const spec = service(topology, name);
  return Object.fromEntries(
    Object.entries(spec.env).map(([key, value]) => [
      key,
      resolveEnv(value, {
        text: (text) => text,
        secret: (ref) => (ref.secret === "projectToken" ? "0123456789abcdef0123456789abcdef" : `secret-${ref.secret}`),
        endpoint: (ref) => (ref.service === "queue" ? "queue:6379" : `${ref.service}:8086`),
        backupStore: () => "file:///backups",
      }).join(""),
    ]),
  );
}

const ingestOf = (topology: Topology) => readIngestSettings(envOf(topology, "ingest"));
const workerOf = (topology: Topology) => readWorkerSettings(envOf(topology, "worker"));

// local: Docker, INF retention; aws-example and gcp-example: 104w retention.
const stacks = [
  ["local", "docker", 0, { maxAgeMs: 730 * DAY }],
  ["aws-example", "aws", 1, { maxAgeMs: 104 * 7 * DAY }],
  ["gcp-example", "gcp", 1, { maxAgeMs: 104 * 7 * DAY }],
] as const;

describe("limits from stack config, on every platform", () => {
  it.each(stacks)("%s (%s): the defaults reach ingest and the worker", (stack, _platform, hops, history) => {
    const topology = topologyOf(stack);
    const ingest = ingestOf(topology);
    expect([ingest.limits.trackMaxAgeMs, ingest.limits.history, ingest.MIXSTACK_TRUSTED_PROXY_HOPS, ingest.MIXSTACK_CLIENT_MS_PER_SECOND]).toEqual([5 * DAY, history, hops, 100]);
    const worker = workerOf(topology);
    expect([worker.WORKER_NEW_EVENT_NAMES_PER_DAY, worker.WORKER_NEW_PROPERTY_KEYS_PER_DAY]).toEqual([1000, 5000]);
    // Reachable by the platform's health checks inside the container network; loopback natively.
    expect([ingest.METRICS_HOST, worker.METRICS_HOST]).toEqual(["0.0.0.0", "0.0.0.0"]);
  });

  it.each(stacks)("%s (%s): every key set in config reaches its service", (stack) => {
    const topology = topologyOf(stack, {
      history: { since: "2024-03-01" },
      ingest: { trackMaxAgeDays: 2, trustedProxyHops: 3, clientMsPerSecond: 40 },
      worker: { newEventNamesPerDay: 50, newPropertyKeysPerDay: 70 },
    });
    const ingest = ingestOf(topology);
    expect([ingest.limits.trackMaxAgeMs, ingest.limits.history, ingest.MIXSTACK_TRUSTED_PROXY_HOPS, ingest.MIXSTACK_CLIENT_MS_PER_SECOND]).toEqual([
      2 * DAY,
      { sinceMs: Date.UTC(2024, 2, 1) },
      3,
      40,
    ]);
    const worker = workerOf(topology);
    expect([worker.WORKER_NEW_EVENT_NAMES_PER_DAY, worker.WORKER_NEW_PROPERTY_KEYS_PER_DAY]).toEqual([50, 70]);
  });

  it.each([
    ["INF", 730 * DAY],
    ["52w", 364 * DAY],
    ["90d", 90 * DAY],
    ["36h", 2 * DAY],
  ])("history floor without history.since: influxdb.retention %s", (retention, maxAgeMs) => {
    expect(ingestOf(topologyOf("local", { influxdb: { retention } })).limits.history).toEqual({ maxAgeMs });
  });

  it.each([
    [{ history: { since: "2024-02-30" } }, "mixstack:history.since"],
    [{ history: { since: "last year" } }, "mixstack:history.since"],
    [{ ingest: { trustedProxyHops: 11 } }, "mixstack:ingest.trustedProxyHops"],
    [{ ingest: { trackMaxAgeDays: -1 } }, "mixstack:ingest.trackMaxAgeDays"],
    [{ worker: { newEventNamesPerDay: 0 } }, "mixstack:worker.newEventNamesPerDay"],
  ])("a wrong value is an error naming its key: %j", (overrides, key) => {
    expect(() => topologyOf("local", overrides)).toThrow(key);
  });
});
