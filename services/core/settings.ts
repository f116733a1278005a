import { z } from "zod";
import { redactUrl } from "./redact";

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

function redact(key: string, value: string): string {
  return /PASSWORD|SECRET|TOKEN|KEY/.test(key) ? "[redacted]" : redactUrl(value);
}

/** Common field types for environment schemas. */
export const env = {
  port: (fallback: number) => z.coerce.number().int().min(0).max(65_535).default(fallback),
  positiveInt: (fallback: number) => z.coerce.number().int().positive().default(fallback),
  url: () => z.string().url({ message: "expected a URL" }),
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
