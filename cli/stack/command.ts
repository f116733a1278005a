import type { Command, CommandTable } from "../../services/core/command";
import { platforms } from "../../components/platforms";
import { repoRoot } from "../../services/dev/processes";
import type { StackTriggerDeps } from "./trigger";

/**
 * Adds `--stack NAME` to service commands on the operator's machine: without it the command runs
 * here against the env, with it on the deployed stack. The Pulumi and cloud SDKs load only then.
 */
export function withStackOption(table: CommandTable, names: string[]): CommandTable {
  const wrapped: CommandTable = {};
  for (const name of names) {
    const load = table[name];
    if (!load) continue;
    wrapped[name] = async () => {
      const local = await load();
      const command: Command = {
        summary: `${local.summary} (--stack NAME: on that deployed stack)`,
        usage: `${local.usage ?? `usage: mixstack ${name}`}\n       add --stack NAME to run it on a deployed stack`,
        async run(argv) {
          const parsed = (require("./trigger") as typeof import("./trigger")).takeStackOption(argv);
          if (parsed instanceof Error) {
            process.stderr.write(`mixstack ${name}: ${parsed.message}\n`);
            return 2;
          }
          if (!parsed.stack) return local.run(argv);
          return runDeployed(parsed.stack, [name, ...parsed.rest]);
        },
      };
      return command;
    };
  }
  return wrapped;
}

async function runDeployed(stack: string, mixstackArgs: string[]): Promise<number> {
  const { triggerOnStack } = require("./trigger") as typeof import("./trigger");
  const { automationStackOutputs } = require("./outputs") as typeof import("./outputs");
  try {
    return await triggerOnStack(stack, mixstackArgs, {
      outputs: automationStackOutputs(repoRoot),
      clients: Object.fromEntries(platforms.map((platform) => [platform.name, () => platform.trigger.client()])) as StackTriggerDeps["clients"],
      write: (text) => process.stdout.write(text),
    });
  } catch (error) {
    process.stderr.write(`mixstack ${mixstackArgs[0]} --stack ${stack}: ${(error as Error).message}\n`);
    return 1;
  }
}
