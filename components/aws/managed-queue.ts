import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { AwsConfig } from "./config";
import { securityGroupText } from "./descriptions";

export interface ManagedQueueArgs {
  vpcId: pulumi.Input<string>;
  privateSubnetIds: pulumi.Input<string[]>;
  settings: AwsConfig["managedQueue"];
  /** The queue password: the replication group's AUTH token. */
  authToken: pulumi.Input<string>;
  port: number;
  /** Destroy leaves a final snapshot behind (`keepDataOnDestroy`). */
  keepData: boolean;
}

/**
 * `queue.managed`: ElastiCache for Valkey instead of the queue container. A replication group in the
 * private subnets, TLS in transit and AUTH, encryption at rest, Multi-AZ failover with a replica,
 * daily snapshots, and `maxmemory-policy noeviction`: the queue holds state (stream, identity map,
 * profiles), so a full node must refuse writes (ingest answers 503) rather than evict keys.
 */
export class ManagedQueue extends pulumi.ComponentResource {
  readonly securityGroup: aws.ec2.SecurityGroup;
  readonly replicationGroup: aws.elasticache.ReplicationGroup;
  /** `host:port` of the primary. */
  readonly endpoint: pulumi.Output<string>;

  constructor(name: string, args: ManagedQueueArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mixstack:aws:ManagedQueue", name, {}, opts);
    const child = { parent: this };
    const { settings } = args;
    const major = settings.engineVersion.split(".")[0];
    const parameters = new aws.elasticache.ParameterGroup(
      `${name}`,
      { family: `valkey${major}`, description: "mixstack queue: state, not a cache", parameters: [{ name: "maxmemory-policy", value: "noeviction" }] },
      child,
    );
    const subnets = new aws.elasticache.SubnetGroup(`${name}`, { description: "mixstack queue: private subnets", subnetIds: args.privateSubnetIds }, child);
    this.securityGroup = new aws.ec2.SecurityGroup(`${name}`, { vpcId: args.vpcId, description: securityGroupText(`${name}: Valkey from the services that use the queue`) }, child);
    const failover = settings.replicas > 0;
    const finalSnapshot = args.keepData ? new random.RandomId(`${name}-final-snapshot`, { byteLength: 4 }, child) : undefined;
    this.replicationGroup = new aws.elasticache.ReplicationGroup(
      `${name}`,
      {
        description: "mixstack queue (Redis Streams, identity map, profiles)",
        engine: "valkey",
        engineVersion: settings.engineVersion,
        nodeType: settings.nodeType,
        numCacheClusters: 1 + settings.replicas,
        automaticFailoverEnabled: failover,
        multiAzEnabled: failover,
        port: args.port,
        parameterGroupName: parameters.name,
        subnetGroupName: subnets.name,
        securityGroupIds: [this.securityGroup.id],
        transitEncryptionEnabled: true,
        atRestEncryptionEnabled: true,
        authToken: pulumi.secret(args.authToken),
        authTokenUpdateStrategy: "ROTATE",
        snapshotRetentionLimit: settings.snapshotsKept,
        snapshotWindow: "01:00-02:00",
        autoMinorVersionUpgrade: true,
        finalSnapshotIdentifier: finalSnapshot ? pulumi.interpolate`${name}-final-${finalSnapshot.hex}` : undefined,
      },
      child,
    );
    this.endpoint = pulumi.interpolate`${this.replicationGroup.primaryEndpointAddress}:${args.port}`;
    this.registerOutputs({ endpoint: this.endpoint });
  }
}
