import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { root } from "./support";

/** `mixstack graph --stack gcp-example --json | --mermaid`, run as a user runs it (a process, no engine, no credentials). */

const run = promisify(execFile);
let json: { code: number; stdout: string; stderr: string };
let mermaid: { code: number; stdout: string; stderr: string };

async function mixstack(...args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(root, "bin", "mixstack.cjs"), ...args], { cwd: root, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

beforeAll(async () => {
  [json, mermaid] = await Promise.all([mixstack("graph", "--stack", "gcp-example", "--json"), mixstack("graph", "--stack", "gcp-example", "--mermaid")]);
}, 240_000);

describe("mixstack graph --stack gcp-example", () => {
  it("--json lists every resource with its inputs, secrets redacted", () => {
    expect([json.code, json.stderr]).toEqual([0, ""]);
    const resources = JSON.parse(json.stdout) as Array<{ type: string; name: string; inputs: Record<string, unknown> }>;
    const count = (type: string) => resources.filter((r) => r.type === type).length;
    expect({
      vm: count("gcp:compute/instance:Instance"),
      disks: count("gcp:compute/disk:Disk"),
      services: count("gcp:cloudrunv2/service:Service"),
      workerPools: count("gcp:cloudrunv2/workerPool:WorkerPool"),
      jobs: count("gcp:cloudrunv2/job:Job"),
      schedules: count("gcp:cloudscheduler/job:Job"),
      buckets: count("gcp:storage/bucket:Bucket"),
    // Jobs: bootstrap, backup, and the start gates of ingest, the worker and Grafana (issue 17).
    }).toEqual({ vm: 1, disks: 2, services: 2, workerPools: 1, jobs: 5, schedules: 1, buckets: 1 });
    const versions = resources.filter((r) => r.type === "gcp:secretmanager/secretVersion:SecretVersion");
    expect(versions.length).toBeGreaterThan(0);
    expect(versions.every((v) => v.inputs.secretData === "[secret]")).toBe(true);
    const vm = resources.find((r) => r.type === "gcp:compute/instance:Instance")!;
    expect(String((vm.inputs.metadata as Record<string, string>)["user-data"])).toMatch(/^#cloud-config\n/);
  });

  it("--mermaid draws the services, the data disks, the public URLs and each private path", () => {
    expect([mermaid.code, mermaid.stderr]).toEqual([0, ""]);
    const lines = mermaid.stdout.split("\n");
    expect(lines[0]).toBe("flowchart LR");
    expect(lines).toContain('  subgraph stack["gcp-example (gcp)"]');
    expect(lines.filter((l) => l.startsWith("  users -->"))).toEqual([
      '  users -->|"mixstack-gcp-example-grafana-mock.a.run.app"| grafana',
      '  users -->|"mixstack-gcp-example-ingest-mock.a.run.app"| ingest',
    ]);
    expect(lines.filter((l) => /^ {2}\w+ -->\|\d+\| \w+$/.test(l)).sort()).toEqual(
      [
        "  backup -->|6379| queue",
        "  backup -->|8086| influxdb",
        "  backup -->|8088| influxdb",
        "  bootstrap -->|8086| influxdb",
        "  grafana -->|8086| influxdb",
        "  ingest -->|6379| queue",
        "  worker -->|6379| queue",
        "  worker -->|8086| influxdb",
      ].sort(),
    );
    expect(mermaid.stdout).toContain("disk mixstack-gcp-example-influxdb-data<br/><small>/var/lib/influxdb</small>");
  });
});
