import { NOT_FOUND, type ToolResult } from "../deploy/tools";
import { failed, firstLine, passed, warned, type Check } from "./check";

/** Cloud credentials and projects, checked with the user's own CLIs when they are installed. Pure. */

export const AWS_CLI_URL = "https://aws.amazon.com/cli/";
export const GCLOUD_URL = "https://cloud.google.com/sdk/docs/install";

export interface AwsObservation {
  /** `aws sts get-caller-identity --output json`. */
  identity: ToolResult;
  /** Where credentials would come from without the CLI: the variables and files the SDK reads. */
  sources: string[];
  profile: string | undefined;
}

/** The AWS credential sources present in this environment, as the AWS SDKs look for them. */
export function awsCredentialSources(env: NodeJS.ProcessEnv, files: { credentials: boolean; config: boolean }): string[] {
  return [
    ...(env.AWS_ACCESS_KEY_ID ? ["AWS_ACCESS_KEY_ID"] : []),
    ...(env.AWS_PROFILE ? [`AWS_PROFILE=${env.AWS_PROFILE}`] : []),
    ...(env.AWS_WEB_IDENTITY_TOKEN_FILE ? ["AWS_WEB_IDENTITY_TOKEN_FILE"] : []),
    ...(env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI || env.AWS_CONTAINER_CREDENTIALS_FULL_URI ? ["the container credentials endpoint"] : []),
    ...(files.credentials ? ["~/.aws/credentials"] : []),
    ...(files.config ? ["~/.aws/config"] : []),
  ];
}

export function awsCredentialsCheck(aws: AwsObservation, region: string): Check {
  const loginFix = aws.profile
    ? `renew them: \`aws sso login --profile ${aws.profile}\` (SSO) or \`aws configure --profile ${aws.profile}\``
    : "set them up: `aws configure` (keys) or `aws configure sso`, or export AWS_PROFILE";
  if (aws.identity.code === NOT_FOUND) {
    if (aws.sources.length === 0) {
      return failed(`no AWS credentials found (no AWS_PROFILE, AWS_ACCESS_KEY_ID or ~/.aws files) for region ${region}`, `install the AWS CLI (${AWS_CLI_URL}) and run \`aws configure\` or \`aws configure sso\`, or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY`);
    }
    return warned(
      `the AWS CLI is not installed: the credentials from ${aws.sources.join(", ")} are not checked here (pulumi up uses them)`,
      `install the AWS CLI (${AWS_CLI_URL}) and run this again to see the account they name`,
    );
  }
  if (aws.identity.code !== 0) {
    const message = firstLine(aws.identity.stderr || aws.identity.stdout);
    return failed(/Unable to locate credentials/i.test(message) ? `no AWS credentials found: ${message}` : `AWS refused the credentials: ${message}`, loginFix);
  }
  try {
    const identity = JSON.parse(aws.identity.stdout) as { Account?: string; Arn?: string };
    return passed(`AWS account ${identity.Account} as ${identity.Arn}; the stack deploys into ${region}`);
  } catch {
    return warned(`\`aws sts get-caller-identity\` printed no identity`, loginFix);
  }
}

export interface GcpObservation {
  /** `gcloud config list --format=json`. */
  config: ToolResult;
  /** Application Default Credentials (what the Pulumi provider uses): the file, if any. */
  adc: { path: string; exists: boolean; fromEnv: boolean };
  /** `gcloud services list --enabled --project P --format=value(config.name)`, when gcloud works. */
  services: ToolResult | undefined;
}

export function gcpCredentialsCheck(gcp: GcpObservation): Check {
  if (gcp.adc.exists) return passed(`Google Application Default Credentials: ${gcp.adc.path}${gcp.adc.fromEnv ? " (GOOGLE_APPLICATION_CREDENTIALS)" : ""}`);
  return failed(
    gcp.adc.fromEnv
      ? `GOOGLE_APPLICATION_CREDENTIALS names ${gcp.adc.path}, which does not exist`
      : "no Google Application Default Credentials (the credentials the Pulumi GCP provider uses)",
    gcp.adc.fromEnv
      ? "point GOOGLE_APPLICATION_CREDENTIALS at a service account key file, or unset it and run `gcloud auth application-default login`"
      : `run \`gcloud auth application-default login\` (install gcloud: ${GCLOUD_URL}), or set GOOGLE_APPLICATION_CREDENTIALS to a service account key`,
  );
}

export function gcloudAccountCheck(gcp: GcpObservation, project: string): Check {
  if (gcp.config.code === NOT_FOUND) {
    return warned(`the gcloud CLI is not installed: the account and the project ${project} are not checked here`, `install it (${GCLOUD_URL}) and run this again`);
  }
  if (gcp.config.code !== 0) return warned(`\`gcloud config list\` failed: ${firstLine(gcp.config.stderr)}`, "run `gcloud init`");
  let core: { account?: string; project?: string } = {};
  try {
    core = (JSON.parse(gcp.config.stdout) as { core?: typeof core }).core ?? {};
  } catch {
    return warned("`gcloud config list` printed no configuration", "run `gcloud init`");
  }
  if (!core.account) return failed("gcloud has no active account", "run `gcloud auth login` (and `gcloud auth application-default login` for the provider)");
  if (core.project !== project) {
    return warned(
      `gcloud acts as ${core.account} on project ${core.project ?? "(none)"}; the stack deploys into ${project}`,
      `the deploy uses the stack's project either way; for the gcloud commands of the docs run \`gcloud config set project ${project}\``,
    );
  }
  return passed(`gcloud acts as ${core.account} on project ${project}`);
}

/**
 * The APIs the program cannot enable itself: Service Usage (through which it enables the rest) and,
 * with `gcp.enableApis: false`, every API the stack uses.
 */
export function gcpApisCheck(gcp: GcpObservation, project: string, required: readonly string[]): Check {
  const enable = (apis: readonly string[]) => `gcloud services enable ${apis.join(" ")} --project ${project}`;
  if (!gcp.services) {
    return warned(
      `cannot check that ${required.join(", ")} ${required.length === 1 ? "is" : "are"} enabled in ${project}: gcloud is not installed or has no active account`,
      `see the line above, then run this again; or check https://console.cloud.google.com/apis/dashboard?project=${project} (to enable them: \`${enable(required)}\`)`,
    );
  }
  if (gcp.services.code !== 0) {
    return failed(`cannot list the enabled APIs of ${project}: ${firstLine(gcp.services.stderr)}`, `check the project ID and that your account may use it (\`gcloud projects describe ${project}\`); billing must be enabled`);
  }
  const enabled = new Set(gcp.services.stdout.split("\n").map((line) => line.trim()).filter(Boolean));
  const missing = required.filter((api) => !enabled.has(api));
  if (missing.length > 0) return failed(`${missing.join(", ")} ${missing.length === 1 ? "is" : "are"} not enabled in ${project}, and the program cannot enable ${missing.length === 1 ? "it" : "them"}`, `run \`${enable(missing)}\` (it takes a minute to propagate)`);
  return passed(`${required.join(", ")} enabled in ${project}`);
}
