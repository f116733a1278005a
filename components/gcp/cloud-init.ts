import { stringify } from "yaml";
import type { ServiceName } from "../topology";

/**
 * The cloud-init user data of the stateful VM (Container-Optimized OS), as a pure function of a
 * plan. COS keeps `/etc` on tmpfs and re-applies `write_files` and `runcmd` on every boot, and
 * `bootcmd` runs on every boot too, so everything here is written to be repeated:
 * - `bootcmd`: each data disk is waited for, formatted only when it carries no filesystem at all,
 *   checked, mounted under `/mnt/disks/<device>` and handed to the owner of the service's data;
 * - `write_files`: per stateful service a systemd unit, its plain env file and the script that
 *   runs `docker run` with the image pinned, the data disk mounted at the service's data path and
 *   each port published on the VM's private address only; secret env is read from Secret Manager
 *   at start by the VM's service account into `/run` (tmpfs), never written into this user data;
 * - `runcmd`: reload systemd and start the units.
 * (The deprecated `gce-container-declaration` metadata is not used.)
 */

export const MIXSTACK_ETC = "/etc/mixstack";
export const MIXSTACK_RUN = "/run/mixstack";
export const DISKS_ROOT = "/mnt/disks";
export const DEVICE_ROOT = "/dev/disk/by-id";
/** Writable HOME for docker-credential-gcr (COS mounts `/` read-only). */
export const DOCKER_HOME = "/var/lib/mixstack";

export interface VmDisk {
  /** Device name given when attaching: `/dev/disk/by-id/google-<device>`. */
  device: string;
  /** Owner of the mount point's root (the user the service runs as). */
  uid: number;
  gid: number;
}

export interface VmHealth {
  command: string;
  intervalSeconds: number;
  timeoutSeconds: number;
  retries: number;
  startPeriodSeconds: number;
}

export interface VmUnit {
  service: ServiceName;
  description: string;
  /** Image reference, pinned (tag or digest). */
  image: string;
  entrypoint?: string[];
  command?: string[];
  /** Plain env, in order. */
  env: Array<[name: string, value: string]>;
  /** Env read from Secret Manager at start: variable → secret version resource name. */
  secretEnv: Array<[name: string, version: string]>;
  /** Ports published on `address:port` (same port inside). */
  publish: Array<{ address: string; port: number }>;
  /** Data disks mounted into the container. */
  mounts: Array<{ device: string; containerPath: string }>;
  memoryMb: number;
  cpus: number;
  health?: VmHealth;
  stopGraceSeconds: number;
  /** Other units (by service) that must have started first. */
  after: ServiceName[];
}

export interface CloudInitPlan {
  /** Artifact Registry hosts the units pull from (`docker-credential-gcr`). */
  registries: string[];
  disks: VmDisk[];
  units: VmUnit[];
  /** Docker json-file log rotation (the COS logging agent ships the logs). */
  logMaxSize: string;
  logMaxFiles: number;
}

export interface CloudInitFile {
  path: string;
  permissions: string;
  owner: string;
  content: string;
}

export const unitName = (service: string) => `mixstack-${service}.service`;
export const containerName = (service: string) => `mixstack-${service}`;
export const diskMountPath = (device: string) => `${DISKS_ROOT}/${device}`;
export const envFilePath = (service: string) => `${MIXSTACK_ETC}/${service}.env`;
export const secretEnvFilePath = (service: string) => `${MIXSTACK_RUN}/${service}.secrets.env`;
export const runScriptPath = (service: string) => `${MIXSTACK_ETC}/${service}.sh`;
export const FETCH_SECRETS_PATH = `${MIXSTACK_ETC}/fetch-secrets.sh`;

/** Quotes one word for bash/sh: as is when it is plain, else in single quotes. */
export function shellQuote(word: string): string {
  if (word !== "" && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** A docker `--env-file` line: the value is taken literally up to the end of the line. */
function envLine(name: string, value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`invalid environment variable name ${JSON.stringify(name)}`);
  if (/[\r\n]/.test(value)) throw new Error(`${name}: a value for the VM's env file cannot contain a line break`);
  return `${name}=${value}`;
}

/** The `docker run` argument vector of one unit (without `docker` itself). */
export function dockerRunArgs(unit: VmUnit, logs: Pick<CloudInitPlan, "logMaxSize" | "logMaxFiles">): string[] {
  const args = ["run", "--rm", "--name", containerName(unit.service), "--env-file", envFilePath(unit.service)];
  if (unit.secretEnv.length > 0) args.push("--env-file", secretEnvFilePath(unit.service));
  for (const published of unit.publish) args.push("--publish", `${published.address}:${published.port}:${published.port}`);
  for (const mount of unit.mounts) args.push("--volume", `${diskMountPath(mount.device)}:${mount.containerPath}`);
  args.push("--memory", `${unit.memoryMb}m`, "--cpus", String(unit.cpus));
  if (unit.health) {
    args.push(
      "--health-cmd", unit.health.command,
      "--health-interval", `${unit.health.intervalSeconds}s`,
      "--health-timeout", `${unit.health.timeoutSeconds}s`,
      "--health-retries", String(unit.health.retries),
      "--health-start-period", `${unit.health.startPeriodSeconds}s`,
    );
  }
  args.push("--log-driver", "json-file", "--log-opt", `max-size=${logs.logMaxSize}`, "--log-opt", `max-file=${logs.logMaxFiles}`);
  args.push("--stop-timeout", String(unit.stopGraceSeconds));
  const [entry, ...entryArgs] = unit.entrypoint ?? [];
  if (entry !== undefined) args.push("--entrypoint", entry);
  args.push(unit.image, ...entryArgs, ...(unit.command ?? []));
  return args;
}

/** The script a unit runs: checks its disks are mounted, fetches its secrets, then becomes `docker run`. */
export function runScript(unit: VmUnit, plan: Pick<CloudInitPlan, "registries" | "logMaxSize" | "logMaxFiles">): string {
  const lines = [
    "#!/bin/bash",
    `# mixstack ${unit.service}: ${unit.description}. Written by cloud-init on every boot; run by ${unitName(unit.service)}.`,
    "set -euo pipefail",
  ];
  for (const mount of unit.mounts) {
    const path = diskMountPath(mount.device);
    // Never let the data land on the boot disk's tmpfs when the data disk is missing.
    lines.push(`mountpoint -q ${shellQuote(path)} || { echo "mixstack: ${path} is not mounted; refusing to start ${unit.service}" >&2; exit 1; }`);
  }
  if (plan.registries.length > 0) {
    lines.push(`docker-credential-gcr configure-docker --registries=${shellQuote(plan.registries.join(","))} >/dev/null`);
  }
  if (unit.secretEnv.length > 0) {
    const pairs = unit.secretEnv.map(([name, version]) => shellQuote(`${name}=${version}`));
    lines.push(`bash ${FETCH_SECRETS_PATH} ${shellQuote(secretEnvFilePath(unit.service))} ${pairs.join(" ")}`);
  }
  lines.push(`docker rm -f ${containerName(unit.service)} >/dev/null 2>&1 || true`);
  lines.push(`exec docker ${dockerRunArgs(unit, plan).map(shellQuote).join(" ")}`);
  return `${lines.join("\n")}\n`;
}

export function systemdUnit(unit: VmUnit): string {
  const after = ["network-online.target", "docker.service", ...unit.after.map(unitName)];
  return [
    "[Unit]",
    `Description=mixstack ${unit.service}: ${unit.description}`,
    "Wants=network-online.target",
    `After=${after.join(" ")}`,
    "Requires=docker.service",
    ...unit.after.map((service) => `Wants=${unitName(service)}`),
    "",
    "[Service]",
    `Environment=HOME=${DOCKER_HOME}`,
    `ExecStart=/bin/bash ${runScriptPath(unit.service)}`,
    `ExecStop=/usr/bin/docker stop --time ${unit.stopGraceSeconds} ${containerName(unit.service)}`,
    "Restart=always",
    "RestartSec=10",
    // The first start pulls the image.
    "TimeoutStartSec=900",
    `TimeoutStopSec=${unit.stopGraceSeconds + 30}`,
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
}

/**
 * Reads secret versions with the VM's service account (metadata server token, Secret Manager REST)
 * and writes `NAME=value` lines to a file only root can read. COS has curl and base64 but no jq; the
 * two JSON fields needed are matched with sed.
 */
export const FETCH_SECRETS_SCRIPT = `#!/bin/bash
# usage: fetch-secrets.sh OUTFILE NAME=projects/P/secrets/S/versions/N ...
set -euo pipefail
out="$1"; shift
mkdir -p "$(dirname "$out")"
umask 077
metadata="http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token"
token=$(curl -sSf --retry 10 --retry-connrefused -H "Metadata-Flavor: Google" "$metadata" | sed -n 's/.*"access_token" *: *"\\([^"]*\\)".*/\\1/p')
[ -n "$token" ] || { echo "mixstack: no access token from the metadata server" >&2; exit 1; }
tmp="$out.tmp"
: > "$tmp"
for pair in "$@"; do
  name="\${pair%%=*}"
  version="\${pair#*=}"
  data=$(curl -sSf --retry 10 --retry-connrefused -H "Authorization: Bearer $token" "https://secretmanager.googleapis.com/v1/$version:access" | sed -n 's/.*"data" *: *"\\([^"]*\\)".*/\\1/p')
  [ -n "$data" ] || { echo "mixstack: cannot read $version" >&2; exit 1; }
  printf '%s=%s\\n' "$name" "$(printf '%s' "$data" | base64 -d)" >> "$tmp"
done
mv "$tmp" "$out"
`;

/**
 * Boot-time disk preparation (POSIX sh, run by cloud-init's bootcmd on every boot): wait for the
 * device, format it only when blkid positively reports no filesystem (exit code 2; any other
 * failure stops without touching the disk), fsck, mount, and give the mount point to its owner.
 */
export function mountDiskScript(disk: VmDisk): string {
  const dev = `${DEVICE_ROOT}/google-${disk.device}`;
  const mnt = diskMountPath(disk.device);
  return [
    `dev=${dev}; mnt=${mnt}; label=${disk.device.slice(0, 16)}`,
    'i=0; while [ ! -e "$dev" ] && [ "$i" -lt 120 ]; do sleep 1; i=$((i + 1)); done',
    '[ -e "$dev" ] || { echo "mixstack: $dev did not appear" >&2; exit 1; }',
    'rc=0; blkid -p "$dev" >/dev/null 2>&1 || rc=$?',
    'if [ "$rc" -eq 2 ]; then mkfs.ext4 -q -m 0 -L "$label" -E lazy_itable_init=0,lazy_journal_init=0,discard "$dev" || exit 1;',
    'elif [ "$rc" -ne 0 ]; then echo "mixstack: blkid failed on $dev ($rc); not touching it" >&2; exit 1; fi',
    'rc=0; fsck.ext4 -p "$dev" || rc=$?',
    '[ "$rc" -lt 4 ] || { echo "mixstack: fsck found errors it could not fix on $dev ($rc); not mounting" >&2; exit 1; }',
    'mkdir -p "$mnt"',
    'mountpoint -q "$mnt" || mount -t ext4 -o discard,defaults "$dev" "$mnt" || exit 1',
    `[ "$(stat -c %u:%g "$mnt")" = "${disk.uid}:${disk.gid}" ] || chown ${disk.uid}:${disk.gid} "$mnt"`,
  ].join("\n");
}

export function cloudInitFiles(plan: CloudInitPlan): CloudInitFile[] {
  const file = (path: string, content: string, permissions = "0644"): CloudInitFile => ({ path, permissions, owner: "root:root", content });
  const files: CloudInitFile[] = [];
  if (plan.units.some((unit) => unit.secretEnv.length > 0)) files.push(file(FETCH_SECRETS_PATH, FETCH_SECRETS_SCRIPT, "0755"));
  for (const unit of plan.units) {
    const env = unit.env.map(([name, value]) => envLine(name, value));
    files.push(file(envFilePath(unit.service), `${env.join("\n")}${env.length ? "\n" : ""}`));
    files.push(file(runScriptPath(unit.service), runScript(unit, plan), "0755"));
    files.push(file(`/etc/systemd/system/${unitName(unit.service)}`, systemdUnit(unit)));
  }
  return files;
}

/** iptables accepts for the published ports (COS's host firewall drops everything but SSH by default). */
function hostFirewall(plan: CloudInitPlan): string[] {
  const seen = new Set<string>();
  const commands: string[] = [];
  for (const unit of plan.units) {
    for (const { address, port } of unit.publish) {
      const key = `${address}:${port}`;
      if (seen.has(key)) continue;
      seen.add(key);
      commands.push(`iptables -w -A INPUT -p tcp -d ${address} --dport ${port} -j ACCEPT`);
    }
  }
  return commands;
}

export function renderCloudInit(plan: CloudInitPlan): string {
  const devices = new Set(plan.disks.map((disk) => disk.device));
  for (const unit of plan.units) {
    for (const mount of unit.mounts) {
      if (!devices.has(mount.device)) throw new Error(`${unit.service} mounts disk ${mount.device}, which the VM does not attach`);
    }
  }
  const document = {
    bootcmd: [`mkdir -p ${DOCKER_HOME}`, ...plan.disks.map(mountDiskScript)],
    write_files: cloudInitFiles(plan),
    runcmd: [
      ...hostFirewall(plan),
      "systemctl daemon-reload",
      `systemctl start ${plan.units.map((unit) => unitName(unit.service)).join(" ")}`,
    ],
  };
  return `#cloud-config\n${stringify(document, { lineWidth: 0 })}`;
}
