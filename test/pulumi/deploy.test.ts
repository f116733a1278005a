import { execFile } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { deploy, type DeployDependencies } from "../../cli/deploy/command";
import { DOCKER_INSTALL_URL, PULUMI_INSTALL_URL } from "../../cli/deploy/prerequisites";
import { NOT_FOUND, type ToolResult, type Tools } from "../../cli/deploy/tools";

const root = resolve(__dirname, "..", "..");
const scratch: string[] = [];
afterAll(() => scratch.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "mixstack-deploy-"));
  scratch.push(dir);
  return dir;
}

/** A project directory with the real example stack files. */
function project(): string {
  const dir = tempDir();
  mkdirSync(join(dir, "stacks"));
  for (const stack of ["local", "remote"]) {
    writeFileSync(join(dir, "stacks", `Pulumi.${stack}.yaml`), readFileSync(join(root, "stacks", `Pulumi.${stack}.yaml`)));
  }
  return dir;
}

const OUTPUTS = {
  ingestUrl: "http://localhost:8080",
  grafanaUrl: "http://localhost:3000",
  projectToken: "tok123",
  mixpanelSnippet: 'mixpanel.init("tok123", { api_host: "http://localhost:8080" });',
  backupTarget: "docker-volume://mixstack-local-backup-backups",
};

/** Fake `pulumi`/`docker`: answers from a table, records every call and its environment. */
class FakeTools implements Tools {
  readonly calls: Array<{ program: string; args: string[]; env: NodeJS.ProcessEnv }> = [];
  constructor(private readonly answer: (program: string, args: string[]) => ToolResult) {}
  async capture(program: string, args: string[], env: NodeJS.ProcessEnv): Promise<ToolResult> {
    this.calls.push({ program, args, env });
    return this.answer(program, args);
  }
  async interactive(program: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
    this.calls.push({ program, args, env });
    return this.answer(program, args).code;
  }
}

const ok = (stdout = ""): ToolResult => ({ code: 0, stdout, stderr: "" });
const everythingInstalled = (program: string, args: string[]): ToolResult =>
  program === "pulumi" && args[0] === "stack" && args[1] === "output" ? ok(JSON.stringify(OUTPUTS)) : ok("v3.200.0");

function run(argv: string[], tools: Tools, env: NodeJS.ProcessEnv = {}, dir = project()) {
  const out: string[] = [];
  const err: string[] = [];
  const deps: DeployDependencies = { root: dir, tools, env, out: (t) => out.push(t), err: (t) => err.push(t) };
  return deploy(argv, deps).then((code) => ({ code, out: out.join(""), err: err.join(""), dir }));
}

describe("mixstack deploy", () => {
  it("stops at once when neither Pulumi nor Docker is installed, saying where to get them", async () => {
    const tools = new FakeTools(() => ({ code: NOT_FOUND, stdout: "", stderr: "" }));
    const result = await run(["--stack", "local"], tools);
    expect(result.code).toBe(1);
    expect(result.err).toContain("the Pulumi CLI (`pulumi`) is not on your PATH");
    expect(result.err).toContain(PULUMI_INSTALL_URL);
    expect(result.err).toContain("Docker (`docker`) is not on your PATH");
    expect(result.err).toContain(DOCKER_INSTALL_URL);
    // Nothing but the two checks ran.
    expect(tools.calls.map((c) => `${c.program} ${c.args.join(" ")}`)).toEqual(["pulumi version", "docker version --format {{.Server.Version}}"]);
  });

  it.each([
    ["only Pulumi is missing", "pulumi", "the Pulumi CLI (`pulumi`) is not on your PATH"],
    ["only Docker is missing", "docker", "Docker (`docker`) is not on your PATH"],
  ])("stops when %s", async (_name, absent, message) => {
    const tools = new FakeTools((program, args) => (program === absent ? { code: NOT_FOUND, stdout: "", stderr: "" } : everythingInstalled(program, args)));
    const result = await run([], tools);
    expect([result.code, result.err.match(/^ {2}- .*$/gm)]).toEqual([1, [`  - ${message}`]]);
  });

  it("says when the Docker engine is installed but not running", async () => {
    const tools = new FakeTools((program, args) =>
      program === "docker" ? { code: 1, stdout: "", stderr: "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n" } : everythingInstalled(program, args),
    );
    const result = await run(["local"], tools);
    expect(result.code).toBe(1);
    expect(result.err).toContain("the local Docker engine is not reachable: Cannot connect to the Docker daemon");
    expect(result.err).toContain("sudo systemctl start docker");
  });

  it("checks the remote engine of a remote stack", async () => {
    const tools = new FakeTools(everythingInstalled);
    await run(["--stack", "remote", "--preview"], tools);
    expect(tools.calls[1]).toMatchObject({ program: "docker", args: ["--host", "ssh://deploy@analytics.example.com", "version", "--format", "{{.Server.Version}}"] });
  });

  it("deploys with the local file backend and a generated passphrase, then prints the URLs", async () => {
    const tools = new FakeTools(everythingInstalled);
    const result = await run([], tools, { PATH: "/usr/bin" });
    expect(result.code).toBe(0);
    const pulumiCalls = tools.calls.filter((c) => c.program === "pulumi").map((c) => c.args.join(" "));
    expect(pulumiCalls).toEqual([
      "version",
      `stack select --create local --secrets-provider passphrase --cwd ${result.dir}`,
      `up --stack local --yes --cwd ${result.dir}`,
      `stack output --stack local --json --show-secrets --cwd ${result.dir}`,
    ]);
    const env = tools.calls.at(-1)!.env;
    expect(env.PULUMI_BACKEND_URL).toBe(`file://${join(result.dir, ".pulumi")}`);
    const passphrase = join(result.dir, ".pulumi", "passphrase.local");
    expect(env.PULUMI_CONFIG_PASSPHRASE_FILE).toBe(passphrase);
    expect(statSync(passphrase).mode & 0o777).toBe(0o600);
    expect(readFileSync(passphrase, "utf8").trim().length).toBeGreaterThanOrEqual(32);
    expect(env.PATH).toBe("/usr/bin");
    expect(result.out).toContain("ingest (SDK api_host)  http://localhost:8080");
    expect(result.out).toContain("Grafana                http://localhost:3000");
    expect(result.out).toContain('mixpanel.init("tok123"');
  });

  it("keeps the user's own backend and passphrase", async () => {
    const tools = new FakeTools(everythingInstalled);
    const result = await run(["--stack", "local"], tools, { PULUMI_BACKEND_URL: "s3://state", PULUMI_CONFIG_PASSPHRASE: "mine" });
    const env = tools.calls.at(-1)!.env;
    expect([env.PULUMI_BACKEND_URL, env.PULUMI_CONFIG_PASSPHRASE, env.PULUMI_CONFIG_PASSPHRASE_FILE]).toEqual(["s3://state", "mine", undefined]);
    expect(existsSync(join(result.dir, ".pulumi", "passphrase.local"))).toBe(false);
  });

  it("reports a failed pulumi up with its exit code", async () => {
    const tools = new FakeTools((program, args) => (program === "pulumi" && args[0] === "up" ? { code: 255, stdout: "", stderr: "" } : everythingInstalled(program, args)));
    const result = await run(["local"], tools);
    expect([result.code, result.err]).toEqual([255, "mixstack deploy: pulumi up failed (see above)\n"]);
  });

  it.each([
    ["a value of the wrong type", "config:\n  mixstack:platform: docker\n  mixstack:docker: not-an-object\n", 'mixstack:docker: expected an object, got "not-an-object"'],
    ["no platform", "config:\n  mixstack:docker:\n    ingestPort: 8080\n", "mixstack:platform: is required (one of: docker, aws, gcp)"],
  ])("refuses a stack file with %s before running anything", async (_name, yaml, problem) => {
    const dir = project();
    writeFileSync(join(dir, "stacks", "Pulumi.broken.yaml"), yaml);
    const tools = new FakeTools(everythingInstalled);
    const result = await run(["--stack", "broken"], tools, {}, dir);
    expect([result.code, result.err]).toEqual([1, `mixstack deploy: invalid stack config in stacks/Pulumi.broken.yaml:\n  ${problem}\n`]);
    expect(tools.calls).toEqual([]);
  });

  it("reads an encrypted value without the passphrase (Pulumi decrypts it later)", async () => {
    const dir = project();
    writeFileSync(
      join(dir, "stacks", "Pulumi.prod.yaml"),
      "encryptionsalt: v1:abc\nconfig:\n  mixstack:platform: docker\n  mixstack:grafanaAdminPassword:\n    secure: v1:Zm9v:YmFy\n",
    );
    const tools = new FakeTools(everythingInstalled);
    const result = await run(["--stack", "prod", "--preview"], tools, { PULUMI_CONFIG_PASSPHRASE: "x" }, dir);
    expect([result.code, result.err]).toEqual([0, ""]);
  });

  it("names the stack files when the stack does not exist", async () => {
    const result = await run(["--stack", "prod"], new FakeTools(everythingInstalled));
    expect([result.code, result.err]).toEqual([1, "mixstack deploy: no stack file stacks/Pulumi.prod.yaml (stacks: local, remote)\n"]);
  });
});

describe("npx mixstack deploy, as a process", () => {
  const execute = promisify(execFile);
  async function cli(path: string, extraEnv: NodeJS.ProcessEnv, ...args: string[]) {
    const started = Date.now();
    try {
      const { stdout, stderr } = await execute(process.execPath, [join(root, "bin", "mixstack.cjs"), "deploy", ...args], {
        cwd: root,
        env: { PATH: path, HOME: tempDir(), ...extraEnv },
      });
      return { code: 0, stdout, stderr, ms: Date.now() - started };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr, ms: Date.now() - started };
    }
  }

  it("without Docker and Pulumi on PATH stops and says what is missing", async () => {
    const result = await cli(tempDir(), {}, "--stack", "local");
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('cannot deploy stack "local" from this machine yet');
    expect(result.stderr).toContain(PULUMI_INSTALL_URL);
    expect(result.stderr).toContain(DOCKER_INSTALL_URL);
  });

  it("drives the real pulumi and docker programs it finds on PATH", async () => {
    const bin = tempDir();
    const log = join(bin, "calls.log");
    const fake = (name: string, body: string) => {
      writeFileSync(join(bin, name), `#!/bin/sh\necho "${name} $*" >> ${log}\n${body}\n`);
      chmodSync(join(bin, name), 0o755);
    };
    fake("docker", 'echo "27.0.1"');
    fake(
      "pulumi",
      `case "$1 $2" in "stack output") echo '${JSON.stringify(OUTPUTS)}';; esac\n[ "$1" = preview ] && echo "backend=$PULUMI_BACKEND_URL" >> ${log}\nexit 0`,
    );
    // Own backend and passphrase: nothing is written into the repository.
    const state = tempDir();
    const result = await cli(`${bin}:/usr/bin:/bin`, { PULUMI_BACKEND_URL: `file://${state}`, PULUMI_CONFIG_PASSPHRASE: "test" }, "local", "--preview");
    expect(result.code).toBe(0);
    const calls = readFileSync(log, "utf8").trim().split("\n");
    expect(calls[0]).toBe("pulumi version");
    expect(calls[1]).toBe("docker version --format {{.Server.Version}}");
    expect(calls[2]).toMatch(/^pulumi stack select --create local --secrets-provider passphrase --cwd /);
    expect(calls[3]).toMatch(/^pulumi preview --stack local --cwd /);
    expect(calls[4]).toBe(`backend=file://${state}`);
  });
});
