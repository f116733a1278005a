import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { securityGroupText } from "./descriptions";

export interface AccessPointSpec {
  /** `<service>-<volume>`: resource names and the directory on the file system. */
  key: string;
  path: string;
  uid: number;
  gid: number;
}

export interface AwsFileSystemArgs {
  vpcId: pulumi.Input<string>;
  privateSubnetIds: pulumi.Input<string[]>;
  /** How many private subnets there are (one mount target each). */
  subnetCount: number;
  accessPoints: AccessPointSpec[];
  keepData: boolean;
}

export interface CreatedAccessPoint {
  id: pulumi.Output<string>;
  arn: pulumi.Output<string>;
}

/**
 * EFS for the volumes that may live on NFS: Grafana's small SQLite database (one writer), and the
 * state only when `stateStorage: fargate-efs` is chosen explicitly. Encrypted, elastic throughput,
 * automatic AWS Backup, one access point per volume that creates its directory owned by the
 * service's uid/gid and makes every client act as that user. Mounts use TLS and IAM.
 */
export class AwsFileSystem extends pulumi.ComponentResource {
  readonly fileSystem: aws.efs.FileSystem;
  readonly securityGroup: aws.ec2.SecurityGroup;
  readonly accessPoints: ReadonlyMap<string, CreatedAccessPoint>;

  constructor(name: string, args: AwsFileSystemArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mixstack:aws:FileSystem", name, {}, opts);
    const child = { parent: this };
    this.fileSystem = new aws.efs.FileSystem(
      `${name}`,
      { encrypted: true, throughputMode: "elastic", performanceMode: "generalPurpose", tags: { Name: name } },
      { ...child, retainOnDelete: args.keepData },
    );
    new aws.efs.BackupPolicy(`${name}`, { fileSystemId: this.fileSystem.id, backupPolicy: { status: "ENABLED" } }, child);
    this.securityGroup = new aws.ec2.SecurityGroup(`${name}`, { vpcId: args.vpcId, description: securityGroupText(`${name}: NFS from the tasks that mount it`) }, child);
    const mountTargets = Array.from(
      { length: args.subnetCount },
      (_, index) =>
        new aws.efs.MountTarget(
          `${name}-${index}`,
          { fileSystemId: this.fileSystem.id, subnetId: pulumi.output(args.privateSubnetIds).apply((ids) => ids[index]!), securityGroups: [this.securityGroup.id] },
          child,
        ),
    );
    const accessPoints = new Map<string, CreatedAccessPoint>();
    for (const spec of args.accessPoints) {
      const accessPoint = new aws.efs.AccessPoint(
        `${name}-${spec.key}`,
        {
          fileSystemId: this.fileSystem.id,
          posixUser: { uid: spec.uid, gid: spec.gid },
          rootDirectory: { path: spec.path, creationInfo: { ownerUid: spec.uid, ownerGid: spec.gid, permissions: "0750" } },
          tags: { Name: `${name}-${spec.key}` },
        },
        { ...child, dependsOn: mountTargets },
      );
      accessPoints.set(spec.key, { id: accessPoint.id, arn: accessPoint.arn });
    }
    this.accessPoints = accessPoints;
    this.registerOutputs({ fileSystemId: this.fileSystem.id });
  }
}
