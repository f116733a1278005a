import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DATA_ATTRIBUTE, stateHostUserData } from "../../components/aws/user-data";

/**
 * The state host's boot script, run for real by bash against a scratch root, with the commands it
 * needs from the instance (aws, curl, lsblk, blkid, mkfs.xfs, mount, chown, systemctl, sleep)
 * replaced by small fakes that keep the volume's state in files and log every call.
 */

const VOLUME = "vol-0abc123def";
const ME = "i-0new";

interface Scenario {
  /** `describe-volumes` answers, in order; the last one repeats. `attach` moves it to in-use by this instance. */
  states: Array<{ state: string; holder: string }>;
  /** What the low-level probe finds: a file system, nothing (empty volume) or an error. */
  probe: "xfs" | "empty" | "error";
  attempts?: number;
}

const fakes: Record<string, string> = {
  aws: `#!/bin/bash
n=$(cat "$FAKE/describes" 2>/dev/null || echo 0)
case "$2" in
  describe-volumes)
    echo $((n + 1)) > "$FAKE/describes"
    if [ -f "$FAKE/attached" ]; then printf 'in-use\\t${ME}\\n'; exit 0; fi
    line=$(sed -n "$((n + 1))p" "$FAKE/states"); [ -n "$line" ] || line=$(tail -n 1 "$FAKE/states")
    # Attached to this instance already (a rerun): its device exists.
    [ "$line" = "$(printf 'in-use\\t${ME}')" ] && touch "$FAKE/attached"
    printf '%s\\n' "$line" ;;
  attach-volume)
    echo "attach $*" >> "$FAKE/log"; touch "$FAKE/attached" ;;
esac`,
  curl: `#!/bin/bash
case "$*" in *instance-id*) echo ${ME} ;; *) echo token ;; esac`,
  lsblk: `#!/bin/bash
[ -f "$FAKE/attached" ] && echo "/dev/nvme1n1 ${VOLUME.replace("-", "")}"
echo "/dev/nvme0n1 vol0root"`,
  blkid: `#!/bin/bash
if [ "$1" = "-p" ]; then
  [ -f "$FAKE/formatted" ] && { echo xfs; exit 0; }
  case "$(cat "$FAKE/probe")" in xfs) echo xfs; exit 0 ;; empty) exit 2 ;; *) exit 4 ;; esac
fi
echo 1111-2222`,
  "mkfs.xfs": `#!/bin/bash
echo "mkfs $*" >> "$FAKE/log"; touch "$FAKE/formatted"`,
  mountpoint: `#!/bin/bash
[ -f "$FAKE/mounted" ]`,
  mount: `#!/bin/bash
echo "mount $*" >> "$FAKE/log"; touch "$FAKE/mounted"`,
  chown: `#!/bin/bash
echo "chown $*" >> "$FAKE/log"`,
  systemctl: `#!/bin/bash
echo "systemctl $*" >> "$FAKE/log"`,
  sleep: `#!/bin/bash
echo "sleep $*" >> "$FAKE/log"`,
  dnf: `#!/bin/bash
echo "dnf must not run: aws is installed" >&2; exit 1`,
};

const script = stateHostUserData({
  volumeId: VOLUME,
  region: "eu-west-1",
  cluster: "mixstack-prod",
  mountPath: "/mnt/mixstack-data",
  directories: [
    { path: "/mnt/mixstack-data/influxdb-data", uid: 1500, gid: 1500 },
    { path: "/mnt/mixstack-data/queue-data", uid: 999, gid: 999 },
  ],
  stopTimeoutSeconds: 60,
});

const scratch: string[] = [];
afterEach(() => {
  for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function boot(scenario: Scenario, existing?: string) {
  const dir = existing ?? mkdtempSync(join(tmpdir(), "mixstack-userdata-"));
  if (!existing) scratch.push(dir);
  const fake = join(dir, "fake");
  const bin = join(dir, "bin");
  const root = join(dir, "root");
  for (const path of [fake, bin, root]) mkdirSync(path, { recursive: true });
  for (const [name, body] of Object.entries(fakes)) {
    writeFileSync(join(bin, name), `${body}\n`);
    chmodSync(join(bin, name), 0o755);
  }
  writeFileSync(join(fake, "states"), scenario.states.map((s) => `${s.state}\t${s.holder}`).join("\n") + "\n");
  writeFileSync(join(fake, "probe"), scenario.probe);
  writeFileSync(join(dir, "user-data.sh"), script);
  const result = spawnSync("bash", [join(dir, "user-data.sh")], {
    env: { PATH: `${bin}:/usr/bin:/bin`, FAKE: fake, MIXSTACK_ROOT: root, MIXSTACK_ATTEMPTS: String(scenario.attempts ?? 5) },
    encoding: "utf8",
    timeout: 30_000,
  });
  const read = (path: string) => (existsSync(path) ? readFileSync(path, "utf8") : "");
  return {
    dir,
    status: result.status,
    stderr: result.stderr,
    log: read(join(fake, "log")).trim().split("\n").filter(Boolean),
    ecsConfig: read(join(root, "etc/ecs/ecs.config")),
    fstab: read(join(root, "etc/fstab")),
    dropIn: read(join(root, "etc/systemd/system/ecs.service.d/mixstack-data.conf")),
  };
}

const free = [{ state: "available", holder: "None" }];
const attribute = `ECS_INSTANCE_ATTRIBUTES={"${DATA_ATTRIBUTE}":"mounted"}`;

describe("state host boot script", () => {
  it("formats an empty volume, mounts it, hands each directory to its user, and only then lets stateful tasks in", () => {
    const run = boot({ states: free, probe: "empty" });
    expect(run.status, run.stderr).toBe(0);
    expect(run.log).toEqual([
      `attach ec2 attach-volume --region eu-west-1 --volume-id ${VOLUME} --instance-id ${ME} --device /dev/xvdf`,
      "mkfs -q -L mixstack-data /dev/nvme1n1",
      expect.stringMatching(/^mount \/dev\/nvme1n1 .*\/root\/mnt\/mixstack-data$/),
      expect.stringMatching(/^chown 1500:1500 .*\/root\/mnt\/mixstack-data\/influxdb-data$/),
      expect.stringMatching(/^chown 999:999 .*\/root\/mnt\/mixstack-data\/queue-data$/),
      "systemctl daemon-reload",
    ]);
    const lines = run.ecsConfig.trim().split("\n");
    expect(lines[0]).toBe("ECS_CLUSTER=mixstack-prod");
    expect(lines).toContain("ECS_CONTAINER_STOP_TIMEOUT=60s");
    expect(lines.at(-1)).toBe(attribute);
    expect(run.fstab).toBe("UUID=1111-2222 /mnt/mixstack-data xfs defaults,nofail 0 2\n");
    expect(run.dropIn).toContain("RequiresMountsFor=/mnt/mixstack-data");
  });

  it.each([
    ["a volume that already has a file system", { states: free, probe: "xfs" as const }, 1],
    ["a volume still attached to this instance (a rerun)", { states: [{ state: "in-use", holder: ME }], probe: "xfs" as const }, 0],
  ])("never formats %s", (_name, scenario, attaches) => {
    const run = boot(scenario);
    expect(run.status, run.stderr).toBe(0);
    expect(run.log.filter((line) => line.startsWith("mkfs"))).toEqual([]);
    expect(run.log.filter((line) => line.startsWith("attach"))).toHaveLength(attaches);
    expect(run.ecsConfig.trim().split("\n").at(-1)).toBe(attribute);
  });

  it("waits for the instance being replaced to let go of the volume", () => {
    const held = { state: "in-use", holder: "i-0old" };
    const run = boot({ states: [held, held, { state: "detaching", holder: "i-0old" }, ...free], probe: "xfs" });
    expect(run.status, run.stderr).toBe(0);
    expect(run.log.filter((line) => line.startsWith("sleep 10"))).toHaveLength(3);
    expect(run.log.filter((line) => line.startsWith("attach"))).toHaveLength(1);
    expect(run.stderr).toContain("held by i-0old");
  });

  it.each([
    ["the volume never becomes free", { states: [{ state: "in-use", holder: "i-0old" }], probe: "xfs" as const, attempts: 3 }, /could not attach/],
    ["the file-system probe fails", { states: free, probe: "error" as const }, /blkid failed \(4\).*not touching it/],
  ])("stops without formatting or letting tasks in when %s", (_name, scenario, message) => {
    const run = boot(scenario);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(message);
    expect(run.log.filter((line) => line.startsWith("mkfs") || line.startsWith("mount"))).toEqual([]);
    // The instance still joins the cluster, visibly, but no stateful task can be placed on it.
    expect(run.ecsConfig).toContain("ECS_CLUSTER=mixstack-prod");
    expect(run.ecsConfig).not.toContain(DATA_ATTRIBUTE);
  });

  it("adds one fstab entry however often it runs", () => {
    const first = boot({ states: free, probe: "empty" });
    expect(first.status, first.stderr).toBe(0);
    const second = boot({ states: free, probe: "xfs" }, first.dir);
    expect(second.status, second.stderr).toBe(0);
    expect(second.fstab.trim().split("\n")).toHaveLength(1);
    expect(second.log.filter((line) => line.startsWith("mkfs"))).toHaveLength(1);
  });
});
