import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join, resolve } from "node:path";
import { freePort, waitFor } from "./ports";

/**
 * Native child processes for `mixstack dev`, the integration tests and the benchmarks: one code path
 * starts `redis-server`, `influxd` and our own services, on loopback only, and stops them by PID.
 */

const LOG_LINES_KEPT = 200;

export interface ManagedProcessSpec {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Resolves once the process is ready to serve; called again after every restart. */
  ready: () => Promise<void>;
}

/** A child process we started, with its recent output kept for error messages. */
export class ManagedProcess {
  private child?: ChildProcess;
  private exited?: Promise<number | null>;
  readonly output: string[] = [];

  constructor(readonly spec: ManagedProcessSpec) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(): Promise<this> {
    const child = spawn(this.spec.command, this.spec.args, {
      cwd: this.spec.cwd,
      env: { ...process.env, ...this.spec.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    this.exited = new Promise((resolveExit) => {
      child.on("exit", (code, signal) => resolveExit(code ?? (signal ? -1 : null)));
      child.on("error", (error) => {
        this.record(`spawn error: ${error.message}`);
        resolveExit(-1);
      });
    });
    child.stdout?.on("data", (chunk: Buffer) => this.record(chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => this.record(chunk.toString()));
    try {
      await Promise.race([
        this.spec.ready(),
        this.exited.then((code) => {
          throw new Error(`exited with ${code} before it was ready`);
        }),
      ]);
    } catch (error) {
      await this.stop();
      throw new Error(`${this.spec.name} did not start: ${(error as Error).message}\n${this.recentOutput()}`);
    }
    return this;
  }

  /** Sends a signal to our child only (never a process group we did not create). */
  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child!.kill(signal);
  }

  /** Waits for the process to end (after a signal sent elsewhere) and returns its exit code. */
  async waitForExit(timeoutMs = 15_000): Promise<number | null> {
    if (!this.exited) return null;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${this.spec.name} still running after ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGTERM, then SIGKILL after the grace period. Safe to call twice. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.running) {
      await this.exited;
      return;
    }
    this.signal("SIGTERM");
    try {
      await this.waitForExit(graceMs);
    } catch {
      this.signal("SIGKILL");
      await this.exited;
    }
  }

  /** SIGKILL: the crash a test wants to survive. */
  async kill(): Promise<void> {
    this.signal("SIGKILL");
    await this.exited;
  }

  async restart(): Promise<this> {
    await this.stop();
    return this.start();
  }

  recentOutput(): string {
    return this.output.join("").split("\n").slice(-40).join("\n");
  }

  private record(text: string): void {
    this.output.push(text);
    if (this.output.length > LOG_LINES_KEPT) this.output.splice(0, this.output.length - LOG_LINES_KEPT);
  }
}

async function httpOk(url: string, init?: RequestInit): Promise<boolean> {
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(1000) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

function tcpAccepts(port: number): Promise<boolean> {
  return new Promise((resolveCheck) => {
    const socket = connect({ port, host: "127.0.0.1" });
    socket.once("connect", () => {
      socket.destroy();
      resolveCheck(true);
    });
    socket.once("error", () => resolveCheck(false));
  });
}

export interface RedisServerOptions {
  dir: string;
  port?: number;
  /** AOF with fsync every second, as the deployed queue runs. */
  appendOnly?: boolean;
  binary?: string;
}

export interface RedisServer extends ManagedProcess {
  readonly port: number;
  readonly url: string;
}

export async function startRedisServer(options: RedisServerOptions): Promise<RedisServer> {
  const port = options.port ?? (await freePort());
  mkdirSync(options.dir, { recursive: true });
  const args = [
    "--port", String(port),
    "--bind", "127.0.0.1",
    "--dir", resolve(options.dir),
    "--save", "",
    "--appendonly", options.appendOnly === false ? "no" : "yes",
    "--appendfsync", "everysec",
    "--maxmemory-policy", "noeviction",
    "--daemonize", "no",
    "--logfile", "",
  ];
  const url = `redis://127.0.0.1:${port}`;
  const server = new ManagedProcess({
    name: `redis-server :${port}`,
    command: options.binary ?? "redis-server",
    args,
    ready: () => waitFor(`redis-server on ${port}`, () => tcpAccepts(port)).then(() => undefined),
  });
  await server.start();
  return Object.assign(server, { port, url });
}

export interface InfluxdOptions {
  dir: string;
  httpPort?: number;
  /** The backup/restore RPC port (8088 in production), bound to loopback. */
  rpcPort?: number;
  authEnabled?: boolean;
  binary?: string;
}

export interface Influxd extends ManagedProcess {
  readonly httpPort: number;
  readonly rpcPort: number;
  readonly url: string;
  readonly backupAddr: string;
}

export async function startInfluxd(options: InfluxdOptions): Promise<Influxd> {
  const httpPort = options.httpPort ?? (await freePort());
  const rpcPort = options.rpcPort ?? (await freePort());
  const dir = resolve(options.dir);
  mkdirSync(dir, { recursive: true });
  const configPath = join(dir, "influxdb.conf");
  // Only the keys we need; everything else keeps influxd's defaults (tsi1 as in production).
  writeFileSync(
    configPath,
    [
      `reporting-disabled = true`,
      `bind-address = "127.0.0.1:${rpcPort}"`,
      `[meta]`,
      `  dir = "${join(dir, "meta")}"`,
      `[data]`,
      `  dir = "${join(dir, "data")}"`,
      `  wal-dir = "${join(dir, "wal")}"`,
      `  index-version = "tsi1"`,
      `  query-log-enabled = false`,
      `[http]`,
      `  bind-address = "127.0.0.1:${httpPort}"`,
      `  auth-enabled = ${options.authEnabled ? "true" : "false"}`,
      `  log-enabled = false`,
      `  max-body-size = 0`,
      `[monitor]`,
      `  store-enabled = false`,
      `[continuous_queries]`,
      `  enabled = false`,
      `[logging]`,
      `  level = "warn"`,
      ``,
    ].join("\n"),
  );
  const url = `http://127.0.0.1:${httpPort}`;
  const server = new ManagedProcess({
    name: `influxd :${httpPort}`,
    command: options.binary ?? "influxd",
    args: ["run", "-config", configPath],
    ready: () => waitFor(`influxd on ${httpPort}`, () => httpOk(`${url}/ping`), { timeoutMs: 30_000 }).then(() => undefined),
  });
  await server.start();
  return Object.assign(server, { httpPort, rpcPort, url, backupAddr: `127.0.0.1:${rpcPort}` });
}

/** Repository root, for spawning `bin/mixstack.cjs` from tests, benchmarks and `mixstack dev`. */
export const repoRoot = resolve(__dirname, "..", "..");

export interface ServiceProcessOptions {
  /** A `mixstack` command: `ingest`, `worker`, ... */
  command: string;
  args?: string[];
  env: NodeJS.ProcessEnv;
  /** How to tell the service is up; defaults to "the process is alive". */
  ready?: () => Promise<void>;
}

/** Starts one of our own services as a separate process, exactly as `npx mixstack <command>` would. */
export async function startServiceProcess(options: ServiceProcessOptions): Promise<ManagedProcess> {
  const service = new ManagedProcess({
    name: `mixstack ${options.command}`,
    command: process.execPath,
    args: [join(repoRoot, "bin", "mixstack.cjs"), options.command, ...(options.args ?? [])],
    env: { LOG_LEVEL: "warn", ...options.env },
    cwd: repoRoot,
    ready: options.ready ?? (async () => undefined),
  });
  return service.start();
}

export { freePort, waitFor };
