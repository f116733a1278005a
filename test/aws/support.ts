import { resolve } from "node:path";
import { evaluateStack } from "../../cli/graph/program";
import { readStackConfig } from "../../config/pulumi";
import { createStack, type Stack } from "../../components/stack";
import type { DeploymentSummary } from "../../components/topology";
import type { ContainerDefinition } from "../../components/aws/container";
import type { ResolvedStatement } from "../../components/aws/iam";
import { evaluate, resourcesOfType, unwrapSecrets, type Evaluation, type RecordedResource } from "../pulumi/mocks";

/** Helpers shared by the AWS tests: evaluate a stack under mocks and read what it created. */

export const projectRoot = resolve(__dirname, "..", "..");

export interface AwsEvaluation extends Evaluation {
  stack: Stack;
  summary: DeploymentSummary;
}

/** The example stack file, as `mixstack graph` reads it. */
export async function evaluateExample(name = "aws-example"): Promise<AwsEvaluation> {
  const evaluation = await evaluateStack(name, projectRoot);
  return { ...evaluation, summary: evaluation.outputs.summary!.value as DeploymentSummary };
}

/** A stack given as config values (keys without `mixstack:`), AWS in eu-west-1 unless overridden. */
export async function evaluateAws(values: Record<string, unknown>, secretKeys: string[] = [], stack = "test"): Promise<AwsEvaluation> {
  let created: Stack | undefined;
  // Plain HTTP must be asked for (aws.allowHttp); the tests that are not about it ask.
  const aws = { region: "eu-west-1", allowHttp: true, ...((values.aws as Record<string, unknown> | undefined) ?? {}) };
  const evaluation = await evaluate({ stack, values: { platform: "aws", ...values, aws }, secretKeys }, () => {
    created = createStack(readStackConfig());
    return { ...created.outputs, summary: created.deployment.summary };
  });
  return { ...evaluation, stack: created!, summary: evaluation.outputs.summary!.value as DeploymentSummary };
}

export function ofType(evaluation: Evaluation, type: string): RecordedResource[] {
  return resourcesOfType(evaluation, type);
}

export const TYPES = {
  ingress: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  egress: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
  securityGroup: "aws:ec2/securityGroup:SecurityGroup",
  taskDefinition: "aws:ecs/taskDefinition:TaskDefinition",
  service: "aws:ecs/service:Service",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  role: "aws:iam/role:Role",
  volume: "aws:ebs/volume:Volume",
  dlm: "aws:dlm/lifecyclePolicy:LifecyclePolicy",
  targetGroup: "aws:lb/targetGroup:TargetGroup",
  listener: "aws:lb/listener:Listener",
  loadBalancer: "aws:lb/loadBalancer:LoadBalancer",
  bucket: "aws:s3/bucket:Bucket",
  schedule: "aws:scheduler/schedule:Schedule",
  secret: "aws:secretsmanager/secret:Secret",
  secretVersion: "aws:secretsmanager/secretVersion:SecretVersion",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  launchTemplate: "aws:ec2/launchTemplate:LaunchTemplate",
  autoScalingGroup: "aws:autoscaling/group:Group",
  subnet: "aws:ec2/subnet:Subnet",
  replicationGroup: "aws:elasticache/replicationGroup:ReplicationGroup",
  fileSystem: "aws:efs/fileSystem:FileSystem",
  accessPoint: "aws:efs/accessPoint:AccessPoint",
  discovery: "aws:servicediscovery/service:Service",
  scalingPolicy: "aws:appautoscaling/policy:Policy",
  scalingTarget: "aws:appautoscaling/target:Target",
  image: "docker-build:index:Image",
  repository: "aws:ecr/repository:Repository",
} as const;

export interface TaskDefinitionView {
  resource: RecordedResource;
  family: string;
  containers: ContainerDefinition[];
}

export function taskDefinitions(evaluation: Evaluation): TaskDefinitionView[] {
  return ofType(evaluation, TYPES.taskDefinition).map((resource) => ({
    resource,
    family: String(resource.inputs.family),
    containers: JSON.parse(String(unwrapSecrets(resource.inputs.containerDefinitions))) as ContainerDefinition[],
  }));
}

/** The task definition whose main (essential) container is `service`. */
export function taskOf(evaluation: Evaluation, service: string): TaskDefinitionView {
  const found = taskDefinitions(evaluation).find((task) => task.containers.some((c) => c.name === service && c.essential));
  if (!found) throw new Error(`no task definition runs ${service}`);
  return found;
}

export interface PolicyView {
  name: string;
  role: string;
  statements: ResolvedStatement[];
}

/** Every inline role policy, parsed. */
export function rolePolicies(evaluation: Evaluation): PolicyView[] {
  return ofType(evaluation, TYPES.rolePolicy).map((resource) => ({
    name: resource.name,
    role: String(resource.inputs.role),
    statements: (JSON.parse(String(resource.inputs.policy)) as { Statement: ResolvedStatement[] }).Statement,
  }));
}

export function asList<T>(value: T | T[]): T[] {
  return Array.isArray(value) ? value : [value];
}

/** Security-group ids are `<logical name>-id` under the mocks: the logical name of the group. */
export function groupName(id: unknown): string {
  return String(id).replace(/-id$/, "");
}
