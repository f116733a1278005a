import * as pulumi from "@pulumi/pulumi";
import { resolveEnv, type EndpointRef, type EnvValue, type SecretRef, type Topology } from "../topology";

/** How a platform resolves the references of env templates (docs/topology.md, "Env templates"). */
export interface EnvResolvers {
  /** `host:port` of the target as the source reaches it on the platform's private network. */
  endpoint(ref: EndpointRef): pulumi.Input<string>;
  secret(ref: SecretRef): pulumi.Input<string>;
  /** The URL of the platform's own backup store. */
  backupStore(): pulumi.Input<string>;
}

/** One env template, resolved and concatenated. */
export function resolveTemplate(template: EnvValue, resolvers: EnvResolvers): pulumi.Output<string> {
  const parts = resolveEnv<pulumi.Input<string>>(template, {
    text: (text) => text,
    secret: (ref) => resolvers.secret(ref),
    endpoint: (ref) => resolvers.endpoint(ref),
    backupStore: () => resolvers.backupStore(),
  });
  return pulumi.all(parts).apply((resolved) => resolved.join(""));
}

/** The variable of the backup agent's contract that names where backups go (docs/contracts.md). */
export const BACKUP_TARGET = "BACKUP_TARGET";

/** The services that write backups (their env names `BACKUP_TARGET`): the platform gives them access to the store. */
export function backupWriters(topology: Topology): Topology["services"] {
  return topology.services.filter((spec) => BACKUP_TARGET in spec.env);
}

/** The `backupTarget` stack output when the stack has no backup job: empty, the notices say why (docs/contracts.md). */
export const NO_BACKUP_TARGET = "";
