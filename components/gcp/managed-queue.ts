import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import type { GcpConfig } from "../../config/gcp";

export interface ManagedQueueArgs {
  instanceId: string;
  policyName: string;
  project: string;
  region: string;
  zone: string;
  network: pulumi.Input<string>;
  /** The subnet Private Service Connect takes the endpoint addresses from. */
  pscSubnetwork: pulumi.Input<string>;
  settings: GcpConfig["memorystore"];
  keepOnDestroy: boolean;
  labels: Record<string, string>;
}

/** The endpoint of a Memorystore instance's primary, from its `endpoints` output. */
export function primaryEndpoint(endpoints: ReadonlyArray<{ connections?: ReadonlyArray<{ pscAutoConnection?: { connectionType?: string; ipAddress?: string; port?: number } }> }> | undefined): { host: string; port: number } {
  const connections = (endpoints ?? []).flatMap((endpoint) => endpoint.connections ?? []).map((c) => c.pscAutoConnection).filter((c) => c?.ipAddress);
  const primary = connections.find((c) => c!.connectionType === "CONNECTION_TYPE_PRIMARY") ?? connections[0];
  if (!primary?.ipAddress) throw new Error("the Memorystore instance reports no endpoint");
  return { host: primary.ipAddress, port: primary.port ?? 6379 };
}

/**
 * `queue.managed: true`: Memorystore for Valkey instead of the queue container. Valkey, not
 * Memorystore for Redis: the queue holds acknowledged events and profiles (state, not a cache), and
 * only the Valkey service offers AOF persistence (`appendfsync everysec`, as the container runs);
 * Memorystore for Redis instances persist RDB snapshots only. `noeviction` as in the container.
 * Memorystore for Valkey has no password authentication (IAM or none): access is limited by the
 * network (the firewall's egress rules to the endpoint subnet), and `REDIS_URL` carries no password.
 */
export class ManagedQueue extends pulumi.ComponentResource {
  readonly instance: gcp.memorystore.Instance;
  /** `host:port` of the primary. */
  readonly address: pulumi.Output<string>;

  constructor(name: string, args: ManagedQueueArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mixstack:gcp:ManagedQueue", name, {}, opts);
    const policy = new gcp.networkconnectivity.ServiceConnectionPolicy(
      `${name}-psc-policy`,
      {
        name: args.policyName,
        location: args.region,
        serviceClass: "gcp-memorystore",
        network: args.network,
        description: "mixstack: endpoints of the managed queue",
        pscConfig: { subnetworks: [args.pscSubnetwork] },
      },
      { parent: this },
    );
    this.instance = new gcp.memorystore.Instance(
      `${name}-valkey`,
      {
        instanceId: args.instanceId,
        location: args.region,
        mode: "CLUSTER_DISABLED",
        shardCount: 1,
        replicaCount: args.settings.replicas,
        nodeType: args.settings.nodeType,
        engineVersion: "VALKEY_8_0",
        engineConfigs: { "maxmemory-policy": "noeviction" },
        persistenceConfig: { mode: "AOF", aofConfig: { appendFsync: "EVERY_SEC" } },
        authorizationMode: "AUTH_DISABLED",
        transitEncryptionMode: "TRANSIT_ENCRYPTION_DISABLED",
        zoneDistributionConfig: args.settings.replicas > 0 ? { mode: "MULTI_ZONE" } : { mode: "SINGLE_ZONE", zone: args.zone },
        desiredAutoCreatedEndpoints: [{ network: args.network, projectId: args.project }],
        deletionProtectionEnabled: args.keepOnDestroy,
        labels: args.labels,
      },
      { parent: this, dependsOn: [policy], retainOnDelete: args.keepOnDestroy },
    );
    this.address = this.instance.endpoints.apply((endpoints) => {
      const { host, port } = primaryEndpoint(endpoints);
      return `${host}:${port}`;
    });
    this.registerOutputs({ address: this.address });
  }
}
