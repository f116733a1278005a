import { port, service } from "./graph";
import type { ImageSpec, ServiceKind, ServiceName, ServiceSpec, Topology, VolumeSpec } from "./types";

/**
 * What a platform deployed, in platform-neutral terms: the parity contract. Every platform
 * component exposes one built from the resources it created; the parity test compares it with
 * `expectedSummary(topology)` (see docs/topology.md).
 */
export interface DeploymentSummary {
  services: Array<{
    name: ServiceName;
    kind: ServiceKind;
    image: string;
    /** Container ports reachable from outside the stack. */
    publicPorts: number[];
    /** Mount paths of the volumes that outlive the container. */
    volumes: string[];
    command: string[];
  }>;
  /** `from -> to:containerPort`, sorted: the network paths the platform wired (and allowed). */
  edges: string[];
}

export function imageLabel(image: ImageSpec): string {
  return image.kind === "pinned" ? image.ref : `build:${image.build}`;
}

/** `managed:valkey` for a managed service, the image label otherwise. */
export function serviceImageLabel(spec: ServiceSpec): string {
  return spec.managed ? `managed:${spec.managed.engine}` : imageLabel(spec.image);
}

export function edgeLabel(from: ServiceName, to: ServiceName, containerPort: number): string {
  return `${from} -> ${to}:${containerPort}`;
}

/**
 * What a platform may legitimately leave out of its summary's volumes (docs/topology.md, "The
 * parity test"): `preferredEphemeral`, its `persistence: preferred` volumes are ephemeral (Grafana
 * on Cloud Run). A backups volume replaced by the platform's bucket still counts as deployed.
 */
export interface VolumeSubstitutions {
  preferredEphemeral?: boolean;
}

/** The summary any platform must produce for this topology. */
export function expectedSummary(topology: Topology, substitutions: VolumeSubstitutions = {}): DeploymentSummary {
  const kept = (volume: VolumeSpec) => !(substitutions.preferredEphemeral && volume.persistence === "preferred");
  return {
    services: topology.services
      .map((spec) => ({
        name: spec.name,
        kind: spec.kind,
        image: serviceImageLabel(spec),
        publicPorts: spec.ports.filter((p) => p.public).map((p) => p.port).sort((a, b) => a - b),
        volumes: spec.volumes.filter(kept).map((v) => v.path).sort(),
        command: spec.command ?? [],
      }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    edges: topology.services
      .flatMap((spec) => spec.talksTo.map((edge) => edgeLabel(edge.from, edge.to, port(service(topology, edge.to), edge.port).port)))
      .sort(),
  };
}
