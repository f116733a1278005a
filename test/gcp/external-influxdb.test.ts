import { beforeAll, describe, expect, it } from "vitest";
import { service } from "../../components/topology";
import { resourcesOfType, unwrapSecrets, type Evaluation } from "../pulumi/mocks";
import { evaluateGcp, TYPES } from "./support";

/** `influxdb.external` on GCP: no InfluxDB and no backup job of ours (the topology drops both). */

const external = { influxdb: { external: { url: "https://influx.example.com:8086" } }, influxAdminPassword: "an-admin-password-long-enough" };
let evaluation: Evaluation & { topology: import("../../components/topology").Topology };

beforeAll(async () => {
  evaluation = await evaluateGcp(external, "gcp-test", ["influxAdminPassword"]);
});

describe("an external InfluxDB on GCP", () => {
  it("leaves the VM with the queue only, and no firewall path to an InfluxDB of ours", () => {
    const vm = resourcesOfType(evaluation, TYPES.instance).map((r) => unwrapSecrets(r.inputs) as { metadata: Record<string, string> });
    expect(vm).toHaveLength(1);
    expect(vm[0]!.metadata["user-data"]).not.toContain("mixstack-influxdb");
    expect(resourcesOfType(evaluation, TYPES.disk).map((d) => d.inputs.name)).toEqual(["mixstack-gcp-test-queue-data"]);
    expect(resourcesOfType(evaluation, TYPES.firewall).map((f) => f.inputs.name).filter((n) => String(n).includes("influxdb"))).toEqual([]);
  });

  it("points the worker, Grafana and bootstrap at the external URL, in plain text", () => {
    for (const name of ["worker", "grafana", "bootstrap"] as const) {
      expect(service(evaluation.topology, name).env.INFLUX_URL).toEqual(["https://influx.example.com:8086"]);
    }
    const worker = unwrapSecrets(resourcesOfType(evaluation, TYPES.workerPool)[0]!.inputs) as { template: { containers: Array<{ envs: Array<{ name: string; value?: string }> }> } };
    expect(worker.template.containers[0]!.envs.find((e) => e.name === "INFLUX_URL")?.value).toBe("https://influx.example.com:8086");
  });

  it("has no backup job, schedule or bucket, and says why", () => {
    expect([resourcesOfType(evaluation, TYPES.scheduler), resourcesOfType(evaluation, TYPES.bucket)]).toEqual([[], []]);
    // Bootstrap, and the start gates of the services that talk to the queue on the VM (issue 17).
    const jobs = resourcesOfType(evaluation, TYPES.job);
    expect(jobs.filter((j) => (j.inputs.labels as Record<string, string>)["mixstack-role"] !== "start-gate").map((j) => j.name)).toEqual(["mixstack-bootstrap-job"]);
    expect(evaluation.outputs.backupJob!.value).toBeUndefined();
    expect(evaluation.outputs.notices!.value).toEqual([expect.stringContaining("InfluxDB is external (https://influx.example.com:8086)")]);
  });

  it("runs no VM, no VM subnet and no NAT at all when the queue is managed too", async () => {
    const both = await evaluateGcp({ ...external, queue: { managed: true } }, "gcp-test", ["influxAdminPassword"]);
    expect([resourcesOfType(both, TYPES.instance), resourcesOfType(both, TYPES.disk), resourcesOfType(both, TYPES.nat)]).toEqual([[], [], []]);
    expect(resourcesOfType(both, TYPES.subnet).map((s) => s.inputs.ipCidrRange)).not.toContain("10.42.0.0/24");
    expect(resourcesOfType(both, TYPES.account).map((a) => a.inputs.accountId)).not.toContain("mixstack-gcp-test-vm");
  });
});
