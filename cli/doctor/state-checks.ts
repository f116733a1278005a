import { failed, passed, warned, type Check } from "./check";

/**
 * Where `mixstack deploy` keeps a stack's state and which key encrypts its secrets, against what the
 * stack file says (issue 17, item 4): a stack file whose `secure:` values were encrypted by another
 * backend cannot be decrypted by the passphrase `mixstack deploy` generates. Pure.
 */

export interface StateObservation {
  stack: string;
  /** `PULUMI_BACKEND_URL` of the environment, when set (then it is used as is). */
  backendUrl: string | undefined;
  /** `PULUMI_CONFIG_PASSPHRASE` or `PULUMI_CONFIG_PASSPHRASE_FILE` is set. */
  passphraseInEnv: boolean;
  /** `.pulumi/passphrase.<stack>` of the project exists. */
  passphraseFile: boolean;
  /** `.pulumi/` holds this stack's state already. */
  stateInProject: boolean;
  /** The stack file's `encryptionsalt` (a passphrase-encrypted stack). */
  hasSalt: boolean;
  /** Config keys stored `secure:`. */
  secureKeys: string[];
}

/** The environment prefix that makes a `pulumi` command use `mixstack deploy`'s backend and passphrase. */
export function deployEnvironmentPrefix(stack: string): string {
  return `PULUMI_BACKEND_URL=file://$PWD/.pulumi PULUMI_CONFIG_PASSPHRASE_FILE=$PWD/.pulumi/passphrase.${stack}`;
}

export function stateCheck(state: StateObservation): Check {
  const file = `stacks/Pulumi.${state.stack}.yaml`;
  if (state.backendUrl) return passed(`state in ${state.backendUrl} (PULUMI_BACKEND_URL)`);
  if (state.secureKeys.length > 0 && !state.hasSalt) {
    const keys = state.secureKeys.map((key) => key.replace(/^mixstack:/, ""));
    return failed(
      `${file} holds values encrypted by another backend's key (${keys.join(", ")}; no encryptionsalt): mixstack deploy keeps the state in .pulumi/ with its own passphrase and cannot decrypt them`,
      `deploy with the backend that encrypted them (\`PULUMI_BACKEND_URL=<that backend> npx mixstack deploy --stack ${state.stack}\`), or delete those keys from ${file} and set them again with \`${deployEnvironmentPrefix(state.stack)} pulumi config set --secret <key> <value> --stack ${state.stack}\` after \`npx mixstack deploy --stack ${state.stack} --preview\` created the stack`,
    );
  }
  if (state.hasSalt && !state.passphraseInEnv && !state.passphraseFile) {
    return failed(
      `${file} is encrypted with a passphrase (encryptionsalt), but .pulumi/passphrase.${state.stack} is missing and PULUMI_CONFIG_PASSPHRASE is not set`,
      `copy .pulumi/ (with passphrase.${state.stack}) from the machine that deployed the stack, or export PULUMI_CONFIG_PASSPHRASE; without the passphrase the secrets cannot be decrypted`,
    );
  }
  if (state.hasSalt && !state.stateInProject) {
    return warned(
      `${file} belongs to a stack created elsewhere (it has an encryptionsalt), but .pulumi/ has no state for it: a deploy from here would create every resource again`,
      `if the stack was deployed from another machine, copy its .pulumi/ directory here first; otherwise remove the encryptionsalt line`,
    );
  }
  const passphrase = state.passphraseInEnv ? "the passphrase from PULUMI_CONFIG_PASSPHRASE(_FILE)" : state.passphraseFile ? `.pulumi/passphrase.${state.stack}` : `a passphrase generated into .pulumi/passphrase.${state.stack} on the first deploy`;
  return passed(`state in .pulumi/ of the project (${state.stateInProject ? "existing" : "new"} stack), secrets encrypted with ${passphrase}`);
}
