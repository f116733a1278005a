import { z } from "zod";

/**
 * Field types shared by every section of the stack config. Top-level scalars arrive from Pulumi as
 * strings ("8080", "true"), values inside objects as JSON; both spellings are accepted.
 */

const numberFromString = (value: unknown) =>
  typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value)) ? Number(value) : value;

const booleanFromString = (value: unknown) => (value === "true" ? true : value === "false" ? false : value);

export const field = {
  int: (fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
    z.preprocess(numberFromString, z.number().int().min(min).max(max)).default(fallback),
  number: (fallback: number, min = 0) => z.preprocess(numberFromString, z.number().min(min)).default(fallback),
  flag: (fallback: boolean) => z.preprocess(booleanFromString, z.boolean()).default(fallback),
  port: (fallback: number) => z.preprocess(numberFromString, z.number().int().min(1).max(65_535)).default(fallback),
};

/** Memory and CPU of one service's container/task; the defaults fit a 4 GB, 2-core machine. */
export function resourcesShape(memoryMb: number, cpus: number) {
  return {
    memoryMb: field.int(memoryMb, 64).describe(`memory limit in MB (default ${memoryMb})`),
    cpus: field.number(cpus, 0.1).describe(`CPU limit in cores (default ${cpus})`),
  };
}

/** A five-field cron expression, evaluated in UTC. Checked for shape only; the scheduler parses it. */
export const cronExpression = z
  .string()
  .regex(/^\s*(\S+\s+){4}\S+\s*$/, { message: 'expected a five-field cron expression such as "0 3 * * *"' });
