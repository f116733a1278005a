import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import type { GcpConfig } from "./config";

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
  /** Secret Manager ID of the server CA certificate clients must trust (TLS). */
  caSecretId: string;
  /** Identities of the services that connect (they read the CA). */
  clients: Array<{ owner: string; email: pulumi.Input<string> }>;
}

/** The CA chain of a Memorystore instance's server certificates, PEM, from its `managedServerCas` output. */
export function serverCaPem(cas: ReadonlyArray<{ caCerts?: ReadonlyArray<{ certificates?: readonly string[] }> }> | undefined): string {
  const pem = (cas ?? []).flatMap((ca) => ca.caCerts ?? []).flatMap((chain) => chain.certificates ?? []);
  if (pem.length === 0) throw new Error("the Memorystore instance reports no server CA");
  return pem.map((cert) => (cert.endsWith("\n") ? cert : `${cert}\n`)).join("");
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
 * In-transit encryption on (the topology's `rediss://`), with the instance's own CA, which clients
 * trust through a Secret Manager file (`caSecret`). Memorystore for Valkey has no password
 * authentication (IAM or none): access is limited by the network (egress rules to the endpoint
 * subnet), and `REDIS_URL` carries no password.
 */
export class ManagedQueue extends pulumi.ComponentResource {
  readonly instance: gcp.memorystore.Instance;
  /** `host:port` of the primary. */
  readonly address: pulumi.Output<string>;
  /** The server CA certificate, stored for the clients: Secret Manager ID and pinned version. */
  readonly caSecret: { secretId: string; version: pulumi.Output<string>; grants: gcp.secretmanager.SecretIamMember[] };

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
        transitEncryptionMode: "SERVER_AUTHENTICATION",
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
    const ca = new gcp.secretmanager.Secret(
      `${name}-ca`,
      { secretId: args.caSecretId, replication: { userManaged: { replicas: [{ location: args.region }] } }, labels: args.labels, deletionProtection: false },
      { parent: this },
    );
    const caVersion = new gcp.secretmanager.SecretVersion(`${name}-ca-version`, { secret: ca.id, secretData: this.instance.managedServerCas.apply(serverCaPem) }, { parent: this });
    const grants = args.clients.map(
      (client) =>
        new gcp.secretmanager.SecretIamMember(
          `${name}-ca-${client.owner}`,
          { secretId: ca.id, role: "roles/secretmanager.secretAccessor", member: pulumi.interpolate`serviceAccount:${client.email}` },
          { parent: this },
        ),
    );
    this.caSecret = { secretId: args.caSecretId, version: caVersion.version, grants };
    this.registerOutputs({ address: this.address });
  }
}
