import { resolve } from "node:path";
import { parseArgs } from "node:util";
import type { Command } from "../../services/core/command";
import { parseStackConfig, stackFile } from "../../config/load";
import { readStackFile } from "../graph/stack-file";
import { systemTools, type Tools } from "../deploy/tools";
import { isError } from "./check";
import { doctorChecks } from "./doctor";
import { observe } from "./observe";
import { renderReport } from "./report";

const USAGE = "usage: mixstack doctor [--stack NAME | NAME]";

export interface DoctorDependencies {
  root: string;
  tools: Tools;
  env: NodeJS.ProcessEnv;
  nodeVersion: string;
  home?: string;
  out: (text: string) => void;
  err: (text: string) => void;
}

/** `mixstack doctor --stack NAME`: what this machine lacks to deploy that stack, each with what to do. Exit 1 when something would stop a deploy. */
export async function doctor(argv: string[], deps: DoctorDependencies): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { stack: { type: "string" } }, allowPositionals: true, strict: true });
  } catch (error) {
    deps.err(`mixstack doctor: ${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const stack = parsed.values.stack ?? parsed.positionals[0] ?? "local";
  let config;
  try {
    const file = readStackFile(stack, deps.root);
    config = parseStackConfig({ stack, values: file.config, secretKeys: new Set(file.secretKeys) });
  } catch (error) {
    deps.err(`mixstack doctor: ${(error as Error).message}\n`);
    return 1;
  }
  const seen = await observe(config, deps);
  const checks = doctorChecks(config, seen);
  deps.out(renderReport(`mixstack doctor: stack "${stack}" (platform ${config.platform}, ${stackFile(stack)})`, checks, `npx mixstack doctor --stack ${stack}`));
  return checks.some(isError) ? 1 : 0;
}

export const doctorCommand: Command = {
  summary: "check this machine can deploy a stack (Pulumi, Docker, builder, cloud credentials, APIs); says what to do",
  usage: `${USAGE}\n\n  --stack NAME  stacks/Pulumi.NAME.yaml (default: local)`,
  run: (argv) =>
    doctor(argv, {
      root: resolve(__dirname, "..", ".."),
      tools: systemTools,
      env: process.env,
      nodeVersion: process.versions.node,
      out: (text) => process.stdout.write(text),
      err: (text) => process.stderr.write(text),
    }),
};
