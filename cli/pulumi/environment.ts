import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Tools } from "../deploy/tools";

/**
 * Which Pulumi backend and secrets passphrase a stack of this project uses, decided the same way
 * for every `mixstack` command that runs the Pulumi CLI or the Automation API (`deploy`, `pulumi`,
 * `backup --stack`, ...), so that the `--stack` workflows of the docs all reach the same stack:
 * 1. `PULUMI_BACKEND_URL` in the environment: that backend, as the user set it up;
 * 2. the project's own `.pulumi/` holds the stack: that file backend and its passphrase file;
 * 3. the backend the user is logged in to (`pulumi login`) holds the stack: that one, untouched;
 * 4. otherwise a new stack in `.pulumi/`, with a passphrase generated into `.pulumi/passphrase.<stack>`
 *    (no Pulumi Cloud account needed).
 */

export type BackendChoice = "environment" | "project" | "login" | "new-project";

export interface StackEnvironment {
  /** The environment to run `pulumi` with. */
  env: NodeJS.ProcessEnv;
  choice: BackendChoice;
  /** For messages: where the state is. */
  backend: string;
  /** The passphrase file generated now, if any (say so: it must be kept with .pulumi/). */
  generatedPassphrase?: string;
}

export const PROJECT_NAME = "mixstack";

export function projectStateDir(root: string): string {
  return join(root, ".pulumi");
}

/** Where the file backend keeps a stack's checkpoint (project-scoped layout, and the older flat one). */
export function projectHoldsStack(root: string, stack: string): boolean {
  const dir = projectStateDir(root);
  return [join(dir, "stacks", PROJECT_NAME, `${stack}.json`), join(dir, "stacks", `${stack}.json`)].some((file) => existsSync(file));
}

export interface EnvironmentDependencies {
  root: string;
  env: NodeJS.ProcessEnv;
  tools: Tools;
}

export async function stackEnvironment(stack: string, deps: EnvironmentDependencies): Promise<StackEnvironment> {
  const base: NodeJS.ProcessEnv = { ...deps.env, PULUMI_SKIP_UPDATE_CHECK: "true" };
  if (deps.env.PULUMI_BACKEND_URL) {
    return withPassphrase(stack, deps.root, base, { env: base, choice: "environment", backend: deps.env.PULUMI_BACKEND_URL });
  }
  const fileBackend = `file://${projectStateDir(deps.root)}`;
  if (projectHoldsStack(deps.root, stack)) {
    return withPassphrase(stack, deps.root, base, { env: { ...base, PULUMI_BACKEND_URL: fileBackend }, choice: "project", backend: fileBackend });
  }
  if (await loginBackendHolds(stack, deps, base)) return { env: base, choice: "login", backend: "the backend of `pulumi login`" };
  mkdirSync(projectStateDir(deps.root), { recursive: true });
  return withPassphrase(stack, deps.root, base, { env: { ...base, PULUMI_BACKEND_URL: fileBackend }, choice: "new-project", backend: fileBackend });
}

/** `pulumi stack ls --json` in the user's environment lists this project's stacks of the logged-in backend; any failure (not logged in) is "no". */
async function loginBackendHolds(stack: string, deps: EnvironmentDependencies, env: NodeJS.ProcessEnv): Promise<boolean> {
  const listed = await deps.tools.capture("pulumi", ["stack", "ls", "--json", "--cwd", deps.root], { ...env, PULUMI_NON_INTERACTIVE: "true" });
  if (listed.code !== 0) return false;
  try {
    const stacks = JSON.parse(listed.stdout) as Array<{ name?: string }>;
    // Names may be org-qualified (`acme/prod`) in Pulumi Cloud.
    return stacks.some((entry) => entry.name === stack || entry.name?.split("/").pop() === stack);
  } catch {
    return false;
  }
}

/** Uses the user's passphrase when set; otherwise the project's passphrase file for this stack, generated once. */
function withPassphrase(stack: string, root: string, base: NodeJS.ProcessEnv, chosen: StackEnvironment): StackEnvironment {
  if (base.PULUMI_CONFIG_PASSPHRASE !== undefined || base.PULUMI_CONFIG_PASSPHRASE_FILE) return chosen;
  const file = join(projectStateDir(root), `passphrase.${stack}`);
  let generatedPassphrase: string | undefined;
  if (!existsSync(file)) {
    mkdirSync(projectStateDir(root), { recursive: true });
    writeFileSync(file, `${randomBytes(24).toString("base64url")}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
    generatedPassphrase = file;
  }
  return { ...chosen, env: { ...chosen.env, PULUMI_CONFIG_PASSPHRASE_FILE: file }, generatedPassphrase };
}
