import { inStackForm, startOrder } from "./graph";
import type { Topology } from "./types";

/** Inconsistencies a platform could not translate; empty for a well-formed topology. */
export function topologyProblems(topology: Topology): string[] {
  const problems: string[] = [];
  const names = new Set(topology.services.map((s) => s.name));
  for (const spec of topology.services) {
    for (const edge of spec.talksTo) {
      const target = topology.services.find((s) => s.name === edge.to);
      if (!target) problems.push(`${spec.name} talks to unknown service ${edge.to}`);
      else if (!target.ports.some((p) => p.name === edge.port)) problems.push(`${spec.name} talks to ${edge.to}:${edge.port}, which has no such port`);
    }
    for (const dependency of spec.dependsOn) {
      const target = topology.services.find((s) => s.name === dependency.service);
      if (!target) problems.push(`${spec.name} depends on unknown service ${dependency.service}`);
      else if (dependency.condition === "completed" && target.kind !== "init") problems.push(`${spec.name} waits for ${dependency.service} to complete, but it is not an init service`);
      else if (dependency.condition === "healthy" && !target.health) problems.push(`${spec.name} waits for ${dependency.service} to be healthy, but it has no health check`);
    }
    if (spec.ports.some((p) => p.public) && spec.kind !== "stateless") problems.push(`${spec.name} has a public port but is ${spec.kind}`);
    if (spec.kind === "job" && !spec.schedule) problems.push(`${spec.name} is a job without a schedule`);
    if (spec.schedule) {
      const inStack = inStackForm(spec);
      if (spec.schedule.inStack.ports.some((p) => p.public)) problems.push(`${spec.name}'s in-stack scheduler has a public port`);
      const probe = inStack.health?.http;
      if (probe && !inStack.ports.some((p) => p.name === probe.port)) problems.push(`${spec.name}'s in-stack health check probes port ${probe.port}, which it does not have`);
    }
    if (spec.image.kind === "pinned" && !isPinned(spec.image.ref)) problems.push(`${spec.name} image ${spec.image.ref} is not pinned to an exact version`);
  }
  if (names.size !== topology.services.length) problems.push("duplicate service names");
  try {
    startOrder(topology);
  } catch (error) {
    problems.push((error as Error).message);
  }
  return problems;
}

/** `name:1.2.3[-variant]` or `name@sha256:...`; never `latest`, a bare major or no tag. */
export function isPinned(ref: string): boolean {
  if (/@sha256:[0-9a-f]{64}$/.test(ref)) return true;
  const tag = ref.slice(ref.lastIndexOf("/") + 1).split(":")[1];
  return tag !== undefined && /^v?\d+\.\d+\.\d+([-.][A-Za-z0-9.-]+)?$/.test(tag);
}
