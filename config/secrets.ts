import { z } from "zod";

/**
 * The secrets of a stack. Each is a top-level key (`mixstack:<name>`) that must be stored encrypted
 * (`pulumi config set --secret`); a missing one is generated with `@pulumi/random` and kept in state.
 */
export const secretNames = [
  "projectToken",
  "apiSecret",
  "influxAdminPassword",
  "influxWriterPassword",
  "influxReaderPassword",
  "grafanaAdminPassword",
  "queuePassword",
] as const;

export type SecretName = (typeof secretNames)[number];
export type SecretValues = Partial<Record<SecretName, string>>;

// The token and API secret are comma-separated lists in MIXSTACK_TOKEN / MIXSTACK_API_SECRET.
const listItem = z
  .string()
  .min(8, { message: "expected at least 8 characters" })
  .regex(/^[^,\s]+$/, { message: "must not contain commas or whitespace" });
const password = z.string().min(12, { message: "expected at least 12 characters" });
// The queue password travels inside REDIS_URL and on valkey-server's command line: keep it URL- and shell-safe.
const urlSafePassword = password.regex(/^[A-Za-z0-9._~-]+$/, {
  message: "may only contain letters, digits and . _ ~ - (it is part of REDIS_URL)",
});

export const secretsShape = {
  projectToken: listItem.optional().describe("Mixpanel project token the SDKs send (generated when unset)"),
  apiSecret: listItem.optional().describe("API secret for /import (generated when unset)"),
  influxAdminPassword: password.optional().describe("InfluxDB admin password, used by bootstrap and backups (generated when unset)"),
  influxWriterPassword: password.optional().describe("InfluxDB password of the worker's write-only user (generated when unset)"),
  influxReaderPassword: password.optional().describe("InfluxDB password of Grafana's read-only user (generated when unset)"),
  grafanaAdminPassword: password
    .optional()
    .describe("Grafana `admin` password (generated when unset; Grafana applies it on first start only)"),
  queuePassword: urlSafePassword.optional().describe("Valkey password, part of REDIS_URL (generated when unset)"),
} satisfies Record<SecretName, z.ZodType>;
