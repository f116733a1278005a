/**
 * Fargate accepts only some CPU/memory pairs. A task's size is the smallest valid pair that holds
 * what its containers ask for (sizes as in the ECS developer guide, "Task CPU and memory").
 */
const sizes: ReadonlyArray<{ cpu: number; memory: number[] }> = [
  { cpu: 256, memory: [512, 1024, 2048] },
  { cpu: 512, memory: range(1024, 4096, 1024) },
  { cpu: 1024, memory: range(2048, 8192, 1024) },
  { cpu: 2048, memory: range(4096, 16_384, 1024) },
  { cpu: 4096, memory: range(8192, 30_720, 1024) },
  { cpu: 8192, memory: range(16_384, 61_440, 4096) },
  { cpu: 16_384, memory: range(32_768, 122_880, 8192) },
];

export interface TaskSize {
  /** CPU units (1024 = one vCPU). */
  cpu: number;
  /** MiB. */
  memory: number;
}

export function fargateTaskSize(cpuUnits: number, memoryMb: number): TaskSize | Error {
  for (const size of sizes) {
    if (size.cpu < cpuUnits) continue;
    const memory = size.memory.find((candidate) => candidate >= memoryMb);
    if (memory !== undefined) return { cpu: size.cpu, memory };
  }
  return new Error(`no Fargate task size holds ${cpuUnits} CPU units and ${memoryMb} MiB (largest: 16384 units, 122880 MiB)`);
}

/** CPU units of a fraction of cores, as ECS counts them. */
export function cpuUnits(cpus: number): number {
  return Math.max(1, Math.round(cpus * 1024));
}

function range(from: number, to: number, step: number): number[] {
  const values: number[] = [];
  for (let value = from; value <= to; value += step) values.push(value);
  return values;
}
