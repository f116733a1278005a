import { beforeAll, describe, expect, it } from "vitest";
import { isSecretEnv, service } from "../../components/topology";
import { plainStrings } from "../pulumi/mocks";
import { asList, evaluateAws, groupName, ofType, rolePolicies, taskDefinitions, TYPES, type AwsEvaluation } from "./support";

/**
 * Issue 7's security must-shows hold on every option variant, not only on aws-example
 * (test/aws/example-stack.test.ts): internet ingress only at the load balancers, InfluxDB (8086,
 * 8088) and the queue reachable only from the services named, no `*` action and `*` resources only
 * where AWS has no resource-level permission, secrets only by ARN, images by digest.
 */

const INFLUX = { 8086: ["mixstack-backup", "mixstack-grafana", "mixstack-worker"], 8088: ["mixstack-backup"] };
const QUEUE = { 6379: ["mixstack-backup", "mixstack-ingest", "mixstack-worker"] };
const WILDCARD_OK = new Set(["ecr:GetAuthorizationToken", "ecs:DiscoverPollEndpoint", "ec2:DescribeVolumes", "ec2:DescribeInstances", "ec2:DescribeSnapshots"]);

interface Variant {
  name: string;
  values: Record<string, unknown>;
  secretKeys?: string[];
  /** Load-balancer ports open to the internet. */
  internet: number[];
  /** Expected sources per port of each stateful group (absent: no such group). */
  reach: Record<string, Record<number, string[]> | undefined>;
}

const variants: Variant[] = [
  { name: "defaults (HTTP only)", values: {}, internet: [80], reach: { "mixstack-influxdb": INFLUX, "mixstack-queue": QUEUE } },
  {
    name: "HTTPS",
    values: { aws: { certificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/abc" } },
    internet: [80, 443],
    reach: { "mixstack-influxdb": INFLUX, "mixstack-queue": QUEUE },
  },
  { name: "managed queue (ElastiCache)", values: { queue: { managed: true } }, internet: [80], reach: { "mixstack-influxdb": INFLUX, "mixstack-queue": QUEUE } },
  {
    name: "external InfluxDB",
    values: { influxdb: { external: { url: "https://influx.example.com:8086" } }, influxAdminPassword: "an-admin-password-1" },
    secretKeys: ["influxAdminPassword"],
    internet: [80],
    // No InfluxDB of ours, and no backup job to reach the queue.
    reach: { "mixstack-influxdb": undefined, "mixstack-queue": { 6379: ["mixstack-ingest", "mixstack-worker"] } },
  },
  {
    name: "state on Fargate + EFS",
    values: { aws: { stateStorage: "fargate-efs" } },
    internet: [80],
    reach: { "mixstack-influxdb": INFLUX, "mixstack-queue": QUEUE, "mixstack-files": { 2049: ["mixstack-grafana", "mixstack-influxdb", "mixstack-queue"] } },
  },
  {
    name: "existing VPC",
    values: { aws: { vpc: { id: "vpc-0abc", publicSubnetIds: ["subnet-0a1", "subnet-0b1"], privateSubnetIds: ["subnet-0a2", "subnet-0b2"] } } },
    internet: [80],
    reach: { "mixstack-influxdb": INFLUX, "mixstack-queue": QUEUE },
  },
];

describe.each(variants)("AWS security invariants: $name", (variant) => {
  let evaluation: AwsEvaluation;
  beforeAll(async () => {
    evaluation = await evaluateAws(variant.values, variant.secretKeys ?? []);
  });

  const rules = () =>
    ofType(evaluation, TYPES.ingress).map((rule) => ({
      name: rule.name,
      target: groupName(rule.inputs.securityGroupId),
      cidr: (rule.inputs.cidrIpv4 ?? rule.inputs.cidrIpv6 ?? rule.inputs.prefixListId) as string | undefined,
      source: rule.inputs.referencedSecurityGroupId === undefined ? undefined : groupName(rule.inputs.referencedSecurityGroupId),
      fromPort: rule.inputs.fromPort as number,
      toPort: rule.inputs.toPort as number,
    }));

  it("admits the internet only at the load balancers' listener ports, and every other path from one security group", () => {
    const albGroups = new Set(ofType(evaluation, TYPES.loadBalancer).flatMap((lb) => (lb.inputs.securityGroups as string[]).map(groupName)));
    expect(albGroups.size).toBe(2);
    const byCidr = rules().filter((rule) => rule.source === undefined);
    expect(byCidr.map((rule) => `${rule.target} ${rule.cidr} ${rule.fromPort}-${rule.toPort}`).sort()).toEqual(
      [...albGroups].flatMap((group) => variant.internet.map((p) => `${group} 0.0.0.0/0 ${p}-${p}`)).sort(),
    );
    for (const rule of rules()) expect(rule.fromPort, rule.name).toBe(rule.toPort);
    // Inline rules would escape every check above.
    for (const group of ofType(evaluation, TYPES.securityGroup)) expect(group.inputs.ingress ?? [], group.name).toEqual([]);
  });

  it("lets InfluxDB, its backup port, the queue and the file system be reached only by the services named", () => {
    for (const [target, expected] of Object.entries(variant.reach)) {
      const sources: Record<number, string[]> = {};
      for (const rule of rules().filter((r) => r.target === target)) (sources[rule.fromPort] ??= []).push(String(rule.source ?? rule.cidr));
      for (const list of Object.values(sources)) list.sort();
      if (expected === undefined) {
        expect(ofType(evaluation, TYPES.securityGroup).map((g) => g.name), target).not.toContain(target);
      } else {
        expect(sources, target).toEqual(expected);
      }
    }
  });

  it("grants no '*' action and '*' resources only to actions without resource-level permissions", () => {
    const policies = rolePolicies(evaluation);
    expect(policies.length).toBeGreaterThan(5);
    for (const policy of policies) {
      for (const statement of policy.statements) {
        const actions = asList(statement.Action);
        expect(actions.filter((action) => action === "*" || action.endsWith(":*")), policy.name).toEqual([]);
        if (asList(statement.Resource).includes("*")) expect(actions.filter((action) => !WILDCARD_OK.has(action)), policy.name).toEqual([]);
      }
    }
    for (const role of ofType(evaluation, TYPES.role)) expect(role.inputs.managedPolicyArns ?? [], role.name).toEqual([]);
  });

  it("hands secrets to containers only by Secrets Manager ARN, and runs every image by digest", () => {
    for (const task of taskDefinitions(evaluation)) {
      for (const container of task.containers) {
        const spec = service(evaluation.stack.topology, container.name as never);
        const secretNames = Object.entries(spec.env).filter(([, value]) => isSecretEnv(value)).map(([name]) => name).sort();
        expect(container.secrets.map((s) => s.name).sort(), container.name).toEqual(secretNames);
        for (const secret of container.secrets) expect(secret.valueFrom).toMatch(/^arn:aws:secretsmanager:eu-west-1:\d{12}:secret:/);
        expect(container.environment.filter((e) => secretNames.includes(e.name)), container.name).toEqual([]);
        expect(container.image, container.name).toMatch(/^\d{12}\.dkr\.ecr\.eu-west-1\.amazonaws\.com\/[a-z0-9/-]+@sha256:[0-9a-f]{64}$/);
      }
    }
    const secrets = [...evaluation.generatedSecrets, ...(variant.secretKeys ? ["an-admin-password-1"] : [])];
    expect(secrets.length).toBeGreaterThan(0);
    const leaks = evaluation.resources.flatMap((resource) =>
      plainStrings(resource.inputs)
        .filter(({ text }) => secrets.some((secret) => text.includes(secret)))
        .map(({ path }) => `${resource.type} ${resource.name} ${path}`),
    );
    expect(leaks).toEqual([]);
  });
});
