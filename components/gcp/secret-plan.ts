import { isSecretEnv, type EnvValue, type ServiceName, type Topology } from "../topology";

/**
 * Which Secret Manager secrets the stack needs and who may read each. Following the topology's rule,
 * a variable whose template contains a secret is stored whole (e.g. `REDIS_URL` with its password)
 * and injected by reference. One secret per distinct template: `INFLUX_READER_PASSWORD` of bootstrap
 * and Grafana is one secret, readable by both service accounts and nobody else.
 */

export interface SecretConsumer {
  service: ServiceName;
  variable: string;
}

export interface PlannedSecret {
  /** Short ID, unique in the stack (`redis-url`, `influx-admin-password`); the Secret Manager ID is `<prefix>-<id>`. */
  id: string;
  template: EnvValue;
  consumers: SecretConsumer[];
}

export function kebab(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1-$2")
    .replace(/_/g, "-")
    .toLowerCase();
}

function templateKey(template: EnvValue): string {
  return JSON.stringify(template);
}

/** Secrets for the services that are deployed (`deployed(service)`), in topology order. */
export function planSecrets(topology: Topology, deployed: (service: ServiceName) => boolean): PlannedSecret[] {
  const byKey = new Map<string, PlannedSecret>();
  const ids = new Set<string>();
  for (const spec of topology.services) {
    if (!deployed(spec.name)) continue;
    for (const [variable, template] of Object.entries(spec.env)) {
      if (!isSecretEnv(template)) continue;
      const key = templateKey(template);
      const existing = byKey.get(key);
      if (existing) {
        existing.consumers.push({ service: spec.name, variable });
        continue;
      }
      // A bare secret is named after it; a composed value after its variable.
      const only = template.length === 1 && typeof template[0] !== "string" && template[0]!.kind === "secret" ? template[0]!.secret : undefined;
      let id = only ? kebab(only) : kebab(variable);
      if (ids.has(id)) id = `${spec.name}-${kebab(variable)}`;
      ids.add(id);
      byKey.set(key, { id, template, consumers: [{ service: spec.name, variable }] });
    }
  }
  return [...byKey.values()];
}

/** The secret a service's variable is read from, if that variable is secret. */
export function secretFor(plan: readonly PlannedSecret[], service: ServiceName, variable: string): PlannedSecret | undefined {
  return plan.find((secret) => secret.consumers.some((c) => c.service === service && c.variable === variable));
}
