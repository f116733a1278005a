import type { z } from "zod";
import { platformNamed, platformNames, platforms, type PlatformName } from "../components/platforms";
import { baseSchema, type StackConfig } from "./schema";
import { secretNames, type SecretName, type SecretValues } from "./secrets";

/** The Pulumi project name: config keys are `mixstack:<key>`. */
export const PROJECT = "mixstack";

/** What Pulumi hands the program: every config value as a string (objects as JSON), and which keys are secret. */
export interface RawStackConfig {
  stack: string;
  /** Keys with their namespace (`mixstack:platform`); keys of other namespaces are ignored. */
  values: Readonly<Record<string, string>>;
  secretKeys: ReadonlySet<string>;
}

export interface ConfigProblem {
  /** `mixstack:influxdb.memoryMb` */
  key: string;
  message: string;
}

/** A stack config that cannot be deployed. The message names every bad key and the stack file. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: ConfigProblem[],
  ) {
    super(
      [`invalid stack config in ${file}:`, ...problems.map((p) => `  ${p.key}: ${p.message}`)].join("\n"),
    );
    this.name = "ConfigError";
  }
}

export function stackFile(stack: string): string {
  return `stacks/Pulumi.${stack}.yaml`;
}

/**
 * Validates the raw config of one stack and applies the defaults. Pure: the Pulumi edge is
 * `config/pulumi.ts`. Throws `ConfigError` listing every problem at once.
 */
export function parseStackConfig(raw: RawStackConfig): StackConfig {
  const file = stackFile(raw.stack);
  const prefix = `${PROJECT}:`;
  const data: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw.values)) {
    if (key.startsWith(prefix)) data[key.slice(prefix.length)] = decodeValue(value);
  }
  const secretKeys = new Set([...raw.secretKeys].filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length)));

  const problems: ConfigProblem[] = [];
  for (const name of secretNames) {
    if (data[name] !== undefined && !secretKeys.has(name)) {
      problems.push({
        key: `${prefix}${name}`,
        message: `must be stored encrypted: run \`pulumi config set --secret ${name} <value> --stack ${raw.stack}\``,
      });
    }
  }

  const base = baseSchema.safeParse(data);
  if (!base.success) problems.push(...describeIssues(base.error.issues, data, [], secretKeys));

  let section: unknown;
  const platform = data.platform as PlatformName;
  if (base.success || platformNames.includes(platform)) {
    const schema = platforms.find((candidate) => candidate.name === platform)?.section as z.ZodType | undefined;
    if (schema) {
      const parsed = schema.safeParse(data[platform] ?? {});
      if (parsed.success) section = parsed.data;
      else problems.push(...describeIssues(parsed.error.issues, data[platform] ?? {}, [platform], secretKeys));
    }
  }
  if (base.success) problems.push(...optionProblems(base.data, platform, secretKeys), ...platformNamed(platform).checks(base.data, PROJECT));
  if (problems.length > 0) throw new ConfigError(file, problems);

  const parsed = base.data!;
  const secrets: SecretValues = {};
  for (const name of secretNames) {
    const value = parsed[name];
    if (value !== undefined) secrets[name as SecretName] = value;
  }
  const config: Record<string, unknown> = { stack: raw.stack, secrets };
  for (const [key, value] of Object.entries(parsed)) {
    if (!(secretNames as readonly string[]).includes(key) && !(platformNames as string[]).includes(key)) config[key] = value;
  }
  config[platform] = section;
  return config as StackConfig;
}

/** Options the chosen platform does not implement, and what an external InfluxDB needs. */
function optionProblems(
  config: { queue: { managed: boolean }; influxdb: { external?: unknown }; influxAdminPassword?: string },
  platform: PlatformName,
  secretKeys: ReadonlySet<string>,
): ConfigProblem[] {
  const supported = platformNamed(platform).options;
  const supporting = (option: keyof typeof supported) => platforms.filter((candidate) => candidate.options[option]).map((candidate) => candidate.name).join(", ");
  const problems: ConfigProblem[] = [];
  if (config.queue.managed && !supported.managedQueue) {
    problems.push({ key: `${PROJECT}:queue.managed`, message: `the ${platform} platform has no managed queue (supported on: ${supporting("managedQueue")})` });
  }
  if (config.influxdb.external && !supported.externalInfluxdb) {
    problems.push({ key: `${PROJECT}:influxdb.external`, message: `not supported on the ${platform} platform (supported on: ${supporting("externalInfluxdb")})` });
  }
  if (config.influxdb.external && (config.influxAdminPassword === undefined || !secretKeys.has("influxAdminPassword"))) {
    problems.push({
      key: `${PROJECT}:influxAdminPassword`,
      message: "is required with influxdb.external (the password of influxdb.adminUser on that server): `pulumi config set --secret influxAdminPassword <value>`",
    });
  }
  return problems;
}

/** Pulumi passes structured values as JSON text and scalars as plain text. */
function decodeValue(value: string): unknown {
  const trimmed = value.trim();
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    try {
      return JSON.parse(trimmed);
    } catch {
      return value;
    }
  }
  return value;
}

function describeIssues(
  issues: readonly z.core.$ZodIssue[],
  root: unknown,
  basePath: PropertyKey[],
  secretKeys: ReadonlySet<string>,
): ConfigProblem[] {
  return issues.flatMap((issue): ConfigProblem[] => {
    const path = [...basePath, ...issue.path];
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({
        key: keyName([...path, key]),
        message: `unknown key (known keys: ${knownKeys(path).join(", ")})`,
      }));
    }
    const value = valueAt(root, issue.path);
    const secret = secretKeys.has(String(path[0])) || (secretNames as readonly PropertyKey[]).includes(path[0]!);
    if (value === undefined) {
      const hint = path.length === 1 && path[0] === "platform" ? ` (one of: ${platformNames.join(", ")})` : "";
      // A refinement that asks for a key may say why ("is required: …").
      return [{ key: keyName(path), message: issue.code === "custom" && issue.message.startsWith("is required: ") ? issue.message : `is required${hint}` }];
    }
    const got = secret ? "[secret]" : JSON.stringify(value);
    if (path.length === 1 && path[0] === "platform") {
      return [{ key: keyName(path), message: `unknown platform ${got} (supported: ${platformNames.join(", ")})` }];
    }
    if (issue.code === "invalid_type") {
      return [{ key: keyName(path), message: `expected ${article(issue.expected)}, got ${got}` }];
    }
    if (issue.code === "invalid_value") {
      return [{ key: keyName(path), message: `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}, got ${got}` }];
    }
    return [{ key: keyName(path), message: `${issue.message.replace(/^Invalid input: /, "")}, got ${got}` }];
  });
}

function keyName(path: readonly PropertyKey[]): string {
  return `${PROJECT}:${path.map(String).join(".")}`;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let value = root;
  for (const part of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<PropertyKey, unknown>)[part as string];
  }
  return value;
}

function knownKeys(path: readonly PropertyKey[]): string[] {
  let shape: Record<string, unknown> = baseSchema.shape;
  const [first, ...rest] = path;
  if (first !== undefined && (platformNames as PropertyKey[]).includes(first)) {
    shape = unwrapShape(platformNamed(first as PlatformName).section);
  } else if (first !== undefined) {
    shape = unwrapShape(shape[first as string]);
  }
  for (const part of rest) shape = unwrapShape(shape[part as string]);
  return Object.keys(shape);
}

function unwrapShape(schema: unknown): Record<string, unknown> {
  let current = schema as { shape?: Record<string, unknown>; def?: { innerType?: unknown } } | undefined;
  for (let depth = 0; current && depth < 5; depth++) {
    if (current.shape) return current.shape;
    current = current.def?.innerType as typeof current;
  }
  return {};
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}
