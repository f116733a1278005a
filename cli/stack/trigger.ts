import { parseBackupJob } from "./backup-job";
import { runOnAws, type AwsClients, type WaitOptions } from "./aws";
import { runOnDocker, type ProgramRunner } from "./docker";
import { runOnGcp, type CloudRunJobs } from "./gcp";
import type { StackOutputs } from "./outputs";

/**
 * `mixstack backup|backups|restore … --stack NAME`: reads the stack's `backupJob` output and runs
 * the same command where the stack's backup job runs. Everything it talks to is passed in.
 */

export interface StackTriggerDeps {
  outputs: StackOutputs;
  docker: ProgramRunner;
  aws: (region: string) => AwsClients;
  gcp: () => CloudRunJobs;
  write: (text: string) => void;
  awsWait?: WaitOptions;
}

/** Splits `--stack NAME` / `--stack=NAME` out of the arguments; the rest go to the remote command. */
export function takeStackOption(argv: string[]): { stack?: string; rest: string[] } | Error {
  const rest: string[] = [];
  let stack: string | undefined;
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index]!;
    if (arg === "--stack") {
      const value = argv[index + 1];
      if (!value || value.startsWith("-")) return new Error("--stack needs a stack name");
      stack = value;
      index += 1;
    } else if (arg.startsWith("--stack=")) {
      stack = arg.slice("--stack=".length);
      if (!stack) return new Error("--stack needs a stack name");
    } else rest.push(arg);
  }
  return { stack, rest };
}

export async function triggerOnStack(stack: string, mixstackArgs: string[], deps: StackTriggerDeps): Promise<number> {
  const job = parseBackupJob(stack, await deps.outputs.read(stack));
  if (job instanceof Error) throw job;
  deps.write(`stack ${stack} (${job.platform}): mixstack ${mixstackArgs.join(" ")}\n`);
  switch (job.platform) {
    case "docker":
      return runOnDocker(job, mixstackArgs, deps.docker);
    case "aws":
      return runOnAws(job, mixstackArgs, deps.aws(job.region), { write: deps.write, ...deps.awsWait });
    case "gcp":
      return runOnGcp(job, mixstackArgs, deps.gcp(), deps.write);
  }
}
