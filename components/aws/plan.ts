import type { AwsConfig } from "./config";
import { edgeLabel, port, service, startOrder, type ServiceName, type ServiceSpec, type Topology, type VolumeSpec } from "../topology";

/**
 * How the topology lands on AWS, decided once and as plain data (no Pulumi): which ECS task runs
 * which containers on which capacity, where each volume lives and which security-group paths the
 * edges need. The components only create what this plan says.
 */

/** Where a task runs: Fargate, or the EC2 state host (its EBS volume). */
export type Capacity = "fargate" | "ec2";

/** Where one volume of a container lives. */
export type VolumePlacement =
  | { kind: "ebs"; hostPath: string }
  | { kind: "efs"; accessPointPath: string }
  /** A `purpose: backups` volume, replaced by the backup bucket: not mounted. */
  | { kind: "bucket" };

export interface TaskPlan {
  /** The service that owns the task (its ECS service, or its scheduled task for a job). */
  owner: ServiceName;
  capacity: Capacity;
  /** `service`: an ECS service keeps it running; `schedule`: EventBridge Scheduler starts it. */
  runs: "service" | "schedule";
  /** Init containers first (they exit 0 before the owner starts), then the owner's container. */
  containers: ServiceSpec[];
  volumes: Array<{ service: ServiceName; volume: VolumeSpec; placement: VolumePlacement }>;
}

export interface IngressPlan {
  /** The task whose security group may connect. */
  from: ServiceName;
  /** The service whose security group accepts (ECS task or managed endpoint). */
  to: ServiceName;
  port: number;
  /** The topology edges this path serves (`worker -> influxdb:8086`). */
  edges: string[];
}

export interface AwsPlan {
  tasks: TaskPlan[];
  /** Services provided by a managed AWS offering (ElastiCache) instead of a task. */
  managed: ServiceSpec[];
  /** For each service, the tasks its container runs in (an init service runs in each dependent's task). */
  hosts: Partial<Record<ServiceName, ServiceName[]>>;
  ingress: IngressPlan[];
}

/** Mount point of the EBS data volume on the state host. */
export const DATA_MOUNT = "/mnt/mixstack-data";

export function planDeployment(topology: Topology, stateStorage: AwsConfig["stateStorage"]): AwsPlan | Error {
  const tasks: TaskPlan[] = [];
  const managed: ServiceSpec[] = [];
  const hosts: AwsPlan["hosts"] = {};
  const host = (serviceName: ServiceName, task: ServiceName) => {
    hosts[serviceName] = [...(hosts[serviceName] ?? []), task];
  };
  for (const spec of startOrder(topology)) {
    if (spec.managed) {
      managed.push(spec);
      continue;
    }
    if (spec.kind === "init") continue;
    const capacity: Capacity = spec.kind === "stateful" && stateStorage === "ec2-ebs" ? "ec2" : "fargate";
    const inits = spec.dependsOn
      .filter((dependency) => dependency.condition === "completed")
      .map((dependency) => service(topology, dependency.service));
    const containers = [...inits, spec];
    const volumes: TaskPlan["volumes"] = [];
    for (const container of containers) {
      for (const volume of container.volumes) {
        const placement = placeVolume(spec, container, volume, capacity);
        if (placement instanceof Error) return placement;
        volumes.push({ service: container.name, volume, placement });
      }
      host(container.name, spec.name);
    }
    tasks.push({ owner: spec.name, capacity, runs: spec.kind === "job" ? "schedule" : "service", containers, volumes });
  }
  const orphans = topology.services.filter((spec) => spec.kind === "init" && !hosts[spec.name]);
  if (orphans.length > 0) return new Error(`init service ${orphans.map((s) => s.name).join(", ")} has no dependent to run in`);
  for (const spec of managed) host(spec.name, spec.name);
  return { tasks, managed, hosts, ingress: ingressPaths(topology, hosts) };
}

function placeVolume(owner: ServiceSpec, container: ServiceSpec, volume: VolumeSpec, capacity: Capacity): VolumePlacement | Error {
  const key = `${container.name}-${volume.name}`;
  if (volume.purpose === "backups") return { kind: "bucket" };
  if (capacity === "ec2") return { kind: "ebs", hostPath: `${DATA_MOUNT}/${key}` };
  // Fargate: EFS for what may live on NFS (Grafana's SQLite, one writer), and for state only by opt-in.
  if (volume.persistence === "preferred" || owner.kind === "stateful") return { kind: "efs", accessPointPath: `/${key}` };
  return new Error(`${container.name} needs durable block storage at ${volume.path}, which a ${owner.kind} Fargate task cannot have`);
}

/** One security-group path per (task, target, port): every task that hosts an edge's source may reach its target. */
function ingressPaths(topology: Topology, hosts: AwsPlan["hosts"]): IngressPlan[] {
  const paths = new Map<string, IngressPlan>();
  for (const spec of topology.services) {
    for (const edge of spec.talksTo) {
      const target = service(topology, edge.to);
      const containerPort = port(target, edge.port).port;
      for (const task of hosts[spec.name] ?? []) {
        const key = `${task}>${edge.to}:${containerPort}`;
        const path = paths.get(key) ?? { from: task, to: edge.to, port: containerPort, edges: [] };
        const label = edgeLabel(edge.from, edge.to, containerPort);
        if (!path.edges.includes(label)) path.edges.push(label);
        paths.set(key, path);
      }
    }
  }
  return [...paths.values()].sort((a, b) => `${a.from}${a.to}${a.port}`.localeCompare(`${b.from}${b.to}${b.port}`));
}

/** The service a task runs for: its last container (init containers come first). */
export function ownerOf(task: TaskPlan): ServiceSpec {
  return task.containers[task.containers.length - 1]!;
}
