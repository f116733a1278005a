import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { ServiceName, ServiceSpec } from "../topology";
import { containerDefinition, LOG_STREAM_PREFIX, type ContainerDefinition } from "./container";
import { cpuUnits, fargateTaskSize } from "./fargate";
import { roleWithPolicy, type PolicyStatement } from "./iam";
import type { PushedImage } from "./images";
import type { TaskPlan } from "./plan";
import type { StoredSecret } from "./secrets";

export interface TaskContainer {
  spec: ServiceSpec;
  image: PushedImage;
  /** Plain variables, resolved. */
  environment: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Secret variables → their Secrets Manager secret. */
  secrets: Record<string, StoredSecret>;
}

export interface TaskVolume {
  /** Name inside the task definition. */
  name: string;
  service: ServiceName;
  /** The topology volume it backs. */
  volume: string;
  hostPath?: string;
  efs?: { fileSystemId: pulumi.Input<string>; accessPointId: pulumi.Input<string> };
}

export interface AwsTaskArgs {
  plan: TaskPlan;
  /** Task definition family, e.g. `mixstack-prod-worker`. */
  family: string;
  region: string;
  logGroupName: string;
  logRetentionDays: number;
  cluster: { arn: pulumi.Input<string>; name: pulumi.Input<string> };
  containers: TaskContainer[];
  volumes: TaskVolume[];
  securityGroupId: pulumi.Input<string>;
  subnetIds: pulumi.Input<string[]>;
  /** EC2 tasks: the state host's capacity provider and the instance attribute they require. */
  ec2?: { capacityProvider: pulumi.Input<string>; requiredAttribute: string; ready: pulumi.Resource[] };
  loadBalancer?: { targetGroupArn: pulumi.Input<string>; containerPort: number; graceSeconds: number };
  /** Cloud Map service the tasks register in (their DNS name). */
  discoveryArn?: pulumi.Input<string>;
  /** What the containers themselves may do (S3 for backups, EFS mounts); none: no task role. */
  taskStatements: PolicyStatement[];
  /** Fargate scratch space in GiB (21–200); the backup stages archives there. */
  ephemeralStorageGb?: number;
  autoscaling?: { min: number; max: number; cpuPercent: number; requests?: { resourceLabel: pulumi.Input<string>; perTask: number } };
  /** Resources that must be ready before the service starts (the services it depends on). */
  dependsOn: pulumi.Resource[];
}

/**
 * One ECS task: its log group, an execution role limited to its images, its log group and its
 * secrets, an optional task role, the task definition (init containers first, each must exit 0
 * before the main container starts) and, unless it only runs on a schedule, the ECS service that
 * keeps it running: rolling deployments with a circuit breaker that rolls back; stateful tasks never
 * overlap (min 0 % / max 100 %) so two writers never share a data directory.
 */
export class AwsTask extends pulumi.ComponentResource {
  readonly logGroup: aws.cloudwatch.LogGroup;
  readonly executionRole: aws.iam.Role;
  readonly taskRole: aws.iam.Role | undefined;
  readonly taskDefinition: aws.ecs.TaskDefinition;
  readonly service: aws.ecs.Service | undefined;
  /** The container definitions as deployed (JSON parsed), for the summary and the tests. */
  readonly containerDefinitions: pulumi.Output<ContainerDefinition[]>;

  constructor(name: string, args: AwsTaskArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mixstack:aws:Task", name, {}, opts);
    const child = { parent: this };
    const { plan } = args;
    const owner = plan.containers[plan.containers.length - 1]!;
    const fargate = plan.capacity === "fargate";

    this.logGroup = new aws.cloudwatch.LogGroup(`${name}`, { name: args.logGroupName, retentionInDays: args.logRetentionDays }, child);

    const secretArns = unique(args.containers.flatMap((c) => Object.values(c.secrets).map((s) => s.arn)));
    const repositoryArns = unique(args.containers.map((c) => c.image.repositoryArn));
    const execution = roleWithPolicy(
      `${name}-execution`,
      {
        service: "ecs-tasks.amazonaws.com",
        description: `ECS agent for ${args.family}: pull its images, write its logs, read its secrets`,
        statements: [
          // Has no resource-level permission; the pulls below are limited to this task's repositories.
          { Effect: "Allow", Action: ["ecr:GetAuthorizationToken"], Resource: "*" },
          { Effect: "Allow", Action: ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"], Resource: repositoryArns },
          { Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: pulumi.interpolate`${this.logGroup.arn}:log-stream:*` },
          ...(secretArns.length > 0 ? [{ Effect: "Allow" as const, Action: ["secretsmanager:GetSecretValue"], Resource: secretArns }] : []),
        ],
      },
      child,
    );
    const task =
      args.taskStatements.length > 0
        ? roleWithPolicy(`${name}-task`, { service: "ecs-tasks.amazonaws.com", description: `${args.family}: what its containers may do`, statements: args.taskStatements }, child)
        : undefined;
    this.executionRole = execution.role;
    this.taskRole = task?.role;

    const inits = plan.containers.slice(0, -1).map((spec) => spec.name);
    const definitions = pulumi
      .all(
        args.containers.map((container) =>
          pulumi
            .all([container.image.ref, pulumi.output(container.environment), pulumi.all(mapValues(container.secrets, (s) => s.valueFrom))])
            .apply(([image, environment, secrets]) =>
              containerDefinition({
                spec: container.spec,
                image,
                environment: environment as Record<string, string>,
                secretArns: secrets,
                volumeNames: Object.fromEntries(args.volumes.filter((v) => v.service === container.spec.name).map((v) => [v.volume, v.name])),
                log: { group: args.logGroupName, region: args.region, streamPrefix: LOG_STREAM_PREFIX },
                essential: container.spec === owner,
                after: container.spec === owner ? inits : [],
              }),
            ),
        ),
      )
      .apply((list) => list);
    this.containerDefinitions = definitions;

    const cpu = plan.containers.reduce((sum, spec) => sum + cpuUnits(spec.resources.cpus), 0);
    const memory = plan.containers.reduce((sum, spec) => sum + spec.resources.memoryMb, 0);
    const size = fargate ? fargateTaskSize(cpu, memory) : { cpu, memory };
    if (size instanceof Error) throw new Error(`${plan.owner}: ${size.message}`);

    this.taskDefinition = new aws.ecs.TaskDefinition(
      `${name}`,
      {
        family: args.family,
        requiresCompatibilities: [fargate ? "FARGATE" : "EC2"],
        networkMode: "awsvpc",
        cpu: String(size.cpu),
        memory: String(size.memory),
        executionRoleArn: this.executionRole.arn,
        taskRoleArn: this.taskRole?.arn,
        containerDefinitions: definitions.apply((list) => JSON.stringify(list)),
        volumes: args.volumes.map((volume) => ({
          name: volume.name,
          ...(volume.hostPath && { hostPath: volume.hostPath }),
          ...(volume.efs && {
            efsVolumeConfiguration: {
              fileSystemId: volume.efs.fileSystemId,
              transitEncryption: "ENABLED",
              authorizationConfig: { accessPointId: volume.efs.accessPointId, iam: "ENABLED" },
            },
          }),
        })),
        ...(fargate && { runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: "X86_64" } }),
        ...(args.ephemeralStorageGb !== undefined && fargate && { ephemeralStorage: { sizeInGib: Math.min(Math.max(args.ephemeralStorageGb, 21), 200) } }),
        ...(args.ec2 && { placementConstraints: [{ type: "memberOf", expression: `attribute:${args.ec2.requiredAttribute} == mounted` }] }),
      },
      // Tasks start right after: their roles must already carry their policies.
      { ...child, dependsOn: [execution.policy, ...(task ? [task.policy] : [])] },
    );

    if (plan.runs === "service") {
      const single = owner.kind === "stateful";
      this.service = new aws.ecs.Service(
        `${name}`,
        {
          cluster: args.cluster.arn,
          taskDefinition: this.taskDefinition.arn,
          desiredCount: owner.scaling.min,
          ...(args.ec2
            ? { capacityProviderStrategies: [{ capacityProvider: args.ec2.capacityProvider, weight: 1, base: 1 }] }
            : { launchType: "FARGATE", platformVersion: "LATEST" }),
          networkConfiguration: { subnets: args.subnetIds, securityGroups: [args.securityGroupId], assignPublicIp: false },
          deploymentCircuitBreaker: { enable: true, rollback: true },
          // A stateful task stops before its replacement starts: never two writers on one data directory.
          deploymentMinimumHealthyPercent: single ? 0 : 100,
          deploymentMaximumPercent: single ? 100 : 200,
          ...(args.loadBalancer && {
            loadBalancers: [{ targetGroupArn: args.loadBalancer.targetGroupArn, containerName: owner.name, containerPort: args.loadBalancer.containerPort }],
            healthCheckGracePeriodSeconds: args.loadBalancer.graceSeconds,
          }),
          ...(args.discoveryArn && { serviceRegistries: { registryArn: args.discoveryArn } }),
          propagateTags: "SERVICE",
          enableEcsManagedTags: true,
          // `pulumi up` fails (after the rollback) when a release cannot reach a steady state.
          waitForSteadyState: true,
        },
        {
          ...child,
          dependsOn: [...args.dependsOn, ...(args.ec2?.ready ?? [])],
          // Autoscaling owns the count once it exists.
          ignoreChanges: args.autoscaling ? ["desiredCount"] : [],
        },
      );
      if (args.autoscaling) this.scale(name, args.cluster.name, this.service, args.autoscaling);
    }
    this.registerOutputs({ taskDefinitionArn: this.taskDefinition.arn });
  }

  private scale(name: string, clusterName: pulumi.Input<string>, service: aws.ecs.Service, scaling: NonNullable<AwsTaskArgs["autoscaling"]>): void {
    const child = { parent: this };
    const target = new aws.appautoscaling.Target(
      `${name}-scaling`,
      {
        serviceNamespace: "ecs",
        scalableDimension: "ecs:service:DesiredCount",
        resourceId: pulumi.interpolate`service/${clusterName}/${service.name}`,
        minCapacity: scaling.min,
        maxCapacity: scaling.max,
      },
      child,
    );
    const policy = (suffix: string, metric: string, value: number, resourceLabel?: pulumi.Input<string>) =>
      new aws.appautoscaling.Policy(
        `${name}-${suffix}`,
        {
          policyType: "TargetTrackingScaling",
          serviceNamespace: target.serviceNamespace,
          scalableDimension: target.scalableDimension,
          resourceId: target.resourceId,
          targetTrackingScalingPolicyConfiguration: {
            targetValue: value,
            predefinedMetricSpecification: { predefinedMetricType: metric, ...(resourceLabel !== undefined && { resourceLabel }) },
            scaleOutCooldown: 60,
            scaleInCooldown: 300,
          },
        },
        child,
      );
    policy("cpu", "ECSServiceAverageCPUUtilization", scaling.cpuPercent);
    if (scaling.requests) policy("requests", "ALBRequestCountPerTarget", scaling.requests.perTask, scaling.requests.resourceLabel);
  }
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}

function mapValues<T, U>(record: Record<string, T>, map: (value: T) => U): Record<string, U> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, map(value)]));
}
