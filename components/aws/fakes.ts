import { createHash } from "node:crypto";

import type { PlatformFakes } from "../platform";

/**
 * What AWS would compute for resources and data sources, faked deterministically so a program
 * evaluates offline (`mixstack graph`, unit tests): ARNs, names, DNS names, the region's
 * availability zones. One account (123456789012); the region is the AWS provider's.
 */

export const FAKE_ACCOUNT = "123456789012";

type Inputs = Record<string, unknown>;

export class AwsFakes implements PlatformFakes {
  private awsRegion = "us-east-1";

  outputs(type: string, name: string, inputs: Inputs): Inputs | undefined {
    if (type === "pulumi:providers:aws") {
      if (typeof inputs.region === "string") this.awsRegion = inputs.region;
      return {};
    }
    if (type.startsWith("aws:")) return this.awsOutputs(type, name, inputs);
    return undefined;
  }

  invoke(token: string, inputs: Inputs): Inputs | undefined {
    const region = this.awsRegion;
    switch (token) {
      case "aws:index/getAvailabilityZones:getAvailabilityZones":
        return { id: region, names: ["a", "b", "c"].map((z) => `${region}${z}`), zoneIds: [1, 2, 3].map((n) => `${region.slice(0, 3)}-az${n}`), groupNames: [region] };
      case "aws:ecr/getAuthorizationToken:getAuthorizationToken":
        return {
          id: region,
          userName: "AWS",
          password: "mock-ecr-password",
          authorizationToken: Buffer.from("AWS:mock-ecr-password").toString("base64"),
          proxyEndpoint: `https://${FAKE_ACCOUNT}.dkr.ecr.${region}.amazonaws.com`,
          expiresAt: "2030-01-01T00:00:00Z",
        };
      case "aws:ec2/getSubnet:getSubnet":
        return { id: inputs.id, arn: `arn:aws:ec2:${region}:${FAKE_ACCOUNT}:subnet/${String(inputs.id)}`, availabilityZone: `${region}a`, vpcId: "vpc-0fake", cidrBlock: "10.0.0.0/20" };
      default:
        return undefined;
    }
  }

  private awsOutputs(type: string, name: string, inputs: Inputs): Inputs {
    const region = this.awsRegion;
    const account = FAKE_ACCOUNT;
    const physical = typeof inputs.name === "string" ? inputs.name : name;
    const suffix = hash(name).slice(0, 16);
    const arn = (service: string, resource: string, where = `${region}:${account}`) => `arn:aws:${service}:${where}:${resource}`;
    switch (type) {
      case "aws:ecs/cluster:Cluster":
        return { name: physical, arn: arn("ecs", `cluster/${physical}`) };
      case "aws:ecs/taskDefinition:TaskDefinition": {
        const family = String(inputs.family);
        return { arn: arn("ecs", `task-definition/${family}:1`), arnWithoutRevision: arn("ecs", `task-definition/${family}`), revision: 1 };
      }
      case "aws:ecs/service:Service":
        return { name: physical, arn: arn("ecs", `service/${physical}`) };
      case "aws:ecs/capacityProvider:CapacityProvider":
        return { name: physical, arn: arn("ecs", `capacity-provider/${physical}`) };
      case "aws:iam/role:Role":
        return { name: physical, arn: arn("iam", `role/${physical}`, `:${account}`) };
      case "aws:iam/instanceProfile:InstanceProfile":
        return { name: physical, arn: arn("iam", `instance-profile/${physical}`, `:${account}`) };
      case "aws:s3/bucket:Bucket": {
        const bucket = typeof inputs.bucket === "string" ? inputs.bucket : `${name}-${suffix.slice(0, 7)}`;
        return { bucket, arn: `arn:aws:s3:::${bucket}` };
      }
      case "aws:secretsmanager/secret:Secret":
        return { name: physical, arn: arn("secretsmanager", `secret:${physical}-${suffix.slice(0, 6)}`) };
      case "aws:secretsmanager/secretVersion:SecretVersion":
        return { versionId: `${suffix.slice(0, 8)}-0000-4000-8000-${suffix.slice(4, 16)}` };
      case "aws:ecr/repository:Repository":
        return { name: physical, registryId: account, arn: arn("ecr", `repository/${physical}`), repositoryUrl: `${account}.dkr.ecr.${region}.amazonaws.com/${physical}` };
      case "aws:lb/loadBalancer:LoadBalancer":
        return {
          name: physical,
          arn: arn("elasticloadbalancing", `loadbalancer/app/${physical}/${suffix}`),
          arnSuffix: `app/${physical}/${suffix}`,
          dnsName: `${physical}-${parseInt(suffix.slice(0, 8), 16)}.${region}.elb.amazonaws.com`,
        };
      case "aws:lb/targetGroup:TargetGroup":
        return { name: physical, arn: arn("elasticloadbalancing", `targetgroup/${physical}/${suffix}`), arnSuffix: `targetgroup/${physical}/${suffix}` };
      case "aws:cloudwatch/logGroup:LogGroup":
        return { name: physical, arn: arn("logs", `log-group:${physical}`) };
      case "aws:ebs/volume:Volume":
        return { arn: arn("ec2", `volume/${name}-id`) };
      case "aws:ec2/launchTemplate:LaunchTemplate":
        return { latestVersion: 1, arn: arn("ec2", `launch-template/${name}-id`) };
      case "aws:ec2/eip:Eip":
        return { allocationId: `eipalloc-${suffix.slice(0, 12)}` };
      case "aws:autoscaling/group:Group":
        return { name: physical, arn: arn("autoscaling", `autoScalingGroup:${suffix}:autoScalingGroupName/${physical}`) };
      case "aws:elasticache/replicationGroup:ReplicationGroup":
        return { arn: arn("elasticache", `replicationgroup:${name}`), primaryEndpointAddress: `master.${name}.${suffix.slice(0, 6)}.${region}.cache.amazonaws.com` };
      case "aws:efs/fileSystem:FileSystem":
        return { arn: arn("elasticfilesystem", `file-system/${name}-id`) };
      case "aws:efs/accessPoint:AccessPoint":
        return { arn: arn("elasticfilesystem", `access-point/${name}-id`) };
      case "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace":
        return { name: physical, arn: arn("servicediscovery", `namespace/${name}-id`) };
      case "aws:servicediscovery/service:Service":
        return { name: physical, arn: arn("servicediscovery", `service/${name}-id`) };
      default: {
        const [, service = "aws", resource = "resource"] = /^aws:([^/]+)\/([^:]+):/.exec(type) ?? [];
        return { arn: arn(service.toLowerCase(), `${resource}/${name}`) };
      }
    }
  }
}

function hash(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
