import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import { version } from "../../package.json";
import type { GcpConfig } from "./config";
import type { PlatformArgs, PlatformDeployment } from "../platform";
import { backupWriters, NO_BACKUP_TARGET, resolveTemplate, type EnvResolvers } from "../translate/env";
import { planSecrets, secretFor } from "../translate/secrets";
import { deploymentSummary } from "../translate/summary";
import type { GcpBackupJob } from "./backup-job";
import {
  edgeLabel,
  port,
  references,
  service,
  serviceImageLabel,
  startOrder,
  type BuildName,
  type DeploymentSummary,
  type EnvValue,
  type ServiceName,
  type ServiceSpec,
  SERVICES_IMAGE,
} from "../topology";
import { enableApis, requiredApis } from "./apis";
import { BackupBucket } from "./backup-bucket";
import type { CloudInitPlan, VmUnit } from "./cloud-init";
import { CloudRunWorkload, type CloudRunEnv } from "./cloud-run";
import { plainEnv, platformSetEnv } from "./env";
import { isDigestRef, mirroredRef } from "./image-refs";
import { ManagedQueue } from "./managed-queue";
import { gcpNamePrefix, gcpNames, labelValue } from "./names";
import { GcpNetwork } from "./network";
import { planFirewall, planNetwork, subnetOf } from "./network-plan";
import { GcpRegistry } from "./registry";
import { placeServices, serverlessServices, vmServices, type GcpHome } from "./placement";
import { GcpSecrets } from "./secrets";
import { GcpStateVm, type StateDisk } from "./state-vm";

export type GcpDeploymentArgs = PlatformArgs<GcpConfig>;

/** Where clients of a managed service find its server CA (Node reads it through NODE_EXTRA_CA_CERTS). */
export const CA_DIR = "/etc/mixstack/ca";

/**
 * The whole stack on Google Cloud, translated from the topology by service kind (placement.ts):
 * its own VPC (one Direct VPC egress subnet per Cloud Run workload, firewall rules from the
 * topology's edges, Cloud NAT for the VM), a Container-Optimized OS VM for the stateful services
 * (cloud-init + systemd `docker run`, persistent data disks with a snapshot schedule), Cloud Run for
 * the rest (services, worker pool, jobs), Artifact Registry with our images pinned by digest,
 * Secret Manager with per-secret accessor grants, one service account per service, and backups to a
 * GCS bucket run by Cloud Scheduler.
 */
export class GcpDeployment extends pulumi.ComponentResource implements PlatformDeployment {
  readonly publicUrls: Partial<Record<ServiceName, pulumi.Output<string>>>;
  readonly backupTarget: pulumi.Output<string>;
  readonly backupJob: pulumi.Output<GcpBackupJob | undefined>;
  readonly notices: pulumi.Output<string[]>;
  readonly summary: pulumi.Output<DeploymentSummary>;
  readonly network: GcpNetwork;
  readonly vm: GcpStateVm | undefined;
  readonly workloads: Readonly<Partial<Record<ServiceName, CloudRunWorkload>>>;
  /** The VM's cloud-init plan (rendered into its user data). */
  readonly cloudInit: pulumi.Output<CloudInitPlan> | undefined;

  constructor(name: string, args: GcpDeploymentArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mixstack:gcp:Deployment", name, {}, opts);
    const { topology, secrets, settings } = args;
    const project = settings.project;
    const region = settings.region;
    const zone = settings.zone ?? `${region}-b`;
    const names = gcpNames(gcpNamePrefix(topology.stack, settings.namePrefix));
    const labels = { "mixstack-stack": labelValue(topology.stack) };
    const managed = new Set<ServiceName>(topology.services.filter((spec) => spec.managed).map((spec) => spec.name));
    const placement = placeServices(topology, managed);
    const homeOf = (serviceName: ServiceName): GcpHome => placement[serviceName];

    // Every resource uses this provider; it waits for the APIs, so nothing is created before they are on.
    const apis = settings.enableApis
      ? enableApis(
          `${name}-api`,
          project,
          requiredApis({ managedQueue: managed.size > 0 }),
          new gcp.Provider(`${name}-gcp-apis`, { project, region }, { parent: this }),
        )
      : [];
    const provider = new gcp.Provider(`${name}-gcp`, { project, region, zone, defaultLabels: labels }, { parent: this, dependsOn: apis });
    const child = (extra: pulumi.CustomResourceOptions = {}): pulumi.CustomResourceOptions => ({ parent: this, provider, ...extra });
    const childComponent = (extra: pulumi.ComponentResourceOptions = {}): pulumi.ComponentResourceOptions => ({ parent: this, providers: [provider], ...extra });

    // Network.
    const networkPlan = planNetwork(topology, placement, names, settings.networkCidr);
    const firewall = planFirewall(topology, placement, networkPlan, names, { iapSsh: settings.iapSsh });
    this.network = new GcpNetwork(`${name}-network`, { vpcName: names.of("vpc"), region, plan: networkPlan, firewall }, childComponent());
    const subnetId = (subnetName: string) => this.network.subnets.get(subnetName)!.id;

    // One service account per Cloud Run workload, one for the VM (all its units), one for the scheduler.
    const accountEmail = (owner: string, description: string) => {
      const account = new gcp.serviceaccount.Account(
        `${name}-${owner}-sa`,
        { accountId: names.serviceAccount(owner), displayName: `mixstack ${owner}`, description },
        child(),
      );
      return account.accountId.apply((id) => `${id}@${project}.iam.gserviceaccount.com`);
    };
    const onVm = vmServices(topology, placement);
    const serverless = serverlessServices(topology, placement);
    const vmEmail = onVm.length > 0 ? accountEmail("vm", `mixstack VM: ${onVm.map((s) => s.name).join(", ")}`) : undefined;
    const emails = new Map<ServiceName, pulumi.Output<string>>(serverless.map((spec) => [spec.name, accountEmail(spec.name, `mixstack ${spec.name}: ${spec.description}`)]));
    const identityOf = (serviceName: ServiceName) =>
      homeOf(serviceName) === "vm" ? { owner: "vm", email: vmEmail! } : { owner: serviceName, email: emails.get(serviceName)! };
    const scheduled = serverless.filter((spec) => homeOf(spec.name) === "scheduledJob");
    const schedulerEmail = scheduled.length > 0 ? accountEmail("scheduler", "mixstack: Cloud Scheduler runs the scheduled jobs as this account") : undefined;

    // Images: ours built and pushed; the VM's third-party images through the Docker Hub mirror.
    const deployed = topology.services.filter((spec) => homeOf(spec.name) !== "managed");
    const buildsNeeded = [...new Set(deployed.flatMap((spec) => (spec.image.kind === "build" ? [spec.image.build] : [])))] as BuildName[];
    const registry = new GcpRegistry(
      `${name}-registry`,
      { names, project, region, builds: buildsNeeded, tag: version, mirrorDockerHub: onVm.some((spec) => spec.image.kind === "pinned"), labels },
      childComponent(),
    );
    const imageOf = (spec: ServiceSpec): pulumi.Output<string> =>
      spec.image.kind === "build"
        ? registry.images.get(spec.image.build)!.apply((ref) => {
            // Deployed by digest, so a rebuild rolls out and a tag moved by someone else does not.
            if (!isDigestRef(ref)) throw new Error(`the pushed image of ${spec.name} has no digest (${ref}); is the Docker engine's buildx able to push?`);
            return ref;
          })
        : pulumi.output(homeOf(spec.name) === "vm" && registry.mirrorPath ? mirroredRef(spec.image.ref, registry.mirrorPath) : spec.image.ref);

    // Backups: the platform's store is a GCS bucket, written only by the services that reference it.
    const storeUsers = backupWriters(topology).filter((spec) => deployed.includes(spec));
    const bucket =
      topology.backupTarget.kind === "platform" && storeUsers.length > 0
        ? new BackupBucket(
            `${name}-backups`,
            {
              bucketName: names.backupBucket(project),
              region,
              lifecycle: settings.backupBucket,
              writers: storeUsers.map((spec) => identityOf(spec.name)),
              keepOnDestroy: topology.keepDataOnDestroy,
              labels,
            },
            childComponent(),
          )
        : undefined;

    // A managed queue (Memorystore for Valkey) instead of the container, when configured.
    const managedEndpoints = new Map<ServiceName, pulumi.Output<string>>();
    const managedResources = new Map<ServiceName, pulumi.Resource>();
    const managedCas = new Map<ServiceName, ManagedQueue["caSecret"]>();
    for (const serviceName of managed) {
      const psc = networkPlan.subnets.find((subnet) => subnet.purpose === "psc")!;
      const queue = new ManagedQueue(
        `${name}-${serviceName}`,
        {
          instanceId: names.of(serviceName),
          policyName: names.of(serviceName, "psc"),
          project,
          region,
          zone,
          network: this.network.vpc.id,
          pscSubnetwork: subnetId(psc.name),
          settings: settings.memorystore,
          keepOnDestroy: topology.keepDataOnDestroy,
          labels,
          caSecretId: names.of(serviceName, "ca"),
          clients: deployed.filter((spec) => spec.talksTo.some((edge) => edge.to === serviceName)).map((spec) => identityOf(spec.name)),
        },
        childComponent(),
      );
      managedEndpoints.set(serviceName, queue.address);
      managedResources.set(serviceName, queue.instance);
      managedCas.set(serviceName, queue.caSecret);
    }
    // Memorystore for Valkey has no password: in a value addressing it, the credentials are left out (`rediss://:@host:6379`).
    const withoutManagedCredentials = (template: EnvValue): EnvValue =>
      references(template).some((ref) => ref.kind === "endpoint" && managed.has(ref.service))
        ? template.map((part) => (typeof part !== "string" && part.kind === "secret" ? "" : part))
        : template;

    const resolvers: EnvResolvers = {
      endpoint: (ref) => {
        const containerPort = port(service(topology, ref.service), ref.port).port;
        const home = homeOf(ref.service);
        if (home === "vm") return `${networkPlan.vmAddress}:${containerPort}`;
        if (home === "managed") return managedEndpoints.get(ref.service)!;
        throw new Error(`${ref.service} runs on Cloud Run: it has no private endpoint for ${ref.port}`);
      },
      secret: (ref) => secrets[ref.secret],
      backupStore: () => {
        if (!bucket) throw new Error("the backup store is referenced but no bucket is deployed");
        return bucket.url;
      },
    };

    // Secret Manager: one secret per secret-bearing template, readable by its consumers only.
    const secretPlan = planSecrets(deployed);
    const stored = new GcpSecrets(
      `${name}-secrets`,
      { names, project, region, plan: secretPlan, value: (planned) => resolveTemplate(withoutManagedCredentials(planned.template), resolvers), identityOf, labels },
      childComponent(),
    );
    const referenceOf = (serviceName: ServiceName, variable: string) => stored.references.get(secretFor(secretPlan, serviceName, variable)!.id)!;
    const grantsOf = (spec: ServiceSpec) =>
      Object.keys(spec.env).flatMap((variable) => (secretFor(secretPlan, spec.name, variable) ? referenceOf(spec.name, variable).grants : []));

    // The stateful VM.
    let vm: GcpStateVm | undefined;
    if (onVm.length > 0) {
      const vmGrants: pulumi.Resource[] = onVm.flatMap(grantsOf);
      for (const role of ["roles/logging.logWriter", "roles/monitoring.metricWriter"]) {
        vmGrants.push(
          new gcp.projects.IAMMember(`${name}-vm-${role.split("/")[1]!.replace(/\./g, "-")}`, { project, role, member: pulumi.interpolate`serviceAccount:${vmEmail}` }, child()),
        );
      }
      const pulled = [
        ...(registry.mirror ? [{ key: "dockerhub", repository: registry.mirror }] : []),
        ...(onVm.some((spec) => spec.image.kind === "build") ? [{ key: "images", repository: registry.repository }] : []),
      ];
      for (const { key, repository } of pulled) {
        vmGrants.push(
          new gcp.artifactregistry.RepositoryIamMember(
            `${name}-vm-reads-${key}`,
            { repository: repository.repositoryId, location: region, role: "roles/artifactregistry.reader", member: pulumi.interpolate`serviceAccount:${vmEmail}` },
            child(),
          ),
        );
      }
      const disks: StateDisk[] = onVm.flatMap((spec) =>
        spec.volumes.map((volume) => ({ device: names.device(spec.name, volume.name), sizeGb: volume.sizeGb, service: spec.name, volume: volume.name })),
      );
      const units = onVm.map((spec) =>
        pulumi.output({
          service: spec.name,
          description: spec.description,
          image: imageOf(spec),
          entrypoint: spec.entrypoint,
          command: spec.command,
          env: pulumi.all(plainEnv(spec, resolvers).map(([variable, value]) => pulumi.all([variable, value]))),
          secretEnv: pulumi.all(
            Object.keys(spec.env)
              .filter((variable) => secretFor(secretPlan, spec.name, variable))
              .map((variable) => pulumi.all([variable, referenceOf(spec.name, variable).versionName])),
          ),
          publish: spec.ports.map((p) => ({ address: networkPlan.vmAddress, port: p.port })),
          mounts: spec.volumes.map((volume) => ({ device: names.device(spec.name, volume.name), containerPath: volume.path })),
          memoryMb: spec.resources.memoryMb,
          cpus: spec.resources.cpus,
          health: spec.health && {
            command: spec.health.command,
            intervalSeconds: spec.health.intervalSeconds,
            timeoutSeconds: spec.health.timeoutSeconds,
            retries: spec.health.retries,
            startPeriodSeconds: spec.health.startPeriodSeconds,
          },
          stopGraceSeconds: spec.stopGraceSeconds,
          after: spec.dependsOn.map((d) => d.service).filter((dependency) => homeOf(dependency) === "vm"),
        }),
      ) as unknown as pulumi.Output<VmUnit>[];
      this.cloudInit = pulumi.all(units).apply(
        (resolved): CloudInitPlan => ({
          registries: [registry.host],
          disks: onVm.flatMap((spec) => spec.volumes.map((volume) => ({ device: names.device(spec.name, volume.name), uid: volume.uid, gid: volume.gid }))),
          units: resolved,
          logMaxSize: "10m",
          logMaxFiles: 5,
        }),
      );
      vm = new GcpStateVm(
        `${name}-vm`,
        {
          names,
          settings,
          zone,
          subnetwork: subnetId(networkPlan.subnets.find((subnet) => subnet.purpose === "vm")!.name),
          address: networkPlan.vmAddress,
          tags: [names.tag("vm"), ...onVm.map((spec) => names.tag(spec.name))],
          serviceAccountEmail: vmEmail!,
          disks,
          cloudInit: this.cloudInit,
          keepDisks: topology.keepDataOnDestroy,
          labels,
          dependsOn: vmGrants,
        },
        childComponent(),
      );
    }
    this.vm = vm;

    // Cloud Run, in start order so each workload can wait for what it depends on.
    const workloads: Partial<Record<ServiceName, CloudRunWorkload>> = {};
    for (const spec of startOrder(topology)) {
      const home = homeOf(spec.name);
      if (home === "vm" || home === "managed") continue;
      const skip = platformSetEnv(spec);
      const env: CloudRunEnv[] = Object.keys(spec.env)
        .filter((variable) => !skip.has(variable))
        .map((variable): CloudRunEnv => {
          const secret = secretFor(secretPlan, spec.name, variable);
          if (secret) {
            const reference = referenceOf(spec.name, variable);
            return { name: variable, secret: { secretId: reference.secretId, version: reference.version } };
          }
          return { name: variable, value: resolveTemplate(spec.env[variable]!, resolvers) };
        });
      // Clients of a managed service trust its server CA (TLS), read from Secret Manager as a file.
      const cas = spec.talksTo.flatMap((edge) => (managedCas.has(edge.to) ? [{ service: edge.to, ca: managedCas.get(edge.to)! }] : []));
      const caFiles = [...new Map(cas.map((c) => [c.service, c])).values()].map(({ service: serviceName, ca }) => ({
        path: `${CA_DIR}/${serviceName}/ca.pem`,
        secretId: ca.secretId,
        version: ca.version,
        grants: ca.grants,
      }));
      if (caFiles.length > 0) env.push({ name: "NODE_EXTRA_CA_CERTS", value: caFiles.map((f) => f.path).join(",") });
      const waitsFor = spec.dependsOn.map((dependency): pulumi.Resource => {
        const dependencyHome = homeOf(dependency.service);
        if (dependencyHome === "vm") return vm!.instance;
        if (dependencyHome === "managed") return managedResources.get(dependency.service)!;
        return workloads[dependency.service]!.ready;
      });
      const image = imageOf(spec);
      const secretVersions = env.flatMap((entry) => ("secret" in entry ? [pulumi.interpolate`${entry.secret.secretId}/${entry.secret.version}`] : []));
      const plainValues = env.flatMap((entry) => ("secret" in entry ? [] : [pulumi.interpolate`${entry.name}=${entry.value}`]));
      const egress = { network: this.network.vpc.id, subnetwork: subnetId(subnetOf(networkPlan, spec.name).name), tag: names.tag(spec.name) };
      const prerequisites = [...waitsFor, ...grantsOf(spec), ...caFiles.flatMap((f) => f.grants)];
      // A service or worker pool starts only once what it talks to answers from its own subnet, as its
      // own account, with its own secrets (the VM booted, the firewall path, the grants propagated):
      // a failed first create of a Cloud Run service cannot be retried (409, docs/first-deploy.md "GCP").
      const gateTargets = [...new Set(spec.talksTo.map((edge) => edge.to).filter((to) => homeOf(to) === "vm" || homeOf(to) === "managed"))];
      let gate: CloudRunWorkload | undefined;
      if ((home === "service" || home === "workerPool") && gateTargets.length > 0) {
        const gateImage = imageOf({ ...spec, image: SERVICES_IMAGE });
        gate = new CloudRunWorkload(
          `${name}-${spec.name}-gate`,
          {
            spec: startGateSpec(spec, gateTargets),
            home: "initJob",
            resourceName: undefined,
            project,
            region,
            image: gateImage,
            serviceAccountEmail: emails.get(spec.name)!,
            env,
            files: caFiles,
            egress,
            runToken: runToken(gateImage, plainValues, [...secretVersions, ...waitsFor.flatMap(resourceId)]),
            labels: { ...labels, "mixstack-service": spec.name, "mixstack-role": "start-gate" },
            dependsOn: prerequisites,
          },
          childComponent(),
        );
      }
      workloads[spec.name] = new CloudRunWorkload(
        `${name}-${spec.name}`,
        {
          spec,
          home,
          // Executed jobs are named by Pulumi, afresh after a failed attempt; the others keep their names.
          resourceName: home === "initJob" ? undefined : names.of(spec.name),
          project,
          region,
          image,
          serviceAccountEmail: emails.get(spec.name)!,
          env,
          files: caFiles,
          egress,
          runToken: home === "initJob" ? runToken(image, plainValues, [...secretVersions, ...waitsFor.flatMap(resourceId)]) : undefined,
          jobTimeoutSeconds: settings.backupTimeoutMinutes * 60,
          scheduler: home === "scheduledJob" ? { serviceAccountEmail: schedulerEmail!, schedulerName: names.of(spec.name) } : undefined,
          labels: { ...labels, "mixstack-service": spec.name },
          dependsOn: [...prerequisites, ...(gate ? [gate.ready] : [])],
        },
        childComponent(),
      );
    }
    this.workloads = workloads;

    // Outputs of docs/contracts.md.
    this.publicUrls = Object.fromEntries(
      Object.entries(workloads).flatMap(([serviceName, workload]) => (workload!.publicPorts.length > 0 && workload!.url ? [[serviceName, workload!.url]] : [])),
    );
    // The job that writes backups (its `BACKUP_TARGET`), scheduled by Cloud Scheduler.
    const backupWorkload = backupWriters(topology).map((spec) => workloads[spec.name]).find((workload) => workload?.job);
    this.backupTarget = !backupWorkload ? pulumi.output(NO_BACKUP_TARGET) : topology.backupTarget.kind === "url" ? pulumi.output(topology.backupTarget.url) : bucket!.url;
    // No backup job with an external InfluxDB (the topology's notices say so).
    this.backupJob = backupWorkload?.job
      ? backupWorkload.job.name.apply((job): GcpBackupJob | undefined => ({ platform: "gcp", project, region, job: job! }))
      : pulumi.output<GcpBackupJob | undefined>(undefined);
    this.notices = pulumi.output([
      ...topology.notices,
      ...[...managed].map(
        (serviceName) => `${serviceName} is Memorystore for Valkey: no password (GCP offers none but IAM), reachable only from the services that talk to it; TLS with the instance's CA.`,
      ),
    ]);

    // The summary, from what was created: units rendered on the VM, Cloud Run resources, firewall rules.
    const edges = this.network.firewallRules.flatMap(({ plan }) => (plan.edge ? [edgeLabel(plan.edge.from, plan.edge.to, plan.edge.port)] : []));
    const vmLocalEdges = topology.services.flatMap((spec) =>
      spec.talksTo
        .filter((edge) => homeOf(edge.from) === "vm" && homeOf(edge.to) === "vm")
        .map((edge) => edgeLabel(edge.from, edge.to, port(service(topology, edge.to), edge.port).port)),
    );
    const unitsDeployed = this.cloudInit ?? pulumi.output<CloudInitPlan | undefined>(undefined);
    // Image labels by the reference a unit or container runs (digest refs of our builds, mirrored or plain pinned refs).
    const labelsByRef = pulumi.all([
      ...[...registry.images].map(([build, ref]) => ref.apply((resolved): [string, string] => [resolved, `build:${build}`])),
      ...deployed.flatMap((spec) =>
        spec.image.kind === "pinned"
          ? [pulumi.output<[string, string]>([homeOf(spec.name) === "vm" && registry.mirrorPath ? mirroredRef(spec.image.ref, registry.mirrorPath) : spec.image.ref, spec.image.ref])]
          : [],
      ),
    ]);
    const containersDeployed = pulumi.all(
      Object.entries(workloads).map(([serviceName, workload]) => workload!.deployed.apply((container) => ({ service: serviceName, ...container }))),
    );
    this.summary = pulumi.all([unitsDeployed, labelsByRef, containersDeployed]).apply(([plan, pairs, containers]): DeploymentSummary => {
      const labels = new Map(pairs);
      const labelOf = (ref: string) => labels.get(ref) ?? `unknown:${ref}`;
      return deploymentSummary(
        topology.services.flatMap((spec): DeploymentSummary["services"] => {
            const unit = plan?.units.find((u) => u.service === spec.name);
            const workload = workloads[spec.name];
            const container = containers.find((c) => c.service === spec.name);
            if (unit) {
              return [{ name: spec.name, kind: spec.kind, image: labelOf(unit.image), publicPorts: [], volumes: unit.mounts.map((m) => m.containerPath), command: unit.command ?? [] }];
            }
            if (workload && container) {
              // A backups volume is replaced by the bucket the service is told to write to (docs/topology.md).
              const bucketVolumes = bucket && storeUsers.includes(spec) ? spec.volumes.filter((v) => v.purpose === "backups").map((v) => v.path) : [];
              return [
                { name: spec.name, kind: spec.kind, image: labelOf(container.image), publicPorts: [...workload.publicPorts], volumes: bucketVolumes, command: container.args },
              ];
            }
            if (managedResources.has(spec.name)) {
              return [{ name: spec.name, kind: spec.kind, image: serviceImageLabel(spec), publicPorts: [], volumes: [], command: [] }];
            }
            return [];
        }),
        [...edges, ...vmLocalEdges],
      );
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
 * The start gate of a Cloud Run workload: `mixstack ready` (services/ready) in our services image,
 * run as an executed job in the workload's place; it waits until `targets` answer.
 */
function startGateSpec(spec: ServiceSpec, targets: ServiceName[]): ServiceSpec {
  return {
    ...spec,
    description: `start gate of ${spec.name}: waits until ${targets.join(" and ")} answer from its subnet, as its account, with its secrets`,
    image: SERVICES_IMAGE,
    entrypoint: undefined,
    command: ["ready"],
    ports: [],
    health: undefined,
    resources: { memoryMb: 512, cpus: 1 },
  };
}

/** A custom resource's ID (a replaced VM or disk has a new one); nothing for components. */
function resourceId(resource: pulumi.Resource): pulumi.Output<string>[] {
  return pulumi.CustomResource.isInstance(resource) ? [resource.id] : [];
}

/**
 * `runExecutionToken` of an init job: a short hash of what it runs with (image digest, plain env,
 * secret versions, and the IDs of what it waits for: a new VM runs it again), so each deploy that
 * changes any of them runs it once more. Job name + token
 * must stay under 63 characters.
 */
export function runToken(image: pulumi.Input<string>, plain: pulumi.Input<string>[], versions: pulumi.Input<string>[]): pulumi.Output<string> {
  return pulumi
    .all([image, pulumi.all(plain), pulumi.all(versions)])
    .apply(([ref, values, versions]) => createHash("sha256").update(JSON.stringify({ ref, values, versions })).digest("hex").slice(0, 12));
}
