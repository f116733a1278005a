import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { SecretName, SecretValues } from "../config/secrets";
import { kebab } from "./translate/names";

export type SecretOutputs = Record<SecretName, pulumi.Output<string>>;

export interface StackSecretsArgs {
  /** The secrets to provide (the topology's `secrets`). */
  names: readonly SecretName[];
  /** Values from the stack config (already decrypted); the others are generated. */
  given: SecretValues;
}

/**
 * Every secret of the stack as a Pulumi secret output: the configured value, or a strong random
 * one generated once and kept in the stack's state. Platform-neutral; platforms put the values
 * where their services read them (Docker: env; AWS Secrets Manager; GCP Secret Manager).
 */
export class StackSecrets extends pulumi.ComponentResource {
  readonly values: SecretOutputs;

  constructor(name: string, args: StackSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mixstack:core:StackSecrets", name, {}, opts);
    const values: Partial<SecretOutputs> = {};
    for (const secret of args.names) {
      const given = args.given[secret];
      values[secret] =
        given !== undefined
          ? pulumi.secret(given)
          : // `result` is a secret in real deployments already; wrapping it keeps it one under mocks too.
            pulumi.secret(
              new random.RandomPassword(
                `${name}-${kebab(secret)}`,
                // Letters and digits only: the values go into URLs, env files and command lines unescaped.
                secret === "projectToken"
                  ? { length: 32, special: false, upper: false }
                  : { length: 32, special: false },
                { parent: this },
              ).result,
            );
    }
    this.values = values as SecretOutputs;
    this.registerOutputs({});
  }
}
