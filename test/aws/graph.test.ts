import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { projectRoot } from "./support";

/** `mixstack graph --stack aws-example` as an operator runs it: a separate process, offline, no credentials. */

function graph(...args: string[]) {
  const result = spawnSync(process.execPath, [join(projectRoot, "bin", "mixstack.cjs"), "graph", "--stack", "aws-example", ...args], {
    cwd: projectRoot,
    encoding: "utf8",
    timeout: 120_000,
    // No AWS credentials or region may be needed.
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp" },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("mixstack graph --stack aws-example", () => {
  it("--json lists every resource with its inputs, secrets redacted", () => {
    const run = graph("--json");
    expect(run.status, run.stderr).toBe(0);
    const entries = JSON.parse(run.stdout) as Array<{ type: string; name: string; parent: string; inputs: Record<string, unknown> }>;
    const count = (type: string) => entries.filter((e) => e.type === type).length;
    expect(count("mixstack:aws:Deployment")).toBe(1);
    expect(count("aws:ecs/taskDefinition:TaskDefinition")).toBe(6);
    expect(count("aws:ecs/service:Service")).toBe(5);
    expect(count("aws:ebs/volume:Volume")).toBe(1);
    expect(count("aws:scheduler/schedule:Schedule")).toBe(1);
    expect(entries.find((e) => e.name === "mixstack-secrets-redis-url" && e.type === "aws:secretsmanager/secretVersion:SecretVersion")!.inputs.secretString).toBe("[secret]");
    // Generated passwords never leave the process.
    expect(run.stdout).not.toMatch(/mock[0-9a-f]{28}/);
    expect(entries.find((e) => e.type === "aws:ecs/cluster:Cluster")!.parent).toBe("mixstack");
  });

  it("--mermaid draws the services, their volumes, who talks to whom and what is public", () => {
    const run = graph("--mermaid");
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout.split("\n").map((line) => line.trim());
    expect(lines[0]).toBe("flowchart LR");
    expect(lines).toContain('subgraph stack["aws-example (aws)"]');
    for (const edge of [
      "backup -->|8088| influxdb",
      "worker -->|8086| influxdb",
      "grafana -->|8086| influxdb",
      "ingest -->|6379| queue",
      'users -->|"events.example.com"| ingest',
      'users -->|"grafana.example.com"| grafana',
    ]) {
      expect(lines).toContain(edge);
    }
    expect(lines.filter((line) => line.startsWith("users -->"))).toHaveLength(2);
    expect(run.stdout).toContain("EBS /mnt/mixstack-data/influxdb-data<br/><small>/var/lib/influxdb</small>");
    expect(run.stdout).toContain("EBS /mnt/mixstack-data/queue-data<br/><small>/data</small>");
  });
});
