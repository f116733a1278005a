import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { Command } from "../../services/core/command";
import { parseStackConfig } from "../../config/load";
import type { StackConfig } from "../../config/schema";
import { readStackFile } from "../graph/stack-file";
import { checkPrerequisites } from "./prerequisites";
import { systemTools, type Tools } from "./tools";

const USAGE = "usage: mixstack deploy [--stack NAME | NAME] [--preview]";

export interface DeployDependencies {
  /** The Pulumi project directory (Pulumi.yaml, stacks/). */
  root: string;
  tools: Tools;
  env: NodeJS.ProcessEnv;
  out: (text: string) => void;
  err: (text: string) => void;
}

/**
 * `mixstack deploy --stack NAME`: checks the prerequisites (stops at once, saying what is missing
 * and where to get it), then runs `pulumi up` with state in `<project>/.pulumi` (local file backend,
 * no Pulumi Cloud account) and a passphrase for the stack's secrets, and prints the URLs.
 */
export async function deploy(argv: string[], deps: DeployDependencies): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { stack: { type: "string" }, preview: { type: "boolean" } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    deps.err(`mixstack deploy: ${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const stack = parsed.values.stack ?? parsed.positionals[0] ?? "local";

  // The program validates the config again; checking it here first stops a bad stack file before Pulumi starts.
  let config: StackConfig;
  try {
    const file = readStackFile(stack, deps.root);
    config = parseStackConfig({ stack, values: file.config, secretKeys: new Set(file.secretKeys) });
  } catch (error) {
    deps.err(`mixstack deploy: ${(error as Error).message}\n`);
    return 1;
  }

  const needs = config.platform === "docker" ? { docker: true, dockerHost: config.docker.host } : { docker: false };
  const missing = await checkPrerequisites(deps.tools, deps.env, needs);
  if (missing.length > 0) {
    deps.err(
      [
        `mixstack deploy: cannot deploy stack "${stack}" from this machine yet:`,
        ...missing.flatMap((m) => [`  - ${m.what}`, `    ${m.fix}`]),
        "Then run the same command again.",
        "",
      ].join("\n"),
    );
    return 1;
  }

  const env = pulumiEnvironment(deps, stack);
  const pulumi = (args: string[]) => deps.tools.interactive("pulumi", [...args, "--cwd", deps.root], env);
  if ((await pulumi(["stack", "select", "--create", stack, "--secrets-provider", "passphrase"])) !== 0) {
    deps.err(`mixstack deploy: could not select or create stack "${stack}" (see above)\n`);
    return 1;
  }
  const up = await pulumi([parsed.values.preview ? "preview" : "up", "--stack", stack, ...(parsed.values.preview ? [] : ["--yes"])]);
  if (up !== 0) {
    deps.err(`mixstack deploy: pulumi ${parsed.values.preview ? "preview" : "up"} failed (see above)\n`);
    return up;
  }
  if (parsed.values.preview) return 0;

  const outputs = await deps.tools.capture("pulumi", ["stack", "output", "--stack", stack, "--json", "--show-secrets", "--cwd", deps.root], env);
  if (outputs.code !== 0) {
    deps.err(`mixstack deploy: deployed, but reading the outputs failed: ${outputs.stderr.trim()}\n`);
    return 1;
  }
  deps.out(summary(stack, JSON.parse(outputs.stdout) as Record<string, unknown>, env));
  return 0;
}

/**
 * State in `<project>/.pulumi` and a per-stack passphrase file next to it, unless the user chose
 * their own backend or passphrase.
 */
function pulumiEnvironment(deps: DeployDependencies, stack: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...deps.env, PULUMI_SKIP_UPDATE_CHECK: "true" };
  const stateDir = join(deps.root, ".pulumi");
  if (!env.PULUMI_BACKEND_URL) {
    mkdirSync(stateDir, { recursive: true });
    env.PULUMI_BACKEND_URL = `file://${stateDir}`;
  }
  if (!env.PULUMI_CONFIG_PASSPHRASE && !env.PULUMI_CONFIG_PASSPHRASE_FILE) {
    mkdirSync(stateDir, { recursive: true });
    const file = join(stateDir, `passphrase.${stack}`);
    if (!existsSync(file)) {
      writeFileSync(file, `${randomBytes(24).toString("base64url")}\n`, { mode: 0o600 });
      chmodSync(file, 0o600);
      deps.out(`Generated the passphrase that encrypts stack "${stack}"'s secrets: ${file} (keep it with .pulumi/)\n`);
    }
    env.PULUMI_CONFIG_PASSPHRASE_FILE = file;
  }
  return env;
}

function summary(stack: string, outputs: Record<string, unknown>, env: NodeJS.ProcessEnv): string {
  const text = (key: string) => (typeof outputs[key] === "string" ? (outputs[key] as string) : "");
  const prefix = [
    env.PULUMI_BACKEND_URL ? `PULUMI_BACKEND_URL=${env.PULUMI_BACKEND_URL}` : "",
    env.PULUMI_CONFIG_PASSPHRASE_FILE ? `PULUMI_CONFIG_PASSPHRASE_FILE=${env.PULUMI_CONFIG_PASSPHRASE_FILE}` : "",
  ]
    .filter(Boolean)
    .join(" ");
  return [
    "",
    `mixstack stack "${stack}" is up.`,
    `  ingest (SDK api_host)  ${text("ingestUrl")}`,
    `  Grafana                ${text("grafanaUrl")}  (user admin)`,
    `  project token          ${text("projectToken")}`,
    `  backups                ${text("backupTarget")}`,
    "",
    "Grafana admin password:",
    `  ${prefix} pulumi stack output grafanaAdminPassword --show-secrets --stack ${stack}`,
    "",
    "Send events from a web page:",
    ...text("mixpanelSnippet").split("\n").map((line) => `  ${line}`),
    "",
  ].join("\n");
}

const projectRoot = resolve(__dirname, "..", "..");

export const deployCommand: Command = {
  summary: "deploy a stack with the Pulumi CLI (local state and passphrase; checks Docker and Pulumi first)",
  usage: `${USAGE}\n\n  --stack NAME  stacks/Pulumi.NAME.yaml (default: local)\n  --preview     show what would change, change nothing`,
  run: (argv) =>
    deploy(argv, {
      root: projectRoot,
      tools: systemTools,
      env: process.env,
      out: (text) => process.stdout.write(text),
      err: (text) => process.stderr.write(text),
    }),
};
