import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import type { StackConfig } from "../../config/schema";
import { stackFile } from "../../config/load";
import { builds } from "../../components/topology";
import type { ToolResult, Tools } from "../deploy/tools";
import { awsCredentialSources, type AwsObservation, type GcpObservation } from "./cloud-checks";
import type { StateObservation } from "./state-checks";
import type { EngineObservation } from "./tool-checks";

/**
 * The edge of `mixstack doctor`: what this machine says. It runs `pulumi version`, `docker
 * version/info`, `docker buildx inspect`, `aws sts get-caller-identity`, `gcloud config list` and
 * `gcloud services list` only where the platform needs them and only when the previous answer makes
 * the next one meaningful; a CLI that is not installed answers 127 (cli/deploy/tools.ts).
 */

export interface Observations {
  node: string;
  pulumi: ToolResult;
  /** The engine that builds and runs (Docker platform) or builds and pushes (AWS, GCP) the images. */
  engine: EngineObservation;
  /** `docker buildx inspect` of the default builder (AWS, GCP: images for linux/amd64). */
  builder: ToolResult | undefined;
  /** Dockerfiles the program builds, by path, with their text. */
  dockerfiles: Record<string, string>;
  aws: AwsObservation | undefined;
  gcp: GcpObservation | undefined;
  state: StateObservation;
}

export interface ObserveDependencies {
  tools: Tools;
  env: NodeJS.ProcessEnv;
  /** The Pulumi project directory (Pulumi.yaml, stacks/, .pulumi/). */
  root: string;
  nodeVersion: string;
  home?: string;
}

export async function observe(config: StackConfig, deps: ObserveDependencies): Promise<Observations> {
  const { tools, env, root } = deps;
  const home = deps.home ?? homedir();
  const run = (program: string, args: string[]) => tools.capture(program, args, env);
  const pulumi = await run("pulumi", ["version"]);

  const host = config.platform === "docker" ? config.docker.host : undefined;
  const hostArgs = host ? ["--host", host] : [];
  const version = await run("docker", [...hostArgs, "version", "--format", "{{.Server.Version}}"]);
  const engine: EngineObservation = { version };
  if (version.code === 0) engine.info = await run("docker", [...hostArgs, "info", "--format", "{{.OSType}}/{{.Architecture}}"]);
  const builder = config.platform !== "docker" && version.code === 0 ? await run("docker", ["buildx", "inspect"]) : undefined;

  const dockerfiles: Record<string, string> = {};
  for (const { context, dockerfile } of Object.values(builds)) {
    const path = context === "." ? dockerfile : `${context}/${dockerfile}`;
    const file = join(root, path);
    if (existsSync(file)) dockerfiles[path] = readFileSync(file, "utf8");
  }

  let aws: AwsObservation | undefined;
  if (config.platform === "aws") {
    aws = {
      identity: await run("aws", ["sts", "get-caller-identity", "--output", "json", "--region", config.aws.region]),
      sources: awsCredentialSources(env, {
        credentials: existsSync(env.AWS_SHARED_CREDENTIALS_FILE ?? join(home, ".aws", "credentials")),
        config: existsSync(env.AWS_CONFIG_FILE ?? join(home, ".aws", "config")),
      }),
      profile: env.AWS_PROFILE,
    };
  }

  let gcp: GcpObservation | undefined;
  if (config.platform === "gcp") {
    const fromEnv = env.GOOGLE_APPLICATION_CREDENTIALS !== undefined;
    const adcPath = env.GOOGLE_APPLICATION_CREDENTIALS ?? join(env.CLOUDSDK_CONFIG ?? join(home, ".config", "gcloud"), "application_default_credentials.json");
    const gcloudConfig = await run("gcloud", ["config", "list", "--format=json"]);
    gcp = {
      config: gcloudConfig,
      adc: { path: adcPath, exists: existsSync(adcPath), fromEnv },
      // Listing needs an active account; without one gcloudAccountCheck already says what to do.
      services: gcloudConfig.code === 0 && hasAccount(gcloudConfig.stdout) ? await run("gcloud", ["services", "list", "--enabled", "--project", config.gcp.project, "--format=value(config.name)"]) : undefined,
    };
  }

  return { node: deps.nodeVersion, pulumi, engine, builder, dockerfiles, aws, gcp, state: observeState(config.stack, root, env) };
}

function observeState(stack: string, root: string, env: NodeJS.ProcessEnv): StateObservation {
  const file = join(root, stackFile(stack));
  const document = existsSync(file) ? ((parse(readFileSync(file, "utf8")) ?? {}) as { encryptionsalt?: unknown; config?: Record<string, unknown> }) : {};
  const secureKeys = Object.entries(document.config ?? {})
    .filter(([, value]) => JSON.stringify(value ?? null).includes('"secure"'))
    .map(([key]) => key);
  const stateDir = join(root, ".pulumi");
  return {
    stack,
    backendUrl: env.PULUMI_BACKEND_URL || undefined,
    passphraseInEnv: env.PULUMI_CONFIG_PASSPHRASE !== undefined || Boolean(env.PULUMI_CONFIG_PASSPHRASE_FILE),
    passphraseFile: existsSync(join(stateDir, `passphrase.${stack}`)),
    // The file backend keeps project-scoped stacks under stacks/<project>/ (older layouts: stacks/).
    stateInProject: [join(stateDir, "stacks", "mixstack", `${stack}.json`), join(stateDir, "stacks", `${stack}.json`)].some((path) => existsSync(path)),
    hasSalt: typeof document.encryptionsalt === "string",
    secureKeys,
  };
}

function hasAccount(configJson: string): boolean {
  try {
    return Boolean((JSON.parse(configJson) as { core?: { account?: string } }).core?.account);
  } catch {
    return false;
  }
}
