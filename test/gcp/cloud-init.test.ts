import { statSync } from "node:fs";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  cloudInitFiles,
  FETCH_SECRETS_PATH,
  FETCH_SECRETS_SCRIPT,
  mountDiskScript,
  renderCloudInit,
  shellQuote,
  type CloudInitFile,
  type CloudInitPlan,
  type VmUnit,
} from "../../components/gcp/cloud-init";
import { isPinned, service, type Topology } from "../../components/topology";
import { unwrapSecrets } from "../pulumi/mocks";
import { FakeHost } from "./fake-host";
import { evaluateExample, only, TYPES } from "./support";

interface CloudConfig {
  bootcmd: string[];
  write_files: CloudInitFile[];
  runcmd: string[];
}

interface InstanceInputs {
  metadata: Record<string, string>;
  networkInterfaces: Array<{ networkIp: string; accessConfigs?: unknown[] }>;
  attachedDisks: Array<{ source: string; deviceName: string; mode: string }>;
}

let topology: Topology;
let instance: InstanceInputs;
let cloudConfig: CloudConfig;
let userData: string;
let host: FakeHost;

/** The `docker run` a unit's script ends in, run on the fake VM: its argument vector. */
function dockerRun(serviceName: string): string[] {
  const unit = cloudConfig.write_files.find((f) => f.path === `/etc/systemd/system/mixstack-${serviceName}.service`);
  if (!unit) throw new Error(`no unit for ${serviceName}`);
  const script = /^ExecStart=\/bin\/bash (\S+)$/m.exec(unit.content)?.[1];
  if (!script) throw new Error(`unit of ${serviceName} has no ExecStart script`);
  const result = host.run({ bash: script });
  expect(result.stderr).toBe("");
  expect(result.status).toBe(0);
  const runs = host.calls("docker").filter((call) => call[1] === "run" && call.includes(`mixstack-${serviceName}`));
  expect(runs).toHaveLength(1);
  return runs[0]!.slice(1);
}

function flagValues(args: string[], flag: string): string[] {
  return args.flatMap((arg, index) => (arg === flag ? [args[index + 1]!] : []));
}

function imageOf(args: string[]): string {
  // The first argument after the options is the image; options with values are all `--flag value`.
  for (let index = 1; index < args.length; index++) {
    if (args[index]!.startsWith("--")) {
      if (args[index] !== "--rm") index++;
      continue;
    }
    return args[index]!;
  }
  throw new Error("no image in docker run");
}

beforeAll(async () => {
  const evaluation = await evaluateExample();
  topology = evaluation.stack.topology;
  instance = unwrapSecrets(only(evaluation, TYPES.instance).inputs) as unknown as InstanceInputs;
  userData = instance.metadata["user-data"]!;
  cloudConfig = parse(userData.replace(/^#cloud-config\n/, "")) as CloudConfig;
});

describe("the VM's cloud-init (gcp-example)", () => {
  beforeEach(() => {
    host = new FakeHost();
    host.write(cloudConfig.write_files);
    host.mounted(["/mnt/disks/influxdb-data", "/mnt/disks/queue-data"]);
    // What Secret Manager holds for the versions the units read.
    for (const script of cloudConfig.write_files.filter((f) => f.path.endsWith(".sh"))) {
      for (const match of script.content.matchAll(/=(projects\/\S+\/versions\/\d+)/g)) host.secret(match[1]!, "queue-secret-value");
    }
  });
  afterEach(() => host.dispose());

  it("is #cloud-config YAML with bootcmd, write_files and runcmd, and does not use gce-container-declaration", () => {
    expect(userData.startsWith("#cloud-config\n")).toBe(true);
    expect(Object.keys(cloudConfig).sort()).toEqual(["bootcmd", "runcmd", "write_files"]);
    expect(Object.keys(instance.metadata)).not.toContain("gce-container-declaration");
  });

  it("has one systemd unit per stateful service, started by runcmd", () => {
    const stateful = topology.services.filter((s) => s.kind === "stateful").map((s) => s.name);
    const units = cloudConfig.write_files.filter((f) => f.path.startsWith("/etc/systemd/system/")).map((f) => f.path);
    expect(units).toEqual(stateful.map((name) => `/etc/systemd/system/mixstack-${name}.service`));
    expect(cloudConfig.runcmd.at(-1)).toBe(`systemctl start ${stateful.map((name) => `mixstack-${name}.service`).join(" ")}`);
  });

  it.each([
    ["influxdb", "influxdb-data", "/var/lib/influxdb"],
    ["queue", "queue-data", "/data"],
  ])("runs %s with its data disk %s mounted at %s", (name, device, path) => {
    const args = dockerRun(name);
    expect(service(topology, name as "influxdb").volumes.map((v) => v.path)).toEqual([path]);
    expect(flagValues(args, "--volume")).toEqual([`/mnt/disks/${device}:${path}`]);
    // That directory is the attached disk, mounted by bootcmd.
    expect(instance.attachedDisks.map((d) => d.deviceName)).toContain(device);
    expect(cloudConfig.bootcmd.some((cmd) => cmd.includes(`dev=/dev/disk/by-id/google-${device}; mnt=/mnt/disks/${device};`))).toBe(true);
  });

  it.each([
    ["influxdb", "influxdb:1.12.4"],
    ["queue", "valkey/valkey:8.1.8"],
  ])("pins %s's image (%s, through the Artifact Registry mirror of Docker Hub)", (name, ref) => {
    const image = imageOf(dockerRun(name));
    expect(isPinned(image)).toBe(true);
    expect(image).toMatch(new RegExp(`^europe-west1-docker\\.pkg\\.dev/acme-analytics/mixstack-gcp-example-dockerhub/(library/)?${ref.replace(/[.]/g, "\\.")}$`));
  });

  it.each([
    ["influxdb", [8086, 8088]],
    ["queue", [6379]],
  ])("publishes %s's ports %j on the VM's private address only", (name, ports) => {
    const privateIp = instance.networkInterfaces[0]!.networkIp;
    const args = dockerRun(name);
    expect(flagValues(args, "--publish")).toEqual((ports as number[]).map((p) => `${privateIp}:${p}:${p}`));
    expect(args.filter((arg) => arg === "-p" || arg === "--network" || arg.startsWith("--publish-all") || arg === "-P")).toEqual([]);
    expect(instance.networkInterfaces[0]!.accessConfigs ?? []).toEqual([]);
  });

  it("gives the queue its password from Secret Manager in a root-only file, not in the user data", () => {
    const args = dockerRun("queue");
    expect(flagValues(args, "--env-file")).toEqual(["/etc/mixstack/queue.env", "/run/mixstack/queue.secrets.env"]);
    expect(host.read("/run/mixstack/queue.secrets.env")).toBe("REDISCLI_AUTH=queue-secret-value\n");
    expect(userData).not.toContain("queue-secret-value");
    expect(userData).not.toMatch(/mock[0-9a-f]{20}/);
  });

  it("refuses to start a service whose data disk is not mounted (data must never land on tmpfs)", () => {
    host.mounted(["/mnt/disks/queue-data"]);
    const unit = cloudConfig.write_files.find((f) => f.path === "/etc/systemd/system/mixstack-influxdb.service")!;
    const script = /^ExecStart=\/bin\/bash (\S+)$/m.exec(unit.content)![1]!;
    const result = host.run({ bash: script });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("/mnt/disks/influxdb-data is not mounted; refusing to start influxdb");
    expect(host.calls("docker")).toEqual([]);
  });

  it("opens the published ports in COS's host firewall for the private address only", () => {
    const ip = instance.networkInterfaces[0]!.networkIp;
    expect(cloudConfig.runcmd.filter((cmd) => cmd.startsWith("iptables"))).toEqual(
      [8086, 8088, 6379].map((p) => `iptables -w -A INPUT -p tcp -d ${ip} --dport ${p} -j ACCEPT`),
    );
  });
});

describe("data disk preparation at boot", () => {
  const disk = { device: "influxdb-data", uid: 1500, gid: 1500 };
  beforeEach(() => {
    host = new FakeHost();
  });
  afterEach(() => host.dispose());

  it.each([
    // case, device present, blkid rc, fsck rc, formats, mounts, exit status
    ["an empty new disk is formatted, then mounted", true, 2, 0, true, true, 0],
    ["a disk with a filesystem is only checked and mounted", true, 0, 0, false, true, 0],
    ["a disk fsck repaired is mounted", true, 0, 1, false, true, 0],
    ["a disk with errors fsck cannot fix is not mounted", true, 0, 4, false, false, 1],
    ["a disk blkid cannot read is left alone", true, 4, 0, false, false, 1],
    ["a disk that never appears stops the boot step", false, 0, 0, false, false, 1],
  ])("%s", (_case, present, blkid, fsck, formats, mounts, status) => {
    if (present) host.device(disk.device);
    const result = host.run({ sh: mountDiskScript(disk) }, { blkid, "fsck.ext4": fsck });
    expect(result.status).toBe(status);
    expect(host.calls("mkfs.ext4").length > 0).toBe(formats);
    expect(host.calls("mount")).toEqual(mounts ? [["mount", "-t", "ext4", "-o", "discard,defaults", "/dev/disk/by-id/google-influxdb-data", "/mnt/disks/influxdb-data"]] : []);
    if (mounts) expect(host.calls("chown")).toEqual([["chown", "1500:1500", "/mnt/disks/influxdb-data"]]);
  });

  it("formats with the device's label and never with a blkid result other than 'nothing found'", () => {
    host.device(disk.device);
    host.run({ sh: mountDiskScript(disk) }, { blkid: 2 });
    expect(host.calls("mkfs.ext4")[0]).toEqual(["mkfs.ext4", "-q", "-m", "0", "-L", "influxdb-data", "-E", "lazy_itable_init=0,lazy_journal_init=0,discard", "/dev/disk/by-id/google-influxdb-data"]);
  });
});

describe("reading secrets on the VM", () => {
  beforeEach(() => {
    host = new FakeHost();
    host.write([{ path: FETCH_SECRETS_PATH, permissions: "0755", owner: "root:root", content: FETCH_SECRETS_SCRIPT }]);
  });
  afterEach(() => host.dispose());

  it("writes NAME=value for each version, readable by root only, using the metadata server's token", () => {
    host.secret("projects/p/secrets/a/versions/3", "first-value");
    host.secret("projects/p/secrets/b/versions/1", "second=value with spaces");
    const result = host.run({ sh: `bash ${FETCH_SECRETS_PATH} /run/mixstack/x.env A=projects/p/secrets/a/versions/3 B=projects/p/secrets/b/versions/1` });
    expect(result).toEqual({ status: 0, stderr: "" });
    expect(host.read("/run/mixstack/x.env")).toBe("A=first-value\nB=second=value with spaces\n");
    expect(statSync(host.path("/run/mixstack/x.env")).mode & 0o777).toBe(0o600);
    const secretCalls = host.calls("curl").filter((call) => call.some((arg) => arg.includes("secretmanager")));
    expect(secretCalls.every((call) => call.includes("Authorization: Bearer fake-token"))).toBe(true);
  });

  it("fails without leaving a file when a version cannot be read", () => {
    host.secret("projects/p/secrets/a/versions/3", "first-value");
    const result = host.run({ sh: `bash ${FETCH_SECRETS_PATH} /run/mixstack/x.env A=projects/p/secrets/a/versions/3 B=projects/p/secrets/missing/versions/1` });
    expect(result.status).not.toBe(0);
    expect(host.exists("/run/mixstack/x.env")).toBe(false);
  });
});

describe("cloud-init rendering rules", () => {
  const unit: VmUnit = {
    service: "queue",
    description: "test",
    image: "valkey/valkey:8.1.8",
    entrypoint: ["sh", "-c", `exec x "$@" 'quoted' \\back`, "arg0"],
    command: ["--flag", "value with space", "", "it's"],
    env: [["PLAIN", "a b=c $HOME"]],
    secretEnv: [],
    publish: [{ address: "10.0.0.10", port: 6379 }],
    mounts: [{ device: "queue-data", containerPath: "/data" }],
    memoryMb: 256,
    cpus: 0.5,
    stopGraceSeconds: 30,
    after: [],
  };
  const plan: CloudInitPlan = { registries: ["r.example"], disks: [{ device: "queue-data", uid: 999, gid: 999 }], units: [unit], logMaxSize: "10m", logMaxFiles: 5 };

  beforeEach(() => {
    host = new FakeHost();
  });
  afterEach(() => host.dispose());

  it.each(["plain", "", "it's", `"$(rm -rf /)"`, "a b", "tab\there", "back\\slash", "*"])("quotes %j so bash reads it back unchanged", (word) => {
    host.write([{ path: "/etc/mixstack/echo.sh", permissions: "0755", owner: "root:root", content: `docker ${shellQuote(word)}\n` }]);
    host.run({ bash: "/etc/mixstack/echo.sh" });
    expect(host.calls("docker")).toEqual([["docker", word]]);
  });

  it("passes entrypoint and command through to docker unchanged", () => {
    host.write(cloudInitFiles(plan));
    host.mounted(["/mnt/disks/queue-data"]);
    expect(host.run({ bash: "/etc/mixstack/queue.sh" }).status).toBe(0);
    const args = host.calls("docker").find((call) => call[1] === "run")!.slice(1);
    expect(args.slice(args.indexOf("--entrypoint"))).toEqual(["--entrypoint", "sh", "valkey/valkey:8.1.8", "-c", `exec x "$@" 'quoted' \\back`, "arg0", "--flag", "value with space", "", "it's"]);
    expect(host.read("/etc/mixstack/queue.env")).toBe("PLAIN=a b=c $HOME\n");
  });

  it("refuses a unit mounting a disk the VM does not attach, and an env value with a line break", () => {
    expect(() => renderCloudInit({ ...plan, disks: [] })).toThrow(/queue mounts disk queue-data, which the VM does not attach/);
    expect(() => renderCloudInit({ ...plan, units: [{ ...unit, env: [["BAD", "a\nb"]] }] })).toThrow(/BAD: a value for the VM's env file cannot contain a line break/);
  });
});

