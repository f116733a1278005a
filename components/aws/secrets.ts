import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { PlannedSecret } from "../translate/secrets";

/**
 * Secret variables on AWS: each planned secret (translate/secrets.ts: a password, or a whole
 * `REDIS_URL` that contains one) becomes one Secrets Manager secret holding the resolved value.
 * Task definitions reference it by ARN (pinned to the version, so a changed value rolls the tasks
 * out); the value itself never appears in a task definition or a plain input.
 */

export interface StoredSecret {
  /** ARN of the secret (what IAM grants). */
  arn: pulumi.Output<string>;
  /** What a container definition's `valueFrom` holds: the ARN pinned to the current version. */
  valueFrom: pulumi.Output<string>;
}

export interface AwsSecretsArgs {
  entries: ReadonlyArray<PlannedSecret & { value: pulumi.Output<string> }>;
  /** Shown in the console: `mixstack <stack>: <id>`. */
  stack: string;
}

export class AwsSecrets extends pulumi.ComponentResource {
  /** By planned secret ID. */
  readonly secrets: ReadonlyMap<string, StoredSecret>;

  constructor(name: string, args: AwsSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mixstack:aws:Secrets", name, {}, opts);
    const secrets = new Map<string, StoredSecret>();
    for (const entry of args.entries) {
      const secret = new aws.secretsmanager.Secret(
        `${name}-${entry.id}`,
        { description: `mixstack ${args.stack}: ${entry.id}`, recoveryWindowInDays: 7 },
        { parent: this },
      );
      const version = new aws.secretsmanager.SecretVersion(
        `${name}-${entry.id}`,
        { secretId: secret.id, secretString: pulumi.secret(entry.value) },
        { parent: this },
      );
      // `<arn>:<json key>:<version stage>:<version id>`: pinned, so a new value means a new task definition.
      secrets.set(entry.id, { arn: secret.arn, valueFrom: pulumi.interpolate`${secret.arn}:::${version.versionId}` });
    }
    this.secrets = secrets;
    this.registerOutputs({});
  }
}
