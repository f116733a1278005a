import { resolve } from "node:path";
import { topologyFor } from "../../components/stack";
import { evaluateStack, type StackEvaluation } from "../../cli/graph/program";
import { parseStackConfig } from "../../config/load";
import { readStackConfig } from "../../config/pulumi";
import type { StackConfig } from "../../config/schema";
import { createStack } from "../../components/stack";
import { type Topology } from "../../components/topology";
import { evaluate, pulumiConfig, resourcesOfType, type Evaluation, type RecordedResource } from "../pulumi/mocks";

/** Shared by the GCP tests: configs, topologies and evaluations of the GCP program under mocks. */

export const root = resolve(__dirname, "..", "..");

export const gcpBase = { platform: "gcp", gcp: { project: "acme-analytics", region: "europe-west1" } } as const;

export type GcpStackConfig = Extract<StackConfig, { platform: "gcp" }>;

/** The validated config of a GCP stack; `values` are merged over a minimal valid one. */
export function gcpConfig(values: Record<string, unknown> = {}, stack = "gcp-test"): GcpStackConfig {
  const merged = { ...gcpBase, ...values, gcp: { ...gcpBase.gcp, ...((values.gcp as object | undefined) ?? {}) } };
  const raw = pulumiConfig({ values: merged });
  const config = parseStackConfig({ stack, values: raw.config, secretKeys: new Set() });
  if (config.platform !== "gcp") throw new Error("expected a gcp config");
  return config;
}

export function gcpTopology(values: Record<string, unknown> = {}, stack = "gcp-test"): Topology {
  return topologyFor(gcpConfig(values, stack));
}

/** The program for a GCP config built from `values`, evaluated under mocks, with the summary as an output. */
export async function evaluateGcp(values: Record<string, unknown> = {}, stack = "gcp-test", secretKeys: string[] = []): Promise<Evaluation & { topology: Topology }> {
  const merged = { ...gcpBase, ...values, gcp: { ...gcpBase.gcp, ...((values.gcp as object | undefined) ?? {}) } };
  let topology: Topology | undefined;
  const evaluation = await evaluate({ stack, values: merged, secretKeys }, () => {
    const created = createStack(readStackConfig());
    topology = created.topology;
    return { ...created.outputs, summary: created.deployment.summary };
  });
  return { ...evaluation, topology: topology! };
}

export function evaluateExample(): Promise<StackEvaluation> {
  return evaluateStack("gcp-example", root);
}

/** The one resource of a type; fails with the names found otherwise. */
export function only(evaluation: Evaluation, type: string): RecordedResource {
  const found = resourcesOfType(evaluation, type);
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}: ${found.map((r) => r.name).join(", ")}`);
  return found[0]!;
}

export const TYPES = {
  instance: "gcp:compute/instance:Instance",
  disk: "gcp:compute/disk:Disk",
  firewall: "gcp:compute/firewall:Firewall",
  subnet: "gcp:compute/subnetwork:Subnetwork",
  address: "gcp:compute/address:Address",
  policy: "gcp:compute/resourcePolicy:ResourcePolicy",
  policyAttachment: "gcp:compute/diskResourcePolicyAttachment:DiskResourcePolicyAttachment",
  nat: "gcp:compute/routerNat:RouterNat",
  service: "gcp:cloudrunv2/service:Service",
  workerPool: "gcp:cloudrunv2/workerPool:WorkerPool",
  job: "gcp:cloudrunv2/job:Job",
  jobInvoker: "gcp:cloudrunv2/jobIamMember:JobIamMember",
  scheduler: "gcp:cloudscheduler/job:Job",
  secret: "gcp:secretmanager/secret:Secret",
  secretVersion: "gcp:secretmanager/secretVersion:SecretVersion",
  secretAccessor: "gcp:secretmanager/secretIamMember:SecretIamMember",
  account: "gcp:serviceaccount/account:Account",
  projectRole: "gcp:projects/iAMMember:IAMMember",
  repository: "gcp:artifactregistry/repository:Repository",
  repositoryReader: "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember",
  image: "docker-build:index:Image",
  bucket: "gcp:storage/bucket:Bucket",
  bucketMember: "gcp:storage/bucketIAMMember:BucketIAMMember",
  memorystore: "gcp:memorystore/instance:Instance",
  pscPolicy: "gcp:networkconnectivity/serviceConnectionPolicy:ServiceConnectionPolicy",
  api: "gcp:projects/service:Service",
} as const;
