import type { Resources } from "../topology";

/**
 * Cloud Run's CPU and memory limits for a topology service's resources. Cloud Run accepts whole
 * CPUs 1, 2, 4, 6 or 8 (fractions only with one request at a time, which ingest cannot live with),
 * memory from 512 MiB (second generation), at least 2 GiB with 4 CPUs and 4 GiB with 6 or 8, and at
 * most 4 GiB per CPU up to 32 GiB. The result is the smallest allowed size holding the request.
 */

const CPUS = [1, 2, 4, 6, 8] as const;
const MIN_MEMORY_MB: Record<(typeof CPUS)[number], number> = { 1: 512, 2: 512, 4: 2048, 6: 4096, 8: 4096 };
const MAX_MEMORY_MB: Record<(typeof CPUS)[number], number> = { 1: 4096, 2: 8192, 4: 16384, 6: 24576, 8: 32768 };

export interface CloudRunLimits {
  cpu: string;
  memory: string;
}

export function cloudRunLimits(resources: Resources): CloudRunLimits {
  for (const cpu of CPUS) {
    if (cpu < resources.cpus) continue;
    const memoryMb = Math.max(resources.memoryMb, MIN_MEMORY_MB[cpu]);
    if (memoryMb <= MAX_MEMORY_MB[cpu]) return { cpu: String(cpu), memory: `${memoryMb}Mi` };
  }
  throw new Error(`${resources.cpus} CPUs with ${resources.memoryMb} MB exceed Cloud Run's largest instance (8 CPUs, 32 GiB)`);
}
