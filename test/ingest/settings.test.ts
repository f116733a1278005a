import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SettingsError } from "../../services/core/settings";
import { readIngestSettings } from "../../services/ingest/settings";
import { makeTestCertificate } from "./support";

const required = { REDIS_URL: "redis://127.0.0.1:6379", MIXSTACK_TOKEN: "T1, T2" };

describe("readIngestSettings", () => {
  it("has documented defaults", () => {
    const settings = readIngestSettings(required);
    expect(settings).toMatchObject({
      PORT: 8080,
      METRICS_PORT: 9464,
      MIXSTACK_LISTEN_HOST: "0.0.0.0",
      MIXSTACK_TOKEN: ["T1", "T2"],
      MIXSTACK_API_SECRET: [],
      MIXSTACK_SERVICE_ACCOUNT_SECRETS: [],
      MIXSTACK_IMPORT_TOKEN_AUTH: false,
      MIXSTACK_KEEP_IP: false,
      MIXSTACK_PATH_PREFIX: "",
      MIXSTACK_MAX_STREAM_LENGTH: 100_000,
      MIXSTACK_QUEUE_TIMEOUT_MS: 2_000,
      MIXSTACK_MAX_HEADER_BYTES: 256 * 1024,
      MIXSTACK_GEOIP: true,
      MIXSTACK_TRUSTED_PROXY_HOPS: 0,
      MIXSTACK_STATS_INTERVAL_MS: 10_000,
      MIXSTACK_SHUTDOWN_GRACE_MS: 10_000,
      MIXSTACK_NEW_WEEKS_PER_MINUTE: 10,
      MIXSTACK_CLIENT_MS_PER_SECOND: 100,
      MIXSTACK_CLIENT_BURST_MS: 150,
      MIXSTACK_MAX_CONNECTIONS: 10_000,
      MIXSTACK_QUEUE_MEMORY_PERCENT: 60,
      metricsPortIsDefault: true,
      limits: {
        maxItems: 2000,
        maxBodyBytes: 1024 * 1024,
        maxImportBodyBytes: 10 * 1024 * 1024,
        maxStringLength: 255,
        maxProperties: 255,
        maxDepth: 3,
        maxEventBytes: 1024 * 1024,
        trackMaxAgeMs: 5 * 86_400_000,
        history: { maxAgeMs: 730 * 86_400_000 },
      },
    });
    expect(settings.tls).toBeUndefined();
  });

  it("reads every setting", () => {
    const settings = readIngestSettings({
      ...required,
      PORT: "9000",
      METRICS_PORT: "9100",
      MIXSTACK_API_SECRET: "s1,s2",
      MIXSTACK_SERVICE_ACCOUNT_SECRETS: "svc:pa:ss",
      MIXSTACK_PATH_PREFIX: "/mp/",
      MIXSTACK_TRACK_MAX_AGE_DAYS: "0",
      MIXSTACK_HISTORY_SINCE: "2020-01-01",
      MIXSTACK_NEW_WEEKS_PER_MINUTE: "0",
      MIXSTACK_CLIENT_MS_PER_SECOND: "0",
      MIXSTACK_CLIENT_BURST_MS: "500",
      MIXSTACK_MAX_CONNECTIONS: "100",
      MIXSTACK_QUEUE_MEMORY_PERCENT: "75",
      MIXSTACK_MAX_IMPORT_BODY_BYTES: "2097152",
      MIXSTACK_GEOIP: "false",
      MIXSTACK_TRUSTED_PROXY_HOPS: "1",
      MIXSTACK_MAX_HEADER_BYTES: "65536",
    });
    expect(settings).toMatchObject({
      PORT: 9000,
      METRICS_PORT: 9100,
      MIXSTACK_API_SECRET: ["s1", "s2"],
      MIXSTACK_SERVICE_ACCOUNT_SECRETS: [{ username: "svc", secret: "pa:ss" }],
      MIXSTACK_PATH_PREFIX: "/mp",
      MIXSTACK_GEOIP: false,
      MIXSTACK_TRUSTED_PROXY_HOPS: 1,
      MIXSTACK_MAX_HEADER_BYTES: 65536,
      MIXSTACK_NEW_WEEKS_PER_MINUTE: 0,
      MIXSTACK_CLIENT_MS_PER_SECOND: 0,
      MIXSTACK_CLIENT_BURST_MS: 500,
      MIXSTACK_MAX_CONNECTIONS: 100,
      MIXSTACK_QUEUE_MEMORY_PERCENT: 75,
      metricsPortIsDefault: false,
      limits: { trackMaxAgeMs: 0, history: { sinceMs: Date.UTC(2020, 0, 1) }, maxImportBodyBytes: 2 * 1024 * 1024 },
    });
  });

  it("reads the TLS certificate and key files", () => {
    const { certFile, keyFile, cert } = makeTestCertificate();
    const settings = readIngestSettings({ ...required, MIXSTACK_TLS_CERT_FILE: certFile, MIXSTACK_TLS_KEY_FILE: keyFile });
    expect(settings.tls?.cert.equals(cert)).toBe(true);
    expect(settings.tls?.key.toString()).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });

  describe("refuses TLS files that would only fail when the server starts, naming the variable", () => {
    const good = makeTestCertificate();
    const other = makeTestCertificate();
    const dir = mkdtempSync(join(tmpdir(), "ingest-tls-"));
    writeFileSync(join(dir, "garbage.pem"), "not a pem");
    const garbage = join(dir, "garbage.pem");
    it.each([
      ["a certificate file that is not a certificate", garbage, good.keyFile, /MIXSTACK_TLS_CERT_FILE: .*garbage\.pem is not a PEM certificate/],
      ["a key file that is not a key", good.certFile, garbage, /MIXSTACK_TLS_KEY_FILE: .*garbage\.pem is not an unencrypted PEM private key/],
      ["the certificate given as the key", good.certFile, good.certFile, /MIXSTACK_TLS_KEY_FILE: .* is not an unencrypted PEM private key/],
      ["the key of another certificate", good.certFile, other.keyFile, /MIXSTACK_TLS_KEY_FILE: .* is not the private key of the certificate in /],
    ])("%s", (_name, certFile, keyFile, message) => {
      expect(() => readIngestSettings({ ...required, MIXSTACK_TLS_CERT_FILE: certFile, MIXSTACK_TLS_KEY_FILE: keyFile })).toThrow(message);
    });
  });

  it.each([
    ["no token", { REDIS_URL: "redis://x:1" }, /MIXSTACK_TOKEN: at least one project token is required/],
    ["no Redis", { MIXSTACK_TOKEN: "T" }, /REDIS_URL: /],
    ["a Redis URL of another scheme", { ...required, REDIS_URL: "http://x" }, /REDIS_URL: expected redis:\/\//],
    ["a port that is a word", { ...required, PORT: "http" }, /PORT: /],
    ["a metrics port out of range", { ...required, METRICS_PORT: "70000" }, /METRICS_PORT: /],
    ["the metrics port on the public port", { ...required, PORT: "9464" }, /METRICS_PORT: must differ from PORT, which is public \(got 9464 for both\)/],
    ["a header limit below 64 KB", { ...required, MIXSTACK_MAX_HEADER_BYTES: "16384" }, /MIXSTACK_MAX_HEADER_BYTES: must be at least 65536/],
    ["a flag that is not a boolean", { ...required, MIXSTACK_GEOIP: "maybe" }, /MIXSTACK_GEOIP: expected true or false/],
    ["a service account without a secret", { ...required, MIXSTACK_SERVICE_ACCOUNT_SECRETS: "user" }, /MIXSTACK_SERVICE_ACCOUNT_SECRETS: expected "user:secret"/],
    ["a history floor that is neither a date nor days", { ...required, MIXSTACK_HISTORY_SINCE: "2 years" }, /MIXSTACK_HISTORY_SINCE: expected a date such as "2024-01-01" or a number of days such as "730d"/],
    ["a history floor on a day that does not exist", { ...required, MIXSTACK_HISTORY_SINCE: "2024-02-30" }, /MIXSTACK_HISTORY_SINCE: expected a date such as "2024-01-01"/],
    ["a memory share above 100 %", { ...required, MIXSTACK_QUEUE_MEMORY_PERCENT: "120" }, /MIXSTACK_QUEUE_MEMORY_PERCENT: /],
    ["a prefix that is not a path", { ...required, MIXSTACK_PATH_PREFIX: "mp" }, /MIXSTACK_PATH_PREFIX: expected a URL path/],
    ["a certificate without a key", { ...required, MIXSTACK_TLS_CERT_FILE: "/x.pem" }, /MIXSTACK_TLS_CERT_FILE and MIXSTACK_TLS_KEY_FILE must be set together/],
    ["a certificate file that does not exist", { ...required, MIXSTACK_TLS_CERT_FILE: "/nonexistent/c.pem", MIXSTACK_TLS_KEY_FILE: "/nonexistent/k.pem" }, /MIXSTACK_TLS_CERT_FILE: cannot read \/nonexistent\/c.pem \(ENOENT\)/],
  ])("refuses %s with a message naming the variable", (_name, env, message) => {
    expect(() => readIngestSettings(env)).toThrow(SettingsError);
    expect(() => readIngestSettings(env)).toThrow(message);
  });

  it("never prints a token or secret in an error", () => {
    expect(() => readIngestSettings({ ...required, MIXSTACK_SERVICE_ACCOUNT_SECRETS: "topsecretvalue" })).toThrow(/\[redacted\]/);
  });
});
