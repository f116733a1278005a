import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { lifecyclePolicyText } from "./descriptions";
import { roleWithPolicy } from "./iam";
import { DATA_MOUNT } from "./plan";
import { stateHostUserData } from "./user-data";

export interface StateHostArgs {
  stack: string;
  region: string;
  cluster: { name: pulumi.Input<string>; arn: pulumi.Input<string> };
  /** Private subnet of the instance; its AZ is the volume's. */
  subnetId: pulumi.Input<string>;
  availabilityZone: pulumi.Input<string>;
  vpcId: pulumi.Input<string>;
  instanceType: string;
  volume: { sizeGb: number; iops: number; throughputMbps: number };
  snapshots: { time: string; kept: number };
  /** Directories on the volume and their owners, one per stateful volume (plan: `ebs` placements). */
  directories: Array<{ path: string; uid: number; gid: number }>;
  stopTimeoutSeconds: number;
  /** Keep the data volume when the stack is destroyed (`keepDataOnDestroy`). */
  keepData: boolean;
}

/** The ECS-optimized Amazon Linux 2023 AMI, resolved by EC2 at each launch (always patched, no lookup here). */
export const ECS_AMI = "resolve:ssm:/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id";

/**
 * Where InfluxDB and the queue keep their data: one EC2 instance (an auto-scaling group of exactly
 * one, in one AZ) registered in the cluster through a capacity provider, and a separate encrypted
 * gp3 volume in the same AZ that outlives the instance: the boot script attaches and mounts it, a
 * replaced instance hands it over. DLM snapshots it daily; `pulumi destroy` keeps it by default.
 */
export class StateHost extends pulumi.ComponentResource {
  readonly volume: aws.ebs.Volume;
  readonly capacityProvider: aws.ecs.CapacityProvider;
  readonly securityGroup: aws.ec2.SecurityGroup;
  readonly autoScalingGroup: aws.autoscaling.Group;
  readonly snapshotPolicy: aws.dlm.LifecyclePolicy;

  constructor(name: string, args: StateHostArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mixstack:aws:StateHost", name, {}, opts);
    const child = { parent: this };
    const volumeTag = { "mixstack:data-volume": args.stack };
    const hostTag = { "mixstack:state-host": args.stack };

    this.volume = new aws.ebs.Volume(
      `${name}-data`,
      {
        availabilityZone: args.availabilityZone,
        type: "gp3",
        size: args.volume.sizeGb,
        iops: args.volume.iops,
        throughput: args.volume.throughputMbps,
        encrypted: true,
        // Should it ever be deleted (keepDataOnDestroy false), leave a last snapshot behind.
        finalSnapshot: true,
        tags: { Name: `${name}-data`, ...volumeTag },
      },
      { ...child, retainOnDelete: args.keepData },
    );

    const dlmRole = roleWithPolicy(
      `${name}-snapshots`,
      {
        service: "dlm.amazonaws.com",
        description: "DLM: daily snapshots of the mixstack data volume",
        statements: [
          { Effect: "Allow", Action: ["ec2:CreateSnapshot"], Resource: [this.volume.arn, `arn:aws:ec2:${args.region}::snapshot/*`] },
          { Effect: "Allow", Action: ["ec2:CreateTags"], Resource: `arn:aws:ec2:${args.region}::snapshot/*` },
          {
            Effect: "Allow",
            Action: ["ec2:DeleteSnapshot"],
            Resource: `arn:aws:ec2:${args.region}::snapshot/*`,
            // Only snapshots of this stack's volume (DLM copies the volume's tags onto them).
            Condition: { StringEquals: { "aws:ResourceTag/mixstack:data-volume": args.stack } },
          },
          // Describe calls have no resource-level permissions.
          { Effect: "Allow", Action: ["ec2:DescribeVolumes", "ec2:DescribeInstances", "ec2:DescribeSnapshots"], Resource: "*" },
        ],
      },
      child,
    );
    this.snapshotPolicy = new aws.dlm.LifecyclePolicy(
      `${name}-snapshots`,
      {
        description: lifecyclePolicyText(`mixstack ${args.stack} daily snapshots of the data volume`),
        executionRoleArn: dlmRole.role.arn,
        state: "ENABLED",
        policyDetails: {
          resourceTypes: ["VOLUME"],
          targetTags: volumeTag,
          schedules: [
            {
              name: "daily",
              createRule: { interval: 24, intervalUnit: "HOURS", times: args.snapshots.time },
              retainRule: { count: args.snapshots.kept },
              copyTags: true,
            },
          ],
        },
      },
      { ...child, dependsOn: [dlmRole.policy] },
    );

    this.securityGroup = new aws.ec2.SecurityGroup(
      `${name}-host`,
      { vpcId: args.vpcId, description: "mixstack state host: no inbound traffic (tasks have their own groups)" },
      child,
    );
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-host-egress`,
      { securityGroupId: this.securityGroup.id, cidrIpv4: "0.0.0.0/0", ipProtocol: "-1", description: "ECS, EC2 and image registries (through the NAT)" },
      child,
    );

    const clusterInstances = pulumi.interpolate`arn:aws:ecs:${args.region}:*:container-instance/${args.cluster.name}/*`;
    const instanceRole = roleWithPolicy(
      `${name}-instance`,
      {
        service: "ec2.amazonaws.com",
        description: "mixstack state host: ECS agent and attaching its data volume",
        statements: [
          {
            Effect: "Allow",
            Action: ["ecs:RegisterContainerInstance", "ecs:DeregisterContainerInstance", "ecs:Submit*", "ecs:Poll", "ecs:StartTelemetrySession", "ecs:UpdateContainerInstancesState", "ecs:TagResource"],
            Resource: [args.cluster.arn, clusterInstances],
          },
          // No resource-level permissions for these.
          { Effect: "Allow", Action: ["ecs:DiscoverPollEndpoint", "ec2:DescribeVolumes"], Resource: "*" },
          { Effect: "Allow", Action: ["ec2:AttachVolume"], Resource: this.volume.arn },
          {
            Effect: "Allow",
            Action: ["ec2:AttachVolume"],
            Resource: `arn:aws:ec2:${args.region}:*:instance/*`,
            Condition: { StringEquals: { "aws:ResourceTag/mixstack:state-host": args.stack } },
          },
        ],
      },
      child,
    );
    const profile = new aws.iam.InstanceProfile(`${name}-instance`, { role: instanceRole.role.name }, child);

    const userData = pulumi
      .all([this.volume.id, args.cluster.name])
      .apply(([volumeId, cluster]) =>
        Buffer.from(
          stateHostUserData({
            volumeId,
            region: args.region,
            cluster,
            mountPath: DATA_MOUNT,
            directories: args.directories,
            stopTimeoutSeconds: args.stopTimeoutSeconds,
          }),
        ).toString("base64"),
      );
    const template = new aws.ec2.LaunchTemplate(
      `${name}-host`,
      {
        imageId: ECS_AMI,
        instanceType: args.instanceType,
        iamInstanceProfile: { arn: profile.arn },
        vpcSecurityGroupIds: [this.securityGroup.id],
        userData,
        // IMDSv2 only; tasks use their own roles (ECS_AWSVPC_BLOCK_IMDS keeps them off the instance's).
        metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
        blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { volumeSize: 30, volumeType: "gp3", encrypted: "true", deleteOnTermination: "true" } }],
        // Tags at launch: the boot script's AttachVolume permission depends on them.
        tagSpecifications: [
          { resourceType: "instance", tags: { Name: `${name}-host`, ...hostTag } },
          { resourceType: "volume", tags: { Name: `${name}-host-root` } },
        ],
        updateDefaultVersion: true,
      },
      // The boot script attaches the volume with the instance's role: its policy must exist first.
      { ...child, dependsOn: [instanceRole.policy] },
    );
    this.autoScalingGroup = new aws.autoscaling.Group(
      `${name}-host`,
      {
        minSize: 1,
        maxSize: 1,
        desiredCapacity: 1,
        vpcZoneIdentifiers: [args.subnetId],
        launchTemplate: { id: template.id, version: template.latestVersion.apply(String) },
        healthCheckType: "EC2",
        healthCheckGracePeriod: 300,
        // One instance, one volume: the old instance goes before the new one can attach it.
        instanceRefresh: { strategy: "Rolling", preferences: { minHealthyPercentage: 0, maxHealthyPercentage: 100 } },
        tags: [
          { key: "AmazonECSManaged", value: "true", propagateAtLaunch: true },
          { key: "Name", value: `${name}-host`, propagateAtLaunch: true },
        ],
      },
      child,
    );
    this.capacityProvider = new aws.ecs.CapacityProvider(
      `${name}-host`,
      {
        autoScalingGroupProvider: {
          autoScalingGroupArn: this.autoScalingGroup.arn,
          // Tasks are stopped (gracefully) before their instance is replaced.
          managedDraining: "ENABLED",
          managedTerminationProtection: "DISABLED",
          // Exactly one instance, whatever ECS would like.
          managedScaling: { status: "DISABLED" },
        },
      },
      child,
    );
    this.registerOutputs({ volumeId: this.volume.id, capacityProvider: this.capacityProvider.name });
  }
}
