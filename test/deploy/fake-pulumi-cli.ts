import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseDocument } from "yaml";
import type { ToolResult, Tools } from "../../cli/deploy/tools";

/**
 * A fake Pulumi CLI (and a Docker engine that answers) behind the `Tools` seam of `mixstack deploy`,
 * modelling what decides whether a documented `--stack` workflow works:
 * - where a stack lives: the backend of `PULUMI_BACKEND_URL`, or the one `pulumi login` chose when
 *   it is unset ("the user's default backend"); a command on a stack that backend does not hold
 *   fails with Pulumi's "no stack named '<name>' found";
 * - how secrets are encrypted: a stack's secrets provider. `passphrase` needs
 *   `PULUMI_CONFIG_PASSPHRASE(_FILE)` and writes the stack file's `encryptionsalt`; a stack created
 *   where the file already has a salt must use the same passphrase ("incorrect passphrase"); a
 *   `secure:` value encrypted by another key cannot be decrypted ("failed to decrypt").
 * The stack file is a real file in the project directory, edited as the CLI edits it.
 */

/** What `pulumi login` chose when PULUMI_BACKEND_URL is unset (Pulumi Cloud by default: service-encrypted secrets). */
export const DEFAULT_BACKEND = "user-default-backend";

interface FakeStack {
  provider: "passphrase" | "service";
  /** Key id: a passphrase's hash, or the service's key for this stack. */
  key: string;
}

export class FakePulumiCli implements Tools {
  readonly backends = new Map<string, Map<string, FakeStack>>();
  readonly calls: Array<{ program: string; args: string[]; backend: string }> = [];
  /** Secret config values an `up` decrypted, by stack. */
  readonly decrypted = new Map<string, Record<string, string>>();

  /** Whether `pulumi login` was done (the default backend answers `stack ls`). */
  loggedIn = false;

  constructor(private readonly root: string) {}

  async capture(program: string, args: string[], env: NodeJS.ProcessEnv): Promise<ToolResult> {
    return this.run(program, args, env);
  }

  async interactive(program: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
    return this.run(program, args, env).code;
  }

  run(program: string, rawArgs: string[], env: NodeJS.ProcessEnv): ToolResult {
    const backend = env.PULUMI_BACKEND_URL ?? DEFAULT_BACKEND;
    const args = withoutOption(rawArgs, "--cwd");
    this.calls.push({ program, args, backend });
    if (program === "docker") return ok("27.3.1");
    if (program !== "pulumi") return { code: 127, stdout: "", stderr: `${program}: not found` };
    const stacks = this.backends.get(backend) ?? new Map<string, FakeStack>();
    this.backends.set(backend, stacks);
    const [verb, sub] = args;
    const stackName = optionValue(args, "--stack") ?? optionValue(args, "-s");
    if (verb === "version") return ok("v3.248.0");
    if (verb === "stack" && sub === "ls") {
      if (backend === DEFAULT_BACKEND && !this.loggedIn) return fail("error: PULUMI_ACCESS_TOKEN must be set for login during non-interactive CLI sessions");
      return ok(JSON.stringify([...stacks.keys()].map((name) => ({ name }))));
    }
    if (verb === "stack" && (sub === "select" || sub === "init")) {
      const name = optionValue(args, "--stack") ?? args.slice(2).find((a) => !a.startsWith("-"))!;
      if (stacks.has(name)) return sub === "init" ? fail(`error: stack '${name}' already exists`) : ok();
      if (sub === "select" && !args.includes("--create")) return fail(`error: no stack named '${name}' found`);
      const provider = optionValue(args, "--secrets-provider") ?? (backend.startsWith("file://") ? "passphrase" : "service");
      if (provider === "passphrase") {
        const passphrase = passphraseOf(env);
        if (passphrase === undefined) return fail("error: passphrase must be set with PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE environment variables");
        const key = keyOf(passphrase);
        const salt = this.readStackFile(name).get("encryptionsalt") as string | undefined;
        if (salt !== undefined && salt !== `v1:${key}`) return fail("error: incorrect passphrase, please set PULUMI_CONFIG_PASSPHRASE to the correct passphrase");
        if (salt === undefined) this.editStackFile(name, (doc) => doc.set("encryptionsalt", `v1:${key}`));
        stacks.set(name, { provider, key });
        this.checkpoint(backend, name);
      } else {
        stacks.set(name, { provider: "service", key: `service:${backend}/${name}` });
      }
      return ok();
    }
    if (!stackName) return fail("error: no stack selected");
    const stack = stacks.get(stackName);
    if (!stack) return fail(`error: no stack named '${stackName}' found`);
    const key = stack.provider === "passphrase" ? passphraseOf(env) : stack.key;
    if (stack.provider === "passphrase" && key === undefined) {
      return fail("error: passphrase must be set with PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE environment variables");
    }
    const currentKey = stack.provider === "passphrase" ? keyOf(key!) : stack.key;
    if (verb === "config" && sub === "set") {
      const positional = args.slice(2).filter((a, i, all) => !a.startsWith("-") && all[i - 1] !== "--stack" && all[i - 1] !== "-s");
      const [configKey, value] = positional as [string, string];
      const fullKey = configKey.includes(":") ? configKey : `mixstack:${configKey}`;
      this.editStackFile(stackName, (doc) => {
        doc.setIn(["config", fullKey], args.includes("--secret") ? { secure: `v1:${currentKey}:${Buffer.from(value).toString("base64")}` } : value);
      });
      return ok();
    }
    if (verb === "up" || verb === "preview" || verb === "destroy" || (verb === "stack" && sub === "output")) {
      const config = (this.readStackFile(stackName).toJSON() as { config?: Record<string, unknown> }).config ?? {};
      const secrets: Record<string, string> = {};
      for (const [configKey, value] of Object.entries(config)) {
        if (typeof value !== "object" || value === null || !("secure" in value)) continue;
        const [, keyId, payload] = String((value as { secure: string }).secure).split(":");
        if (keyId !== currentKey) return fail(`error: failed to decrypt ${configKey}: the stack's secrets provider did not encrypt it (incorrect passphrase or another backend's key)`);
        secrets[configKey] = Buffer.from(payload!, "base64").toString();
      }
      if (verb === "up") this.decrypted.set(stackName, secrets);
      if (verb === "stack") return ok(JSON.stringify({ ingestUrl: "https://analytics.example.com:8080", grafanaUrl: "http://analytics.example.com:3000", projectToken: "tok", mixpanelSnippet: "", backupTarget: "file:///srv/mixstack/backups" }));
      return ok();
    }
    return fail(`fake pulumi: unsupported command ${args.join(" ")}`);
  }

  /** The file backend writes the stack's checkpoint under `<dir>/stacks/<project>/<stack>.json`. */
  private checkpoint(backend: string, stack: string): void {
    if (!backend.startsWith("file://")) return;
    const dir = join(backend.slice("file://".length), "stacks", "mixstack");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${stack}.json`), "{}");
  }

  private stackFile(stack: string): string {
    return join(this.root, "stacks", `Pulumi.${stack}.yaml`);
  }

  private readStackFile(stack: string) {
    const file = this.stackFile(stack);
    return parseDocument(existsSync(file) ? readFileSync(file, "utf8") : "");
  }

  private editStackFile(stack: string, edit: (doc: ReturnType<typeof parseDocument>) => void): void {
    const doc = this.readStackFile(stack);
    edit(doc);
    writeFileSync(this.stackFile(stack), doc.toString());
  }
}

function passphraseOf(env: NodeJS.ProcessEnv): string | undefined {
  if (env.PULUMI_CONFIG_PASSPHRASE !== undefined) return env.PULUMI_CONFIG_PASSPHRASE;
  if (env.PULUMI_CONFIG_PASSPHRASE_FILE && existsSync(env.PULUMI_CONFIG_PASSPHRASE_FILE)) return readFileSync(env.PULUMI_CONFIG_PASSPHRASE_FILE, "utf8").trim();
  return undefined;
}

const keyOf = (passphrase: string) => createHash("sha256").update(passphrase).digest("hex").slice(0, 16);
const ok = (stdout = ""): ToolResult => ({ code: 0, stdout, stderr: "" });
const fail = (stderr: string): ToolResult => ({ code: 255, stdout: "", stderr });

function optionValue(args: string[], option: string): string | undefined {
  const index = args.indexOf(option);
  return index >= 0 ? args[index + 1] : undefined;
}

function withoutOption(args: string[], option: string): string[] {
  const index = args.indexOf(option);
  return index >= 0 ? [...args.slice(0, index), ...args.slice(index + 2)] : args;
}
