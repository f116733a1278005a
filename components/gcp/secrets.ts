import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import type { ServiceName } from "../topology";
import type { GcpNames } from "./names";
import type { PlannedSecret } from "../translate/secrets";

export interface GcpSecretsArgs {
  names: GcpNames;
  project: string;
  region: string;
  plan: PlannedSecret[];
  /** The whole value of each planned secret (a Pulumi secret). */
  value(secret: PlannedSecret): pulumi.Output<string>;
  /** The identity a consumer service runs as (`owner` names it: the service, or `vm` for services on the VM). */
  identityOf(service: ServiceName): { owner: string; email: pulumi.Input<string> };
  labels: Record<string, string>;
}

/** A stored secret as a consumer references it: the exact version, so a new value rolls out a new revision. */
export interface SecretReference {
  /** Secret ID (`<prefix>-<id>`). */
  secretId: string;
  /** Version number (`"3"`). */
  version: pulumi.Output<string>;
  /** `projects/<project>/secrets/<id>/versions/<n>`, as read by the VM. */
  versionName: pulumi.Output<string>;
  /** The accessor grants; consumers wait for them. */
  grants: gcp.secretmanager.SecretIamMember[];
}

/**
 * The stack's secrets in Secret Manager: one secret per planned value, replicated in the stack's
 * region only, one version holding the value, and `secretAccessor` for exactly the service
 * accounts of the services that read it (on the secret, never on the project).
 */
export class GcpSecrets extends pulumi.ComponentResource {
  readonly references: ReadonlyMap<string, SecretReference>;

  constructor(name: string, args: GcpSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mixstack:gcp:Secrets", name, {}, opts);
    const child = { parent: this };
    const references = new Map<string, SecretReference>();
    for (const planned of args.plan) {
      const secretId = args.names.of(planned.id);
      const secret = new gcp.secretmanager.Secret(
        `${name}-${planned.id}`,
        {
          secretId,
          replication: { userManaged: { replicas: [{ location: args.region }] } },
          labels: args.labels,
          deletionProtection: false,
          annotations: { "mixstack-read-by": planned.consumers.map((c) => `${c.service}:${c.variable}`).join(" ") },
        },
        child,
      );
      const version = new gcp.secretmanager.SecretVersion(`${name}-${planned.id}-version`, { secret: secret.id, secretData: pulumi.secret(args.value(planned)) }, child);
      // One grant per identity: services sharing one (those on the VM) share it.
      const identities = new Map(planned.consumers.map((consumer) => {
        const identity = args.identityOf(consumer.service);
        return [identity.owner, identity.email] as const;
      }));
      const grants = [...identities].map(
        ([owner, email]) =>
          new gcp.secretmanager.SecretIamMember(
            `${name}-${planned.id}-${owner}`,
            { secretId: secret.id, role: "roles/secretmanager.secretAccessor", member: pulumi.interpolate`serviceAccount:${email}` },
            child,
          ),
      );
      const versionNumber = version.version;
      references.set(planned.id, {
        secretId,
        version: versionNumber,
        versionName: pulumi.interpolate`projects/${args.project}/secrets/${secretId}/versions/${versionNumber}`,
        grants,
      });
    }
    this.references = references;
    this.registerOutputs({});
  }
}
