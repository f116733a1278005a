import type * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import type { ConfigProblem } from "../config/load";
import type { SharedConfig } from "../config/schema";
import type { SecretOutputs } from "./secrets";
import type { DeploymentSummary, ServiceName, Topology, TopologyOptions, VolumeSubstitutions } from "./topology";

/**
 * What a platform is: one descriptor (`components/<platform>/index.ts`), listed once in
 * components/platforms.ts. Every registry (the config's sections and checks, the program's
 * factory, the CLI's `--stack` triggers, the offline fakes) is built from that list, so adding a
 * platform is its folder plus one list entry (docs/architecture.md).
 */
export interface PlatformDescriptor<Name extends string = string, Section extends z.ZodType = z.ZodType, Job extends z.ZodObject = z.ZodObject, Client = unknown> {
  /** The value of `mixstack:platform`. */
  name: Name;
  /** `mixstack:<name>`: the platform's config section, validated only for this platform. */
  section: Section;
  /** Options of the shared config the platform implements; the others refuse them by key. */
  options: { managedQueue: boolean; externalInfluxdb: boolean };
  /** What it cannot deploy of otherwise valid shared config, by key (backup targets, cron forms, ...). */
  checks(config: SharedConfig, project: string): ConfigProblem[];
  /** The facts of its section that change the services themselves (the topology reads no platform section). */
  topologyOptions(settings: z.output<Section>): TopologyOptions;
  /** The component that translates the topology. */
  deploy(name: string, args: PlatformArgs<z.output<Section>>, opts?: pulumi.ComponentResourceOptions): PlatformDeployment;
  /** What its summary may legitimately leave out (docs/topology.md, "The parity test"). */
  volumeSubstitutions: VolumeSubstitutions;
  /** The shape of its `backupJob` stack output (docs/contracts.md). */
  backupJob: Job;
  /** `mixstack backup|restore --stack NAME`: runs the command where its backup job runs; the cloud SDKs load only then. */
  trigger: {
    /** The real clients (a test passes fakes instead). */
    client(): Client;
    run(job: z.output<Job>, mixstackArgs: string[], client: Client, write: (text: string) => void): Promise<number>;
  };
  /** What its provider computes, faked for offline evaluation (`mixstack graph`, unit tests); fresh per evaluation. */
  fakes(): PlatformFakes;
}

export interface PlatformFakes {
  /** Outputs to merge over a resource's echoed inputs; undefined for another platform's types. */
  outputs(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> | undefined;
  /** The answer to a data-source call; undefined when it is not this platform's. */
  invoke?(token: string, inputs: Record<string, unknown>): Record<string, unknown> | undefined;
}

/** Keeps a descriptor's types (its name, section, job and client) for the registries derived from the list. */
export function definePlatform<Name extends string, Section extends z.ZodType, Job extends z.ZodObject, Client>(
  descriptor: PlatformDescriptor<Name, Section, Job, Client>,
): PlatformDescriptor<Name, Section, Job, Client> {
  return descriptor;
}

export interface PlatformArgs<Settings> {
  topology: Topology;
  /** Every secret of `topology.secrets`, as Pulumi secret outputs. */
  secrets: SecretOutputs;
  /** The platform's section of the stack config (`mixstack:<platform>`), validated. */
  settings: Settings;
}

export interface PlatformDeployment {
  /** Base URL of each service with a public port, as users reach it (`https://…` where TLS is served). */
  readonly publicUrls: Readonly<Partial<Record<ServiceName, pulumi.Output<string>>>>;
  /** Where backups go: `file:///...` on the Docker host, `s3://...`, `gs://...`; "" without a backup job (see `notices`). */
  readonly backupTarget: pulumi.Output<string>;
  /** Undefined when the stack has no backup job (an external InfluxDB; see `notices`). The shape is the platform's `backupJob` schema. */
  readonly backupJob: pulumi.Output<unknown>;
  /** What the operator must know about this deployment (the topology's notices plus the platform's own). */
  readonly notices?: pulumi.Output<string[]>;
  /** What was deployed and wired, built from the resources created: the parity contract. */
  readonly summary: pulumi.Output<DeploymentSummary>;
}
