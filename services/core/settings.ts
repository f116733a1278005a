import { z } from "zod";

/**
 * The variables of a service's environment schema, each given as a `Value`: a string where a
 * process is started (the dev harness, tests), an env template in the topology. Variables the
 * schema requires are required, the others optional, and no other name is accepted: renaming or
 * removing a variable in the schema fails type-checking wherever it is set.
 */
export type EnvFor<Schema extends z.ZodObject, Value = string> = {
  [K in RequiredKeys<z.input<Schema>>]: Value;
} & {
  [K in Exclude<keyof z.input<Schema>, RequiredKeys<z.input<Schema>>>]?: Value;
};

type RequiredKeys<T> = { [K in keyof T]-?: undefined extends T[K] ? never : K }[keyof T];

/** Thrown for a bad environment variable; the message names the variable and the command. */
export class SettingsError extends Error {}

/**
 * Reads a service's settings from the environment once, at start. Each key of `schema` is an
 * environment variable name; a wrong or missing value fails with a message that names it.
 */
export function readSettings<Shape extends z.ZodRawShape>(
  command: string,
  schema: z.ZodObject<Shape>,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<z.ZodObject<Shape>> {
  const picked: Record<string, string | undefined> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    picked[key] = value === "" ? undefined : value;
  }
  const result = schema.safeParse(picked);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const key = String(issue.path[0] ?? "?");
    const got = picked[key] === undefined ? "it is not set" : `got ${JSON.stringify(redact(key, picked[key]!))}`;
    return `  ${key}: ${issue.message} (${got})`;
  });
  throw new SettingsError(`mixstack ${command}: invalid environment\n${problems.join("\n")}`);
}

/**
 * A command's start: `read` validates its environment and `run` does the work with the result. A
 * bad environment prints what is wrong and exits 2, the same for every command.
 */
export async function withSettings<S>(read: () => S, run: (settings: S) => Promise<number | void> | number | void): Promise<number> {
  let settings: S;
  try {
    settings = read();
  } catch (error) {
    if (!(error instanceof SettingsError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 2;
  }
  const code = await run(settings);
  return typeof code === "number" ? code : 0;
}

function redact(key: string, value: string): string {
  return /PASSWORD|SECRET|TOKEN|KEY/.test(key) ? "[redacted]" : value;
}

/** Common field types for environment schemas. */
export const env = {
  port: (fallback: number) => z.coerce.number().int().min(0).max(65_535).default(fallback),
  positiveInt: (fallback: number) => z.coerce.number().int().positive().default(fallback),
  url: () => z.string().url({ message: "expected a URL" }),
  /** `REDIS_URL` of every service: the queue, with its password (`redis://:password@host:port`), TLS with `rediss://`. */
  redisUrl: () => z.string().regex(/^rediss?:\/\/\S+$/, { message: "expected redis://host:port or rediss://host:port" }),
  list: (fallback: string[] = []) =>
    z
      .string()
      .default(fallback.join(","))
      .transform((value) => value.split(",").map((item) => item.trim()).filter(Boolean)),
  flag: (fallback: boolean) =>
    z
      .enum(["true", "false", "1", "0", "yes", "no"], { message: "expected true or false" })
      .default(fallback ? "true" : "false")
      .transform((value) => value === "true" || value === "1" || value === "yes"),
};
