import type { DeploymentSummary } from "../topology";

/**
 * A platform's summary from what it observed of its own resources, in the one canonical form the
 * parity test compares: services by name, ports and volumes sorted, edges unique and sorted.
 */
export function deploymentSummary(services: DeploymentSummary["services"], edges: Iterable<string>): DeploymentSummary {
  return {
    services: services
      .map((service) => ({ ...service, publicPorts: [...service.publicPorts].sort((a, b) => a - b), volumes: [...service.volumes].sort() }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    edges: [...new Set(edges)].sort(),
  };
}
