import type { BackupStoreRef, Edge, EndpointRef, EnvRef, EnvValue, SecretRef, ServiceSpec } from "./types";
import type { SecretName } from "../../config/secrets";
import type { ServiceName } from "./types";

/** References to put in env templates: `env.secret("apiSecret")`, `env.endpoint("queue", "redis")`, `env.backupStore()`. */
export const env = {
  secret: (secret: SecretName): SecretRef => ({ kind: "secret", secret }),
  endpoint: (service: ServiceName, port: string): EndpointRef => ({ kind: "endpoint", service, port }),
  backupStore: (): BackupStoreRef => ({ kind: "backupStore" }),
};

/** Plain text as an env template. */
export const text = (value: string | number | boolean): EnvValue => [String(value)];

/** The references of one env value, in order. */
export function references(value: EnvValue): EnvRef[] {
  return value.filter((part): part is EnvRef => typeof part !== "string");
}

/** True when the resolved value contains a secret: platforms store the whole value as a secret. */
export function isSecretEnv(value: EnvValue): boolean {
  return references(value).some((ref) => ref.kind === "secret");
}

/** The edges of a service: the endpoints its env refers to. */
export function edgesOf(service: Omit<ServiceSpec, "talksTo">): Edge[] {
  const edges = new Map<string, Edge>();
  for (const value of Object.values(service.env)) {
    for (const ref of references(value)) {
      if (ref.kind === "endpoint") edges.set(`${ref.service}:${ref.port}`, { from: service.name, to: ref.service, port: ref.port });
    }
  }
  return [...edges.values()];
}

/**
 * Resolves an env template with a platform's resolvers (each returns a piece of text or a Pulumi
 * Output; the platform concatenates them). Generic so that pure tests can resolve to strings.
 */
export function resolveEnv<T>(
  value: EnvValue,
  resolve: { text(text: string): T; secret(ref: SecretRef): T; endpoint(ref: EndpointRef): T; backupStore(): T },
): T[] {
  return value.map((part) => {
    if (typeof part === "string") return resolve.text(part);
    switch (part.kind) {
      case "secret":
        return resolve.secret(part);
      case "endpoint":
        return resolve.endpoint(part);
      case "backupStore":
        return resolve.backupStore();
    }
  });
}
