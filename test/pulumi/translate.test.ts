import { describe, expect, it } from "vitest";
import { kebab, slug } from "../../components/translate/names";
import { planSecrets, secretFor } from "../../components/translate/secrets";
import type { EnvValue, ServiceName, ServiceSpec } from "../../components/topology";
import { deploymentSummary } from "../../components/translate/summary";
import { gcpTopology } from "../gcp/support";

describe("the secret plan (components/translate/secrets.ts)", () => {
  it.each([
    ["influxAdminPassword", "influx-admin-password"],
    ["REDIS_URL", "redis-url"],
    ["GF_SECURITY_ADMIN_PASSWORD", "gf-security-admin-password"],
  ])("names %s %s", (name, id) => {
    expect(kebab(name)).toBe(id);
  });

  it("stores each distinct secret-bearing value once, with every service and variable that reads it", () => {
    const plan = planSecrets(gcpTopology().services);
    expect(Object.fromEntries(plan.map((s) => [s.id, s.consumers.map((c) => `${c.service}.${c.variable}`)]))).toEqual({
      "queue-password": ["queue.REDISCLI_AUTH"],
      "influx-admin-password": ["bootstrap.INFLUX_PASSWORD", "backup.INFLUX_PASSWORD"],
      "influx-writer-password": ["bootstrap.INFLUX_WRITER_PASSWORD", "worker.INFLUX_PASSWORD"],
      "influx-reader-password": ["bootstrap.INFLUX_READER_PASSWORD", "grafana.INFLUX_READER_PASSWORD"],
      "redis-url": ["ingest.REDIS_URL", "worker.REDIS_URL", "backup.REDIS_URL"],
      "project-token": ["ingest.MIXSTACK_TOKEN"],
      "api-secret": ["ingest.MIXSTACK_API_SECRET"],
      "grafana-admin-password": ["grafana.GF_SECURITY_ADMIN_PASSWORD"],
      "grafana-secret-key": ["grafana.GF_SECURITY_SECRET_KEY"],
    });
  });

  it("leaves out services that are not deployed (a managed queue reads no password)", () => {
    const plan = planSecrets(gcpTopology().services.filter((s) => s.name !== "queue"));
    expect(plan.map((s) => s.id)).not.toContain("queue-password");
    expect(secretFor(plan, "worker", "REDIS_URL")?.id).toBe("redis-url");
    expect(secretFor(plan, "worker", "LOG_LEVEL")).toBeUndefined();
  });
});

describe("the secret plan's one collision rule (every platform)", () => {
  const spec = (name: string, env: Record<string, EnvValue>): ServiceSpec =>
    ({ name: name as ServiceName, kind: "stateless", env } as unknown as ServiceSpec);
  const url = (scheme: string): EnvValue => [`${scheme}://:`, { kind: "secret", secret: "queuePassword" }, "@", { kind: "endpoint", service: "queue", port: "redis" }];

  it.each<[string, ServiceSpec[], string[]]>([
    ["one template read by two services is one secret", [spec("a", { REDIS_URL: url("redis") }), spec("b", { REDIS_URL: url("redis") })], ["redis-url"]],
    ["a second template under the same variable is <service>-<variable>", [spec("a", { REDIS_URL: url("redis") }), spec("b", { REDIS_URL: url("rediss") })], ["redis-url", "b-redis-url"]],
    ["a variable named like a bare secret yields to it", [spec("a", { X: [{ kind: "secret", secret: "apiSecret" }] }), spec("b", { API_SECRET: ["k=", { kind: "secret", secret: "apiSecret" }] })], ["api-secret", "b-api-secret"]],
    ["a third clash is numbered", [spec("a", { R: url("a") }), spec("a", { R: url("b") }), spec("a", { R: url("c") })], ["r", "a-r", "a-r-2"]],
    ["plain variables are no secrets", [spec("a", { LOG_LEVEL: ["info"] })], []],
  ])("%s", (_case, services, ids) => {
    expect(planSecrets(services).map((secret) => secret.id)).toEqual(ids);
  });
});

describe("names every platform derives alike", () => {
  it.each([
    ["prod", "prod"],
    ["My_Stack.2", "my-stack-2"],
    ["--x--", "x"],
    ["___", "stack"],
  ])("the stack %j is the slug %j", (stack, expected) => {
    expect(slug(stack)).toBe(expected);
  });
});

describe("the summary's canonical form", () => {
  it("sorts services, ports, volumes and edges, and keeps each edge once", () => {
    const service = (name: string) => ({ name: name as ServiceName, kind: "stateless" as const, image: "i", publicPorts: [443, 80], volumes: ["/b", "/a"], command: [] });
    expect(deploymentSummary([service("worker"), service("ingest")], ["b -> c:1", "a -> c:1", "b -> c:1"])).toEqual({
      services: [
        { ...service("ingest"), publicPorts: [80, 443], volumes: ["/a", "/b"] },
        { ...service("worker"), publicPorts: [80, 443], volumes: ["/a", "/b"] },
      ],
      edges: ["a -> c:1", "b -> c:1"],
    });
  });
});
