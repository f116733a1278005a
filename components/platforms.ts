import type * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import type { PlatformName, platformSections } from "../config/platforms";
import { AwsDeployment } from "./aws/deployment";
import { DockerDeployment } from "./docker/deployment";
import { GcpDeployment } from "./gcp/deployment";
import type { PlatformArgs, PlatformDeployment } from "./platform";
import type { VolumeSubstitutions } from "./topology";

type SettingsOf<P extends PlatformName> = z.output<(typeof platformSections)[P]>;

/**
 * One factory per platform: the component that translates the topology. Adding AWS or GCP is one
 * line here (and one in config/platforms.ts).
 */
export const platformFactories: {
  [P in PlatformName]: (name: string, args: PlatformArgs<SettingsOf<P>>, opts?: pulumi.ComponentResourceOptions) => PlatformDeployment;
} = {
  docker: (name, args, opts) => new DockerDeployment(name, args, opts),
  aws: (name, args, opts) => new AwsDeployment(name, args, opts),
  gcp: (name, args, opts) => new GcpDeployment(name, args, opts),
};

/**
 * The volumes each platform provides otherwise than as a mounted volume (docs/topology.md, "The
 * parity test"): its summary must equal `expectedSummary(topology, volumeSubstitutions[platform])`.
 */
export const volumeSubstitutions: { [P in PlatformName]: VolumeSubstitutions } = {
  docker: {},
  aws: {},
  // Grafana's `preferred` volume is Cloud Run's in-memory filesystem.
  gcp: { preferredEphemeral: true },
};
