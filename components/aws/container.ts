import type { HealthCheck, ServiceSpec } from "../topology";
import { cpuUnits } from "./fargate";

/** One ECS container definition, as the ECS API reads it from `containerDefinitions` (JSON). */
export interface ContainerDefinition {
  name: string;
  image: string;
  essential: boolean;
  entryPoint?: string[];
  command?: string[];
  environment: Array<{ name: string; value: string }>;
  /** `valueFrom` is a Secrets Manager ARN; ECS injects the value at start, the definition never holds it. */
  secrets: Array<{ name: string; valueFrom: string }>;
  portMappings: Array<{ name: string; containerPort: number; hostPort: number; protocol: "tcp" }>;
  mountPoints: Array<{ sourceVolume: string; containerPath: string; readOnly: boolean }>;
  healthCheck?: EcsHealthCheck;
  logConfiguration: { logDriver: "awslogs"; options: Record<string, string> };
  cpu: number;
  memory: number;
  stopTimeout: number;
  dependsOn?: Array<{ containerName: string; condition: "SUCCESS" | "HEALTHY" | "START" | "COMPLETE" }>;
  linuxParameters?: { initProcessEnabled: boolean };
}

export interface EcsHealthCheck {
  command: string[];
  interval: number;
  timeout: number;
  retries: number;
  startPeriod: number;
}

export interface ContainerInputs {
  spec: ServiceSpec;
  /** Image reference pinned by digest (`<repository>@sha256:…`). */
  image: string;
  /** Plain variables (no secret in their template), resolved. */
  environment: Record<string, string>;
  /** Secret variables → ARN of the Secrets Manager secret that holds the resolved value. */
  secretArns: Record<string, string>;
  /** Volume name in the task definition per topology volume name; volumes left out are not mounted. */
  volumeNames: Record<string, string>;
  log: { group: string; region: string; streamPrefix: string };
  /** False for an init container that runs before the task's main container. */
  essential: boolean;
  /** Init containers that must exit 0 before this one starts. */
  after: string[];
}

/** Where awslogs writes: `<prefix>/<container>/<task id>` (the CLI follows a backup task's logs there). */
export const LOG_STREAM_PREFIX = "mixstack";

/** The ECS container definition of one topology service. Pure: every Pulumi output is resolved already. */
export function containerDefinition(inputs: ContainerInputs): ContainerDefinition {
  const { spec } = inputs;
  const definition: ContainerDefinition = {
    name: spec.name,
    image: inputs.image,
    essential: inputs.essential,
    ...(spec.entrypoint && { entryPoint: spec.entrypoint }),
    ...(spec.command && { command: spec.command }),
    environment: Object.entries(inputs.environment)
      .map(([name, value]) => ({ name, value }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    secrets: Object.entries(inputs.secretArns)
      .map(([name, valueFrom]) => ({ name, valueFrom }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    // awsvpc: the host port is the container port.
    portMappings: spec.ports.map((p) => ({ name: p.name, containerPort: p.port, hostPort: p.port, protocol: "tcp" as const })),
    mountPoints: spec.volumes
      .filter((volume) => inputs.volumeNames[volume.name] !== undefined)
      .map((volume) => ({ sourceVolume: inputs.volumeNames[volume.name]!, containerPath: volume.path, readOnly: false })),
    ...(spec.health && { healthCheck: ecsHealthCheck(spec.health) }),
    logConfiguration: {
      logDriver: "awslogs",
      options: {
        "awslogs-group": inputs.log.group,
        "awslogs-region": inputs.log.region,
        "awslogs-stream-prefix": inputs.log.streamPrefix,
      },
    },
    cpu: cpuUnits(spec.resources.cpus),
    memory: spec.resources.memoryMb,
    // Fargate stops a container after at most 120 s.
    stopTimeout: Math.min(Math.max(spec.stopGraceSeconds, 2), 120),
    ...(inputs.after.length > 0 && { dependsOn: inputs.after.map((containerName) => ({ containerName, condition: "SUCCESS" as const })) }),
    // Our image's process is PID 1 otherwise: an init forwards signals and reaps children (as on Docker).
    ...(spec.image.kind === "build" && spec.image.build === "services" && { linuxParameters: { initProcessEnabled: true } }),
  };
  return definition;
}

/** The topology's health check within ECS's limits (interval 5–300 s, timeout 2–120 s, retries 1–10, start period 0–300 s). */
export function ecsHealthCheck(health: HealthCheck): EcsHealthCheck {
  const interval = clamp(health.intervalSeconds, 5, 300);
  return {
    command: ["CMD-SHELL", health.command],
    interval,
    // ECS also wants the timeout below the interval.
    timeout: clamp(Math.min(health.timeoutSeconds, interval - 1), 2, 120),
    retries: clamp(health.retries, 1, 10),
    startPeriod: clamp(health.startPeriodSeconds, 0, 300),
  };
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(Math.max(Math.round(value), min), max);
}
