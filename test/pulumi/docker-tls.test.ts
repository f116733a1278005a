import { describe, expect, it } from "vitest";
import { ConfigError, parseStackConfig } from "../../config/load";
import { readStackConfig } from "../../config/pulumi";
import { createStack } from "../../components/stack";
import { GRAFANA_TLS_FILES, INGEST_TLS_FILES } from "../../components/topology";
import { evaluate, pulumiConfig, resourcesOfType, unwrapSecrets, type Evaluation } from "./mocks";

/**
 * `mixstack:docker.tls`: ingest and Grafana serve HTTPS themselves with a certificate and key from
 * the Docker host, mounted read-only, Grafana marks its session cookie Secure, and the stack's URLs
 * say https. Checked on the config and under Pulumi mocks;
 * test/pulumi/container-env.test.ts runs the resulting ingest env for real.
 */

const CONTAINER = "docker:index/container:Container";
const TLS = { certFile: "/etc/mixstack/tls/fullchain.pem", keyFile: "/etc/mixstack/tls/privkey.pem" };

interface ContainerInputs {
  envs?: unknown;
  mounts?: Array<{ type: string; source: string; target: string; readOnly?: boolean }>;
  volumes?: Array<{ hostPath?: string }>;
  labels?: Array<{ label: string; value: string }>;
  healthcheck?: { tests: string[] };
}

function containerOf(evaluation: Evaluation, service: string): ContainerInputs {
  const found = resourcesOfType(evaluation, CONTAINER)
    .map((resource) => resource.inputs as unknown as ContainerInputs)
    .find((inputs) => inputs.labels?.some((l) => l.label === "mixstack.service" && l.value === service));
  if (!found) throw new Error(`no container for ${service}`);
  return found;
}

function envOf(evaluation: Evaluation, service: string): Record<string, string> {
  const envs = unwrapSecrets(containerOf(evaluation, service).envs) as string[];
  return Object.fromEntries(envs.map((entry) => [entry.slice(0, entry.indexOf("=")), entry.slice(entry.indexOf("=") + 1)]));
}

function deploy(docker: Record<string, unknown>): Promise<Evaluation> {
  return evaluate({ stack: "tls", values: { platform: "docker", docker } }, () => ({ ...createStack(readStackConfig()).outputs }));
}

function configProblems(docker: unknown): string {
  const raw = pulumiConfig({ values: { platform: "docker", docker } });
  try {
    parseStackConfig({ stack: "prod", values: raw.config, secretKeys: new Set() });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error("the config was accepted");
}

describe("docker.tls in the stack config", () => {
  it.each([
    ["a key file missing", { tls: { certFile: TLS.certFile } }, "mixstack:docker.tls.keyFile: is required"],
    ["a certificate file missing", { tls: { keyFile: TLS.keyFile } }, "mixstack:docker.tls.certFile: is required"],
    ["a relative path", { tls: { ...TLS, certFile: "tls/cert.pem" } }, 'mixstack:docker.tls.certFile: expected an absolute path of a file on the Docker host, got "tls/cert.pem"'],
    ["a directory", { tls: { ...TLS, keyFile: "/etc/mixstack/tls/" } }, 'mixstack:docker.tls.keyFile: expected an absolute path of a file on the Docker host, got "/etc/mixstack/tls/"'],
    ["a misspelt key", { tls: { ...TLS, key: "/k.pem" } }, "mixstack:docker.tls.key: unknown key (known keys: certFile, keyFile)"],
    ["a path instead of the two files", { tls: "/etc/mixstack/tls" }, 'mixstack:docker.tls: expected an object, got "/etc/mixstack/tls"'],
  ])("refuses %s, naming the key and the stack file", (_name, docker, message) => {
    expect(configProblems(docker)).toBe(`invalid stack config in stacks/Pulumi.prod.yaml:\n  ${message}`);
  });
});

describe("Docker target with docker.tls", () => {
  it("mounts the certificate and key read-only into ingest, where its TLS variables point", async () => {
    const evaluation = await deploy({ publicHost: "analytics.example.com", ingestPort: 8443, tls: TLS });
    expect(containerOf(evaluation, "ingest").mounts).toEqual([
      { type: "bind", source: TLS.certFile, target: INGEST_TLS_FILES.certPath, readOnly: true },
      { type: "bind", source: TLS.keyFile, target: INGEST_TLS_FILES.keyPath, readOnly: true },
    ]);
    expect(envOf(evaluation, "ingest")).toMatchObject({
      MIXSTACK_TLS_CERT_FILE: INGEST_TLS_FILES.certPath,
      MIXSTACK_TLS_KEY_FILE: INGEST_TLS_FILES.keyPath,
    });
  });

  it("serves Grafana over HTTPS with the same files, its cookie Secure and its health check on HTTPS", async () => {
    const evaluation = await deploy({ tls: TLS });
    expect(containerOf(evaluation, "grafana").mounts).toEqual([
      { type: "bind", source: TLS.certFile, target: GRAFANA_TLS_FILES.certPath, readOnly: true },
      { type: "bind", source: TLS.keyFile, target: GRAFANA_TLS_FILES.keyPath, readOnly: true },
    ]);
    expect(envOf(evaluation, "grafana")).toMatchObject({
      GF_SERVER_PROTOCOL: "https",
      GF_SERVER_CERT_FILE: GRAFANA_TLS_FILES.certPath,
      GF_SERVER_CERT_KEY: GRAFANA_TLS_FILES.keyPath,
      GF_SECURITY_COOKIE_SECURE: "true",
    });
    expect(containerOf(evaluation, "grafana").healthcheck!.tests[1]).toContain("https://127.0.0.1:3000/api/health");
  });

  it("gives the key to ingest and Grafana only", async () => {
    const evaluation = await deploy({ tls: TLS });
    for (const service of ["influxdb", "queue", "bootstrap", "worker", "backup"]) {
      const inputs = containerOf(evaluation, service);
      expect([service, inputs.mounts ?? []]).toEqual([service, []]);
      expect(Object.keys(envOf(evaluation, service)).filter((name) => name.startsWith("MIXSTACK_TLS_"))).toEqual([]);
    }
  });

  it("health-checks ingest over HTTPS", async () => {
    const evaluation = await deploy({ tls: TLS });
    const [kind, command] = containerOf(evaluation, "ingest").healthcheck!.tests;
    expect(kind).toBe("CMD-SHELL");
    expect(command).toContain("require('https').get({host:'127.0.0.1',port:8080,path:'/healthz'");
  });

  it("outputs an https ingestUrl and a snippet that uses it, and an https grafanaUrl", async () => {
    const evaluation = await deploy({ publicHost: "analytics.example.com", ingestPort: 8443, grafanaPort: 3000, tls: TLS });
    expect(evaluation.outputs.ingestUrl?.value).toBe("https://analytics.example.com:8443");
    expect(evaluation.outputs.grafanaUrl?.value).toBe("https://analytics.example.com:3000");
    expect(evaluation.outputs.mixpanelSnippet).toEqual({ value: expect.stringContaining('api_host: "https://analytics.example.com:8443"'), secret: true });
  });

  it.each([
    ["Grafana on the ingest address by default", { bindAddress: "0.0.0.0" }, "0.0.0.0", "0.0.0.0"],
    ["Grafana kept on loopback for a reverse proxy or an SSH tunnel", { bindAddress: "0.0.0.0", grafanaBindAddress: "127.0.0.1" }, "0.0.0.0", "127.0.0.1"],
  ])("publishes %s", async (_name, addresses, ingestIp, grafanaIp) => {
    const evaluation = await deploy({ ...addresses, tls: TLS });
    const published = (service: string) =>
      ((resourcesOfType(evaluation, CONTAINER).find((r) => (r.inputs as ContainerInputs).labels?.some((l) => l.label === "mixstack.service" && l.value === service))!.inputs as { ports?: Array<{ ip: string }> }).ports ?? []).map((p) => p.ip);
    expect([published("ingest"), published("grafana")]).toEqual([[ingestIp], [grafanaIp]]);
  });

  it("without docker.tls serves plain HTTP: no mounts, no TLS variables, an http URL", async () => {
    const evaluation = await deploy({ publicHost: "analytics.example.com" });
    expect(containerOf(evaluation, "ingest").mounts ?? []).toEqual([]);
    expect(Object.keys(envOf(evaluation, "ingest")).filter((name) => name.startsWith("MIXSTACK_TLS_"))).toEqual([]);
    expect(containerOf(evaluation, "ingest").healthcheck!.tests[1]).toContain("fetch('http://127.0.0.1:8080/healthz')");
    expect(evaluation.outputs.ingestUrl?.value).toBe("http://analytics.example.com:8080");
    expect(evaluation.outputs.mixpanelSnippet?.value).toContain('api_host: "http://analytics.example.com:8080"');
    expect(containerOf(evaluation, "grafana").mounts ?? []).toEqual([]);
    expect(envOf(evaluation, "grafana").GF_SECURITY_COOKIE_SECURE).toBe("false");
    expect(Object.keys(envOf(evaluation, "grafana")).filter((name) => name.startsWith("GF_SERVER_"))).toEqual([]);
    // Grafana in plain HTTP on every address is worth a notice.
    expect(evaluation.outputs.notices?.value).toEqual(expect.arrayContaining([expect.stringContaining("Grafana is served over plain HTTP on 0.0.0.0")]));
  });

  it("says nothing about Grafana's HTTP when it is published on loopback only", async () => {
    const evaluation = await deploy({ grafanaBindAddress: "127.0.0.1" });
    expect(JSON.stringify(evaluation.outputs.notices?.value ?? [])).not.toContain("Grafana is served over plain HTTP");
  });
});
