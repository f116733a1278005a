import * as pulumi from "@pulumi/pulumi";
import type { SecretOutputs } from "../secrets";
import { port, service, type Edge, type ServiceSpec, type Topology } from "../topology";
import { resolveTemplate } from "../translate/env";

export interface DockerEnv {
  /** `KEY=value` entries; a Pulumi secret as a whole when any value contains a secret. */
  envs: pulumi.Output<string[]>;
  /** The endpoints the env points at, resolved to `alias:containerPort` on the target's network (`127.0.0.1:port` in its namespace). */
  endpoints: Array<Edge & { address: string }>;
}

/**
 * Resolves a service's env templates for Docker: endpoints become `<service>:<container port>`
 * (the service name is the container's alias on its network), or `127.0.0.1:<port>` for the
 * service whose network namespace this one shares (`sharesWith`), secrets the Pulumi secret
 * outputs, the backup store the mounted backups volume.
 */
export function dockerEnv(spec: ServiceSpec, topology: Topology, secrets: SecretOutputs, backupStoreUrl: string, sharesWith?: string): DockerEnv {
  const endpoints: DockerEnv["endpoints"] = [];
  const entries = Object.entries(spec.env).map(([key, value]) => {
    const resolved = resolveTemplate(value, {
      secret: (ref) => secrets[ref.secret],
      endpoint: (ref) => {
        const address = `${ref.service === sharesWith ? "127.0.0.1" : ref.service}:${port(service(topology, ref.service), ref.port).port}`;
        endpoints.push({ from: spec.name, to: ref.service, port: ref.port, address });
        return address;
      },
      backupStore: () => backupStoreUrl,
    });
    return pulumi.interpolate`${key}=${resolved}`;
  });
  return { envs: pulumi.all(entries), endpoints };
}
