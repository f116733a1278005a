import { spawn } from "node:child_process";
import type { DockerBackupJob } from "./backup-job";

type DockerJob = DockerBackupJob;

/** Runs a program with the terminal's stdio and resolves with its exit code. */
export type ProgramRunner = (program: string, args: string[]) => Promise<number>;

export const spawnProgram: ProgramRunner = (program, args) =>
  new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: "inherit" });
    child.on("error", (error) => reject(new Error(`could not run ${program}: ${error.message}`)));
    child.on("close", (code) => resolve(code ?? 1));
  });

/**
 * Docker: the stack's scheduler container already has the env, the network and the backups volume,
 * so the command runs inside it (`docker exec`), on the stack's Docker host.
 */
export function dockerExecArgs(job: DockerJob, mixstackArgs: string[], interactive: boolean): string[] {
  return [...(job.dockerHost ? ["--host", job.dockerHost] : []), "exec", ...(interactive ? ["-t"] : []), job.container, "mixstack", ...mixstackArgs];
}

export function runOnDocker(job: DockerJob, mixstackArgs: string[], run: ProgramRunner = spawnProgram, interactive = Boolean(process.stdout.isTTY)): Promise<number> {
  return run("docker", dockerExecArgs(job, mixstackArgs, interactive));
}
