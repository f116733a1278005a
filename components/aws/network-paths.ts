import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import type { ServiceName } from "../topology";
import { securityGroupText } from "./descriptions";
import { ownerOf, type AwsPlan, type IngressPlan, type TaskPlan } from "./plan";

/**
 * The network paths of the AWS plan, each a small step the deployment composes (the resources are
 * children of the deployment, as they always were: their URNs do not change). Testable alone
 * under mocks with a plan (test/aws/network-paths.test.ts).
 */

/** One security group per task, open outwards (AWS APIs, registries, the stack's services). */
export function taskSecurityGroups(name: string, tasks: readonly TaskPlan[], vpcId: pulumi.Input<string>, opts: pulumi.CustomResourceOptions): Map<ServiceName, aws.ec2.SecurityGroup> {
  const groups = new Map<ServiceName, aws.ec2.SecurityGroup>();
  for (const task of tasks) {
    const group = new aws.ec2.SecurityGroup(`${name}-${task.owner}`, { vpcId, description: securityGroupText(`mixstack ${task.owner} tasks`) }, opts);
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-${task.owner}-egress`,
      { securityGroupId: group.id, cidrIpv4: "0.0.0.0/0", ipProtocol: "-1", description: "AWS APIs, registries and the stack services" },
      opts,
    );
    groups.set(task.owner, group);
  }
  return groups;
}

/** One ingress rule per planned path, from the source task's group to the target's port; returns the paths wired. */
export function ingressRules(
  name: string,
  paths: readonly IngressPlan[],
  groups: ReadonlyMap<ServiceName, aws.ec2.SecurityGroup>,
  opts: pulumi.CustomResourceOptions,
): IngressPlan[] {
  return paths.map((path) => {
    new aws.vpc.SecurityGroupIngressRule(
      `${name}-${path.from}-to-${path.to}-${path.port}`,
      {
        securityGroupId: groups.get(path.to)!.id,
        referencedSecurityGroupId: groups.get(path.from)!.id,
        ipProtocol: "tcp",
        fromPort: path.port,
        toPort: path.port,
        description: securityGroupText(path.edges.join("; ")),
      },
      opts,
    );
    return path;
  });
}

/** A Cloud Map A record for each task another one connects to: its private name. */
export function privateNames(name: string, plan: AwsPlan, namespaceId: pulumi.Input<string>, opts: pulumi.CustomResourceOptions): Map<ServiceName, aws.servicediscovery.Service> {
  const discovered = new Map<ServiceName, aws.servicediscovery.Service>();
  for (const task of plan.tasks) {
    const owner = ownerOf(task);
    if (!plan.ingress.some((path) => path.to === owner.name)) continue;
    discovered.set(
      owner.name,
      new aws.servicediscovery.Service(
        `${name}-${owner.name}`,
        {
          name: owner.name,
          dnsConfig: { namespaceId, dnsRecords: [{ type: "A", ttl: 10 }], routingPolicy: "MULTIVALUE" },
          healthCheckCustomConfig: { failureThreshold: 1 },
          forceDestroy: true,
        },
        opts,
      ),
    );
  }
  return discovered;
}
