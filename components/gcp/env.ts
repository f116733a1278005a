import type * as pulumi from "@pulumi/pulumi";
import { isSecretEnv, type ServiceSpec } from "../topology";
import { resolveTemplate, type EnvResolvers } from "../translate/env";

/**
 * Resolving the topology's env templates on GCP (translate/env.ts): an endpoint is the VM's private
 * address (or the managed endpoint) with the container port, a secret the stack secret's value,
 * the backup store the bucket's `gs://` URL. Secret-bearing variables never come out of here as
 * plain values: they are resolved only to be stored in Secret Manager (`secrets.ts`).
 */

/**
 * Cloud Run sets `PORT` itself (to the container port) and refuses it in the env: a service's `PORT`
 * must name its container port and is left to the platform.
 */
export function platformSetEnv(spec: ServiceSpec): Set<string> {
  const skipped = new Set<string>();
  const port = spec.env.PORT;
  if (port !== undefined) {
    const value = port.length === 1 && typeof port[0] === "string" ? Number(port[0]) : NaN;
    const listening = spec.ports.find((p) => p.public) ?? spec.ports[0];
    if (!listening || value !== listening.port) {
      throw new Error(`${spec.name}: PORT must be the container port on Cloud Run (got ${JSON.stringify(port)})`);
    }
    skipped.add("PORT");
  }
  return skipped;
}

/** The plain (non-secret) variables of a service, resolved, in the order of its env. */
export function plainEnv(spec: ServiceSpec, resolvers: EnvResolvers, skip: ReadonlySet<string> = new Set()): Array<[string, pulumi.Output<string>]> {
  return Object.entries(spec.env)
    .filter(([name, template]) => !isSecretEnv(template) && !skip.has(name))
    .map(([name, template]) => [name, resolveTemplate(template, resolvers)]);
}
