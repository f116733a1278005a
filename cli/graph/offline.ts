import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import { platforms } from "../../components/platforms";
import type { PlatformFakes } from "../../components/platform";
import { aliasUrns, urnOf, type AliasSpec, type UrnNode } from "./urns";

/**
 * Runs a Pulumi program without the engine, under `pulumi.runtime.setMocks`, and records every
 * resource it registers. Used by `mixstack graph` and by the unit tests (test/pulumi/mocks.ts).
 * Nothing is created; no credentials are needed.
 */

export interface RecordedResource {
  type: string;
  name: string;
  /** As the engine forms it: `urn:pulumi:<stack>::<project>::<parent types>$<type>::<name>`. */
  urn: string;
  /** Name of the parent resource; the stack itself for top-level resources. */
  parent: string | undefined;
  custom: boolean;
  /** Inputs as the provider would receive them; secret values stay wrapped (see `isSecretValue`). */
  inputs: Record<string, unknown>;
  /** Resource options the engine would see (mocks are not told them; the stack transformation is). */
  options: RecordedOptions;
}

export interface RecordedOptions {
  retainOnDelete?: boolean;
  deleteBeforeReplace?: boolean;
  protect?: boolean;
  /** Names of the resources this one explicitly waits for. */
  dependsOn?: string[];
  /** The URNs this resource was known by (its aliases, and those inherited from its parents). */
  aliases?: string[];
}

export interface EvaluatedOutput {
  value: unknown;
  secret: boolean;
}

export interface Evaluation {
  resources: RecordedResource[];
  outputs: Record<string, EvaluatedOutput>;
  /** Every value the mocks generated for a secret-producing resource (random passwords). */
  generatedSecrets: string[];
}

export interface OfflineProgram {
  project: string;
  stack: string;
  /** Config as Pulumi hands it to the program: `project:key` → string (objects as JSON). */
  config: Record<string, string>;
  secretKeys: string[];
  /** Builds the resources and returns the stack outputs. */
  run: () => Record<string, unknown> | Promise<Record<string, unknown>>;
}

const RANDOM_SECRET_TYPES = new Set(["random:index/randomPassword:RandomPassword"]);

/** Mock provider: echoes inputs and fills the outputs our program reads, deterministically. */
export class OfflineMocks implements pulumi.runtime.Mocks {
  readonly registered: Array<Omit<RecordedResource, "urn" | "parent" | "options">> = [];
  readonly generatedSecrets: string[] = [];
  /** Invoke tokens nobody mocked; the SDK loses the thrown message, so `evaluateOffline` reports these. */
  readonly unexpectedCalls: string[] = [];
  // Each platform fakes what its provider computes (components/<platform>/fakes.ts).
  private readonly fakes: PlatformFakes[] = platforms.map((platform) => platform.fakes());

  newResource(args: pulumi.runtime.MockResourceArgs): { id: string | undefined; state: Record<string, unknown> } {
    this.registered.push({ type: args.type, name: args.name, custom: args.custom ?? true, inputs: args.inputs });
    const state: Record<string, unknown> = { ...args.inputs };
    if (RANDOM_SECRET_TYPES.has(args.type)) {
      const length = Number(args.inputs.length ?? 32);
      const value = mockSecretValue(args.name, length);
      this.generatedSecrets.push(value);
      state.result = value;
    }
    // Built by BuildKit for the clouds' registries: a digest per image.
    if (args.type === "docker-build:index:Image") {
      const tags = (args.inputs.tags ?? []) as string[];
      state.digest = `sha256:${createHash("sha256").update(`docker-build:${args.name}`).digest("hex")}`;
      state.ref = tags[0] ? `${tags[0]}@${state.digest}` : "";
    }
    if (args.type === "random:index/randomId:RandomId") state.hex = createHash("sha256").update(args.name).digest("hex").slice(0, Number(args.inputs.byteLength ?? 4) * 2);
    for (const fakes of this.fakes) Object.assign(state, fakes.outputs(args.type, args.name, args.inputs) ?? {});
    return { id: args.custom === false ? undefined : `${args.name}-id`, state };
  }

  call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
    for (const fakes of this.fakes) {
      const faked = fakes.invoke?.(args.token, args.inputs);
      if (faked) return faked;
    }
    // An invoke nobody expected is a bug in the program or in these mocks: fail loudly.
    this.unexpectedCalls.push(args.token);
    throw new Error(`unmocked invoke ${args.token}`);
  }
}

/** The value the mocks give a generated password: deterministic, so other processes can look for it. */
export function mockSecretValue(resourceName: string, length = 32): string {
  return `mock${createHash("sha256").update(resourceName).digest("hex")}`.slice(0, Math.max(length, 16));
}

/** Evaluates a program under fresh mocks and waits until every registration has settled. */
export async function evaluateOffline(program: OfflineProgram, mocks = new OfflineMocks()): Promise<Evaluation> {
  await pulumi.runtime.setMocks(mocks, program.project, program.stack, false);
  pulumi.runtime.setAllConfig(program.config, program.secretKeys);
  const parents = new Map<string, string | undefined>();
  const options = new Map<string, RecordedOptions>();
  // Resource → what its URN is made of; parents are looked up by object (names repeat across types).
  const nodes = new Map<pulumi.Resource, UrnNode>();
  const nodeOf = new Map<string, UrnNode>();
  let returned: Record<string, unknown> = {};
  const failOnUnexpectedCalls = () => {
    if (mocks.unexpectedCalls.length > 0) throw new Error(`unmocked invoke ${mocks.unexpectedCalls.join(", ")}`);
  };
  // A failing program is caught inside the stack's init and rethrown after: otherwise the SDK's own
  // stack-output promises reject with nobody listening.
  let failure: { error: unknown } | undefined;
  await pulumi.runtime.runInPulumiStack(async () => {
    // Mocks are not told the parent; a (legacy, in-process) stack transformation sees every resource with its options.
    pulumi.runtime.registerStackTransformation((args) => {
      const parent = args.opts.parent;
      const key = `${args.type}::${args.name}`;
      parents.set(key, parent ? pulumi.resourceName(parent) : undefined);
      const opts = args.opts as pulumi.CustomResourceOptions;
      const node: UrnNode = { type: args.type, name: args.name, parent: parent && nodes.get(parent), aliases: aliasSpecs(opts.aliases, nodes) };
      nodes.set(args.resource, node);
      nodeOf.set(key, node);
      const dependsOn = Array.isArray(opts.dependsOn) ? opts.dependsOn.filter(pulumi.Resource.isInstance).map((r) => pulumi.resourceName(r)) : [];
      options.set(key, {
        ...(opts.retainOnDelete !== undefined && { retainOnDelete: opts.retainOnDelete }),
        ...(opts.deleteBeforeReplace !== undefined && { deleteBeforeReplace: opts.deleteBeforeReplace }),
        ...(opts.protect !== undefined && { protect: opts.protect }),
        ...(dependsOn.length > 0 && { dependsOn }),
      });
      return undefined;
    });
    try {
      returned = await program.run();
    } catch (error) {
      failure = { error };
    }
    return failure ? {} : returned;
  });
  await waitForRegistrations();
  failOnUnexpectedCalls();
  if (failure) throw failure.error;
  const outputs: Record<string, EvaluatedOutput> = {};
  for (const [key, value] of Object.entries(returned)) outputs[key] = await resolveOutput(value);
  const stackName = `${program.project}-${program.stack}`;
  return {
    resources: mocks.registered
      .filter((r) => r.type !== "pulumi:pulumi:Stack")
      .map((r) => {
        const key = `${r.type}::${r.name}`;
        const node = nodeOf.get(key) ?? { type: r.type, name: r.name, aliases: [] };
        const aliases = aliasUrns(node, program.project, program.stack);
        return {
          ...r,
          urn: urnOf(node, program.project, program.stack),
          parent: parents.get(key) ?? stackName,
          options: { ...(options.get(key) ?? {}), ...(aliases.length > 0 && { aliases }) },
        };
      }),
    outputs,
    generatedSecrets: [...mocks.generatedSecrets],
  };
}

/** The program's aliases in the parts they name; only plain values (an Output here could not be read in time). */
function aliasSpecs(aliases: pulumi.CustomResourceOptions["aliases"], nodes: ReadonlyMap<pulumi.Resource, UrnNode>): AliasSpec[] {
  return (aliases ?? []).map((alias): AliasSpec => {
    if (typeof alias === "string") return { urn: alias };
    const given = alias as pulumi.Alias;
    for (const part of [given.name, given.type]) {
      if (part !== undefined && typeof part !== "string") throw new Error("offline evaluation reads aliases with plain string names and types only");
    }
    const parent = given.parent === undefined ? undefined : pulumi.Resource.isInstance(given.parent) ? nodes.get(given.parent) : undefined;
    if (given.parent !== undefined && !parent) throw new Error("offline evaluation reads alias parents given as resources only");
    return { name: given.name as string | undefined, type: given.type as string | undefined, parent };
  });
}

async function waitForRegistrations(): Promise<void> {
  // Present at runtime, missing from the typings: resolves once every outstanding RPC finished.
  const runtime = pulumi.runtime as unknown as { waitForRPCs?: () => Promise<void> };
  await runtime.waitForRPCs?.();
}

async function resolveOutput(value: unknown): Promise<EvaluatedOutput> {
  if (!pulumi.Output.isInstance(value)) return { value, secret: false };
  const output = value as pulumi.Output<unknown>;
  const [resolved, secret] = await Promise.all([
    new Promise<unknown>((resolve) => output.apply((v) => resolve(v))),
    pulumi.isSecret(output),
  ]);
  return { value: resolved, secret };
}

/** A value the SDK serialized as a secret: `{ <sig key>: <secret sig>, value }`. */
export function isSecretValue(value: unknown): value is { value: unknown } {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as Record<string, unknown>)[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig
  );
}

/** Replaces every secret value by `"[secret]"`. */
export function redactSecrets(value: unknown): unknown {
  if (isSecretValue(value)) return "[secret]";
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactSecrets(v)]));
  }
  return value;
}

/** Removes the secret wrappers, keeping the values (tests that check wiring inside secret inputs). */
export function unwrapSecrets(value: unknown): unknown {
  if (isSecretValue(value)) return unwrapSecrets(value.value);
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
  }
  return value;
}
