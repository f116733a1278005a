import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config/schema";
import type { PlatformDeployment } from "./platform";
import { platformNamed, type BackupJob, type PlatformName, type PlatformOf, type SettingsOf } from "./platforms";
import { StackSecrets } from "./secrets";
import { buildTopology, type Catalogue, type Topology } from "./topology";

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

/** The selected platform's descriptor and its parsed section. */
function selected<P extends PlatformName>(config: StackConfig & { platform: P }): { platform: PlatformOf<P>; settings: SettingsOf<P> } {
  return { platform: platformNamed(config.platform), settings: (config as unknown as Record<P, SettingsOf<P>>)[config.platform] };
}

/** The topology of a stack: the config, as its platform tells the topology (`topologyOptions`). */
export function topologyFor(config: StackConfig, catalogue?: Catalogue): Topology {
  const { platform, settings } = selected(config);
  return buildTopology(config, (platform.topologyOptions as (settings: unknown) => ReturnType<typeof platform.topologyOptions>)(settings), catalogue);
}

/**
 * The whole program for one validated stack config: topology, secrets, and the selected platform.
 * No import-time side effects; tests call it once per config (and may add services to the catalogue).
 */
export function createStack(config: StackConfig, options: { catalogue?: Catalogue } = {}): Stack {
  const topology = topologyFor(config, options.catalogue);
  const secrets = new StackSecrets("mixstack-secrets", { names: topology.secrets, given: config.secrets });
  const { platform, settings } = selected(config);
  const deploy = platform.deploy as (name: string, args: { topology: Topology; secrets: typeof secrets.values; settings: unknown }) => PlatformDeployment;
  const deployment = deploy("mixstack", { topology, secrets: secrets.values, settings });
  const projectToken = secrets.values.projectToken;
  const urlOf = (service: "ingest" | "grafana") => deployment.publicUrls[service] ?? pulumi.output("");
  return {
    topology,
    deployment,
    outputs: {
      ingestUrl: urlOf("ingest"),
      grafanaUrl: urlOf("grafana"),
      projectToken,
      mixpanelSnippet: pulumi.secret(pulumi.all([projectToken, urlOf("ingest")]).apply(([token, url]) => mixpanelSnippet(token, url))),
      backupTarget: deployment.backupTarget,
      backupJob: deployment.backupJob as pulumi.Output<BackupJob | undefined>,
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
