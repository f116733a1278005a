import type * as pulumi from "@pulumi/pulumi";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { OfflineMocks } from "../../cli/graph/offline";
import { evaluateForDeploy, keyOf, planStep, root, type Recorded, type ReplacementOptions, type StackSource, type Step } from "./support";

/**
 * A fake `pulumi up` against a fake Docker engine, one process per run (as each real `pulumi up` is),
 * with the engine's state kept in a checkpoint file between runs. It runs the real program under
 * Pulumi mocks; the mocks decide, per resource, what the engine would do (`planStep`: create,
 * replace, update or keep) and play the Docker provider for containers, as read in
 * kreuzwerker/terraform-provider-docker v4.5.0 (the upstream of @pulumi/docker 5.x):
 * - `attach: true`: create waits until the container stops, then records `exit_code` from
 *   `ContainerInspect` and succeeds whatever the code (resourceDockerContainerCreate/Read);
 * - `wait: true`: create waits until the health check reports healthy; a container that exits
 *   first never does, and create fails after the ID was set, which Pulumi stores as a resource with
 *   initialization errors (pulumi-terraform-bridge#2713).
 * A kept container keeps the outputs of the run that created it (no Read without `--refresh`).
 */

const CONTAINER = "docker:index/container:Container";

export interface FakeUpResult {
  /** Why the deployment failed (program error, provider error), or undefined. */
  failed?: string;
  /** What happened to each container, by container name. */
  steps: Record<string, Step>;
  /** Containers run in this deployment (created or replaced), with their exit codes. */
  runs: Array<{ container: string; exitCode: number }>;
  /** The recorded state of each container after the run, by container name. */
  recorded: Record<string, { exitCode?: number; initError: boolean }>;
}

interface Checkpoint {
  state: Record<string, Recorded>;
  attempts: Record<string, number>;
}

/**
 * Exit codes of each container's successive runs (`{ "mixstack-local-bootstrap": [1, 0] }`: fails
 * the first time, succeeds the second); containers not listed exit 0 (or stay up when long-running).
 */
export type Script = Record<string, number[]>;

class FakeDockerEngine extends OfflineMocks {
  readonly result: FakeUpResult = { steps: {}, runs: [], recorded: {} };

  constructor(
    private readonly checkpoint: Checkpoint,
    private readonly options: Map<string, ReplacementOptions>,
    private readonly script: Script,
  ) {
    super();
  }

  override newResource(args: pulumi.runtime.MockResourceArgs): { id: string | undefined; state: Record<string, unknown> } {
    const fresh = super.newResource(args);
    if (args.type !== CONTAINER) return fresh;
    const key = keyOf(args);
    const name = String(args.inputs.name);
    const old = this.checkpoint.state[key];
    const options = this.options.get(key) ?? {};
    const step = planStep(old, args.inputs, options);
    this.result.steps[name] = step;
    if (step === "same" || step === "update") {
      // An update with no diff changes nothing on a container; it clears the init errors.
      this.checkpoint.state[key] = { ...old!, options, initError: false };
      this.record(name, old!.outputs, false);
      return { id: fresh.id, state: old!.outputs };
    }
    const attempt = (this.checkpoint.attempts[name] ?? 0) + 1;
    this.checkpoint.attempts[name] = attempt;
    const scripted = this.script[name];
    const runsToCompletion = args.inputs.attach === true || scripted !== undefined;
    const exitCode = scripted?.[Math.min(attempt, scripted.length) - 1] ?? 0;
    const outputs: Record<string, unknown> = { ...fresh.state };
    delete outputs.exitCode;
    if (args.inputs.wait === true) {
      if (runsToCompletion && exitCode !== 0) {
        // Exited before it was healthy: the create fails, the container stays in state with init errors.
        this.result.runs.push({ container: name, exitCode });
        outputs.exitCode = exitCode;
        this.checkpoint.state[key] = { inputs: args.inputs, outputs, options, initError: true };
        this.record(name, outputs, true);
        throw new Error(`${name}: container failed to be in healthy state (it exited with code ${exitCode})`);
      }
    } else if (args.inputs.attach === true) {
      outputs.exitCode = exitCode;
    }
    if (runsToCompletion) this.result.runs.push({ container: name, exitCode });
    this.checkpoint.state[key] = { inputs: args.inputs, outputs, options, initError: false };
    this.record(name, outputs, false);
    return { id: fresh.id, state: outputs };
  }

  private record(name: string, outputs: Record<string, unknown>, initError: boolean): void {
    this.result.recorded[name] = { ...(typeof outputs.exitCode === "number" && { exitCode: outputs.exitCode }), initError };
  }
}

/** Runs one fake `pulumi up` in a child process; the checkpoint file carries the state to the next run. */
export function fakeUp(source: StackSource, checkpointFile: string, script: Script, timeoutMs = 90_000): Promise<FakeUpResult> {
  const resultFile = `${checkpointFile}.result.json`;
  rmSync(resultFile, { force: true });
  return new Promise((resolvePromise, reject) => {
    const child = spawn(join(root, "node_modules", ".bin", "tsx"), [__filename, JSON.stringify({ source, checkpointFile, script, resultFile })], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      // The Pulumi runtime turns the exit code to 1 when a failed program leaves promises behind: the result file decides.
      if (!existsSync(resultFile)) return reject(new Error(`fake pulumi up exited with ${code}:\n${output.slice(-4000)}`));
      resolvePromise(JSON.parse(readFileSync(resultFile, "utf8")) as FakeUpResult);
    });
  });
}

/** The child: one deployment. Program errors surface as unhandled rejections (Pulumi logs and fails the update). */
async function main(spec: { source: StackSource; checkpointFile: string; script: Script; resultFile: string }): Promise<void> {
  const checkpoint: Checkpoint = existsSync(spec.checkpointFile)
    ? (JSON.parse(readFileSync(spec.checkpointFile, "utf8")) as Checkpoint)
    : { state: {}, attempts: {} };
  const options = new Map<string, ReplacementOptions>();
  const engine = new FakeDockerEngine(checkpoint, options, spec.script);
  const failures: string[] = [];
  const finish = () => {
    if (failures.length > 0) engine.result.failed = failures[0];
    writeFileSync(spec.checkpointFile, JSON.stringify(checkpoint));
    writeFileSync(spec.resultFile, JSON.stringify(engine.result));
    process.exit(0);
  };
  process.on("unhandledRejection", (reason) => {
    failures.push(reason instanceof Error ? reason.message : String(reason));
    // A failed update stops here; what registered so far is in the state.
    setTimeout(finish, 2_000);
  });
  try {
    await evaluateForDeploy(spec.source, engine, options);
  } catch (error) {
    failures.push(error instanceof Error ? error.message : String(error));
  }
  finish();
}

if (require.main === module) void main(JSON.parse(process.argv[2]!));
