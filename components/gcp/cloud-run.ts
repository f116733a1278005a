import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { port, type ServiceSpec } from "../topology";
import { cloudRunLimits } from "./cloud-run-sizing";
import type { GcpHome } from "./placement";

/** One variable of a Cloud Run container: a plain value, or a Secret Manager reference (never the value). */
export type CloudRunEnv =
  | { name: string; value: pulumi.Input<string> }
  | { name: string; secret: { secretId: string; version: pulumi.Input<string> } };

export interface CloudRunWorkloadArgs {
  spec: ServiceSpec;
  home: Exclude<GcpHome, "vm" | "managed">;
  /**
   * Cloud Run resource name; unset, Pulumi names it (logical name + a random suffix, new for each
   * attempt): what executed jobs need, since a failed first create stays in the project and a retry
   * with the same name gets 409 (hashicorp/terraform-provider-google#17245).
   */
  resourceName: string | undefined;
  project: string;
  region: string;
  /** `tag@sha256:...`. */
  image: pulumi.Input<string>;
  serviceAccountEmail: pulumi.Input<string>;
  env: CloudRunEnv[];
  /** Files the container reads, from Secret Manager (e.g. a CA certificate): absolute path, secret, version. */
  files?: Array<{ path: string; secretId: string; version: pulumi.Input<string> }>;
  /** Direct VPC egress: the workload's own subnet and network tag (its firewall identity). */
  egress: { network: pulumi.Input<string>; subnetwork: pulumi.Input<string>; tag: string };
  /** initJob: changes whenever the job's inputs change; each new value runs the job once and waits for it. */
  runToken?: pulumi.Input<string>;
  /** scheduledJob: run limit, and the identity Cloud Scheduler calls the Run API with. */
  jobTimeoutSeconds?: number;
  scheduler?: { serviceAccountEmail: pulumi.Input<string>; schedulerName: string };
  labels: Record<string, string>;
  dependsOn: pulumi.Input<pulumi.Resource>[];
}

/**
 * A topology service on Cloud Run, shaped by its GCP home (see placement.ts):
 * - `service`: public ports get `INGRESS_TRAFFIC_ALL` without the invoker IAM check (the app
 *   authenticates: project token, Grafana login), autoscaling between the topology's min and max,
 *   startup probe on the readiness path (the dependency is reachable), liveness on the health path;
 * - `workerPool`: always-on instances with CPU always allocated, the topology's instance count;
 * - `initJob`: a job executed and awaited on each change of its inputs (`runExecutionToken`);
 * - `scheduledJob`: a job Cloud Scheduler runs on the topology's cron (UTC).
 * All reach the VPC through Direct VPC egress for private ranges only; secrets are Secret Manager
 * references pinned to a version.
 */
export class CloudRunWorkload extends pulumi.ComponentResource {
  readonly service: gcp.cloudrunv2.Service | undefined;
  readonly workerPool: gcp.cloudrunv2.WorkerPool | undefined;
  readonly job: gcp.cloudrunv2.Job | undefined;
  readonly schedule: gcp.cloudscheduler.Job | undefined;
  /** The resource later services wait for. */
  readonly ready: pulumi.Resource;
  /** HTTPS URL of a service. */
  readonly url: pulumi.Output<string> | undefined;
  /** Container ports reachable from the internet. */
  readonly publicPorts: number[];
  /** Image and arguments of the container as created (the deployment summary reads them back). */
  readonly deployed: pulumi.Output<{ image: string; args: string[] }>;

  constructor(name: string, args: CloudRunWorkloadArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mixstack:gcp:CloudRunWorkload", name, {}, opts);
    const { spec } = args;
    const options = { parent: this, dependsOn: args.dependsOn };
    const envs = args.env.map((entry) =>
      "secret" in entry
        ? { name: entry.name, valueSource: { secretKeyRef: { secret: entry.secret.secretId, version: entry.secret.version } } }
        : { name: entry.name, value: entry.value },
    );
    // Each file in its own directory: a secret volume hides what the image has at its mount path.
    const files = (args.files ?? []).map((file, index) => ({ ...file, volume: `file-${index}`, dir: file.path.slice(0, file.path.lastIndexOf("/")), base: file.path.slice(file.path.lastIndexOf("/") + 1) }));
    const volumes = files.length > 0 ? files.map((f) => ({ name: f.volume, secret: { secret: f.secretId, items: [{ version: f.version, path: f.base }] } })) : undefined;
    const container = {
      image: args.image,
      commands: spec.entrypoint,
      args: spec.command,
      envs,
      volumeMounts: files.length > 0 ? files.map((f) => ({ name: f.volume, mountPath: f.dir })) : undefined,
    };
    const limits = cloudRunLimits(spec.resources);
    const vpcAccess = {
      networkInterfaces: [{ network: args.egress.network, subnetwork: args.egress.subnetwork, tags: [args.egress.tag] }],
      egress: "PRIVATE_RANGES_ONLY",
    };
    const description = `mixstack ${spec.name}: ${spec.description}`;
    this.publicPorts = [];

    switch (args.home) {
      case "service": {
        const listening = spec.ports.find((p) => p.public) ?? spec.ports[0];
        if (!listening) throw new Error(`${spec.name} runs as a Cloud Run service but has no port`);
        const publicService = listening.public;
        const http = spec.health?.http;
        const healthPort = http ? port(spec, http.port).port : listening.port;
        this.service = new gcp.cloudrunv2.Service(
          `${name}-service`,
          {
            name: args.resourceName,
            location: args.region,
            description,
            ingress: publicService ? "INGRESS_TRAFFIC_ALL" : "INGRESS_TRAFFIC_INTERNAL_ONLY",
            invokerIamDisabled: publicService,
            deletionProtection: false,
            labels: args.labels,
            template: {
              serviceAccount: args.serviceAccountEmail,
              executionEnvironment: "EXECUTION_ENVIRONMENT_GEN2",
              scaling: { minInstanceCount: spec.scaling.min, maxInstanceCount: spec.scaling.max },
              vpcAccess,
              volumes,
              labels: args.labels,
              containers: [
                {
                  ...container,
                  ports: { containerPort: listening.port, name: "http1" },
                  resources: { limits: { ...limits }, cpuIdle: true, startupCpuBoost: true },
                  // Direct VPC egress can take a while on a new instance: traffic waits until the dependency answers.
                  startupProbe: http
                    ? { httpGet: { path: spec.health?.readinessPath ?? http.path, port: healthPort }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 24 }
                    : undefined,
                  livenessProbe: http
                    ? { httpGet: { path: http.path, port: healthPort }, periodSeconds: 30, timeoutSeconds: 5, failureThreshold: 3 }
                    : undefined,
                },
              ],
            },
            traffics: [{ type: "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", percent: 100 }],
          },
          options,
        );
        if (publicService) this.publicPorts.push(listening.port);
        this.url = this.service.uri;
        this.ready = this.service;
        this.deployed = this.service.template.apply((t) => deployedContainer(t.containers));
        break;
      }
      case "workerPool": {
        this.workerPool = new gcp.cloudrunv2.WorkerPool(
          `${name}-pool`,
          {
            name: args.resourceName,
            location: args.region,
            description,
            deletionProtection: false,
            labels: args.labels,
            // A fixed instance count: consumers of a stream do not scale on requests.
            scaling: { manualInstanceCount: spec.scaling.min },
            template: {
              serviceAccount: args.serviceAccountEmail,
              vpcAccess,
              volumes,
              labels: args.labels,
              containers: [{ ...container, resources: { limits: { ...limits } } }],
            },
          },
          options,
        );
        this.ready = this.workerPool;
        this.deployed = this.workerPool.template.apply((t) => deployedContainer(t.containers));
        break;
      }
      case "initJob":
      case "scheduledJob": {
        const scheduled = args.home === "scheduledJob";
        this.job = new gcp.cloudrunv2.Job(
          `${name}-job`,
          {
            name: args.resourceName,
            location: args.region,
            deletionProtection: false,
            labels: args.labels,
            runExecutionToken: scheduled ? undefined : args.runToken,
            template: {
              taskCount: 1,
              parallelism: 1,
              labels: args.labels,
              template: {
                serviceAccount: args.serviceAccountEmail,
                executionEnvironment: "EXECUTION_ENVIRONMENT_GEN2",
                vpcAccess,
                volumes,
                // An init retries while the VM boots; a failed backup is retried once, then alerts by its failed execution.
                maxRetries: scheduled ? 1 : 3,
                timeout: `${scheduled ? (args.jobTimeoutSeconds ?? 3600) : 600}s`,
                containers: [{ ...container, resources: { limits: { ...limits } } }],
              },
            },
          },
          options,
        );
        this.ready = this.job;
        this.deployed = this.job.template.apply((t) => deployedContainer(t.template.containers));
        if (scheduled) {
          if (!spec.schedule || !args.scheduler) throw new Error(`${spec.name} is a scheduled job without a schedule or a scheduler identity`);
          const invoker = new gcp.cloudrunv2.JobIamMember(
            `${name}-scheduler-invoker`,
            {
              name: this.job.name,
              location: args.region,
              role: "roles/run.invoker",
              member: pulumi.interpolate`serviceAccount:${args.scheduler.serviceAccountEmail}`,
            },
            { parent: this },
          );
          this.schedule = new gcp.cloudscheduler.Job(
            `${name}-schedule`,
            {
              name: args.scheduler.schedulerName,
              region: args.region,
              description: `mixstack: runs ${spec.name} on "${spec.schedule.cron}" (UTC)`,
              schedule: spec.schedule.cron,
              timeZone: "Etc/UTC",
              attemptDeadline: "180s",
              retryConfig: { retryCount: 3, minBackoffDuration: "60s" },
              httpTarget: {
                httpMethod: "POST",
                uri: pulumi.interpolate`https://run.googleapis.com/v2/projects/${args.project}/locations/${args.region}/jobs/${this.job.name}:run`,
                oauthToken: { serviceAccountEmail: args.scheduler.serviceAccountEmail, scope: "https://www.googleapis.com/auth/cloud-platform" },
              },
            },
            { parent: this, dependsOn: [invoker] },
          );
        }
        break;
      }
    }
    this.registerOutputs({ url: this.url });
  }
}

function deployedContainer(containers: Array<{ image: string; args?: string[] }> | undefined): { image: string; args: string[] } {
  const [first] = containers ?? [];
  return { image: first?.image ?? "", args: first?.args ?? [] };
}
