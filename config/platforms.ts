import { dockerSection } from "./docker";
import { gcpSection } from "./gcp";

/**
 * One entry per platform: its name (the value of `mixstack:platform`) and the schema of its section
 * (`mixstack:<name>`). Adding AWS or GCP is one line here plus `config/<platform>.ts`.
 */
export const platformSections = {
  docker: dockerSection,
  gcp: gcpSection,
} as const;

export type PlatformName = keyof typeof platformSections;
export const platformNames = Object.keys(platformSections) as PlatformName[];
