import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { readStackFile } from "../../cli/graph/stack-file";
import { ingressRules, privateNames, taskSecurityGroups } from "../../components/aws/network-paths";
import { planDeployment, type AwsPlan } from "../../components/aws/plan";
import { topologyFor } from "../../components/stack";
import { parseStackConfig } from "../../config/load";
import { evaluate, resourcesOfType } from "../pulumi/mocks";

/** The AWS deployment's network steps, each alone under mocks, from the plan of the aws-example stack. */

const root = resolve(__dirname, "..", "..");
const file = readStackFile("aws-example", root);
const plan = planDeployment(topologyFor(parseStackConfig({ stack: "aws-example", values: file.config, secretKeys: new Set(file.secretKeys) })), "ec2-ebs") as AwsPlan;

describe("the network paths of an AWS plan", () => {
  it("one security group per task, one ingress rule per planned path, a private name per task others reach", async () => {
    const evaluation = await evaluate({ values: { platform: "aws" } }, () => {
      const groups = taskSecurityGroups("t", plan.tasks, "vpc-1", {});
      ingressRules("t", plan.ingress, groups, {});
      privateNames("t", plan, "ns-1", {});
      return {};
    });
    expect(resourcesOfType(evaluation, "aws:ec2/securityGroup:SecurityGroup").map((r) => r.name).sort()).toEqual(
      plan.tasks.map((task) => `t-${task.owner}`).sort(),
    );
    expect(resourcesOfType(evaluation, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")).toHaveLength(plan.tasks.length);
    const rules = resourcesOfType(evaluation, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule");
    expect(rules.map((r) => `${r.name} ${String(r.inputs.fromPort)}`).sort()).toEqual(plan.ingress.map((p) => `t-${p.from}-to-${p.to}-${p.port} ${p.port}`).sort());
    expect(rules.map((r) => r.name)).toContain("t-worker-to-influxdb-8086");
    expect(resourcesOfType(evaluation, "aws:servicediscovery/service:Service").map((r) => r.inputs.name).sort()).toEqual(["influxdb", "queue"]);
  });
});
