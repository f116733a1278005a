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
  "grafanaSecretKey",
  "queuePassword",
] as const;

export type SecretName = (typeof secretNames)[number];
export type SecretValues = Partial<Record<SecretName, string>>;

/**
 * Stands for an encrypted (`secure:`) value when a stack file is read without its passphrase
 * (`mixstack graph`): accepted wherever a secret is, since its real value was validated when set.
 */
export const ENCRYPTED_PLACEHOLDER = "[secret]";

const orPlaceholder = (schema: z.ZodString) => z.union([z.literal(ENCRYPTED_PLACEHOLDER), schema]);

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
  projectToken: orPlaceholder(listItem).optional().describe("Mixpanel project token the SDKs send (generated when unset)"),
  apiSecret: orPlaceholder(listItem).optional().describe("API secret for /import (generated when unset)"),
  influxAdminPassword: orPlaceholder(password).optional().describe("InfluxDB admin password, used by bootstrap and backups (generated when unset)"),
  influxWriterPassword: orPlaceholder(password).optional().describe("InfluxDB password of the worker's user (generated when unset)"),
  influxReaderPassword: orPlaceholder(password).optional().describe("InfluxDB password of Grafana's read-only user (generated when unset)"),
  grafanaAdminPassword: orPlaceholder(password)
    .optional()
    .describe("Grafana `admin` password (generated when unset; Grafana applies it on first start only)"),
  grafanaSecretKey: orPlaceholder(password)
    .optional()
    .describe(
      "Grafana's secret_key, which encrypts what Grafana stores in its database (the data source password among it) (generated when unset; a Grafana that already stored secrets of its own under Grafana's built-in key needs that key set here, docs/privacy.md)",
    ),
  queuePassword: orPlaceholder(urlSafePassword).optional().describe("Valkey password, part of REDIS_URL (generated when unset)"),
} satisfies Record<SecretName, z.ZodType>;
