import { resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { evaluateStack } from "../../cli/graph/program";
import { readStackFile } from "../../cli/graph/stack-file";
import { topologyFor } from "../../components/stack";
import { parseStackConfig } from "../../config/load";
import { service, type Topology } from "../../components/topology";
import { resourcesOfType, unwrapSecrets, type Evaluation } from "./mocks";

/**
 * The Docker target enforces the topology's edges (docs/privacy.md, "What the stack exposes"): who
 * can open which service port is computed here from the containers as deployed — their networks,
 * the namespace a container shares, the address each port is bound to — and compared with the
 * edges. InfluxDB's backup RPC port (8088, no authentication) and the queue (6379) are reachable
 * only by services with an edge to them: not by ingest or Grafana, which face the internet.
 */

const root = resolve(__dirname, "..", "..");

interface Deployed {
  /** The networks of each service's namespace. */
  networks: Map<string, Set<string>>;
  /** The service whose network namespace each service runs in (itself unless it shares one). */
  namespace: Map<string, string>;
  /** Ports bound to 127.0.0.1 inside their container, per service. */
  loopback: Map<string, Set<number>>;
}

function deployed(evaluation: Evaluation): Deployed {
  const containers = resourcesOfType(evaluation, "docker:index/container:Container").map((resource) => ({ resource, inputs: resource.inputs as Record<string, unknown> }));
  const serviceOf = (inputs: Record<string, unknown>) => (inputs.labels as Array<{ label: string; value: string }> | undefined)?.find((l) => l.label === "mixstack.service")?.value;
  const byId = new Map(containers.map(({ resource, inputs }) => [`${resource.name}-id`, serviceOf(inputs)]));
  const result: Deployed = { networks: new Map(), namespace: new Map(), loopback: new Map() };
  for (const { inputs } of containers) {
    const name = serviceOf(inputs);
    if (!name || name === "volume-owner") continue;
    const mode = inputs.networkMode as string | undefined;
    result.namespace.set(name, mode?.startsWith("container:") ? byId.get(mode.slice("container:".length))! : name);
    result.networks.set(name, new Set(((inputs.networksAdvanced as Array<{ name: string }> | undefined) ?? []).map((network) => network.name)));
    const envs = (unwrapSecrets(inputs.envs) as string[] | undefined) ?? [];
    const bind = envs.find((entry) => entry.startsWith("INFLUXDB_BIND_ADDRESS="))?.split("=")[1];
    result.loopback.set(name, new Set(bind?.startsWith("127.0.0.1:") ? [Number(bind.split(":")[1])] : []));
  }
  return result;
}

/** Whether `from`'s container can open `to`'s port, as Docker would route it. */
function reaches(state: Deployed, from: string, to: string, port: number): boolean {
  const mine = state.namespace.get(from)!;
  const theirs = state.namespace.get(to)!;
  if (mine === theirs) return true;
  if (state.loopback.get(to)?.has(port)) return false;
  const a = state.networks.get(mine)!;
  return [...state.networks.get(theirs)!].some((network) => a.has(network));
}

function topologyOf(stack: string): Topology {
  const file = readStackFile(stack, root);
  return topologyFor(parseStackConfig({ stack, values: file.config, secretKeys: new Set(file.secretKeys) }));
}

describe.each(["local", "remote"])("Docker networks of stack %s", (stack) => {
  let state: Deployed;
  let topology: Topology;

  beforeAll(async () => {
    state = deployed(await evaluateStack(stack, root));
    topology = topologyOf(stack);
  });

  const portOf = (service: string, name: string) => topology.services.find((spec) => spec.name === service)!.ports.find((p) => p.name === name)!.port;

  it("lets every edge of the topology through", () => {
    const edges = topology.services.flatMap((spec) => spec.talksTo.map((edge) => [edge.from, edge.to, portOf(edge.to, edge.port)] as const));
    expect(edges.length).toBeGreaterThanOrEqual(8);
    for (const [from, to, port] of edges) expect([from, to, port, reaches(state, from, to, port)]).toEqual([from, to, port, true]);
  });

  it.each([
    ["ingest", "influxdb", 8088],
    ["ingest", "influxdb", 8086],
    ["grafana", "influxdb", 8088],
    ["grafana", "queue", 6379],
    ["worker", "influxdb", 8088],
    ["bootstrap", "influxdb", 8088],
    ["bootstrap", "queue", 6379],
    ["queue", "influxdb", 8088],
  ] as const)("%s cannot open %s:%i", (from, to, port) => {
    expect(reaches(state, from, to, port)).toBe(false);
  });

  it("opens each service port only along an edge: to its talkers, what shares their namespace, and (a network is two-way) the targets of its own namespace's edges", () => {
    const namespaceOf = (name: string) => state.namespace.get(name)!;
    // Namespace pairs joined by an edge, both ways.
    const joined = new Set(topology.services.flatMap((spec) => spec.talksTo.flatMap((edge) => [`${namespaceOf(edge.from)}>${namespaceOf(edge.to)}`, `${namespaceOf(edge.to)}>${namespaceOf(edge.from)}`])));
    const unexpected: string[] = [];
    for (const to of topology.services) {
      for (const p of to.ports) {
        for (const from of state.namespace.keys()) {
          if (from === to.name || !reaches(state, from, to.name, p.port)) continue;
          const allowed = namespaceOf(from) === namespaceOf(to.name) || joined.has(`${namespaceOf(from)}>${namespaceOf(to.name)}`);
          if (!allowed) unexpected.push(`${from} -> ${to.name}:${p.port}`);
        }
      }
    }
    expect(unexpected).toEqual([]);
  });

  it("keeps the internet-facing services (ingest, Grafana) away from every port they have no edge to", () => {
    for (const from of ["ingest", "grafana"] as const) {
      const edges = new Set(service(topology, from).talksTo.map((edge) => `${edge.to}:${portOf(edge.to, edge.port)}`));
      const reached = topology.services.flatMap((to) => to.ports.filter((p) => to.name !== from && reaches(state, from, to.name, p.port)).map((p) => `${to.name}:${p.port}`));
      expect([from, reached.sort()]).toEqual([from, [...edges].sort()]);
    }
  });
});
