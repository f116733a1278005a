import { beforeAll, describe, expect, it } from "vitest";
import type { StackEvaluation } from "../../cli/graph/program";
import { parseBackupJob } from "../../cli/stack/backup-job";
import { isSecretEnv, service, type ServiceName, type Topology } from "../../components/topology";
import { isSecretValue, plainStrings, resourcesOfType, unwrapSecrets, type RecordedResource } from "../pulumi/mocks";
import { evaluateExample, evaluateGcp, only, TYPES } from "./support";

/**
 * The gcp-example stack evaluated under Pulumi mocks: what would be created, asserted on the
 * recorded resource inputs and options.
 */

let evaluation: StackEvaluation;
let topology: Topology;

const PREFIX = "mixstack-gcp-example";
const inputs = (resource: RecordedResource) => unwrapSecrets(resource.inputs) as Record<string, any>;
const byName = (type: string, name: string) => {
  const found = resourcesOfType(evaluation, type).find((r) => r.inputs.name === name);
  if (!found) throw new Error(`no ${type} named ${name}`);
  return inputs(found);
};
const email = (owner: string) => `${PREFIX}-${owner}@acme-analytics.iam.gserviceaccount.com`;

/** Every Cloud Run resource (service, worker pool, job) by topology service, with its one container. */
function cloudRun(): Map<ServiceName, { type: string; inputs: Record<string, any>; container: Record<string, any>; template: Record<string, any> }> {
  const found = new Map();
  for (const type of [TYPES.service, TYPES.workerPool, TYPES.job]) {
    for (const resource of resourcesOfType(evaluation, type)) {
      const args = inputs(resource);
      const template = type === TYPES.job ? args.template.template : args.template;
      // A workload's start gate (a job in its place, issue 17) is checked in test/deploy/gcp-first-deploy.test.ts.
      if (args.labels["mixstack-role"] === "start-gate") continue;
      found.set(args.labels["mixstack-service"], { type, inputs: args, container: template.containers[0], template });
    }
  }
  return found;
}

beforeAll(async () => {
  evaluation = await evaluateExample();
  topology = evaluation.stack.topology;
});

describe("gcp-example: the stateful VM", () => {
  it("is a shielded Container-Optimized OS VM without a public address, running as its own service account", () => {
    const vm = inputs(only(evaluation, TYPES.instance));
    expect({
      image: vm.bootDisk.initializeParams.image,
      shielded: vm.shieldedInstanceConfig,
      accessConfigs: vm.networkInterfaces.map((n: { accessConfigs?: unknown[] }) => n.accessConfigs ?? []),
      account: vm.serviceAccount.email,
      machineType: vm.machineType,
      zone: vm.zone,
      osLogin: vm.metadata["enable-oslogin"],
    }).toEqual({
      image: "cos-cloud/cos-stable",
      shielded: { enableSecureBoot: true, enableVtpm: true, enableIntegrityMonitoring: true },
      accessConfigs: [[]],
      account: email("vm"),
      machineType: "e2-standard-2",
      zone: "europe-west1-b",
      osLogin: "TRUE",
    });
  });

  it("has a reserved private address in the VM subnet, and is replaced (old one first) when its user data changes", () => {
    const vm = only(evaluation, TYPES.instance);
    const address = inputs(only(evaluation, TYPES.address));
    expect([address.addressType, address.address, inputs(vm).networkInterfaces[0].networkIp]).toEqual(["INTERNAL", "10.42.0.10", "10.42.0.10"]);
    expect(vm.options.deleteBeforeReplace).toBe(true);
  });

  it.each([
    ["influxdb-data", 50, "influxdb", "data"],
    ["queue-data", 5, "queue", "data"],
  ])("has the persistent disk %s (%i GB), attached, kept on destroy, on the snapshot schedule", (device, size, svc, volume) => {
    const disk = resourcesOfType(evaluation, TYPES.disk).find((r) => r.inputs.name === `${PREFIX}-${device}`)!;
    expect(inputs(disk)).toMatchObject({ size, type: "pd-balanced", zone: "europe-west1-b", labels: { "mixstack-service": svc, "mixstack-volume": volume } });
    expect(disk.options.retainOnDelete).toBe(true);
    const vm = inputs(only(evaluation, TYPES.instance));
    expect(vm.attachedDisks).toContainEqual({ source: `${disk.name}-id`, deviceName: device, mode: "READ_WRITE" });
    const attachments = resourcesOfType(evaluation, TYPES.policyAttachment).map(inputs);
    expect(attachments).toContainEqual({ disk: `${PREFIX}-${device}`, zone: "europe-west1-b", name: `${PREFIX}-snapshots` });
  });

  it("snapshots daily at the configured hour and keeps snapshots of a deleted disk", () => {
    const policy = inputs(only(evaluation, TYPES.policy));
    expect(policy.snapshotSchedulePolicy).toMatchObject({
      schedule: { dailySchedule: { daysInCycle: 1, startTime: "04:00" } },
      retentionPolicy: { maxRetentionDays: 14, onSourceDiskDelete: "KEEP_AUTO_SNAPSHOTS" },
      snapshotProperties: { storageLocations: "europe-west1" },
    });
  });

  it("may log, write metrics, read its own secrets and pull from the Docker Hub mirror, and nothing else", () => {
    const member = `serviceAccount:${email("vm")}`;
    const projectRoles = resourcesOfType(evaluation, TYPES.projectRole).map(inputs).filter((m) => m.member === member).map((m) => m.role).sort();
    expect(projectRoles).toEqual(["roles/logging.logWriter", "roles/monitoring.metricWriter"]);
    expect(resourcesOfType(evaluation, TYPES.projectRole).map(inputs).every((m) => m.member === member)).toBe(true);
    const readers = resourcesOfType(evaluation, TYPES.repositoryReader).map(inputs);
    expect(readers).toEqual([{ repository: `${PREFIX}-dockerhub`, location: "europe-west1", role: "roles/artifactregistry.reader", member }]);
  });
});

describe("gcp-example: network", () => {
  const serviceOfTag = (tag: string) => tag.slice(PREFIX.length + 1);

  it("is a custom-mode VPC with Cloud NAT for the VM subnet only", () => {
    expect(inputs(only(evaluation, "gcp:compute/network:Network")).autoCreateSubnetworks).toBe(false);
    const nat = inputs(only(evaluation, TYPES.nat));
    expect([nat.sourceSubnetworkIpRangesToNat, nat.subnetworks.map((s: { name: string }) => s.name)]).toEqual(["LIST_OF_SUBNETWORKS", ["mixstack-network-vm-id"]]);
  });

  it("lets InfluxDB and the queue be reached only from the egress subnet and tag of the Cloud Run workloads that talk to them", () => {
    const subnets = new Map(resourcesOfType(evaluation, TYPES.subnet).map((r) => [`${r.name}-id`, r.inputs.ipCidrRange as string]));
    const workloads = cloudRun();
    const identity = new Map(
      [...workloads].map(([name, w]) => {
        const nic = w.template.vpcAccess.networkInterfaces[0];
        return [name, { tag: nic.tags[0] as string, range: subnets.get(nic.subnetwork)! }];
      }),
    );
    const reachable: string[] = [];
    for (const rule of resourcesOfType(evaluation, TYPES.firewall).map(inputs)) {
      if (rule.direction !== "INGRESS") continue;
      for (const target of rule.targetTags.map(serviceOfTag)) {
        for (const allow of rule.allows) {
          for (const p of allow.ports) {
            const from = [...identity].filter(([, id]) => rule.sourceTags?.includes(id.tag) || rule.sourceRanges?.includes(id.range)).map(([name]) => name);
            // Both the range and the tag name exactly one workload, the same one.
            expect(from).toHaveLength(1);
            expect([rule.sourceTags, rule.sourceRanges]).toEqual([[identity.get(from[0]!)!.tag], [identity.get(from[0]!)!.range]]);
            reachable.push(`${target}:${p} <- ${from[0]}`);
          }
        }
      }
    }
    const expected = topology.services.flatMap((s) => s.talksTo.map((e) => `${e.to}:${service(topology, e.to).ports.find((p) => p.name === e.port)!.port} <- ${e.from}`));
    expect(reachable.sort()).toEqual(expected.sort());
  });

  it("opens nothing from 0.0.0.0/0, and every rule targets the VM's service tags only", () => {
    const rules = resourcesOfType(evaluation, TYPES.firewall).map(inputs);
    const vmTags = inputs(only(evaluation, TYPES.instance)).tags as string[];
    expect(rules.flatMap((r) => r.sourceRanges ?? []).filter((range: string) => !range.startsWith("10.42."))).toEqual([]);
    // An ingress rule naming no source range applies to 0.0.0.0/0 (or to tags only), and one without ports opens them all.
    const ingress = rules.filter((r) => r.direction === "INGRESS");
    expect(ingress.length).toBe(8);
    for (const rule of ingress) {
      expect(rule.sourceRanges?.length, rule.name).toBeGreaterThan(0);
      expect(rule.allows.every((a: { protocol: string; ports?: string[] }) => a.protocol === "tcp" && (a.ports?.length ?? 0) > 0), rule.name).toBe(true);
      expect(rule.denies ?? [], rule.name).toEqual([]);
    }
    expect(rules.flatMap((r) => r.targetTags ?? []).filter((tag: string) => !vmTags.includes(tag))).toEqual([]);
    expect(vmTags.sort()).toEqual([`${PREFIX}-influxdb`, `${PREFIX}-queue`, `${PREFIX}-vm`]);
  });

  it("sends Cloud Run traffic into the VPC for private ranges only", () => {
    for (const [, workload] of cloudRun()) expect(workload.template.vpcAccess.egress).toBe("PRIVATE_RANGES_ONLY");
  });
});

describe("gcp-example: secrets", () => {
  it("never puts a secret value into a plain input of any resource", () => {
    const leaks = evaluation.resources.flatMap((resource) =>
      plainStrings(resource.inputs)
        .filter(({ text }) => evaluation.generatedSecrets.some((secret) => text.includes(secret)))
        .map(({ path }) => `${resource.type} ${resource.name} ${path}`),
    );
    expect(evaluation.generatedSecrets.length).toBeGreaterThan(0);
    expect(leaks).toEqual([]);
  });

  it("keeps secret values out of every resource input but the Secret Manager versions, even wrapped as Pulumi secrets", () => {
    // Metadata, env values and labels are readable by anyone with viewer access to the project: a Pulumi secret there still leaks.
    const carriers = evaluation.resources.flatMap((resource) =>
      plainStrings(unwrapSecrets(resource.inputs))
        .filter(({ text }) => evaluation.generatedSecrets.some((secret) => text.includes(secret)))
        .map(({ path }) => `${resource.type}.${path}`),
    );
    expect([...new Set(carriers)]).toEqual([`${TYPES.secretVersion}.secretData`]);
  });

  it("holds each secret value only in a Secret Manager version, as a Pulumi secret", () => {
    const versions = resourcesOfType(evaluation, TYPES.secretVersion);
    expect(versions.length).toBeGreaterThan(0);
    expect(versions.every((v) => isSecretValue(v.inputs.secretData))).toBe(true);
  });

  it("injects every secret-bearing variable by Secret Manager reference pinned to a version", () => {
    const workloads = cloudRun();
    const secretIds = new Set(resourcesOfType(evaluation, TYPES.secret).map((s) => s.inputs.secretId as string));
    for (const [name, workload] of workloads) {
      const spec = service(topology, name);
      for (const env of workload.container.envs as Array<{ name: string; value?: string; valueSource?: { secretKeyRef: { secret: string; version: string } } }>) {
        if (isSecretEnv(spec.env[env.name]!)) {
          expect(env.value).toBeUndefined();
          expect(secretIds.has(env.valueSource!.secretKeyRef.secret)).toBe(true);
          expect(env.valueSource!.secretKeyRef.version).toBe("1");
        } else {
          expect(env.valueSource).toBeUndefined();
        }
      }
    }
  });

  it("grants secretAccessor on each secret to exactly the service accounts of the services that read it", () => {
    const readers = new Map<string, string[]>();
    for (const grant of resourcesOfType(evaluation, TYPES.secretAccessor).map(inputs)) {
      expect(grant.role).toBe("roles/secretmanager.secretAccessor");
      readers.set(grant.secretId, [...(readers.get(grant.secretId) ?? []), grant.member.replace(/^serviceAccount:mixstack-gcp-example-|@.*$/g, "")].sort());
    }
    const secretOfId = new Map(resourcesOfType(evaluation, TYPES.secret).map((s) => [`${s.name}-id`, (s.inputs.secretId as string).slice(PREFIX.length + 1)]));
    const actual = Object.fromEntries([...readers].map(([id, members]) => [secretOfId.get(id)!, members]));
    expect(actual).toEqual({
      "project-token": ["ingest"],
      "api-secret": ["ingest"],
      "influx-admin-password": ["backup", "bootstrap"],
      "influx-writer-password": ["bootstrap", "worker"],
      "influx-reader-password": ["bootstrap", "grafana"],
      "grafana-admin-password": ["grafana"],
      "grafana-secret-key": ["grafana"],
      "queue-password": ["vm"],
      "redis-url": ["backup", "ingest", "worker"],
    });
  });
});

describe("gcp-example: images", () => {
  it("deploys our images to Cloud Run by digest from the stack's Artifact Registry repository", () => {
    const images = [...cloudRun()].map(([name, w]) => [name, w.container.image]);
    expect(images.length).toBe(5);
    for (const [name, image] of images) {
      const build = service(topology, name as ServiceName).image;
      expect(image).toMatch(new RegExp(`^europe-west1-docker\\.pkg\\.dev/acme-analytics/${PREFIX}-images/${build.kind === "build" ? build.build : "-"}:0\\.1\\.0@sha256:[0-9a-f]{64}$`));
    }
  });

  it("builds each image once for linux/amd64 and pushes it with the deployer's Google credentials", () => {
    const builds = resourcesOfType(evaluation, TYPES.image).map(inputs);
    expect(builds.map((b) => [b.tags[0].split("/").pop(), b.platforms, b.push, b.registries[0].username])).toEqual([
      ["services:0.1.0", ["linux/amd64"], true, "oauth2accesstoken"],
      ["grafana:0.1.0", ["linux/amd64"], true, "oauth2accesstoken"],
    ]);
    // The access token travels as a Pulumi secret.
    expect(resourcesOfType(evaluation, TYPES.image).flatMap((b) => plainStrings(b.inputs)).filter(({ text }) => text.includes("mock-access-token"))).toEqual([]);
    expect(builds.every((b) => b.registries[0].password === "mock-access-token")).toBe(true);
  });
});

describe("gcp-example: Cloud Run", () => {
  it("serves ingest publicly, autoscaling between the configured instances, ready only when the queue answers", () => {
    const ingest = cloudRun().get("ingest")!;
    expect({
      ingress: ingest.inputs.ingress,
      invokerIamDisabled: ingest.inputs.invokerIamDisabled,
      scaling: ingest.template.scaling,
      port: ingest.container.ports.containerPort,
      startup: ingest.container.startupProbe.httpGet.path,
      liveness: ingest.container.livenessProbe.httpGet.path,
      args: ingest.container.args,
      env: ingest.container.envs.map((e: { name: string }) => e.name),
    }).toEqual({
      ingress: "INGRESS_TRAFFIC_ALL",
      invokerIamDisabled: true,
      scaling: { minInstanceCount: 1, maxInstanceCount: 10 },
      port: 8080,
      startup: "/readyz",
      liveness: "/healthz",
      args: ["ingest"],
      // PORT is Cloud Run's own (set to the container port).
      env: [
        "METRICS_PORT",
        "METRICS_HOST",
        "REDIS_URL",
        "MIXSTACK_TOKEN",
        "MIXSTACK_API_SECRET",
        "MIXSTACK_TRACK_MAX_AGE_DAYS",
        "MIXSTACK_HISTORY_SINCE",
        "MIXSTACK_CLIENT_MS_PER_SECOND",
        "MIXSTACK_TRUSTED_PROXY_HOPS",
        "LOG_LEVEL",
      ],
    });
  });

  it("routes only ingest's public port: its metrics port is no container port of the service, so nothing outside the instance reaches it", () => {
    const ingest = cloudRun().get("ingest")!;
    const metricsPort = ingest.container.envs.find((e: { name: string; value?: string }) => e.name === "METRICS_PORT")?.value;
    expect(metricsPort).toBe("9464");
    // Cloud Run takes one container port per service: the one its ingress forwards to.
    expect(ingest.container.ports).toEqual({ containerPort: 8080, name: "http1" });
    expect(Number(metricsPort)).not.toBe(ingest.container.ports.containerPort);
  });

  it("runs the worker as a worker pool (GA, CPU always allocated) with the configured instance count", () => {
    const worker = cloudRun().get("worker")!;
    expect([worker.type, worker.inputs.launchStage, worker.inputs.scaling, worker.container.args]).toEqual([TYPES.workerPool, undefined, { manualInstanceCount: 1 }, ["worker"]]);
  });

  it("gives every workload its own service account", () => {
    const accounts = resourcesOfType(evaluation, TYPES.account).map((a) => a.inputs.accountId as string).sort();
    expect(accounts).toEqual(["backup", "bootstrap", "grafana", "ingest", "scheduler", "vm", "worker"].map((o) => `${PREFIX}-${o}`));
    for (const [name, workload] of cloudRun()) expect(workload.template.serviceAccount).toBe(email(name));
  });

  it("runs bootstrap as a job executed by the deploy, before the worker, Grafana and the backup job", () => {
    const bootstrap = cloudRun().get("bootstrap")!;
    expect(bootstrap.inputs.runExecutionToken).toMatch(/^[0-9a-f]{12}$/);
    const bootstrapJob = resourcesOfType(evaluation, TYPES.job).find((j) => (j.inputs.labels as Record<string, string>)["mixstack-service"] === "bootstrap")!;
    // Named by Pulumi (logical name + 7 random characters), afresh after a failed run: a retry never gets 409 (issue 17).
    expect(bootstrap.inputs.name).toBeUndefined();
    expect(`${bootstrapJob.name}-abcdefg`.length + 12).toBeLessThan(63);
    for (const dependent of ["worker", "grafana", "backup"]) {
      const resource = [TYPES.service, TYPES.workerPool, TYPES.job]
        .flatMap((type) => resourcesOfType(evaluation, type))
        .find((r) => (r.inputs.labels as Record<string, string>)["mixstack-service"] === dependent && (r.inputs.labels as Record<string, string>)["mixstack-role"] === undefined)!;
      expect(resource.options.dependsOn).toContain(bootstrapJob.name);
    }
  });

  it("backs up on the configured cron through Cloud Scheduler, which may run the backup job and nothing else", () => {
    const backup = cloudRun().get("backup")!;
    const schedule = inputs(only(evaluation, TYPES.scheduler));
    expect({
      args: backup.container.args,
      target: backup.container.envs.find((e: { name: string }) => e.name === "BACKUP_TARGET").value,
      schedule: schedule.schedule,
      timeZone: schedule.timeZone,
      uri: schedule.httpTarget.uri,
      method: schedule.httpTarget.httpMethod,
      caller: schedule.httpTarget.oauthToken.serviceAccountEmail,
      invokers: resourcesOfType(evaluation, TYPES.jobInvoker).map(inputs).map((m) => [m.name, m.role, m.member]),
    }).toEqual({
      args: ["backup"],
      target: `gs://acme-analytics-${PREFIX}-backups/backups`,
      schedule: "0 3 * * *",
      timeZone: "Etc/UTC",
      uri: `https://run.googleapis.com/v2/projects/acme-analytics/locations/europe-west1/jobs/${PREFIX}-backup:run`,
      method: "POST",
      caller: email("scheduler"),
      invokers: [[`${PREFIX}-backup`, "roles/run.invoker", `serviceAccount:${email("scheduler")}`]],
    });
  });
});

describe("gcp-example: backup bucket", () => {
  it("has uniform access, public access prevention, versioning, soft delete and the lifecycle rules", () => {
    const bucket = inputs(only(evaluation, TYPES.bucket));
    expect({
      name: bucket.name,
      uniform: bucket.uniformBucketLevelAccess,
      publicAccessPrevention: bucket.publicAccessPrevention,
      versioning: bucket.versioning,
      softDelete: bucket.softDeletePolicy,
      rules: bucket.lifecycleRules,
      forceDestroy: bucket.forceDestroy,
    }).toEqual({
      name: `acme-analytics-${PREFIX}-backups`,
      uniform: true,
      publicAccessPrevention: "enforced",
      versioning: { enabled: true },
      softDelete: { retentionDurationSeconds: 7 * 86_400 },
      rules: [
        { action: { type: "SetStorageClass", storageClass: "NEARLINE" }, condition: { age: 30, matchesStorageClasses: ["STANDARD"], withState: "LIVE" } },
        { action: { type: "SetStorageClass", storageClass: "COLDLINE" }, condition: { age: 90, matchesStorageClasses: ["STANDARD", "NEARLINE"], withState: "LIVE" } },
        { action: { type: "Delete" }, condition: { age: 365, withState: "LIVE" } },
        { action: { type: "Delete" }, condition: { daysSinceNoncurrentTime: 30, withState: "ARCHIVED" } },
        { action: { type: "AbortIncompleteMultipartUpload" }, condition: { age: 1 } },
      ],
      forceDestroy: false,
    });
    expect(only(evaluation, TYPES.bucket).options.retainOnDelete).toBe(true);
  });

  it("is written by the backup job's account only, on the bucket", () => {
    const members = resourcesOfType(evaluation, TYPES.bucketMember).map(inputs).map((m) => [m.role, m.member]);
    expect(members).toEqual([["roles/storage.objectUser", `serviceAccount:${email("backup")}`]]);
  });
});

describe("gcp-example: stack outputs", () => {
  it("exports the Docker target's outputs, with backupJob for a Cloud Run job execution", () => {
    expect(Object.keys(evaluation.outputs).filter((k) => k !== "summary").sort()).toEqual(
      ["backupJob", "backupTarget", "grafanaAdminPassword", "grafanaUrl", "ingestUrl", "mixpanelSnippet", "notices", "projectToken"].sort(),
    );
    expect(evaluation.outputs.notices!.value).toEqual([]);
    expect(evaluation.outputs.backupJob).toEqual({ value: { platform: "gcp", project: "acme-analytics", region: "europe-west1", job: `${PREFIX}-backup` }, secret: false });
    // What `mixstack backup|restore --stack` reads (cli/stack/backup-job.ts) accepts it.
    expect(parseBackupJob("gcp-example", { backupJob: evaluation.outputs.backupJob!.value })).toEqual(evaluation.outputs.backupJob!.value);
    expect(evaluation.outputs.ingestUrl!.value).toBe(`https://${PREFIX}-ingest-mock.a.run.app`);
    expect(evaluation.outputs.backupTarget!.value).toBe(`gs://acme-analytics-${PREFIX}-backups/backups`);
    expect([evaluation.outputs.projectToken!.secret, evaluation.outputs.mixpanelSnippet!.secret]).toEqual([true, true]);
  });

  it("enables the APIs first: every resource's provider waits for them", () => {
    const apis = resourcesOfType(evaluation, TYPES.api).map((a) => a.inputs.service as string);
    expect(apis).toEqual(expect.arrayContaining(["compute.googleapis.com", "run.googleapis.com", "artifactregistry.googleapis.com", "secretmanager.googleapis.com", "cloudscheduler.googleapis.com"]));
    const provider = evaluation.resources.find((r) => r.type === "pulumi:providers:gcp" && r.name === "mixstack-gcp")!;
    expect(provider.options.dependsOn?.sort()).toEqual(resourcesOfType(evaluation, TYPES.api).map((a) => a.name).sort());
    expect(inputs(provider)).toMatchObject({ project: "acme-analytics", region: "europe-west1", zone: "europe-west1-b" });
  });
});

describe("GCP options", () => {
  it("re-runs bootstrap exactly when what it runs with changes", async () => {
    const token = async (values: Record<string, unknown>) => {
      const e = await evaluateGcp(values);
      return resourcesOfType(e, TYPES.job).find((j) => j.name === "mixstack-bootstrap-job")!.inputs.runExecutionToken as string;
    };
    const base = await token({});
    expect(await token({})).toBe(base);
    expect(await token({ influxdb: { retention: "52w" } })).not.toBe(base);
  });

  it("lets the data disks and the bucket go with the stack when keepDataOnDestroy is false", async () => {
    const e = await evaluateGcp({ keepDataOnDestroy: "false" });
    expect(resourcesOfType(e, TYPES.disk).map((d) => d.options.retainOnDelete)).toEqual([false, false]);
    expect(only(e, TYPES.bucket).options.retainOnDelete).toBe(false);
  });

  it("writes to a configured backup URL instead of creating a bucket", async () => {
    const e = await evaluateGcp({ backup: { target: "gs://existing-bucket/mixstack" } });
    expect(resourcesOfType(e, TYPES.bucket)).toEqual([]);
    expect(e.outputs.backupTarget!.value).toBe("gs://existing-bucket/mixstack");
  });

  it("drops the snapshot schedule when snapshots are off, and opens SSH from IAP only when asked", async () => {
    const e = await evaluateGcp({ gcp: { snapshots: { enabled: false }, iapSsh: true } });
    expect([resourcesOfType(e, TYPES.policy), resourcesOfType(e, TYPES.policyAttachment)]).toEqual([[], []]);
    const ssh = resourcesOfType(e, TYPES.firewall).map(inputs).filter((rule) => rule.allows.some((a: { ports: string[] }) => a.ports.includes("22")));
    expect(ssh.map((rule) => [rule.sourceRanges, rule.targetTags])).toEqual([[["35.235.240.0/20"], ["mixstack-gcp-test-vm"]]]);
  });

  it("skips the API resources when enableApis is false", async () => {
    const e = await evaluateGcp({ gcp: { enableApis: false } });
    expect(resourcesOfType(e, TYPES.api)).toEqual([]);
  });
});
