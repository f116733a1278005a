import type { DeploymentSummary, ServiceKind, Topology } from "../../components/topology";
import { redactSecrets, type RecordedResource } from "./offline";

export interface GraphEntry {
  urn: string;
  type: string;
  name: string;
  parent: string | undefined;
  inputs: unknown;
  options?: RecordedResource["options"];
}

/** Every resource with its inputs; secret values (and every value derived from one) as "[secret]". */
export function graphEntries(resources: readonly RecordedResource[]): GraphEntry[] {
  return resources.map((resource) => ({
    urn: resource.urn,
    type: resource.type,
    name: resource.name,
    parent: resource.parent,
    inputs: redactSecrets(resource.inputs),
    ...(Object.keys(resource.options).length > 0 && { options: resource.options }),
  }));
}

export interface MermaidVolume {
  service: string;
  /** Named volume or host directory. */
  source: string;
  path: string;
}

const shapes: Record<ServiceKind, (id: string, label: string) => string> = {
  stateful: (id, label) => `${id}[("${label}")]`,
  stateless: (id, label) => `${id}["${label}"]`,
  worker: (id, label) => `${id}[["${label}"]]`,
  job: (id, label) => `${id}[/"${label}"/]`,
  init: (id, label) => `${id}{{"${label}"}}`,
};

/**
 * A Mermaid flowchart of what the platform deployed: services (shape by kind), their volumes,
 * who talks to whom on which port, and what is reachable from outside.
 */
export function mermaidGraph(options: {
  title: string;
  topology: Topology;
  summary: DeploymentSummary;
  volumes: readonly MermaidVolume[];
  /** Public container port → how users reach it (e.g. "localhost:8080"). */
  publicAddresses: Readonly<Record<string, string>>;
}): string {
  const { summary, topology } = options;
  const id = (name: string) => name.replace(/[^A-Za-z0-9_]/g, "_");
  const lines = ["flowchart LR", `  users(["SDKs, browsers"])`, `  subgraph stack["${options.title}"]`];
  for (const service of summary.services) {
    const spec = topology.services.find((s) => s.name === service.name);
    // Our image runs `mixstack <command>`; third-party commands are flags, too long for a node label.
    const command = service.image === "build:services" ? ` ${service.command.join(" ")}` : "";
    lines.push(`    ${shapes[service.kind](id(service.name), `${service.name}<br/><small>${service.image}${command}</small>`)}`);
    if (spec?.schedule) lines.push(`    %% ${service.name} runs on cron "${spec.schedule.cron}" (UTC)`);
  }
  options.volumes.forEach((volume, index) => {
    lines.push(`    vol${index}[/"${volume.source}<br/><small>${volume.path}</small>"/]`);
  });
  lines.push("  end");
  for (const service of summary.services) {
    for (const publicPort of service.publicPorts) {
      const address = options.publicAddresses[`${service.name}:${publicPort}`] ?? `:${publicPort}`;
      lines.push(`  users -->|"${address}"| ${id(service.name)}`);
    }
  }
  for (const edge of summary.edges) {
    const match = /^(\S+) -> (\S+):(\d+)$/.exec(edge);
    if (match) lines.push(`  ${id(match[1]!)} -->|${match[3]}| ${id(match[2]!)}`);
  }
  options.volumes.forEach((volume, index) => lines.push(`  ${id(volume.service)} --- vol${index}`));
  return `${lines.join("\n")}\n`;
}
