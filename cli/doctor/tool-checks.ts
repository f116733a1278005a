import { DOCKER_INSTALL_URL, PULUMI_INSTALL_URL } from "../deploy/prerequisites";
import { NOT_FOUND, type ToolResult } from "../deploy/tools";
import { failed, firstLine, passed, versionAtLeast, warned, type Check } from "./check";

/** Checks of the tools on the deployer's machine (Node.js, the Pulumi CLI, Docker and its builder). Pure. */

export function nodeCheck(version: string, minimum: string): Check {
  return versionAtLeast(version, minimum)
    ? passed(`Node.js ${version} (needs ${minimum} or later)`)
    : failed(`Node.js ${version} is older than ${minimum}`, `install Node.js ${minimum} or later (https://nodejs.org/en/download), then \`npm ci\` again`);
}

/** `pulumi version`: present, and at least the version of the SDK this program uses (older engines miss its resource options). */
export function pulumiCliCheck(result: ToolResult, minimum: string): Check {
  if (result.code === NOT_FOUND) {
    return failed("the Pulumi CLI (`pulumi`) is not on your PATH", `install it: curl -fsSL https://get.pulumi.com | sh (or see ${PULUMI_INSTALL_URL}); no Pulumi Cloud account is needed`);
  }
  if (result.code !== 0) return failed(`\`pulumi version\` failed: ${firstLine(result.stderr || result.stdout)}`, `reinstall it from ${PULUMI_INSTALL_URL}`);
  const version = /v?(\d+\.\d+\.\d+)/.exec(result.stdout)?.[1];
  if (!version) return warned(`\`pulumi version\` printed "${firstLine(result.stdout)}", not a version`, `check the installation: ${PULUMI_INSTALL_URL}`);
  return versionAtLeast(version, minimum)
    ? passed(`Pulumi CLI ${version} (needs ${minimum} or later)`)
    : failed(`Pulumi CLI ${version} is older than ${minimum}, the SDK version of this program`, "upgrade it: `pulumi self-update` (or reinstall with curl -fsSL https://get.pulumi.com | sh)");
}

export interface EngineObservation {
  /** `docker [--host H] version --format {{.Server.Version}}`. */
  version: ToolResult;
  /** `docker [--host H] info --format {{.OSType}}/{{.Architecture}}` when the engine answered. */
  info?: ToolResult;
}

/** Where the engine is, in messages. */
export function engineName(host: string | undefined): string {
  return host ? `the Docker engine at ${host}` : "the local Docker engine";
}

export function dockerEngineCheck(engine: EngineObservation, host: string | undefined, purpose: string): Check {
  const where = engineName(host);
  if (engine.version.code === NOT_FOUND) {
    return failed(`Docker (\`docker\`) is not on your PATH; ${purpose}`, `install Docker Engine (${DOCKER_INSTALL_URL}) or Docker Desktop (https://docs.docker.com/get-started/get-docker/)`);
  }
  if (engine.version.code !== 0) {
    return failed(
      `${where} is not reachable: ${firstLine(engine.version.stderr || engine.version.stdout)}`,
      host
        ? `check that \`docker --host ${host} info\` works from this machine (SSH key in your agent, Docker running on that host, your user in its docker group)`
        : "start Docker (Docker Desktop, or `sudo systemctl start docker`) and make sure your user may use it (`docker info`)",
    );
  }
  const platform = platformOf(engine.info?.stdout ?? "");
  return passed(`${where} answers: Docker ${engine.version.stdout.trim()}${platform ? ` on ${platform}` : ""}`);
}

/** `linux/x86_64` → `linux/amd64`, `linux/aarch64` → `linux/arm64`. */
export function platformOf(info: string): string | undefined {
  const [os, arch] = info.trim().split("/");
  if (!os || !arch) return undefined;
  const normalized: Record<string, string> = { x86_64: "amd64", amd64: "amd64", aarch64: "arm64", arm64: "arm64" };
  return `${os}/${normalized[arch] ?? arch}`;
}

/** Platforms the default builder lists (`docker buildx inspect`: "Platforms: linux/arm64, linux/amd64, ..."). */
export function builderPlatforms(inspect: ToolResult): string[] | undefined {
  if (inspect.code !== 0) return undefined;
  const lines = inspect.stdout.split("\n").filter((line) => /^\s*Platforms:/.test(line));
  if (lines.length === 0) return undefined;
  return lines.flatMap((line) => line.replace(/^\s*Platforms:/, "").split(",").map((p) => p.trim().replace(/\*$/, "")).filter(Boolean));
}

export interface CrossBuild {
  /** Platform of the engine that builds (`linux/arm64`), when known. */
  enginePlatform: string | undefined;
  target: string;
  /** Commands the images run for the target platform, by Dockerfile (cli/doctor/dockerfile.ts). */
  emulated: Record<string, string[]>;
  /** `docker buildx inspect` of the default builder. */
  builder: ToolResult | undefined;
}

/**
 * Images for `target` built on an engine of another architecture: fine when no stage runs a
 * command for the target, or when the builder can emulate it (QEMU in binfmt_misc).
 */
export function crossBuildCheck(build: CrossBuild): Check {
  if (!build.enginePlatform) return warned(`cannot tell the architecture of the engine that builds the ${build.target} images`, "check that `docker info` works, then run this again");
  if (build.enginePlatform === build.target) return passed(`the images are built for ${build.target} on a ${build.enginePlatform} engine: no emulation`);
  const needing = Object.entries(build.emulated).filter(([, commands]) => commands.length > 0);
  if (needing.length === 0) return passed(`the images are built for ${build.target} on a ${build.enginePlatform} engine without emulation (no stage runs ${build.target} commands)`);
  const platforms = build.builder ? builderPlatforms(build.builder) : undefined;
  const files = needing.map(([file]) => file).join(", ");
  if (platforms?.includes(build.target)) return passed(`the images are built for ${build.target} on a ${build.enginePlatform} engine; its builder emulates ${build.target} (${files} run commands for it)`);
  const fix = `register QEMU for ${build.target.split("/")[1]}: \`docker run --privileged --rm tonistiigi/binfmt --install ${build.target.split("/")[1]}\` (Docker Desktop has it already), then check \`docker buildx inspect\` lists ${build.target}`;
  return platforms
    ? failed(`${files} run commands for ${build.target}, and the builder of this ${build.enginePlatform} engine cannot run them (it lists ${platforms.join(", ")})`, fix)
    : warned(`${files} run commands for ${build.target} on this ${build.enginePlatform} engine; cannot see whether its builder emulates ${build.target} (\`docker buildx inspect\` failed)`, fix);
}
