import type * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import type { PlatformName, platformSections } from "../config/platforms";
import { DockerDeployment } from "./docker/deployment";
import { GcpDeployment } from "./gcp/deployment";
import type { PlatformArgs, PlatformDeployment } from "./platform";

type SettingsOf<P extends PlatformName> = z.output<(typeof platformSections)[P]>;

/**
 * One factory per platform: the component that translates the topology. Adding AWS or GCP is one
 * line here (and one in config/platforms.ts).
 */
export const platformFactories: {
  [P in PlatformName]: (name: string, args: PlatformArgs<SettingsOf<P>>, opts?: pulumi.ComponentResourceOptions) => PlatformDeployment;
} = {
  docker: (name, args, opts) => new DockerDeployment(name, args, opts),
  gcp: (name, args, opts) => new GcpDeployment(name, args, opts),
};
