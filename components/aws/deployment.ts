import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { AwsConfig } from "./config";
import type { PlatformArgs, PlatformDeployment } from "../platform";
import { backupWriters, NO_BACKUP_TARGET, resolveTemplate } from "../translate/env";
import { uniqueStackLabel } from "../translate/names";
import { planSecrets, secretFor } from "../translate/secrets";
import type { AwsBackupJob } from "./backup-job";
import {
  imageLabel,
  isSecretEnv,
  port,
  resolveEnv,
  service,
  type DeploymentSummary,
  type EndpointRef,
  type EnvValue,
  type ServiceName,
  type ServiceSpec,
} from "../topology";
import { BACKUP_PREFIX, BackupStore } from "./backup-store";
import { LOG_STREAM_PREFIX } from "./container";
import { eventBridgeCron } from "./cron";
import { securityGroupText } from "./descriptions";
import { AwsFileSystem } from "./file-system";
import type { PolicyStatement } from "./iam";
import { AwsImages } from "./images";
import { PublicEndpoint } from "./load-balancer";
import { ManagedQueue } from "./managed-queue";
import { AwsNetwork } from "./network";
import { privateNames, ingressRules, taskSecurityGroups } from "./network-paths";
import { ownerOf, planDeployment, type TaskPlan } from "./plan";
import { parseS3Url } from "./s3-url";
import { TaskSchedule } from "./scheduled-task";
import { AwsSecrets } from "./secrets";
import { StateHost } from "./state-host";
import { summarize } from "./summary";
import { AwsTask, type TaskVolume } from "./task";
import { DATA_ATTRIBUTE } from "./user-data";

export type AwsDeploymentArgs = PlatformArgs<AwsConfig>;

/** InfluxData's caveat, printed whenever InfluxDB's data is put on EFS (`stateStorage: fargate-efs`). */
export const EFS_CAVEAT =
  "stateStorage fargate-efs: InfluxDB and the queue keep their data on EFS (NFS). InfluxData does not support InfluxDB on NFS or NFS-based services such as AWS EFS (block storage only); expect slower compactions and possible corruption after NFS interruptions. Use the default ec2-ebs for production.";

/**
 * The whole stack on AWS, translated from the topology: a VPC (new or existing), one ECS cluster,
 * stateless services and the worker on Fargate (public ones behind their own ALB), the stateful
 * services on one EC2 instance with a persistent gp3 EBS volume (or, opt-in, Fargate + EFS), Cloud
 * Map names, images in ECR deployed by digest, Secrets Manager, least-privilege roles, security
 * groups derived from the topology's edges, and the backup job on EventBridge Scheduler writing to S3.
 */
export class AwsDeployment extends pulumi.ComponentResource implements PlatformDeployment {
  readonly publicUrls: Partial<Record<ServiceName, pulumi.Output<string>>>;
  readonly backupTarget: pulumi.Output<string>;
  readonly backupJob: pulumi.Output<AwsBackupJob | undefined>;
  readonly summary: pulumi.Output<DeploymentSummary>;
  readonly notices: pulumi.Output<string[]>;
  readonly cluster: aws.ecs.Cluster;
  readonly network: AwsNetwork;
  readonly tasks: ReadonlyMap<ServiceName, AwsTask>;
  readonly stateHost: StateHost | undefined;

  constructor(name: string, args: AwsDeploymentArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mixstack:aws:Deployment", name, {}, opts);
    const { topology, secrets, settings } = args;
    const region = settings.region;
    const plan = planDeployment(topology, settings.stateStorage);
    if (plan instanceof Error) throw plan;
    // One label for every stack-derived name: the Cloud Map namespace label (63) is the tightest limit.
    const slug = uniqueStackLabel(topology.stack, 63);
    const keepData = topology.keepDataOnDestroy;

    const notices = [...topology.notices];
    if (settings.stateStorage === "fargate-efs" && plan.tasks.some((task) => task.capacity === "fargate" && task.containers.some((c) => c.kind === "stateful"))) {
      notices.push(EFS_CAVEAT);
    }
    if (!settings.certificateArn) notices.push("No aws.certificateArn: ingest and Grafana are served over plain HTTP. Set an ACM certificate for HTTPS.");
    for (const notice of notices) pulumi.log.warn(notice, this);

    const provider = new aws.Provider(
      `${name}-aws`,
      { region: region as aws.Region, defaultTags: { tags: { "mixstack:stack": topology.stack, "mixstack:project": "mixstack" } } },
      { parent: this },
    );
    const child: pulumi.CustomResourceOptions = { parent: this, provider };
    const components: pulumi.ComponentResourceOptions = { parent: this, providers: [provider] };

    this.network = new AwsNetwork(`${name}-network`, { vpc: settings.vpc, region }, components);
    const network = this.network;
    const privateSubnetCount = settings.vpc.privateSubnetIds?.length ?? 2;
    this.cluster = new aws.ecs.Cluster(
      `${name}-cluster`,
      { settings: [{ name: "containerInsights", value: settings.containerInsights ? "enabled" : "disabled" }] },
      child,
    );
    const cluster = this.cluster;
    const namespace = new aws.servicediscovery.PrivateDnsNamespace(
      `${name}-dns`,
      { name: `${slug}.mixstack.internal`, vpc: network.vpcId, description: `mixstack ${topology.stack}: private service names` },
      child,
    );

    // One security group per task (and per managed service); every path between them comes from an edge.
    const groups = taskSecurityGroups(name, plan.tasks, network.vpcId, child);

    let managedQueue: ManagedQueue | undefined;
    for (const spec of plan.managed) {
      // The config check (checks.ts) made sure a configured password is long enough for ElastiCache.
      managedQueue = new ManagedQueue(
        `${name}-${spec.name}`,
        {
          vpcId: network.vpcId,
          privateSubnetIds: network.privateSubnetIds,
          settings: settings.managedQueue,
          authToken: secrets.queuePassword,
          port: spec.ports[0]!.port,
          keepData,
        },
        components,
      );
      groups.set(spec.name, managedQueue.securityGroup);
    }

    const wired = ingressRules(name, plan.ingress, groups, child);

    // Private names: a Cloud Map A record per service others connect to (scheduled tasks resolve them too).
    const discovered = privateNames(name, plan, namespace.id, child);
    const endpointOf = (ref: EndpointRef): pulumi.Output<string> => {
      const target = service(topology, ref.service);
      if (target.managed) return managedQueue!.endpoint;
      return pulumi.interpolate`${ref.service}.${namespace.name}:${port(target, ref.port).port}`;
    };

    // Backups: the stack's own bucket, or the configured s3:// URL; nothing else is reachable from AWS tasks.
    let store: BackupStore | undefined;
    let backupLocation: { bucketArn: pulumi.Output<string>; prefix: string; url: pulumi.Output<string> } | undefined;
    const writers = new Set(backupWriters(topology));
    if (plan.tasks.some((task) => task.containers.some((spec) => writers.has(spec)))) {
      if (topology.backupTarget.kind === "url") {
        const target = parseS3Url(topology.backupTarget.url);
        if (target instanceof Error) {
          throw new Error(`mixstack:backup.target: ${target.message}; AWS tasks can write to S3 only (or leave it unset for the stack's own bucket)`);
        }
        backupLocation = { bucketArn: pulumi.output(`arn:aws:s3:::${target.bucket}`), prefix: target.prefix, url: pulumi.output(topology.backupTarget.url) };
      } else {
        store = new BackupStore(`${name}-backups`, { lifecycle: settings.backupBucket, keepData }, components);
        backupLocation = { bucketArn: store.bucket.arn, prefix: BACKUP_PREFIX, url: store.url };
      }
    }

    const resolve = (value: EnvValue): pulumi.Output<string> =>
      resolveTemplate(value, {
        secret: (ref) => secrets[ref.secret],
        endpoint: endpointOf,
        backupStore: () => {
          if (!store) throw new Error("the topology refers to the platform's backup store, but backup.target is set");
          return store.url;
        },
      });

    const allContainers = plan.tasks.flatMap((task) => task.containers);
    const secretPlan = planSecrets([...new Set(allContainers)]);
    const stored = new AwsSecrets(
      `${name}-secrets`,
      { stack: topology.stack, entries: secretPlan.map((entry) => ({ ...entry, value: pulumi.secret(resolve(entry.template)) })) },
      components,
    );
    const images = new AwsImages(`${name}-images`, { images: allContainers.map((spec) => spec.image), repositoryPrefix: `mixstack-${slug}` }, components);

    // Durable storage: the EBS volume of the state host, EFS for what may live on NFS.
    const ebs = plan.tasks.flatMap((task) => task.volumes.flatMap((v) => (v.placement.kind === "ebs" ? [{ ...v, hostPath: v.placement.hostPath }] : [])));
    const efs = plan.tasks.flatMap((task) =>
      task.volumes.flatMap((v) => (v.placement.kind === "efs" ? [{ ...v, task: task.owner, accessPointPath: v.placement.accessPointPath }] : [])),
    );
    let capacityReady: pulumi.Resource[] = [];
    if (ebs.length > 0) {
      const ec2Tasks = plan.tasks.filter((task) => task.capacity === "ec2");
      this.stateHost = new StateHost(
        `${name}-state`,
        {
          stack: topology.stack,
          region,
          cluster: { name: cluster.name, arn: cluster.arn },
          subnetId: network.stateSubnetId,
          availabilityZone: network.stateAvailabilityZone,
          vpcId: network.vpcId,
          instanceType: settings.stateHost.instanceType,
          volume: {
            sizeGb: settings.stateHost.volumeGb || ebs.reduce((sum, v) => sum + v.volume.sizeGb, 0),
            iops: settings.stateHost.volumeIops,
            throughputMbps: settings.stateHost.volumeThroughput,
          },
          snapshots: { time: settings.stateHost.snapshotTime, kept: settings.stateHost.snapshotsKept },
          directories: ebs.map((v) => ({ path: v.hostPath, uid: v.volume.uid, gid: v.volume.gid })),
          stopTimeoutSeconds: Math.max(...ec2Tasks.flatMap((task) => task.containers.map((c) => c.stopGraceSeconds))),
          keepData,
        },
        components,
      );
      const associations = new aws.ecs.ClusterCapacityProviders(
        `${name}-capacity`,
        { clusterName: cluster.name, capacityProviders: ["FARGATE", this.stateHost.capacityProvider.name] },
        child,
      );
      capacityReady = [associations];
    }
    let fileSystem: AwsFileSystem | undefined;
    if (efs.length > 0) {
      fileSystem = new AwsFileSystem(
        `${name}-files`,
        {
          vpcId: network.vpcId,
          privateSubnetIds: network.privateSubnetIds,
          subnetCount: privateSubnetCount,
          accessPoints: efs.map((v) => ({ key: `${v.service}-${v.volume.name}`, path: v.accessPointPath, uid: v.volume.uid, gid: v.volume.gid })),
          keepData,
        },
        components,
      );
      for (const owner of new Set(efs.map((v) => v.task))) {
        new aws.vpc.SecurityGroupIngressRule(
          `${name}-${owner}-to-files`,
          { securityGroupId: fileSystem.securityGroup.id, referencedSecurityGroupId: groups.get(owner)!.id, ipProtocol: "tcp", fromPort: 2049, toPort: 2049, description: securityGroupText(`${owner}: NFS`) },
          child,
        );
      }
    }

    // Public services: one load balancer each, on 80/443 only.
    const endpoints = new Map<ServiceName, { endpoint: PublicEndpoint; containerPort: number }>();
    for (const task of plan.tasks) {
      const owner = ownerOf(task);
      const published = owner.ports.filter((p) => p.public);
      if (published.length === 0) continue;
      if (published.length > 1) throw new Error(`${owner.name}: one public port per service is supported on AWS (one load balancer each)`);
      const publicPort = published[0]!;
      const health = owner.health;
      const probe = health?.http && port(owner, health.http.port).port === publicPort.port ? health.http.path : "/";
      endpoints.set(owner.name, {
        containerPort: publicPort.port,
        endpoint: new PublicEndpoint(
          `${name}-${owner.name}`,
          {
            vpcId: network.vpcId,
            publicSubnetIds: network.publicSubnetIds,
            containerPort: publicPort.port,
            healthPath: probe,
            health: { intervalSeconds: health?.intervalSeconds ?? 30, timeoutSeconds: health?.timeoutSeconds ?? 5, retries: health?.retries ?? 3 },
            certificateArn: settings.certificateArn,
            targetSecurityGroupId: groups.get(owner.name)!.id,
          },
          components,
        ),
      });
    }

    const tasks = new Map<ServiceName, AwsTask>();
    // What each service's readiness is, for the services that wait for it to be healthy.
    const ready = new Map<ServiceName, pulumi.Resource>();
    if (managedQueue) for (const spec of plan.managed) ready.set(spec.name, managedQueue.replicationGroup);
    for (const task of plan.tasks) {
      const owner = ownerOf(task);
      const volumes: TaskVolume[] = task.volumes.flatMap((v): TaskVolume[] => {
        const volumeName = `${v.service}-${v.volume.name}`;
        if (v.placement.kind === "ebs") return [{ name: volumeName, service: v.service, volume: v.volume.name, hostPath: v.placement.hostPath }];
        if (v.placement.kind === "efs") {
          const accessPoint = fileSystem!.accessPoints.get(volumeName)!;
          return [{ name: volumeName, service: v.service, volume: v.volume.name, efs: { fileSystemId: fileSystem!.fileSystem.id, accessPointId: accessPoint.id } }];
        }
        return [];
      });
      const taskStatements: PolicyStatement[] = [];
      for (const v of task.volumes) {
        if (v.placement.kind !== "efs") continue;
        const accessPoint = fileSystem!.accessPoints.get(`${v.service}-${v.volume.name}`)!;
        taskStatements.push({
          Effect: "Allow",
          Action: ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
          Resource: fileSystem!.fileSystem.arn,
          Condition: { StringEquals: { "elasticfilesystem:AccessPointArn": accessPoint.arn } },
        });
      }
      if (backupLocation && task.containers.some((spec) => writers.has(spec))) taskStatements.push(...s3Statements(backupLocation));

      const dependsOn = unique(
        task.containers.flatMap((spec) => spec.dependsOn.filter((d) => d.condition === "healthy").map((d) => ready.get(d.service))),
      ).filter((resource): resource is pulumi.Resource => resource !== undefined);
      const endpoint = endpoints.get(owner.name);
      const scales = owner.kind === "stateless" && owner.scaling.max > owner.scaling.min;
      const created = new AwsTask(
        `${name}-${owner.name}`,
        {
          plan: task,
          family: `mixstack-${slug}-${owner.name}`,
          region,
          logGroupName: `/mixstack/${slug}/${owner.name}`,
          logRetentionDays: settings.logRetentionDays,
          cluster: { arn: cluster.arn, name: cluster.name },
          containers: task.containers.map((spec) => ({
            spec,
            image: images.images.get(imageLabel(spec.image))!,
            environment: Object.fromEntries(Object.entries(spec.env).filter(([, value]) => !isSecretEnv(value)).map(([key, value]) => [key, resolve(value)])),
            secrets: Object.fromEntries(
              Object.entries(spec.env)
                .filter(([, value]) => isSecretEnv(value))
                .map(([key]) => [key, stored.secrets.get(secretFor(secretPlan, spec.name, key)!.id)!]),
            ),
          })),
          volumes,
          securityGroupId: groups.get(owner.name)!.id,
          subnetIds: task.capacity === "ec2" ? network.stateSubnetId.apply((id) => [id]) : network.privateSubnetIds,
          ec2: task.capacity === "ec2" && this.stateHost ? { capacityProvider: this.stateHost.capacityProvider.name, requiredAttribute: DATA_ATTRIBUTE, ready: capacityReady } : undefined,
          loadBalancer: endpoint && {
            targetGroupArn: endpoint.endpoint.targetGroup.arn,
            containerPort: endpoint.containerPort,
            graceSeconds: Math.max(60, (owner.health?.startPeriodSeconds ?? 0) * 2),
          },
          discoveryArn: discovered.get(owner.name)?.arn,
          taskStatements,
          ephemeralStorageGb: task.runs === "schedule" ? scratchGb(topology.services, task) : undefined,
          autoscaling: scales
            ? {
                min: owner.scaling.min,
                max: owner.scaling.max,
                cpuPercent: settings.ingestScaling.cpuPercent,
                requests: endpoint && {
                  resourceLabel: pulumi.interpolate`${endpoint.endpoint.loadBalancer.arnSuffix}/${endpoint.endpoint.targetGroup.arnSuffix}`,
                  perTask: settings.ingestScaling.requestsPerTask,
                },
              }
            : undefined,
          dependsOn: [...dependsOn, ...(endpoint?.endpoint.listeners ?? [])],
        },
        components,
      );
      tasks.set(owner.name, created);
      if (created.service) ready.set(owner.name, created.service);
    }
    this.tasks = tasks;

    const scheduled = plan.tasks.find((task) => task.runs === "schedule");
    if (scheduled) {
      const owner = ownerOf(scheduled);
      const expression = eventBridgeCron(owner.schedule!.cron);
      if (expression instanceof Error) throw new Error(`mixstack:backup.schedule: ${expression.message}`);
      const created = tasks.get(owner.name)!;
      new TaskSchedule(
        `${name}-${owner.name}`,
        {
          expression,
          cluster: { arn: cluster.arn },
          taskDefinition: created.taskDefinition,
          passRoles: [created.executionRole.arn, ...(created.taskRole ? [created.taskRole.arn] : [])],
          subnetIds: network.privateSubnetIds,
          securityGroupId: groups.get(owner.name)!.id,
          description: `mixstack ${topology.stack}: ${owner.description}`,
        },
        components,
      );
      this.backupJob = pulumi
        .all([cluster.name, created.taskDefinition.arn, network.privateSubnetIds, groups.get(owner.name)!.id, created.logGroup.name])
        .apply(([clusterName, taskDefinitionArn, subnets, securityGroup, logGroup]): AwsBackupJob => ({
          platform: "aws",
          region,
          cluster: clusterName,
          taskDefinitionArn,
          containerName: owner.name,
          subnets,
          securityGroups: [securityGroup],
          logGroup,
          logStreamPrefix: LOG_STREAM_PREFIX,
        }));
    } else {
      this.backupJob = pulumi.output<AwsBackupJob | undefined>(undefined);
    }

    const url = (serviceName: ServiceName): pulumi.Output<string> => {
      const endpoint = endpoints.get(serviceName);
      if (!endpoint) return pulumi.output("");
      const host = settings.hostnames[serviceName as keyof AwsConfig["hostnames"]];
      return pulumi.interpolate`${endpoint.endpoint.scheme}://${host ?? endpoint.endpoint.loadBalancer.dnsName}`;
    };
    this.publicUrls = Object.fromEntries([...endpoints.keys()].map((serviceName) => [serviceName, url(serviceName)]));
    this.backupTarget = scheduled && backupLocation ? backupLocation.url : pulumi.output(NO_BACKUP_TARGET);
    this.notices = pulumi.output(notices);
    this.summary = summarize({
      topology: topology.services,
      tasks: plan.tasks.map((task) => ({ plan: task, definitions: tasks.get(task.owner)!.containerDefinitions, volumes: task.volumes })),
      managed: managedQueue ? plan.managed : [],
      published: [...endpoints.entries()].map(([serviceName, e]) => ({ service: serviceName, containerPort: e.containerPort, listeners: e.endpoint.listenerPorts })),
      wired,
      hosts: plan.hosts,
      backupStoreWired: backupLocation !== undefined,
      images: images.images,
    });
    this.registerOutputs({
      publicUrls: this.publicUrls,
      backupTarget: this.backupTarget,
      backupJob: this.backupJob,
      notices: this.notices,
    });
  }
}

/**
 * Scratch disk of a scheduled task: room to stage what it copies (the backup agent stages archives
 * there): its backups volume, or the data volumes of the services it talks to, whichever is larger.
 */
function scratchGb(services: ServiceSpec[], task: TaskPlan): number {
  const owner = ownerOf(task);
  const backups = owner.volumes.filter((v) => v.purpose === "backups").reduce((sum, v) => sum + v.sizeGb, 0);
  const targets = new Set(owner.talksTo.map((edge) => edge.to));
  const data = services.filter((s) => targets.has(s.name)).flatMap((s) => s.volumes).filter((v) => v.purpose === "data").reduce((sum, v) => sum + v.sizeGb, 0);
  return Math.max(21, backups, data);
}

/** Read, write and delete under the backup prefix; list only that prefix. */
function s3Statements(location: { bucketArn: pulumi.Output<string>; prefix: string }): PolicyStatement[] {
  const objects = location.prefix ? pulumi.interpolate`${location.bucketArn}/${location.prefix}/*` : pulumi.interpolate`${location.bucketArn}/*`;
  return [
    {
      Effect: "Allow",
      Action: ["s3:ListBucket"],
      Resource: location.bucketArn,
      ...(location.prefix && { Condition: { StringLike: { "s3:prefix": [`${location.prefix}/*`, location.prefix] } } }),
    },
    { Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"], Resource: objects },
  ];
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}
