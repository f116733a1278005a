import type { ServiceKind, ServiceName, ServiceSpec, Topology } from "../topology";

/**
 * Where each topology service runs on GCP, decided by its kind only (never by its name):
 * - `stateful` → a systemd unit on the stack's Container-Optimized OS VM, data on persistent disks
 *   (Cloud Run cannot attach a block disk); or a managed service when the stack config says so;
 * - `stateless` → a Cloud Run service;
 * - `worker` → a Cloud Run worker pool (always-on, no URL, CPU always allocated);
 * - `init` → a Cloud Run job executed by every deploy that changes it, awaited before its dependents;
 * - `job` → a Cloud Run job triggered by Cloud Scheduler.
 */
export type GcpHome = "vm" | "service" | "workerPool" | "initJob" | "scheduledJob" | "managed";

const homeOfKind: Record<ServiceKind, GcpHome> = {
  stateful: "vm",
  stateless: "service",
  worker: "workerPool",
  init: "initJob",
  job: "scheduledJob",
};

export type Placement = Readonly<Record<ServiceName, GcpHome>>;

/** `managed`: stateful services replaced by a managed endpoint (e.g. the queue by Memorystore). */
export function placeServices(topology: Topology, managed: ReadonlySet<ServiceName> = new Set()): Placement {
  const placement = {} as Record<ServiceName, GcpHome>;
  for (const spec of topology.services) {
    if (managed.has(spec.name) && spec.kind !== "stateful") throw new Error(`only stateful services can be managed; ${spec.name} is ${spec.kind}`);
    placement[spec.name] = managed.has(spec.name) ? "managed" : homeOfKind[spec.kind];
  }
  return placement;
}

/** Services that run on Cloud Run and reach the VPC through Direct VPC egress. */
export function serverlessServices(topology: Topology, placement: Placement): ServiceSpec[] {
  return topology.services.filter((spec) => placement[spec.name] !== "vm" && placement[spec.name] !== "managed");
}

export function vmServices(topology: Topology, placement: Placement): ServiceSpec[] {
  return topology.services.filter((spec) => placement[spec.name] === "vm");
}
