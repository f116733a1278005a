import { awsSection } from "./aws";
import { awsConfigProblems } from "./aws-checks";
import { dockerSection } from "./docker";
import { gcpSection } from "./gcp";
import { gcpConfigProblems } from "./gcp-checks";
import type { z } from "zod";
import type { ConfigProblem } from "./load";
import type { baseSchema } from "./schema";

/**
 * One entry per platform: its name (the value of `mixstack:platform`) and the schema of its section
 * (`mixstack:<name>`). Adding AWS or GCP is one line here plus `config/<platform>.ts`.
 */
export const platformSections = {
  docker: dockerSection,
  aws: awsSection,
  gcp: gcpSection,
} as const;

export type PlatformName = keyof typeof platformSections;
export const platformNames = Object.keys(platformSections) as PlatformName[];

/** Options of the shared config that only some platforms implement; the others reject them by key. */
export const platformOptions: Record<PlatformName, { managedQueue: boolean; externalInfluxdb: boolean }> = {
  docker: { managedQueue: false, externalInfluxdb: false },
  aws: { managedQueue: true, externalInfluxdb: true },
  gcp: { managedQueue: true, externalInfluxdb: true },
};

/** Checks of the shared config a platform needs beyond the schema (what it cannot deploy), by key. */
export const platformChecks: { [P in PlatformName]?: (config: z.output<typeof baseSchema>, project: string) => ConfigProblem[] } = {
  aws: awsConfigProblems,
  gcp: gcpConfigProblems,
};
