import { z } from "zod";
import { aws } from "./aws";
import { docker } from "./docker";
import { gcp } from "./gcp";

/**
 * Every platform, one descriptor each (components/<platform>/index.ts). The registries below and
 * those of the config (config/schema.ts, config/load.ts), the program (components/stack.ts), the
 * CLI (cli/stack/) and the offline fakes (cli/graph/offline.ts) all map over this list.
 */
export const platforms = [docker, aws, gcp] as const;

type Platforms = (typeof platforms)[number];
export type PlatformName = Platforms["name"];
export const platformNames = platforms.map((platform) => platform.name) as [PlatformName, ...PlatformName[]];

/**
 * The names as plain text, for the shared config schema: the descriptors' types refer to that
 * schema (their checks read it), so it must not refer to theirs (the explicit type breaks the loop).
 */
export function platformNameList(): [string, ...string[]] {
  return platforms.map((platform) => platform.name) as [string, ...string[]];
}

/** The descriptor of one platform, with its own types. */
export type PlatformOf<P extends PlatformName> = Extract<Platforms, { name: P }>;

export function platformNamed<P extends PlatformName>(name: P): PlatformOf<P> {
  return platforms.find((platform) => platform.name === name) as PlatformOf<P>;
}

/** The parsed config section of each platform. */
export type SettingsOf<P extends PlatformName> = z.output<PlatformOf<P>["section"]>;

/** The `backupJob` stack output of every platform (docs/contracts.md), one schema per descriptor. */
export const backupJobSchema = z.discriminatedUnion(
  "platform",
  platforms.map((platform) => platform.backupJob) as unknown as [Platforms["backupJob"], ...Platforms["backupJob"][]],
);
export type BackupJob = z.output<typeof backupJobSchema>;

/** The clients `--stack` triggers use, by platform (fakes in tests). */
export type TriggerClients = { [P in PlatformName]: ReturnType<PlatformOf<P>["trigger"]["client"]> };
