import type { PortSpec, ServiceName, ServiceSpec, Topology } from "./types";

/** Questions platforms ask of a topology: a service, a port, the start order, a job's in-stack form. */

export function service(topology: Topology, name: ServiceName): ServiceSpec {
  const found = topology.services.find((s) => s.name === name);
  if (!found) throw new Error(`topology has no service "${name}"`);
  return found;
}

export function port(spec: ServiceSpec, name: string): PortSpec {
  const found = spec.ports.find((p) => p.name === name);
  if (!found) throw new Error(`service "${spec.name}" has no port "${name}"`);
  return found;
}

/**
 * Services in an order where every dependency comes before its dependents (platforms create
 * resources in this order and wire `dependsOn` from `Dependency`).
 */
export function startOrder(topology: Topology): ServiceSpec[] {
  const ordered: ServiceSpec[] = [];
  const visiting = new Set<ServiceName>();
  const visit = (spec: ServiceSpec) => {
    if (ordered.includes(spec)) return;
    if (visiting.has(spec.name)) throw new Error(`dependency cycle through "${spec.name}"`);
    visiting.add(spec.name);
    for (const dependency of spec.dependsOn) visit(service(topology, dependency.service));
    visiting.delete(spec.name);
    ordered.push(spec);
  };
  topology.services.forEach(visit);
  return ordered;
}

/**
 * The service as a platform without a scheduler service runs it: a scheduled job becomes its
 * in-stack scheduler (command, and the env, ports and health check that form adds); any other
 * service is returned as it is.
 */
export function inStackForm(spec: ServiceSpec): ServiceSpec {
  if (!spec.schedule) return spec;
  const { inStack } = spec.schedule;
  return {
    ...spec,
    command: inStack.command,
    env: { ...spec.env, ...inStack.env },
    ports: [...spec.ports, ...inStack.ports],
    health: inStack.health,
  };
}
