import { NOT_FOUND, type Tools } from "./tools";

/** A missing prerequisite: what is missing and how to get it. */
export interface Missing {
  what: string;
  fix: string;
}

export const PULUMI_INSTALL_URL = "https://www.pulumi.com/docs/iac/download-install/";
export const DOCKER_INSTALL_URL = "https://docs.docker.com/engine/install/";

/**
 * Checks what `pulumi up` of a Docker stack needs on this machine: the Pulumi CLI, and a Docker
 * engine reachable at the stack's host (the local one unless `mixstack:docker.host` says otherwise).
 * Returns every problem at once, so the user fixes them in one go.
 */
export async function checkPrerequisites(
  tools: Tools,
  env: NodeJS.ProcessEnv,
  needs: { docker: boolean; dockerHost?: string },
): Promise<Missing[]> {
  const missing: Missing[] = [];
  const pulumi = await tools.capture("pulumi", ["version"], env);
  if (pulumi.code === NOT_FOUND) {
    missing.push({
      what: "the Pulumi CLI (`pulumi`) is not on your PATH",
      fix: `install it: curl -fsSL https://get.pulumi.com | sh (or see ${PULUMI_INSTALL_URL}); no Pulumi Cloud account is needed`,
    });
  } else if (pulumi.code !== 0) {
    missing.push({ what: `\`pulumi version\` failed: ${firstLine(pulumi.stderr || pulumi.stdout)}`, fix: `reinstall it from ${PULUMI_INSTALL_URL}` });
  }
  if (needs.docker) {
    const hostArgs = needs.dockerHost ? ["--host", needs.dockerHost] : [];
    const docker = await tools.capture("docker", [...hostArgs, "version", "--format", "{{.Server.Version}}"], env);
    const where = needs.dockerHost ?? "the local Docker engine";
    if (docker.code === NOT_FOUND) {
      missing.push({
        what: "Docker (`docker`) is not on your PATH",
        fix: `install Docker Engine (${DOCKER_INSTALL_URL}) or Docker Desktop (https://docs.docker.com/get-started/get-docker/)`,
      });
    } else if (docker.code !== 0) {
      missing.push({
        what: `${where} is not reachable: ${firstLine(docker.stderr || docker.stdout)}`,
        fix: needs.dockerHost
          ? `check that \`docker --host ${needs.dockerHost} info\` works (SSH access, Docker running on that host)`
          : "start Docker (Docker Desktop, or `sudo systemctl start docker`) and make sure your user may use it (`docker info`)",
      });
    }
  }
  return missing;
}

function firstLine(text: string): string {
  return text.trim().split("\n")[0] ?? "";
}
