import type * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { OfflineMocks } from "../../cli/graph/offline";
import { requiredApis } from "../../components/gcp/apis";
import { references, type ServiceName, type ServiceSpec } from "../../components/topology";
import { unwrapSecrets, type RecordedResource } from "../pulumi/mocks";
import { evaluateForDeploy, ofType, waitsFor, waitsForResource, type DeployEvaluation } from "./support";

/**
 * Issue 17, items 1 and 2, on the gcp-example stack under mocks.
 *
 * 1. `gcp.projects.IAMMember` reads and writes the project's IAM policy through the Cloud Resource
 *    Manager API (terraform-provider-google: "Error retrieving IAM policy for project ... Cloud
 *    Resource Manager API has not been used in project ... before or it is disabled";
 *    hashicorp/terraform-provider-google#6101 and #11435, both fixed, so `google_project_service`
 *    can enable that API itself). The program must enable it before any project IAM grant.
 * 2. A Cloud Run service or job whose first create fails stays in the project but not in the state:
 *    the provider clears the ID when the create operation fails (`d.SetId("")` after
 *    `CloudRunV2OperationWaitTimeWithResponse`, resource_cloud_run_v2_service.go), and every retry
 *    gets 409 "already exists" (hashicorp/terraform-provider-google#17245, open). So a workload must
 *    be created only once what it needs answers: its VM dependencies reachable from its own subnet,
 *    and its secrets readable by its own service account (IAM grants propagate with a delay). An
 *    executed job (`runExecutionToken`) is the only thing Pulumi waits on that can prove both; it
 *    must be retryable itself, so it carries no fixed name (Pulumi autonames it afresh after a failed
 *    create: the engine's random seed is new for each update, pulumi/pulumi#10120).
 *
 * Red before issue 17's fix: no Cloud Resource Manager API; ingest and the worker waited only for
 * the VM *instance*; the init job had a fixed name.
 */

const TYPES = {
  api: "gcp:projects/service:Service",
  projectRole: "gcp:projects/iAMMember:IAMMember",
  provider: "pulumi:providers:gcp",
  service: "gcp:cloudrunv2/service:Service",
  workerPool: "gcp:cloudrunv2/workerPool:WorkerPool",
  job: "gcp:cloudrunv2/job:Job",
  instance: "gcp:compute/instance:Instance",
  secret: "gcp:secretmanager/secret:Secret",
  secretAccessor: "gcp:secretmanager/secretIamMember:SecretIamMember",
} as const;

/** Records the provider reference of each resource (the shared mocks do not). */
class ProviderRecordingMocks extends OfflineMocks {
  readonly providers = new Map<string, string | undefined>();
  override newResource(args: pulumi.runtime.MockResourceArgs) {
    this.providers.set(`${args.type}::${args.name}`, args.provider);
    return super.newResource(args);
  }
}

let evaluation: DeployEvaluation;
let mocks: ProviderRecordingMocks;

beforeAll(async () => {
  mocks = new ProviderRecordingMocks();
  evaluation = await evaluateForDeploy({ file: "gcp-example" }, mocks);
});

const inputsOf = (resource: RecordedResource) => unwrapSecrets(resource.inputs) as Record<string, any>;

interface Workload {
  spec: ServiceSpec;
  resource: RecordedResource;
  /** The revision (or task) template: service account, VPC egress, containers. */
  template: Record<string, any>;
}

/** Cloud Run resources by the topology service they run (label `mixstack-service`). */
function workloads(): Map<ServiceName, Workload> {
  const found = new Map<ServiceName, Workload>();
  for (const type of [TYPES.service, TYPES.workerPool, TYPES.job]) {
    for (const resource of ofType(evaluation, type)) {
      const inputs = inputsOf(resource);
      if (inputs.labels?.["mixstack-role"] === "start-gate") continue;
      const service = inputs.labels?.["mixstack-service"] as ServiceName | undefined;
      const spec = evaluation.stack.topology.services.find((s) => s.name === service);
      if (!spec) continue;
      found.set(spec.name, { spec, resource, template: type === TYPES.job ? inputs.template.template : inputs.template });
    }
  }
  return found;
}

/** Every executed-and-awaited Cloud Run job (`runExecutionToken`), whatever it is labelled. */
function executedJobs(): Array<{ resource: RecordedResource; inputs: Record<string, any>; template: Record<string, any> }> {
  return ofType(evaluation, TYPES.job)
    .map((resource) => ({ resource, inputs: inputsOf(resource) }))
    .filter(({ inputs }) => inputs.runExecutionToken !== undefined)
    .map(({ resource, inputs }) => ({ resource, inputs, template: inputs.template.template }));
}

type EnvEntry = { name: string; value?: string; valueSource?: { secretKeyRef: { secret: string; version: string } } };
const envOf = (template: Record<string, any>): EnvEntry[] => (template.containers?.[0]?.envs ?? []) as EnvEntry[];
const envKey = (entry: EnvEntry) => JSON.stringify([entry.name, entry.value ?? null, entry.valueSource?.secretKeyRef ?? null]);

/** Services hosted on the stateful VM (not a managed offering). */
const onVm = (name: ServiceName) => evaluation.stack.topology.services.some((s) => s.name === name && s.kind === "stateful" && !s.managed);

describe("GCP item 1: the Cloud Resource Manager API", () => {
  it("is among the APIs the stack enables, with and without the managed queue", () => {
    expect(requiredApis({ managedQueue: false })).toContain("cloudresourcemanager.googleapis.com");
    expect(requiredApis({ managedQueue: true })).toContain("cloudresourcemanager.googleapis.com");
  });

  it("is enabled before any project-level IAM grant is made", () => {
    const grants = ofType(evaluation, TYPES.projectRole);
    expect(grants.length).toBeGreaterThan(0);
    const api = ofType(evaluation, TYPES.api).find((r) => r.inputs.service === "cloudresourcemanager.googleapis.com");
    expect(api, "a gcp.projects.Service for cloudresourcemanager.googleapis.com").toBeDefined();
    for (const grant of grants) {
      const provider = mocks.providers.get(`${grant.type}::${grant.name}`) ?? "";
      const providerName = /::([^:]+)::[^:]*$/.exec(provider)?.[1];
      // The grant waits for the API itself, or uses a provider that does.
      const waits = waitsFor(evaluation, grant.name).has(api!.name) || (providerName !== undefined && waitsFor(evaluation, providerName).has(api!.name));
      expect(waits, `${grant.name} waits for ${api!.name}`).toBe(true);
    }
  });
});

describe("GCP item 2: Cloud Run workloads start only once what they need answers", () => {
  it("every Cloud Run workload waits for the secret grants of its own secrets (guard; holds on main)", () => {
    for (const { spec, resource, template } of workloads().values()) {
      const names = new Set(envOf(template).flatMap((e) => (e.valueSource ? [e.valueSource.secretKeyRef.secret] : [])));
      // Grants name the secret by its resource ID (`<logical name>-id` under the mocks).
      const secrets = new Set(ofType(evaluation, TYPES.secret).filter((s) => names.has(String(s.inputs.secretId))).map((s) => `${s.name}-id`));
      expect(secrets.size, `${spec.name}: every secret it reads is a Secret of the stack`).toBe(names.size);
      const grants = ofType(evaluation, TYPES.secretAccessor).filter((grant) => secrets.has(String(inputsOf(grant).secretId)));
      const own = grants.filter((grant) => String(inputsOf(grant).member).includes(String(template.serviceAccount)));
      expect(own.length, `${spec.name}: grants of its secrets to its account`).toBe(secrets.size);
      for (const grant of own) expect(waitsForResource(evaluation, resource.name, grant.name), `${spec.name} waits for ${grant.name}`).toBe(true);
    }
  });

  it("every Cloud Run service and worker pool that talks to the VM waits for a job that reached those services as it will, from its subnet, as its account, with its secrets", () => {
    const jobs = executedJobs();
    const checked: string[] = [];
    for (const { spec, resource, template } of workloads().values()) {
      if (resource.type === TYPES.job) continue;
      const targets = [...new Set(spec.talksTo.map((edge) => edge.to).filter(onVm))];
      if (targets.length === 0) continue;
      const env = envOf(template);
      // The variables that address a VM service (REDIS_URL, INFLUX_URL, ...) and every secret it reads.
      const needed = env.filter(
        (entry) => entry.valueSource !== undefined || references(spec.env[entry.name] ?? []).some((ref) => ref.kind === "endpoint" && targets.includes(ref.service)),
      );
      const gate = jobs.find(
        (job) =>
          waitsForResource(evaluation, resource.name, job.resource.name) &&
          job.template.serviceAccount === template.serviceAccount &&
          JSON.stringify(job.template.vpcAccess) === JSON.stringify(template.vpcAccess) &&
          needed.every((entry) => envOf(job.template).some((other) => envKey(other) === envKey(entry))),
      );
      expect(gate, `${spec.name} (talks to ${targets.join(", ")}) waits for a job that proves they answer from its egress, as its account, with its secrets`).toBeDefined();
      const vm = ofType(evaluation, TYPES.instance)[0]!;
      expect(waitsForResource(evaluation, gate!.resource.name, vm.name), `${gate!.resource.name} runs after the VM is created`).toBe(true);
      checked.push(spec.name);
    }
    expect(checked.sort()).toEqual(["grafana", "ingest", "worker"]);
  });

  it("every executed job is autonamed, so a failed first execution does not make the retry a 409", () => {
    const jobs = executedJobs();
    expect(jobs.length).toBeGreaterThan(0);
    for (const job of jobs) expect(job.inputs.name, `${job.resource.name} has no fixed name`).toBeUndefined();
  });
});
