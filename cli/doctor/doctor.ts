import { dependencies, engines } from "../../package.json";
import type { StackConfig } from "../../config/schema";
import { requiredApis } from "../../components/gcp/apis";
import type { Check } from "./check";
import { awsCredentialsCheck, gcloudAccountCheck, gcpApisCheck, gcpCredentialsCheck } from "./cloud-checks";
import { targetPlatformCommands } from "./dockerfile";
import type { Observations } from "./observe";
import { stateCheck } from "./state-checks";
import { crossBuildCheck, dockerEngineCheck, nodeCheck, platformOf, pulumiCliCheck } from "./tool-checks";

/** The platform AWS and GCP run our images on (Fargate, Cloud Run, the x86 state VM). */
export const CLOUD_IMAGE_PLATFORM = "linux/amd64";

export const MINIMUM_NODE = engines.node.replace(/^>=\s*/, "");
/** The Pulumi engine must know the resource options of the SDK the program is built with. */
export const MINIMUM_PULUMI = dependencies["@pulumi/pulumi"];

/**
 * Everything `mixstack doctor --stack NAME` and the preflight of `mixstack deploy` check for one
 * validated stack config, from what this machine said (observe.ts). Pure: table-tested.
 */
export function doctorChecks(config: StackConfig, seen: Observations): Check[] {
  const checks: Check[] = [nodeCheck(seen.node, MINIMUM_NODE), pulumiCliCheck(seen.pulumi, MINIMUM_PULUMI), stateCheck(seen.state)];
  if (config.platform === "docker") {
    checks.push(dockerEngineCheck(seen.engine, config.docker.host, "the stack runs on a Docker engine and builds its images there"));
    return checks;
  }
  const engine = dockerEngineCheck(seen.engine, undefined, `the images are built on this machine and pushed to ${config.platform === "aws" ? "ECR" : "Artifact Registry"}`);
  checks.push(engine);
  if (engine.ok) {
    checks.push(
      crossBuildCheck({
        enginePlatform: platformOf(seen.engine.info?.stdout ?? ""),
        target: CLOUD_IMAGE_PLATFORM,
        emulated: Object.fromEntries(Object.entries(seen.dockerfiles).map(([path, text]) => [path, targetPlatformCommands(text)])),
        builder: seen.builder,
      }),
    );
  }
  if (config.platform === "aws") {
    checks.push(awsCredentialsCheck(seen.aws!, config.aws.region));
    return checks;
  }
  const gcp = seen.gcp!;
  checks.push(gcpCredentialsCheck(gcp), gcloudAccountCheck(gcp, config.gcp.project), gcpApisCheck(gcp, config.gcp.project, apisTheProgramCannotEnable(config)));
  return checks;
}

/**
 * Service Usage (the program enables the other APIs through it), any API the program needs but does
 * not enable, and, with `gcp.enableApis: false`, all of them.
 */
export function apisTheProgramCannotEnable(config: Extract<StackConfig, { platform: "gcp" }>): string[] {
  const enabledByProgram = requiredApis({ managedQueue: config.queue.managed });
  // Project IAM grants go through the Cloud Resource Manager API (issue 17, item 1).
  const needed = [...new Set([...enabledByProgram, "cloudresourcemanager.googleapis.com"])];
  if (!config.gcp.enableApis) return ["serviceusage.googleapis.com", ...needed];
  return ["serviceusage.googleapis.com", ...needed.filter((api) => !enabledByProgram.includes(api))];
}
