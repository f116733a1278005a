import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { isSecretEnv, type EnvValue, type ServiceSpec } from "../topology";

/**
 * Secret variables on AWS: each distinct secret template (a password, or a whole `REDIS_URL` that
 * contains one) becomes one Secrets Manager secret holding the resolved value. Task definitions
 * reference it by ARN (pinned to the version, so a changed value rolls the tasks out); the value
 * itself never appears in a task definition or a plain input.
 */

export interface SecretEntry {
  /** Identity of the template: the same template used by two services is one secret. */
  signature: string;
  /** Stable resource-name part: the secret's name for a bare secret, the variable's otherwise. */
  slug: string;
  template: EnvValue;
}

/** Every secret variable of these containers, one entry per distinct template, in a stable order. */
export function secretEntries(containers: readonly ServiceSpec[]): SecretEntry[] {
  const entries = new Map<string, SecretEntry>();
  const slugs = new Set<string>();
  for (const spec of containers) {
    for (const [variable, template] of Object.entries(spec.env)) {
      if (!isSecretEnv(template)) continue;
      const signature = templateSignature(template);
      if (entries.has(signature)) continue;
      const bare = template.length === 1 && typeof template[0] !== "string" && template[0]!.kind === "secret" ? template[0]!.secret : undefined;
      const base = kebab(bare ?? variable);
      let slug = base;
      for (let index = 2; slugs.has(slug); index++) slug = `${base}-${index}`;
      slugs.add(slug);
      entries.set(signature, { signature, slug, template });
    }
  }
  return [...entries.values()];
}

export function templateSignature(template: EnvValue): string {
  return JSON.stringify(
    template.map((part) => {
      if (typeof part === "string") return ["text", part];
      switch (part.kind) {
        case "secret":
          return ["secret", part.secret];
        case "endpoint":
          return ["endpoint", part.service, part.port];
        case "backupStore":
          return ["backupStore"];
      }
    }),
  );
}

export interface StoredSecret {
  /** ARN of the secret (what IAM grants). */
  arn: pulumi.Output<string>;
  /** What a container definition's `valueFrom` holds: the ARN pinned to the current version. */
  valueFrom: pulumi.Output<string>;
}

export interface AwsSecretsArgs {
  entries: ReadonlyArray<SecretEntry & { value: pulumi.Output<string> }>;
  /** Shown in the console: `mixstack <stack>: <slug>`. */
  stack: string;
}

export class AwsSecrets extends pulumi.ComponentResource {
  /** By signature. */
  readonly secrets: ReadonlyMap<string, StoredSecret>;

  constructor(name: string, args: AwsSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mixstack:aws:Secrets", name, {}, opts);
    const secrets = new Map<string, StoredSecret>();
    for (const entry of args.entries) {
      const secret = new aws.secretsmanager.Secret(
        `${name}-${entry.slug}`,
        { description: `mixstack ${args.stack}: ${entry.slug}`, recoveryWindowInDays: 7 },
        { parent: this },
      );
      const version = new aws.secretsmanager.SecretVersion(
        `${name}-${entry.slug}`,
        { secretId: secret.id, secretString: pulumi.secret(entry.value) },
        { parent: this },
      );
      // `<arn>:<json key>:<version stage>:<version id>`: pinned, so a new value means a new task definition.
      secrets.set(entry.signature, { arn: secret.arn, valueFrom: pulumi.interpolate`${secret.arn}:::${version.versionId}` });
    }
    this.secrets = secrets;
    this.registerOutputs({});
  }
}

function kebab(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1-$2")
    .replace(/_/g, "-")
    .toLowerCase();
}
