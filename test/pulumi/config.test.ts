import { describe, expect, it } from "vitest";
import { ConfigError, parseStackConfig } from "../../config/load";
import type { StackConfig } from "../../config/schema";
import { pulumiConfig } from "./mocks";

function parse(values: Record<string, unknown>, secretKeys: string[] = [], stack = "local") {
  const raw = pulumiConfig({ values, secretKeys });
  // These cases are all Docker stacks.
  return parseStackConfig({ stack, values: raw.config, secretKeys: new Set(raw.secretKeys) }) as Extract<StackConfig, { platform: "docker" }>;
}

function problems(values: Record<string, unknown>, secretKeys: string[] = [], stack = "local"): string[] {
  try {
    parse(values, secretKeys, stack);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((p) => `${p.key}: ${p.message}`);
  }
  throw new Error("the config was accepted");
}

describe("stack config", () => {
  it("applies every default to a config that only names the platform", () => {
    const config = parse({ platform: "docker" });
    expect(config).toMatchObject({
      stack: "local",
      platform: "docker",
      keepDataOnDestroy: true,
      logLevel: "info",
      influxdb: { database: "mixevents", adminUser: "admin", memoryMb: 2048 },
      backup: { schedule: "0 3 * * *", keepDaily: 7, keepWeekly: 4 },
      docker: { publicHost: "localhost", ingestPort: 8080, grafanaPort: 3000, restartPolicy: "unless-stopped", logMaxSize: "10m", logMaxFiles: 5 },
      secrets: {},
    });
    expect(config.backup.target).toBeUndefined();
    expect(config.docker.dataDir).toBeUndefined();
    // Unset: bootstrap gives a new database its finite default, an existing one keeps its own.
    expect(config.influxdb.retention).toBeUndefined();
  });

  it.each([
    ["a top-level flag given as text", { platform: "docker", keepDataOnDestroy: "false" }, (c: ReturnType<typeof parse>) => c.keepDataOnDestroy, false],
    ["a number inside an object", { platform: "docker", influxdb: { memoryMb: 4096 } }, (c: ReturnType<typeof parse>) => c.influxdb.memoryMb, 4096],
    ["a number inside an object given as text", { platform: "docker", docker: { ingestPort: "9080" } }, (c: ReturnType<typeof parse>) => c.docker.ingestPort, 9080],
    ["a host directory", { platform: "docker", docker: { dataDir: "/srv/mixstack" } }, (c: ReturnType<typeof parse>) => c.docker.dataDir, "/srv/mixstack"],
    ["an IPv6 bind address", { platform: "docker", docker: { bindAddress: "::1" } }, (c: ReturnType<typeof parse>) => c.docker.bindAddress, "::1"],
    ["an IP address as the public host", { platform: "docker", docker: { publicHost: "203.0.113.7" } }, (c: ReturnType<typeof parse>) => c.docker.publicHost, "203.0.113.7"],
    [
      "one host port for ingest and Grafana on different addresses",
      { platform: "docker", docker: { bindAddress: "10.0.0.5", grafanaBindAddress: "127.0.0.1", grafanaPort: 8080 } },
      (c: ReturnType<typeof parse>) => [c.docker.ingestPort, c.docker.grafanaPort],
      [8080, 8080],
    ],
  ])("accepts %s", (_name, values, pick, expected) => {
    expect(pick(parse(values))).toEqual(expected);
  });

  it.each([
    ["a missing required key", {}, ["mixstack:platform: is required (one of: docker, aws, gcp)"]],
    ["an unknown platform", { platform: "azure" }, ['mixstack:platform: unknown platform "azure" (supported: docker, aws, gcp)']],
    ["a wrong type", { platform: "docker", influxdb: { memoryMb: "lots" } }, ['mixstack:influxdb.memoryMb: expected a number, got "lots"']],
    ["a wrong type in the platform section", { platform: "docker", docker: { ingestPort: "eighty" } }, ['mixstack:docker.ingestPort: expected a number, got "eighty"']],
    ["an object where a value is expected", { platform: "docker", influxdb: "big" }, ['mixstack:influxdb: expected an object, got "big"']],
    ["an unknown key", { platform: "docker", grafana: { anonymous: true } }, ["mixstack:grafana.anonymous: unknown key (known keys: memoryMb, cpus, anonymousViewer, volumeGb)"]],
    ["a misspelt top-level key", { platform: "docker", platfrom: "docker" }, [expect.stringMatching(/^mixstack:platfrom: unknown key \(known keys: platform, keepDataOnDestroy, /)]],
    ["a relative host directory", { platform: "docker", docker: { dataDir: "data" } }, ['mixstack:docker.dataDir: expected an absolute path on the Docker host, got "data"']],
    ["a bad cron", { platform: "docker", backup: { schedule: "daily" } }, ['mixstack:backup.schedule: expected a five-field cron expression such as "0 3 * * *", got "daily"']],
    ["an unsupported backup URL", { platform: "docker", backup: { target: "ftp://host/dir" } }, ['mixstack:backup.target: expected file:///dir, s3://bucket/prefix or gs://bucket/prefix, got "ftp://host/dir"']],
    ["a host name as bind address", { platform: "docker", docker: { bindAddress: "localhost" } }, ['mixstack:docker.bindAddress: expected an IP address of the Docker host, such as 127.0.0.1 or 0.0.0.0, got "localhost"']],
    ["an address with a port as Grafana's bind address", { platform: "docker", docker: { grafanaBindAddress: "127.0.0.1:3000" } }, ['mixstack:docker.grafanaBindAddress: expected an IP address of the Docker host, such as 127.0.0.1 or 0.0.0.0, got "127.0.0.1:3000"']],
    ["a URL as the public host", { platform: "docker", docker: { publicHost: "https://analytics.example.com" } }, ['mixstack:docker.publicHost: expected a host name or IP address, without scheme, port or path (e.g. analytics.example.com), got "https://analytics.example.com"']],
    ["Grafana on ingest's host port", { platform: "docker", docker: { grafanaPort: 8080 } }, ["mixstack:docker.grafanaPort: must differ from ingestPort (both are published on the same host address), got 8080"]],
    ["Grafana on ingest's host port, one of them on every address", { platform: "docker", docker: { ingestPort: 443, grafanaPort: 443, grafanaBindAddress: "127.0.0.1" } }, ["mixstack:docker.grafanaPort: must differ from ingestPort (both are published on the same host address), got 443"]],
    ["a wrong enum value", { platform: "docker", logLevel: "loud" }, ['mixstack:logLevel: expected one of "fatal", "error", "warn", "info", "debug", "trace", got "loud"']],
  ])("rejects %s with the documented message", (_name, values, expected) => {
    expect(problems(values)).toEqual(expected);
  });

  it("names the stack file and lists every problem at once", () => {
    expect(() => parse({ platform: "docker", influxdb: { memoryMb: "x" }, logLevel: "loud" }, [], "prod")).toThrow(
      [
        "invalid stack config in stacks/Pulumi.prod.yaml:",
        '  mixstack:logLevel: expected one of "fatal", "error", "warn", "info", "debug", "trace", got "loud"',
        '  mixstack:influxdb.memoryMb: expected a number, got "x"',
      ].join("\n"),
    );
  });

  it("refuses a secret stored in plain text and never echoes a secret value", () => {
    expect(problems({ platform: "docker", grafanaAdminPassword: "hunter2" })).toEqual([
      "mixstack:grafanaAdminPassword: must be stored encrypted: run `pulumi config set --secret grafanaAdminPassword <value> --stack local`",
      "mixstack:grafanaAdminPassword: expected at least 12 characters, got [secret]",
    ]);
    expect(problems({ platform: "docker", queuePassword: "has spaces in it!" }, ["queuePassword"])).toEqual([
      "mixstack:queuePassword: may only contain letters, digits and . _ ~ - (it is part of REDIS_URL), got [secret]",
    ]);
  });

  it("keeps encrypted secrets apart from the rest of the config", () => {
    const config = parse({ platform: "docker", projectToken: "0123456789abcdef", apiSecret: "s3cr3t-s3cr3t" }, ["projectToken", "apiSecret"]);
    expect(config.secrets).toEqual({ projectToken: "0123456789abcdef", apiSecret: "s3cr3t-s3cr3t" });
    expect(JSON.stringify({ ...config, secrets: undefined })).not.toContain("0123456789abcdef");
  });

  it("ignores keys of other namespaces (provider config)", () => {
    const raw = pulumiConfig({ values: { platform: "docker" } });
    const config = parseStackConfig({ stack: "local", values: { ...raw.config, "docker:host": "unix:///x.sock" }, secretKeys: new Set() });
    expect(config.platform).toBe("docker");
  });
});
