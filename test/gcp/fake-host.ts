import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { DEVICE_ROOT, DISKS_ROOT, DOCKER_HOME, MIXSTACK_ETC, MIXSTACK_RUN, type CloudInitFile } from "../../components/gcp/cloud-init";

/**
 * A stand-in for the COS VM: the cloud-init files written under a temporary root (every absolute
 * path the scripts use moved under it), and fake `docker`, `curl`, `blkid`, `mount`, ... on PATH that
 * record their arguments. The real bash/sh run the real scripts; only the host's tools are fakes.
 */

const ROOTED = ["/etc/systemd/system", MIXSTACK_ETC, MIXSTACK_RUN, DISKS_ROOT, DEVICE_ROOT, DOCKER_HOME];

const GENERIC_FAKE = `#!/bin/bash
name=$(basename "$0")
{ printf '%s\\0' "$name" "$@"; printf '\\n'; } >> "$FAKE_DIR/calls"
var="FAKE_RC_$(printf '%s' "$name" | tr -c 'A-Za-z0-9' '_')"
exit "\${!var:-0}"
`;

const FAKE_MOUNTPOINT = `#!/bin/bash
{ printf '%s\\0' mountpoint "$@"; printf '\\n'; } >> "$FAKE_DIR/calls"
[ "$1" = "-q" ] && [ -f "$FAKE_DIR/mounted" ] && grep -qxF "$2" "$FAKE_DIR/mounted"
`;

// Answers the metadata server's token and Secret Manager's access calls like the real APIs (pretty JSON).
const FAKE_CURL = `#!/bin/bash
{ printf '%s\\0' curl "$@"; printf '\\n'; } >> "$FAKE_DIR/calls"
for arg in "$@"; do case "$arg" in http*) url="$arg";; esac; done
case "$url" in
  *metadata.google.internal*) printf '{"access_token":"fake-token","expires_in":3599,"token_type":"Bearer"}';;
  https://secretmanager.googleapis.com/v1/*:access)
    version="\${url#https://secretmanager.googleapis.com/v1/}"; version="\${version%:access}"
    file="$FAKE_DIR/secrets/$(printf '%s' "$version" | tr '/' '_')"
    [ -f "$file" ] || exit 22
    printf '{\\n  "name": "%s",\\n  "payload": {\\n    "data": "%s",\\n    "dataCrc32c": "123"\\n  }\\n}\\n' "$version" "$(base64 -w0 < "$file")";;
  *) exit 6;;
esac
`;

export class FakeHost {
  readonly root: string;
  readonly fakes: string;

  constructor() {
    this.root = mkdtempSync(join(tmpdir(), "mixstack-fake-vm-"));
    this.fakes = join(this.root, "fake");
    mkdirSync(join(this.fakes, "bin"), { recursive: true });
    mkdirSync(join(this.fakes, "secrets"));
    for (const tool of ["docker", "docker-credential-gcr", "blkid", "mkfs.ext4", "fsck.ext4", "mount", "chown", "sleep"]) this.tool(tool, GENERIC_FAKE);
    this.tool("mountpoint", FAKE_MOUNTPOINT);
    this.tool("curl", FAKE_CURL);
  }

  private tool(name: string, script: string): void {
    const path = join(this.fakes, "bin", name);
    writeFileSync(path, script);
    chmodSync(path, 0o755);
  }

  /** Absolute VM paths in a text, moved under the fake root. */
  rooted(text: string): string {
    return ROOTED.reduce((current, path) => current.split(path).join(`${this.root}${path}`), text);
  }

  path(vmPath: string): string {
    return this.rooted(vmPath);
  }

  write(files: readonly CloudInitFile[]): void {
    for (const file of files) {
      const path = this.path(file.path);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, this.rooted(file.content));
      chmodSync(path, Number.parseInt(file.permissions, 8));
    }
  }

  mounted(vmPaths: string[]): void {
    writeFileSync(join(this.fakes, "mounted"), vmPaths.map((p) => this.path(p)).join("\n") + "\n");
  }

  secret(versionName: string, value: string): void {
    writeFileSync(join(this.fakes, "secrets", versionName.replace(/\//g, "_")), value);
  }

  /** Runs a script file (bash) or a command string (`sh -c`) with the fakes first on PATH. */
  run(how: { bash: string } | { sh: string }, rc: Record<string, number> = {}): { status: number; stderr: string } {
    const env: NodeJS.ProcessEnv = { PATH: `${join(this.fakes, "bin")}:${process.env.PATH}`, FAKE_DIR: this.fakes, HOME: this.root };
    for (const [tool, code] of Object.entries(rc)) env[`FAKE_RC_${tool.replace(/[^A-Za-z0-9]/g, "_")}`] = String(code);
    const result =
      "bash" in how
        ? spawnSync("bash", [this.path(how.bash)], { env, encoding: "utf8", timeout: 30_000 })
        : spawnSync("sh", ["-c", this.rooted(how.sh)], { env, encoding: "utf8", timeout: 30_000 });
    return { status: result.status ?? -1, stderr: result.stderr };
  }

  /** Every fake call so far: `[tool, ...args]`, with paths moved back to the VM's. */
  calls(tool?: string): string[][] {
    const file = join(this.fakes, "calls");
    if (!existsSync(file)) return [];
    return readFileSync(file, "utf8")
      .split("\0\n")
      .filter((line) => line.length > 0)
      .map((line) => line.split("\0").map((arg) => arg.split(this.root).join("")))
      .filter((call) => tool === undefined || call[0] === tool);
  }

  read(vmPath: string): string {
    return readFileSync(this.path(vmPath), "utf8");
  }

  exists(vmPath: string): boolean {
    return existsSync(this.path(vmPath));
  }

  device(name: string): void {
    const path = this.path(`${DEVICE_ROOT}/google-${name}`);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, "");
  }

  dispose(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}
