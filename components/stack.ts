import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config/schema";
import type { BackupJob, PlatformDeployment } from "./platform";
import { platformFactories } from "./platforms";
import { StackSecrets } from "./secrets";
import { buildTopology, type Topology } from "./topology";

/** The stack outputs of docs/contracts.md (plus the Grafana admin password, for the first login). */
export interface StackOutputs {
  ingestUrl: pulumi.Output<string>;
  grafanaUrl: pulumi.Output<string>;
  projectToken: pulumi.Output<string>;
  mixpanelSnippet: pulumi.Output<string>;
  backupTarget: pulumi.Output<string>;
  backupJob: pulumi.Output<BackupJob | undefined>;
  notices: pulumi.Output<string[]>;
  grafanaAdminPassword: pulumi.Output<string>;
}

export interface Stack {
  outputs: StackOutputs;
  topology: Topology;
  deployment: PlatformDeployment;
}

/**
 * The whole program for one validated stack config: topology, secrets, and the selected platform.
 * No import-time side effects; tests call it once per config.
 */
export function createStack(config: StackConfig): Stack {
  const topology = buildTopology(config);
  const secrets = new StackSecrets("mixstack-secrets", { names: topology.secrets, given: config.secrets });
  const args = { topology, secrets: secrets.values };
  let deployment: PlatformDeployment;
  switch (config.platform) {
    case "docker":
      deployment = platformFactories.docker("mixstack", { ...args, settings: config.docker });
      break;
    case "aws":
      deployment = platformFactories.aws("mixstack", { ...args, settings: config.aws });
      break;
    case "gcp":
      deployment = platformFactories.gcp("mixstack", { ...args, settings: config.gcp });
      break;
  }
  const projectToken = secrets.values.projectToken;
  return {
    topology,
    deployment,
    outputs: {
      ingestUrl: deployment.ingestUrl,
      grafanaUrl: deployment.grafanaUrl,
      projectToken,
      mixpanelSnippet: pulumi.secret(
        pulumi.all([projectToken, deployment.ingestUrl]).apply(([token, url]) => mixpanelSnippet(token, url)),
      ),
      backupTarget: deployment.backupTarget,
      backupJob: deployment.backupJob,
      notices: deployment.notices ?? pulumi.output(topology.notices),
      grafanaAdminPassword: secrets.values.grafanaAdminPassword,
    },
  };
}

/** Ready-to-paste `mixpanel-browser` setup pointing the official SDK at this stack. */
export function mixpanelSnippet(token: string, ingestUrl: string): string {
  return [
    'import mixpanel from "mixpanel-browser";',
    "",
    `mixpanel.init(${JSON.stringify(token)}, {`,
    `  api_host: ${JSON.stringify(ingestUrl)},`,
    "  track_pageview: true,",
    '  persistence: "localStorage",',
    "});",
  ].join("\n");
}
