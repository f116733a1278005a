import { execFile } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mockSecretValue } from "../../cli/graph/offline";
import { evaluateStack } from "../../cli/graph/program";
import { readStackFile } from "../../cli/graph/stack-file";
import { graphEntries } from "../../cli/graph/render";

const root = resolve(__dirname, "..", "..");
const run = promisify(execFile);

async function mixstack(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(root, "bin", "mixstack.cjs"), ...args], { cwd: root, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? 1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

interface Entry {
  type: string;
  name: string;
  parent: string;
  inputs: Record<string, unknown>;
  options?: { retainOnDelete?: boolean };
}

describe("mixstack graph --stack local --json", () => {
  let entries: Entry[];
  let raw: string;

  beforeAll(async () => {
    const result = await mixstack("graph", "--stack", "local", "--json");
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    raw = result.stdout;
    entries = JSON.parse(raw) as Entry[];
  });

  const containerOf = (service: string) =>
    entries.find(
      (e) =>
        e.type === "docker:index/container:Container" &&
        (e.inputs.labels as Array<{ label: string; value: string }>).some((l) => l.label === "mixstack.service" && l.value === service),
    );

  it("prints every resource with type, name, parent and inputs", () => {
    expect(entries.length).toBeGreaterThan(20);
    for (const entry of entries) expect(Object.keys(entry)).toEqual(expect.arrayContaining(["type", "name", "parent", "inputs"]));
    expect(entries.filter((e) => e.type === "docker:index/container:Container")).toHaveLength(7);
    expect(entries.find((e) => e.name === "mixstack-worker-container")?.parent).toBe("mixstack-worker");
  });

  it("lists the retained volumes at the data paths", () => {
    const volumes = entries.filter((e) => e.type === "docker:index/volume:Volume");
    expect(volumes.map((v) => [v.inputs.name, v.options?.retainOnDelete])).toEqual([
      ["mixstack-local-influxdb-data", true],
      ["mixstack-local-queue-data", true],
      ["mixstack-local-grafana-data", true],
      ["mixstack-local-backup-backups", true],
    ]);
    expect(
      ["influxdb", "queue", "grafana", "backup"].map((service) => [service, containerOf(service)?.inputs.volumes]),
    ).toEqual([
      ["influxdb", [{ containerPath: "/var/lib/influxdb", volumeName: "mixstack-local-influxdb-data" }]],
      ["queue", [{ containerPath: "/data", volumeName: "mixstack-local-queue-data" }]],
      ["grafana", [{ containerPath: "/var/lib/grafana", volumeName: "mixstack-local-grafana-data" }]],
      ["backup", [{ containerPath: "/backups", volumeName: "mixstack-local-backup-backups" }]],
    ]);
  });

  it("lists the published ports of ingest and Grafana only", () => {
    const published = entries
      .filter((e) => e.type === "docker:index/container:Container")
      .flatMap((e) => ((e.inputs.ports ?? []) as Array<{ external: number }>).map((p) => `${e.name}:${p.external}`));
    expect(published.sort()).toEqual(["mixstack-grafana-container:3000", "mixstack-ingest-container:8080"]);
  });

  it("lists who talks to whom", () => {
    const talksTo = (service: string) =>
      (containerOf(service)?.inputs.labels as Array<{ label: string; value: string }>).find((l) => l.label === "mixstack.talks-to")?.value;
    expect([talksTo("ingest"), talksTo("worker"), talksTo("grafana"), talksTo("backup")]).toEqual([
      "queue:6379",
      "queue:6379,influxdb:8086",
      "influxdb:8086",
      // The backup job runs in InfluxDB's network namespace.
      "queue:6379,127.0.0.1:8086,127.0.0.1:8088",
    ]);
  });

  it("shows secrets as [secret] and never their values", () => {
    expect(containerOf("ingest")?.inputs.envs).toBe("[secret]");
    const generated = entries.filter((e) => e.type === "random:index/randomPassword:RandomPassword").map((e) => mockSecretValue(e.name, Number(e.inputs.length)));
    expect(generated).toHaveLength(8);
    expect(generated.filter((secret) => raw.includes(secret))).toEqual([]);
  });

  it("pins every image", () => {
    const refs = entries.filter((e) => e.type === "docker:index/remoteImage:RemoteImage").map((e) => e.inputs.name);
    expect(refs.sort()).toEqual(["influxdb:1.12.4", "valkey/valkey:8.1.8"]);
    expect(raw).not.toMatch(/:latest"/);
  });
});

describe("mixstack graph", () => {
  it("draws services, volumes and wiring as Mermaid", async () => {
    const result = await mixstack("graph", "--stack", "remote", "--mermaid");
    expect(result.code).toBe(0);
    const lines = result.stdout.split("\n").map((l) => l.trim());
    expect(lines[0]).toBe("flowchart LR");
    expect(lines).toEqual(
      expect.arrayContaining([
        'users -->|"analytics.example.com:8080"| ingest',
        'users -->|"analytics.example.com:3000"| grafana',
        "worker -->|8086| influxdb",
        "ingest -->|6379| queue",
        "backup -->|8088| influxdb",
      ]),
    );
    // Volumes are numbered in the order the containers register.
    const influxVolume = lines.find((line) => line.endsWith('[/"/srv/mixstack/influxdb<br/><small>/var/lib/influxdb</small>"/]'))?.split("[")[0];
    expect(influxVolume).toMatch(/^vol\d+$/);
    expect(lines).toContain(`influxdb --- ${influxVolume}`);
  });

  it.each([
    [["graph"], 2, "--stack is required"],
    [["graph", "--stack", "nowhere"], 1, "no stack file stacks/Pulumi.nowhere.yaml (stacks: aws-example, gcp-example, local, remote)"],
    [["graph", "--stack", "local", "--json", "--mermaid"], 2, "choose one of --json and --mermaid"],
  ])("refuses %j with exit code %i", async (args, code, message) => {
    const result = await mixstack(...args);
    expect([result.code, result.stderr]).toEqual([code, expect.stringContaining(message)]);
  });
});

describe("a stack file with encrypted values", () => {
  const dir = mkdtempSync(join(tmpdir(), "mixstack-graph-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("is evaluated without its passphrase, the encrypted values shown as [secret]", async () => {
    mkdirSync(join(dir, "stacks"));
    writeFileSync(
      join(dir, "stacks", "Pulumi.prod.yaml"),
      [
        "encryptionsalt: v1:abc",
        "config:",
        "  mixstack:platform: docker",
        "  mixstack:grafanaAdminPassword:",
        "    secure: v1:Zm9vYmFyYmF6cXV4:c2VjcmV0LWNpcGhlcnRleHQ=",
        "  mixstack:docker:",
        "    dataDir: /data",
        "    sshOpts:",
        "      - secure: v1:aGVsbG8=:d29ybGQ=",
        "",
      ].join("\n"),
    );
    expect(readStackFile("prod", dir).secretKeys.sort()).toEqual(["mixstack:docker", "mixstack:grafanaAdminPassword"]);
    const evaluation = await evaluateStack("prod", dir);
    const entries = graphEntries(evaluation.resources);
    const grafana = entries.find((e) => e.name === "mixstack-grafana-container")!;
    expect((grafana.inputs as { envs: unknown }).envs).toBe("[secret]");
    expect(JSON.stringify(entries)).not.toContain("c2VjcmV0LWNpcGhlcnRleHQ=");
    expect(evaluation.outputs.grafanaAdminPassword).toEqual({ value: "[secret]", secret: true });
  });
});
