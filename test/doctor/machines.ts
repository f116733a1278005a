import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NOT_FOUND, type ToolResult, type Tools } from "../../cli/deploy/tools";

/**
 * Machines for `mixstack doctor` tests: what each CLI answers, recorded. `bareMachine` has none of
 * them; `devMachine` replays what this project's development machine answered on 2026-12-03 (a
 * `docker` CLI without a daemon, the AWS CLI without credentials, gcloud without an account, no
 * Pulumi CLI), so the doctor output shown in the docs is checked against the current checks.
 */

export type Answer = (program: string, args: string[]) => ToolResult | undefined;

export class ScriptedTools implements Tools {
  readonly calls: string[] = [];
  constructor(private readonly answer: Answer) {}
  async capture(program: string, args: string[]): Promise<ToolResult> {
    this.calls.push(`${program} ${args.join(" ")}`);
    return this.answer(program, args) ?? { code: NOT_FOUND, stdout: "", stderr: "" };
  }
  async interactive(program: string, args: string[]): Promise<number> {
    return (await this.capture(program, args)).code;
  }
}

const ok = (stdout: string): ToolResult => ({ code: 0, stdout, stderr: "" });
const fail = (code: number, stderr: string): ToolResult => ({ code, stdout: "", stderr });

export const bareMachine: Answer = () => undefined;

export const devMachine: Answer = (program, args) => {
  if (program === "docker") {
    const host = args[0] === "--host" ? args[1] : undefined;
    if (host) {
      return fail(
        1,
        `error during connect: Get "http://docker.example.com/v1.50/version": command [ssh -o ConnectTimeout=30 -T -l deploy -- analytics.example.com docker system dial-stdio] has exited with exit status 255, make sure the URL is valid, and Docker 18.09 or later is installed on the remote host: stderr=ssh: Could not resolve hostname analytics.example.com: Name or service not known\n`,
      );
    }
    return fail(1, "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n");
  }
  if (program === "aws") return fail(253, '\nUnable to locate credentials. You can configure credentials by running "aws configure".\n');
  if (program === "gcloud" && args[0] === "config") return ok(JSON.stringify({ core: { disable_usage_reporting: "True" } }));
  return undefined;
};

/** A machine with everything: Pulumi, a local (or remote) engine of `arch`, AWS and Google credentials. */
export function equippedMachine(arch: "x86_64" | "aarch64", builderPlatforms: string): Answer {
  return (program, args) => {
    if (program === "pulumi" && args[0] === "version") return ok("v3.250.0\n");
    if (program === "docker" && args.includes("version")) return ok("27.3.1\n");
    if (program === "docker" && args.includes("info")) return ok(`linux/${arch}\n`);
    if (program === "docker" && args[0] === "buildx") return ok(`Name:   default\nDriver: docker\n\nNodes:\nName:      default\nStatus:    running\nPlatforms: ${builderPlatforms}\n`);
    if (program === "aws") return ok(JSON.stringify({ UserId: "AIDA", Account: "123456789012", Arn: "arn:aws:iam::123456789012:user/deployer" }));
    if (program === "gcloud" && args[0] === "config") return ok(JSON.stringify({ core: { account: "deployer@acme.example", project: "acme-analytics" } }));
    if (program === "gcloud" && args[0] === "services") {
      return ok(["serviceusage.googleapis.com", "cloudresourcemanager.googleapis.com", "compute.googleapis.com", "run.googleapis.com"].join("\n"));
    }
    return undefined;
  };
}

/** A home directory with Google Application Default Credentials (and nothing else). */
export function homeWithAdc(): string {
  const home = mkdtempSync(join(tmpdir(), "mixstack-doctor-home-"));
  mkdirSync(join(home, ".config", "gcloud"), { recursive: true });
  writeFileSync(join(home, ".config", "gcloud", "application_default_credentials.json"), "{}");
  return home;
}

export function emptyHome(): string {
  return mkdtempSync(join(tmpdir(), "mixstack-doctor-home-"));
}
