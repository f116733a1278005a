import { port, service, type ServiceName, type ServiceSpec, type Topology } from "../topology";

/**
 * The Docker networks that enforce the topology's edges (`talksTo`). Docker cannot filter by port,
 * only by network, and every container on a network reaches every other one there, so:
 * - each pair of network namespaces joined by an edge gets a network of its own with those two in
 *   it, `<prefix>-<talkers>-<target>`, where the target has its service name as alias; nothing
 *   else is on it, so no container reaches a port that no edge of its namespace asks for;
 * - a service that talks to a `loopback` port (InfluxDB's backup RPC on Docker) runs in the network
 *   namespace of that port's service (`sharesWith`) and reaches it on 127.0.0.1; its own edges to
 *   other services are the namespace's (the backup job's to the queue: InfluxDB's namespace can open
 *   the queue's port, the one path no edge asks for, docs/privacy.md).
 * A public service with no edge at all gets a network of its own, so that Docker never attaches it
 * to the engine's shared default bridge. The rule is the catalogue's edges: a new service declares
 * whom it talks to (its env endpoints) and gets exactly those paths. Pure: the deployment creates
 * what it says.
 */

export interface NetworkAttachment {
  name: string;
  /** DNS names of the container on this network: its service name where others look it up. */
  aliases: string[];
}

export type ServiceNetworking = { kind: "networks"; networks: NetworkAttachment[] } | { kind: "sharesWith"; service: ServiceName };

export interface DockerNetworkPlan {
  /** Every network to create: its name and the services whose edges it carries (`talkers` → `target`). */
  networks: { name: string; talkers: ServiceName[]; target: ServiceName }[];
  /** How each service's container is attached. */
  services: Map<ServiceName, ServiceNetworking>;
}

export function dockerNetworkPlan(topology: Topology, specs: readonly ServiceSpec[], prefix: string): DockerNetworkPlan {
  // Who runs in whose namespace: the talkers of a loopback port.
  const host = new Map<ServiceName, ServiceName>();
  for (const spec of specs) {
    const loopbackTargets = [...new Set(spec.talksTo.filter((edge) => port(service(topology, edge.to), edge.port).loopback).map((edge) => edge.to))];
    if (loopbackTargets.length > 1) throw new Error(`${spec.name} talks to loopback ports of ${loopbackTargets.join(" and ")}: it can share one namespace only`);
    if (loopbackTargets[0]) host.set(spec.name, loopbackTargets[0]);
  }
  const ownerOf = (name: ServiceName) => host.get(name) ?? name;

  // One network per (talking namespace, target): the talkers in that namespace with an edge to the target.
  const order = specs.map((spec) => spec.name);
  const pairs = new Map<string, { owner: ServiceName; target: ServiceName; talkers: Set<ServiceName> }>();
  for (const spec of specs) {
    const owner = ownerOf(spec.name);
    for (const edge of spec.talksTo) {
      if (ownerOf(edge.to) === owner) continue; // in the same namespace: 127.0.0.1
      const key = `${owner}\u0000${edge.to}`;
      if (!pairs.has(key)) pairs.set(key, { owner, target: edge.to, talkers: new Set() });
      pairs.get(key)!.talkers.add(spec.name);
    }
  }
  const networks: DockerNetworkPlan["networks"] = [];
  const attached = new Map<ServiceName, NetworkAttachment[]>();
  const attach = (name: ServiceName, attachment: NetworkAttachment) => attached.set(name, [...(attached.get(name) ?? []), attachment]);
  const byOrder = (a: ServiceName, b: ServiceName) => order.indexOf(a) - order.indexOf(b);
  const sortedPairs = [...pairs.values()].sort((a, b) => byOrder(a.target, b.target) || byOrder(a.owner, b.owner));
  for (const pair of sortedPairs) {
    const talkers = [...pair.talkers].sort(byOrder);
    const name = `${prefix}-${talkers.join("-")}-${pair.target}`;
    networks.push({ name, talkers, target: pair.target });
    attach(ownerOf(pair.target), { name, aliases: [pair.target] });
    attach(pair.owner, { name, aliases: [] });
  }
  for (const spec of specs) {
    if (!host.has(spec.name) && !attached.has(spec.name) && spec.ports.some((p) => p.public)) {
      const name = `${prefix}-${spec.name}`;
      networks.push({ name, talkers: [], target: spec.name });
      attach(spec.name, { name, aliases: [spec.name] });
    }
  }

  const services = new Map<ServiceName, ServiceNetworking>();
  for (const spec of specs) {
    const owner = host.get(spec.name);
    const networksOf = [...(attached.get(spec.name) ?? [])].sort((a, b) => a.name.localeCompare(b.name));
    services.set(spec.name, owner ? { kind: "sharesWith", service: owner } : { kind: "networks", networks: networksOf });
  }
  return { networks, services };
}
