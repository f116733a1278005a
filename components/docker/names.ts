import type { ServiceSpec, VolumeSpec } from "../topology";

/**
 * Names on the Docker engine (containers, volumes, network). Prefixed per stack so that two stacks
 * can share one engine; the service name itself is the DNS alias on the private network.
 */
export interface DockerNames {
  network: string;
  container(service: string): string;
  volume(service: string, volume: string): string;
}

export function dockerNames(prefix: string): DockerNames {
  return {
    network: prefix,
    container: (service) => `${prefix}-${service}`,
    volume: (service, volume) => `${prefix}-${service}-${volume}`,
  };
}

/** `<dataDir>/<service>` for data, `<dataDir>/backups` for the backup store. */
export function hostPathFor(dataDir: string, spec: ServiceSpec, volume: VolumeSpec): string {
  const root = dataDir.replace(/\/+$/, "");
  return volume.purpose === "backups" ? `${root}/backups` : `${root}/${spec.name}${volume.name === "data" ? "" : `-${volume.name}`}`;
}

/**
 * Shell script that hands fresh host directories (created root-owned by Docker) to the user each
 * service runs as. Only the directory itself is chowned, never existing content.
 */
export function ownershipScript(entries: Array<{ mountPath: string; uid: number; gid: number }>): string {
  const steps = entries.map(
    ({ mountPath, uid, gid }) => `[ "$(stat -c %u:%g ${mountPath})" = "${uid}:${gid}" ] || chown ${uid}:${gid} ${mountPath}`,
  );
  return ["set -e", ...steps].join("; ");
}

/** Docker's duration syntax for health-check timings. */
export function seconds(value: number): string {
  return `${value}s`;
}
