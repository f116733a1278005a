import { describe, expect, it } from "vitest";
import type { Check } from "../../cli/doctor/check";
import { versionAtLeast } from "../../cli/doctor/check";
import { awsCredentialsCheck, awsCredentialSources, gcloudAccountCheck, gcpApisCheck, gcpCredentialsCheck, type GcpObservation } from "../../cli/doctor/cloud-checks";
import { stateCheck, type StateObservation } from "../../cli/doctor/state-checks";
import { builderPlatforms, crossBuildCheck, dockerEngineCheck, nodeCheck, platformOf, pulumiCliCheck } from "../../cli/doctor/tool-checks";
import { renderReport } from "../../cli/doctor/report";
import { NOT_FOUND, type ToolResult } from "../../cli/deploy/tools";

/** The pure checks of `mixstack doctor` (and the deploy preflight): each input, the verdict, the fix. */

const ok = (stdout = ""): ToolResult => ({ code: 0, stdout, stderr: "" });
const missing: ToolResult = { code: NOT_FOUND, stdout: "", stderr: "" };
const error = (stderr: string, code = 1): ToolResult => ({ code, stdout: "", stderr });
const verdict = (check: Check) => (check.ok ? "ok" : check.severity);

describe("versions", () => {
  it.each([
    ["3.248.0", "3.248.0", true],
    ["3.250.1", "3.248.0", true],
    ["3.99.0", "3.248.0", false],
    ["20.19", "20.19.0", true],
    ["20.18.9", "20.19", false],
    ["4.0.0", "3.248.0", true],
  ])("%s ≥ %s is %s", (actual, minimum, expected) => expect(versionAtLeast(actual, minimum)).toBe(expected));
});

describe("tools", () => {
  it.each([
    ["20.20.2", "ok"],
    ["18.20.4", "error"],
  ])("Node.js %s → %s", (version, expected) => expect(verdict(nodeCheck(version, "20.19"))).toBe(expected));

  it.each([
    ["not installed", missing, "error", /get\.pulumi\.com/],
    ["too old", ok("v3.120.0\n"), "error", /pulumi self-update/],
    ["recent", ok("v3.250.0\n"), "ok", undefined],
    ["broken", error("segfault"), "error", /reinstall/],
  ])("Pulumi CLI %s", (_name, result, expected, fix) => {
    const check = pulumiCliCheck(result, "3.248.0");
    expect(verdict(check)).toBe(expected);
    if (fix) expect(!check.ok && check.fix).toMatch(fix);
  });

  it.each([
    ["docker missing", { version: missing }, undefined, "error", /install Docker Engine/],
    ["daemon down", { version: error("Cannot connect to the Docker daemon at unix:///var/run/docker.sock") }, undefined, "error", /systemctl start docker/],
    ["remote host down", { version: error("ssh: Could not resolve hostname") }, "ssh://deploy@h", "error", /docker --host ssh:\/\/deploy@h info/],
    ["answers", { version: ok("27.3.1\n"), info: ok("linux/aarch64\n") }, undefined, "ok", undefined],
  ])("Docker engine: %s", (_name, engine, host, expected, fix) => {
    const check = dockerEngineCheck(engine, host, "images are built there");
    expect(verdict(check)).toBe(expected);
    if (fix) expect(!check.ok && check.fix).toMatch(fix);
    if (check.ok) expect(check.what).toContain("on linux/arm64");
  });

  it.each([
    ["linux/x86_64", "linux/amd64"],
    ["linux/aarch64", "linux/arm64"],
    ["linux/arm64", "linux/arm64"],
    ["", undefined],
  ])("platform of `docker info` %j is %j", (info, expected) => expect(platformOf(info)).toBe(expected));

  it("reads the default builder's platforms from `docker buildx inspect`", () => {
    const inspect = ok(["Name:          default", "Driver:        docker", "Nodes:", "Name:      default", "Status:    running", "Platforms: linux/arm64, linux/amd64*, linux/amd64/v2", ""].join("\n"));
    expect(builderPlatforms(inspect)).toEqual(["linux/arm64", "linux/amd64", "linux/amd64/v2"]);
    expect(builderPlatforms(error("docker: 'buildx' is not a docker command."))).toBeUndefined();
  });

  const needsEmulation = { Dockerfile: ["node:24: RUN npm ci"], "grafana/Dockerfile": [] };
  const noEmulation = { Dockerfile: [], "grafana/Dockerfile": [] };
  it.each([
    ["amd64 host", "linux/amd64", needsEmulation, undefined, "ok"],
    ["arm64 host, Dockerfiles need no emulation", "linux/arm64", noEmulation, undefined, "ok"],
    ["arm64 host, emulation needed, builder has QEMU", "linux/arm64", needsEmulation, ok("Platforms: linux/arm64, linux/amd64"), "ok"],
    ["arm64 host, emulation needed, no QEMU", "linux/arm64", needsEmulation, ok("Platforms: linux/arm64"), "error"],
    ["arm64 host, emulation needed, buildx not inspectable", "linux/arm64", needsEmulation, error("not a docker command"), "warning"],
    ["unknown engine architecture", undefined, needsEmulation, undefined, "warning"],
  ] as const)("cross-building for linux/amd64: %s", (_name, enginePlatform, emulated, builder, expected) => {
    const check = crossBuildCheck({ enginePlatform, target: "linux/amd64", emulated, builder });
    expect(verdict(check)).toBe(expected);
    if (expected === "error" || expected === "warning") {
      if (enginePlatform) expect(!check.ok && check.fix).toContain("tonistiigi/binfmt --install amd64");
    }
  });
});

describe("AWS credentials", () => {
  const identity = ok(JSON.stringify({ Account: "123456789012", Arn: "arn:aws:iam::123456789012:user/deployer" }));
  it.each([
    ["valid", { identity, sources: ["~/.aws/credentials"], profile: undefined }, "ok", /123456789012.*eu-west-1/],
    ["expired SSO with a profile", { identity: error("Error when retrieving token from sso: Token has expired", 255), sources: ["AWS_PROFILE=prod"], profile: "prod" }, "error", /aws sso login --profile prod/],
    ["none anywhere", { identity: error('Unable to locate credentials. You can configure credentials by running "aws configure".', 253), sources: [], profile: undefined }, "error", /aws configure/],
    ["no CLI, but keys in the environment", { identity: missing, sources: ["AWS_ACCESS_KEY_ID"], profile: undefined }, "warning", /install the AWS CLI/],
    ["no CLI and no credentials", { identity: missing, sources: [], profile: undefined }, "error", /aws configure/],
  ])("%s", (_name, observation, expected, pattern) => {
    const check = awsCredentialsCheck(observation, "eu-west-1");
    expect(verdict(check)).toBe(expected);
    expect(check.ok ? check.what : check.fix).toMatch(pattern);
  });

  it("finds the credential sources the AWS SDKs read", () => {
    expect(awsCredentialSources({ AWS_PROFILE: "prod", AWS_ACCESS_KEY_ID: "AKIA" }, { credentials: true, config: false })).toEqual(["AWS_ACCESS_KEY_ID", "AWS_PROFILE=prod", "~/.aws/credentials"]);
    expect(awsCredentialSources({}, { credentials: false, config: false })).toEqual([]);
  });
});

describe("GCP", () => {
  const base: GcpObservation = {
    config: ok(JSON.stringify({ core: { account: "me@example.com", project: "acme-analytics" } })),
    adc: { path: "/home/me/.config/gcloud/application_default_credentials.json", exists: true, fromEnv: false },
    services: ok("compute.googleapis.com\nserviceusage.googleapis.com\ncloudresourcemanager.googleapis.com\n"),
  };

  it.each([
    ["present", base, "ok"],
    ["missing", { ...base, adc: { ...base.adc, exists: false } }, "error"],
    ["named by GOOGLE_APPLICATION_CREDENTIALS but absent", { ...base, adc: { path: "/keys/sa.json", exists: false, fromEnv: true } }, "error"],
  ])("Application Default Credentials %s", (_name, observation, expected) => {
    const check = gcpCredentialsCheck(observation);
    expect(verdict(check)).toBe(expected);
    if (!check.ok) expect(check.fix).toMatch(/application-default login|GOOGLE_APPLICATION_CREDENTIALS/);
  });

  it.each([
    ["same project", base, "ok", /me@example\.com on project acme-analytics/],
    ["another project", { ...base, config: ok(JSON.stringify({ core: { account: "me@example.com", project: "other" } })) }, "warning", /gcloud config set project acme-analytics/],
    ["no account", { ...base, config: ok(JSON.stringify({ core: {} })) }, "error", /gcloud auth login/],
    ["no gcloud", { ...base, config: missing }, "warning", /install it/],
  ])("gcloud account: %s", (_name, observation, expected, pattern) => {
    const check = gcloudAccountCheck(observation, "acme-analytics");
    expect(verdict(check)).toBe(expected);
    expect(check.ok ? check.what : check.fix).toMatch(pattern);
  });

  it.each([
    ["all enabled", base, ["serviceusage.googleapis.com", "cloudresourcemanager.googleapis.com"], "ok", undefined],
    ["Cloud Resource Manager off", base, ["serviceusage.googleapis.com", "cloudresourcemanager.googleapis.com", "run.googleapis.com"], "error", "gcloud services enable run.googleapis.com --project acme-analytics"],
    ["no listing", { ...base, services: undefined }, ["serviceusage.googleapis.com"], "warning", "gcloud services enable serviceusage.googleapis.com --project acme-analytics"],
    ["listing refused", { ...base, services: error("PERMISSION_DENIED: Permission denied to list services") }, ["serviceusage.googleapis.com"], "error", "gcloud projects describe acme-analytics"],
  ])("APIs: %s", (_name, observation, required, expected, fix) => {
    const check = gcpApisCheck(observation, "acme-analytics", required);
    expect(verdict(check)).toBe(expected);
    if (fix) expect(!check.ok && check.fix).toContain(fix);
  });
});

describe("state and secrets of the stack (issue 17, item 4)", () => {
  const fresh: StateObservation = { stack: "remote", backendUrl: undefined, passphraseInEnv: false, passphraseFile: false, stateInProject: false, hasSalt: false, secureKeys: [] };
  it.each([
    ["a fresh clone", fresh, "ok", /generated into \.pulumi\/passphrase\.remote/],
    ["a secret set in another backend (no encryptionsalt)", { ...fresh, secureKeys: ["mixstack:grafanaAdminPassword"] }, "error", /PULUMI_BACKEND_URL=<that backend>/],
    ["salted, but the passphrase file is not here", { ...fresh, hasSalt: true, secureKeys: ["mixstack:grafanaAdminPassword"] }, "error", /copy \.pulumi\//],
    ["salted, passphrase here, no state here", { ...fresh, hasSalt: true, passphraseFile: true }, "warning", /copy its \.pulumi\/ directory/],
    ["deployed from this machine", { ...fresh, hasSalt: true, passphraseFile: true, stateInProject: true, secureKeys: ["mixstack:grafanaAdminPassword"] }, "ok", /existing stack/],
    ["the user's own backend", { ...fresh, backendUrl: "s3://acme-pulumi", secureKeys: ["mixstack:grafanaAdminPassword"] }, "ok", /s3:\/\/acme-pulumi/],
  ])("%s", (_name, observation, expected, pattern) => {
    const check = stateCheck(observation);
    expect(verdict(check)).toBe(expected);
    expect(check.ok ? check.what : `${check.what} ${check.fix}`).toMatch(pattern);
  });
});

describe("the report", () => {
  it("prints a fix under every check that is not fine, and a verdict", () => {
    const text = renderReport("title", [{ ok: true, what: "a" }, { ok: false, what: "b", fix: "do b", severity: "error" }, { ok: false, what: "c", fix: "do c", severity: "warning" }], "npx mixstack doctor --stack x");
    expect(text).toBe(
      [
        "title",
        "  ok    a",
        "  FAIL  b",
        "        fix: do b",
        "  warn  c",
        "        fix: do c",
        "1 problem would stop the deploy (1 warning too). Fix it, then run `npx mixstack doctor --stack x` again.",
        "",
      ].join("\n"),
    );
    expect(renderReport("t", [{ ok: true, what: "a" }], "x")).toBe("t\n  ok    a\nReady to deploy.\n");
  });
});
