import { describe, expect, it } from "vitest";
import { kebab } from "../../components/translate/names";
import { planSecrets, secretFor } from "../../components/translate/secrets";
import type { ServiceName } from "../../components/topology";
import { gcpTopology } from "../gcp/support";

describe("the Secret Manager plan", () => {
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
    });
  });

  it("leaves out services that are not deployed (a managed queue reads no password)", () => {
    const plan = planSecrets(gcpTopology().services.filter((s) => s.name !== "queue"));
    expect(plan.map((s) => s.id)).not.toContain("queue-password");
    expect(secretFor(plan, "worker", "REDIS_URL")?.id).toBe("redis-url");
    expect(secretFor(plan, "worker", "LOG_LEVEL")).toBeUndefined();
  });
});
