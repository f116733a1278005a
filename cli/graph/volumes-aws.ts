import type { MermaidVolume } from "./render";
import { unwrapSecrets, type RecordedResource } from "./offline";

/** The durable mounts of ECS task definitions (EBS directories on the state host, EFS access points), for the Mermaid view. */
export function ecsTaskVolumes(resources: readonly RecordedResource[]): MermaidVolume[] {
  const volumes: MermaidVolume[] = [];
  for (const resource of resources) {
    if (resource.type !== "aws:ecs/taskDefinition:TaskDefinition") continue;
    const sources = new Map(
      ((resource.inputs.volumes ?? []) as Array<{ name: string; hostPath?: string; efsVolumeConfiguration?: unknown }>).map((volume) => [
        volume.name,
        volume.hostPath ? `EBS ${volume.hostPath}` : `EFS ${volume.name}`,
      ]),
    );
    const containers = JSON.parse(String(unwrapSecrets(resource.inputs.containerDefinitions) ?? "[]")) as Array<{ name: string; mountPoints?: Array<{ sourceVolume: string; containerPath: string }> }>;
    for (const container of containers) {
      for (const mount of container.mountPoints ?? []) {
        const source = sources.get(mount.sourceVolume);
        if (source) volumes.push({ service: container.name, source, path: mount.containerPath });
      }
    }
  }
  return volumes;
}
