import * as pulumi from "@pulumi/pulumi";
import { serviceImageLabel, type DeploymentSummary, type ServiceName, type ServiceSpec } from "../topology";
import type { AwsImages } from "./images";
import type { IngressPlan, TaskPlan } from "./plan";

export interface SummaryInputs {
  topology: ServiceSpec[];
  tasks: Array<{ plan: TaskPlan; definitions: pulumi.Output<Array<{ name: string; image: string; command?: string[]; mountPoints: Array<{ sourceVolume: string; containerPath: string }> }>>; volumes: TaskPlan["volumes"] }>;
  managed: ServiceSpec[];
  published: Array<{ service: ServiceName; containerPort: number; listeners: number[] }>;
  wired: IngressPlan[];
  hosts: Partial<Record<ServiceName, ServiceName[]>>;
  backupStoreWired: boolean;
  images: AwsImages["images"];
}

/**
 * What was deployed, from what was created: containers in task definitions (image by the repository
 * it was pushed to), listeners forwarding to a service, durable mounts, managed services, and the
 * security-group paths (an edge counts once every task hosting its source may reach its target).
 */
export function summarize(inputs: SummaryInputs): pulumi.Output<DeploymentSummary> {
  const refToLabel = pulumi
    .all([...inputs.images.entries()].map(([label, image]) => image.ref.apply((ref) => [ref, label] as [string, string])));
  return pulumi.all([refToLabel, pulumi.all(inputs.tasks.map((task) => task.definitions))]).apply(([pairs, definitionsPerTask]) => {
    const labels = new Map(pairs);
    const services: DeploymentSummary["services"] = [];
    inputs.tasks.forEach((task, index) => {
      for (const definition of definitionsPerTask[index]!) {
        const spec = inputs.topology.find((s) => s.name === definition.name);
        if (!spec || services.some((s) => s.name === spec.name)) continue;
        const durable = new Set(
          task.volumes.filter((v) => v.service === spec.name && v.placement.kind !== "bucket").map((v) => `${v.service}-${v.volume.name}`),
        );
        const mounted = definition.mountPoints.filter((m) => durable.has(m.sourceVolume)).map((m) => m.containerPath);
        // A backups volume is replaced by the bucket its container is told to write to (docs/topology.md).
        const bucket = inputs.backupStoreWired ? spec.volumes.filter((v) => v.purpose === "backups").map((v) => v.path) : [];
        services.push({
          name: spec.name,
          kind: spec.kind,
          image: labels.get(definition.image) ?? `unknown:${definition.image}`,
          publicPorts: inputs.published
            .filter((p) => p.service === spec.name && p.listeners.length > 0)
            .map((p) => p.containerPort)
            .sort((a, b) => a - b),
          volumes: [...mounted, ...bucket].sort(),
          command: definition.command ?? [],
        });
      }
    });
    for (const spec of inputs.managed) {
      services.push({ name: spec.name, kind: spec.kind, image: serviceImageLabel(spec), publicPorts: [], volumes: [], command: [] });
    }
    const edges = new Set<string>();
    const labelsWired = new Set(inputs.wired.flatMap((path) => path.edges));
    for (const label of labelsWired) {
      const from = label.split(" -> ")[0] as ServiceName;
      const hosts = inputs.hosts[from] ?? [];
      const carriers = new Set(inputs.wired.filter((path) => path.edges.includes(label)).map((path) => path.from));
      if (hosts.length > 0 && hosts.every((host) => carriers.has(host))) edges.add(label);
    }
    return {
      services: services.sort((a, b) => a.name.localeCompare(b.name)),
      edges: [...edges].sort(),
    };
  });
}
