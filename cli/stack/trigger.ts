import type { PlatformDescriptor } from "../../components/platform";
import { platformNamed, type TriggerClients } from "../../components/platforms";
import { parseBackupJob } from "./backup-job";
import type { StackOutputs } from "./outputs";

/**
 * `mixstack backup|backups|restore … --stack NAME`: reads the stack's `backupJob` output and runs
 * the same command where the stack's backup job runs. Everything it talks to is passed in.
 */

export interface StackTriggerDeps {
  outputs: StackOutputs;
  /** The client of the stack's platform (its descriptor's `trigger.client()`, or a fake), made when needed. */
  clients: { [P in keyof TriggerClients]: () => TriggerClients[P] };
  write: (text: string) => void;
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
  // Each platform runs it its own way (components/<platform>/trigger.ts).
  const platform = platformNamed(job.platform) as unknown as PlatformDescriptor;
  return platform.trigger.run(job, mixstackArgs, deps.clients[job.platform](), deps.write);
}
