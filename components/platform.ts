import type * as pulumi from "@pulumi/pulumi";
import type { SecretOutputs } from "./secrets";
import type { DeploymentSummary, Topology } from "./topology";

/**
 * What every platform component (`components/<platform>/`) receives and exposes. `createStack`
 * builds the topology and the secrets, hands them to the selected platform, and turns these fields
 * into the stack outputs of docs/contracts.md.
 */

export interface PlatformArgs<Settings> {
  topology: Topology;
  /** Every secret of `topology.secrets`, as Pulumi secret outputs. */
  secrets: SecretOutputs;
  /** The platform's section of the stack config (`mixstack:<platform>`), validated. */
  settings: Settings;
}

/** How `mixstack backup|restore --stack NAME` runs the backup agent on a deployed stack (docs/contracts.md). */
export type BackupJob =
  | { platform: "docker"; dockerHost: string; network: string; container: string }
  | {
      platform: "aws";
      region: string;
      cluster: string;
      taskDefinitionArn: string;
      containerName: string;
      subnets: string[];
      securityGroups: string[];
      logGroup: string;
      logStreamPrefix: string;
    }
  | { platform: "gcp"; project: string; region: string; job: string };

export interface PlatformDeployment {
  /** Base URL the SDKs send to (`api_host`). */
  readonly ingestUrl: pulumi.Output<string>;
  readonly grafanaUrl: pulumi.Output<string>;
  /** Where backups go: `file:///...` on the Docker host, `s3://...`, `gs://...`. */
  readonly backupTarget: pulumi.Output<string>;
  /** Undefined when the stack has no backup job (an external InfluxDB; see `notices`). */
  readonly backupJob: pulumi.Output<BackupJob | undefined>;
  /** What the operator must know about this deployment (the topology's notices plus the platform's own). */
  readonly notices?: pulumi.Output<string[]>;
  /** What was deployed and wired, built from the resources created: the parity contract. */
  readonly summary: pulumi.Output<DeploymentSummary>;
}
