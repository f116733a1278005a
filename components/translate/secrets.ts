import { isSecretEnv, type EnvValue, type ServiceName, type ServiceSpec } from "../topology";
import { kebab } from "./names";

/**
 * Which stored secrets a platform needs (Secrets Manager, Secret Manager) and who reads each.
 * Following the topology's rule, a variable whose template contains a secret is stored whole (e.g.
 * `REDIS_URL` with its password) and injected by reference. One secret per distinct template:
 * `INFLUX_READER_PASSWORD` of bootstrap and Grafana is one secret, read by both.
 */

export interface SecretConsumer {
  service: ServiceName;
  variable: string;
}

export interface PlannedSecret {
  /** Short ID, unique in the stack (`redis-url`, `influx-admin-password`): the platform's resource names derive from it. */
  id: string;
  template: EnvValue;
  consumers: SecretConsumer[];
}

/**
 * The secrets of the services a platform deploys, in their order. A bare secret is named after
 * it, a composed value after its variable; when two templates would share an ID, the later one is
 * `<service>-<variable>` (then numbered, should even that repeat). The same on every platform.
 */
export function planSecrets(services: readonly ServiceSpec[]): PlannedSecret[] {
  const byTemplate = new Map<string, PlannedSecret>();
  const ids = new Set<string>();
  for (const spec of services) {
    for (const [variable, template] of Object.entries(spec.env)) {
      if (!isSecretEnv(template)) continue;
      const key = JSON.stringify(template);
      const existing = byTemplate.get(key);
      if (existing) {
        if (!existing.consumers.some((c) => c.service === spec.name && c.variable === variable)) existing.consumers.push({ service: spec.name, variable });
        continue;
      }
      const only = template.length === 1 && typeof template[0] !== "string" && template[0]!.kind === "secret" ? template[0]!.secret : undefined;
      let id = only ? kebab(only) : kebab(variable);
      if (ids.has(id)) id = `${spec.name}-${kebab(variable)}`;
      for (let index = 2; ids.has(id); index++) id = `${spec.name}-${kebab(variable)}-${index}`;
      ids.add(id);
      byTemplate.set(key, { id, template, consumers: [{ service: spec.name, variable }] });
    }
  }
  return [...byTemplate.values()];
}

/** The secret a service's variable is read from, if that variable is secret. */
export function secretFor(plan: readonly PlannedSecret[], service: ServiceName, variable: string): PlannedSecret | undefined {
  return plan.find((secret) => secret.consumers.some((c) => c.service === service && c.variable === variable));
}
