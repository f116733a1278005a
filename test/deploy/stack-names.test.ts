import { beforeAll, describe, expect, it } from "vitest";
import { stackHash, uniqueStackLabel } from "../../components/translate/names";
import { unwrapSecrets, type RecordedResource } from "../pulumi/mocks";
import { evaluateForDeploy, type DeployEvaluation } from "./support";

/**
 * Issue 17, item 5 and the stack-name table: every name the program derives from the stack name
 * must fit the limits of the field it lands in, on every platform, for any name Pulumi accepts
 * (`[A-Za-z0-9_.-]{1,100}`: "a stack name cannot exceed 100 characters", pulumi/pulumi
 * sdk/go/common/tokens). And two different stacks must not get the same names (a second stack in
 * the same AWS account, GCP project or Docker engine would collide with the first).
 *
 * The limits are the providers' and clouds' documented ones:
 * - Docker: container and volume names `[a-zA-Z0-9][a-zA-Z0-9_.-]+` (moby daemon/names).
 * - AWS: Cloud Map private DNS namespace = a DNS name (labels of 1–63 `[a-z0-9-]`, 253 in all;
 *   CreatePrivateDnsNamespace builds a Route 53 hosted zone); ECS task family 255 `[A-Za-z0-9_-]`;
 *   CloudWatch log group 512 `[.\-_/#A-Za-z0-9]`; ECR repository 2–256 lowercase path segments;
 *   tag values 256; descriptions (security groups 255, DLM 500, EventBridge Scheduler 512, IAM
 *   roles 1000, Cloud Map 1024, Secrets Manager 2048).
 * - GCP: Compute resource names RFC 1035 labels (63); service account IDs 6–30; Cloud Run service
 *   and worker pool names 49 (revision names add a suffix), job names 63 including the run token;
 *   Artifact Registry repository IDs 63; bucket names 63; Secret Manager IDs 255; network tags 63;
 *   label values 63 lowercase.
 *
 * Red before issue 17: the AWS Cloud Map namespace `<stack>.mixstack.internal` had no bound
 * (a 64+ character stack name is an invalid DNS label), a run of separators became `--`, which ECR
 * repository names refuse, and lossy slugs collided on AWS and GCP (`Prod`/`prod`, `dev.eu`/`dev-eu`).
 */

const STACKS = [
  "a",
  "prod",
  "Prod.EU_west-1",
  "analytics.production.eu-central-1.customer-facing.blue-green.v2",
  "x".repeat(100),
  `${"Z".repeat(40)}.${"_".repeat(20)}-${"9".repeat(38)}`,
];

const PLATFORMS = {
  docker: { platform: "docker" },
  aws: { platform: "aws", aws: { region: "eu-west-1", allowHttp: true } },
  gcp: { platform: "gcp", gcp: { project: "acme-analytics", region: "europe-west1" } },
} as const;
type Platform = keyof typeof PLATFORMS;

const RFC1035 = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DOCKER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** A field rule: where the value is, and what it must satisfy (a message when it does not). */
interface FieldRule {
  type: string;
  field: string;
  /** Part of the resource's identity: two stacks must not share it. */
  identity?: boolean;
  check: (value: string, resource: RecordedResource) => string | undefined;
}

const within = (max: number, pattern?: RegExp, min = 1) => (value: string) =>
  value.length < min || value.length > max ? `${value.length} characters, limit ${min}–${max}` : pattern && !pattern.test(value) ? `does not match ${pattern}` : undefined;

const dnsName = (value: string) => {
  if (value.length > 253) return `${value.length} characters, limit 253`;
  const bad = value.split(".").find((label) => !/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(label));
  return bad !== undefined ? `label "${bad}" (${bad.length} characters) is not a DNS label of 1–63 [a-z0-9-]` : undefined;
};

const RULES: Record<Platform, FieldRule[]> = {
  docker: [
    { type: "docker:index/container:Container", field: "name", identity: true, check: within(255, DOCKER_NAME, 2) },
    { type: "docker:index/volume:Volume", field: "name", identity: true, check: within(255, DOCKER_NAME, 2) },
    { type: "docker:index/network:Network", field: "name", identity: true, check: within(255, DOCKER_NAME, 2) },
  ],
  aws: [
    { type: "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace", field: "name", identity: true, check: dnsName },
    { type: "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace", field: "description", check: within(1024) },
    { type: "aws:ecs/taskDefinition:TaskDefinition", field: "family", identity: true, check: within(255, /^[A-Za-z0-9_-]+$/) },
    { type: "aws:cloudwatch/logGroup:LogGroup", field: "name", identity: true, check: within(512, /^[.\-_/#A-Za-z0-9]+$/) },
    { type: "aws:ecr/repository:Repository", field: "name", identity: true, check: within(256, /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/, 2) },
    { type: "aws:secretsmanager/secret:Secret", field: "description", check: within(2048) },
    { type: "aws:scheduler/schedule:Schedule", field: "description", check: within(512) },
    { type: "aws:iam/role:Role", field: "description", check: within(1000) },
    { type: "aws:ec2/securityGroup:SecurityGroup", field: "description", check: within(255) },
    { type: "aws:dlm/lifecyclePolicy:LifecyclePolicy", field: "description", check: within(500, /^[0-9A-Za-z _-]+$/) },
  ],
  gcp: [
    ...[
      "gcp:compute/network:Network",
      "gcp:compute/subnetwork:Subnetwork",
      "gcp:compute/firewall:Firewall",
      "gcp:compute/router:Router",
      "gcp:compute/routerNat:RouterNat",
      "gcp:compute/disk:Disk",
      "gcp:compute/address:Address",
      "gcp:compute/instance:Instance",
      "gcp:compute/resourcePolicy:ResourcePolicy",
    ].map((type): FieldRule => ({ type, field: "name", identity: true, check: within(63, RFC1035) })),
    { type: "gcp:serviceaccount/account:Account", field: "accountId", identity: true, check: within(30, /^[a-z]([-a-z0-9]*[a-z0-9])$/, 6) },
    { type: "gcp:cloudrunv2/service:Service", field: "name", identity: true, check: within(49, RFC1035) },
    { type: "gcp:cloudrunv2/workerPool:WorkerPool", field: "name", identity: true, check: within(49, RFC1035) },
    {
      type: "gcp:cloudrunv2/job:Job",
      field: "name",
      identity: true,
      check: (value, resource) => within(63, RFC1035)(value) ?? (value.length + String(resource.inputs.runExecutionToken ?? "").length >= 63 ? "job name + run token must be fewer than 63 characters" : undefined),
    },
    { type: "gcp:cloudscheduler/job:Job", field: "name", identity: true, check: within(500, /^[A-Za-z0-9_-]+$/) },
    { type: "gcp:artifactregistry/repository:Repository", field: "repositoryId", identity: true, check: within(63, /^[a-z]([a-z0-9-]*[a-z0-9])?$/) },
    { type: "gcp:storage/bucket:Bucket", field: "name", identity: true, check: within(63, /^[a-z0-9][a-z0-9._-]*[a-z0-9]$/, 3) },
    { type: "gcp:secretmanager/secret:Secret", field: "secretId", identity: true, check: within(255, /^[A-Za-z0-9_-]+$/) },
  ],
};

/** Tag and label values, network tags: checked on every resource that has them. */
function sharedFindings(platform: Platform, resource: RecordedResource): string[] {
  const inputs = unwrapSecrets(resource.inputs) as Record<string, any>;
  const found: string[] = [];
  const where = `${resource.type} ${resource.name}`;
  // Only the cloud's own resources carry its tags and labels (an image's `labels` are OCI labels, its `tags` image tags).
  if (platform === "aws" && /^(aws:|pulumi:providers:aws$)/.test(resource.type)) {
    const tagSets = [inputs.tags, ...(inputs.tagSpecifications ?? []).map((t: { tags?: unknown }) => t.tags)];
    if (resource.type === "pulumi:providers:aws") {
      const defaultTags = typeof inputs.defaultTags === "string" ? JSON.parse(inputs.defaultTags) : inputs.defaultTags;
      tagSets.push(defaultTags?.tags);
    }
    for (const tags of tagSets) {
      for (const [key, value] of Object.entries((tags ?? {}) as Record<string, unknown>)) {
        if (key.length > 128 || String(value).length > 256) found.push(`${where}: tag ${key} is longer than AWS allows (128/256)`);
      }
    }
  }
  if (platform === "gcp" && /^(gcp:|pulumi:providers:gcp$)/.test(resource.type)) {
    const labelSets = [inputs.labels, inputs.template?.labels, inputs.template?.template?.labels];
    if (resource.type === "pulumi:providers:gcp") labelSets.push(typeof inputs.defaultLabels === "string" ? JSON.parse(inputs.defaultLabels) : inputs.defaultLabels);
    for (const labels of labelSets) {
      for (const [key, value] of Object.entries((labels ?? {}) as Record<string, unknown>)) {
        if (!/^[a-z][a-z0-9_-]{0,62}$/.test(key) || !/^[a-z0-9_-]{0,63}$/.test(String(value))) found.push(`${where}: label ${key}=${String(value)} is not a GCP label`);
      }
    }
    const tags = [
      ...(inputs.tags ?? []),
      ...(inputs.sourceTags ?? []),
      ...(inputs.targetTags ?? []),
      ...((inputs.template?.vpcAccess ?? inputs.template?.template?.vpcAccess)?.networkInterfaces ?? []).flatMap((n: { tags?: string[] }) => n.tags ?? []),
    ] as string[];
    for (const tag of tags) if (!RFC1035.test(tag)) found.push(`${where}: network tag ${tag} is not an RFC 1035 label of at most 63 characters`);
  }
  return found;
}

const evaluations = new Map<string, DeployEvaluation>();
const evaluationOf = async (platform: Platform, stack: string): Promise<DeployEvaluation> => {
  const key = `${platform}/${stack}`;
  if (!evaluations.has(key)) evaluations.set(key, await evaluateForDeploy({ stack, values: PLATFORMS[platform] }));
  return evaluations.get(key)!;
};

function findings(platform: Platform, evaluation: DeployEvaluation): string[] {
  const found: string[] = [];
  for (const rule of RULES[platform]) {
    for (const resource of evaluation.resources.filter((r) => r.type === rule.type)) {
      const value = (unwrapSecrets(resource.inputs) as Record<string, unknown>)[rule.field];
      // Unset: the provider autonames it from the logical name, which does not contain the stack name.
      if (value === undefined) continue;
      const problem = rule.check(String(value), resource);
      if (problem) found.push(`${rule.type} ${resource.name}: ${rule.field} "${String(value)}": ${problem}`);
    }
  }
  for (const resource of evaluation.resources) found.push(...sharedFindings(platform, resource));
  return found;
}

function identities(platform: Platform, evaluation: DeployEvaluation): Set<string> {
  const names = new Set<string>();
  for (const rule of RULES[platform].filter((r) => r.identity)) {
    for (const resource of evaluation.resources.filter((r) => r.type === rule.type)) {
      const value = (resource.inputs as Record<string, unknown>)[rule.field];
      if (typeof value === "string") names.add(`${rule.type}:${rule.field}=${value}`);
    }
  }
  return names;
}

/** Whether the program refuses the stack name up front, naming it (acceptable instead of bounding a name). */
async function evaluateOrRefusal(platform: Platform, stack: string): Promise<DeployEvaluation | string> {
  try {
    return await evaluationOf(platform, stack);
  } catch (error) {
    return (error as Error).message;
  }
}

describe.each(Object.keys(PLATFORMS) as Platform[])("names derived from the stack name on %s", (platform) => {
  beforeAll(async () => {
    // Evaluated once per stack, shared by the two tables below.
    for (const stack of STACKS) await evaluateOrRefusal(platform, stack);
  }, 300_000);

  const check = async (stack: string) => {
    const evaluation = await evaluateOrRefusal(platform, stack);
    expect(typeof evaluation === "string" ? [`refused: ${evaluation}`] : findings(platform, evaluation)).toEqual([]);
  };
  it.each(STACKS)("fit every length-limited field for stack %j", check);
});

describe("two different stacks get different names", () => {
  const PAIRS: Array<[string, string]> = [
    ["Prod", "prod"],
    ["dev.eu", "dev-eu"],
    [`${"a".repeat(90)}-blue`, `${"a".repeat(90)}-green`],
  ];
  const cases = (Object.keys(PLATFORMS) as Platform[]).flatMap((platform) => PAIRS.map(([one, two]) => [platform, one, two] as const));
  it.each(cases)("on %s: %s and %s share no name", async (platform, one, two) => {
    const [a, b] = [await evaluationOf(platform, one), await evaluationOf(platform, two)];
    expect([...identities(platform, a)].filter((name) => identities(platform, b).has(name))).toEqual([]);
  }, 120_000);
});

describe("uniqueStackLabel (the AWS stack label)", () => {
  it.each([
    ["prod", 63, "prod"],
    ["aws-example", 63, "aws-example"],
    ["Prod", 63, `prod-${stackHash("Prod", 6)}`],
    ["a__b", 63, `a-b-${stackHash("a__b", 6)}`],
    ["x".repeat(100), 63, `${"x".repeat(56)}-${stackHash("x".repeat(100), 6)}`],
  ])("%j within %i is %j", (stack, max, expected) => {
    const label = uniqueStackLabel(stack, max);
    expect(label).toBe(expected);
    expect(label.length).toBeLessThanOrEqual(max);
  });
});
