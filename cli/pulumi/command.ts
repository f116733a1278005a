import { resolve } from "node:path";
import type { Command } from "../../services/core/command";
import { systemTools, type Tools } from "../deploy/tools";
import { stackEnvironment } from "./environment";

const USAGE = "usage: mixstack pulumi --stack NAME <pulumi command and options>";

export interface PulumiPassthroughDependencies {
  root: string;
  tools: Tools;
  env: NodeJS.ProcessEnv;
  out: (text: string) => void;
  err: (text: string) => void;
}

/**
 * `mixstack pulumi --stack NAME <args>`: the Pulumi CLI on that stack with the backend and
 * passphrase `mixstack deploy` uses (cli/pulumi/environment.ts), creating the stack there first
 * when it does not exist yet, so `mixstack pulumi --stack remote config set --secret …` works before
 * the first deploy. The rest of the arguments go to `pulumi` unchanged, with `--stack NAME`.
 */
export async function pulumiPassthrough(argv: string[], deps: PulumiPassthroughDependencies): Promise<number> {
  const index = argv.findIndex((arg) => arg === "--stack" || arg === "-s");
  const stack = index >= 0 ? argv[index + 1] : argv.find((arg) => arg.startsWith("--stack="))?.slice("--stack=".length);
  if (!stack) {
    deps.err(`mixstack pulumi: --stack NAME is required\n${USAGE}\n`);
    return 2;
  }
  const rest = index >= 0 ? [...argv.slice(0, index), ...argv.slice(index + 2)] : argv.filter((arg) => !arg.startsWith("--stack="));
  const args = rest[0] === "--" ? rest.slice(1) : rest;
  if (args.length === 0) {
    deps.err(`mixstack pulumi: which pulumi command?\n${USAGE}\n`);
    return 2;
  }
  const chosen = await stackEnvironment(stack, deps);
  if (chosen.generatedPassphrase) deps.out(`Generated the passphrase that encrypts stack "${stack}"'s secrets: ${chosen.generatedPassphrase} (keep it with .pulumi/)\n`);
  if (chosen.choice === "new-project" || chosen.choice === "project") {
    const created = await deps.tools.interactive("pulumi", ["stack", "select", "--create", stack, "--secrets-provider", "passphrase", "--cwd", deps.root], chosen.env);
    if (created !== 0) {
      deps.err(`mixstack pulumi: could not select or create stack "${stack}" in ${chosen.backend} (see above)\n`);
      return created;
    }
  }
  return deps.tools.interactive("pulumi", [...args, "--stack", stack, "--cwd", deps.root], chosen.env);
}

export const pulumiCommand: Command = {
  summary: "run a Pulumi CLI command on a stack with mixstack deploy's backend and passphrase",
  usage: `${USAGE}\n\n  e.g. mixstack pulumi --stack remote config set --secret grafanaAdminPassword '…'\n       mixstack pulumi --stack remote stack output grafanaUrl`,
  run: (argv) =>
    pulumiPassthrough(argv, {
      root: resolve(__dirname, "..", ".."),
      tools: systemTools,
      env: process.env,
      out: (text) => process.stdout.write(text),
      err: (text) => process.stderr.write(text),
    }),
};
