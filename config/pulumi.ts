import * as pulumi from "@pulumi/pulumi";
import { parseStackConfig } from "./load";
import type { StackConfig } from "./schema";

/**
 * The Pulumi edge of the config: reads this stack's config from the engine (or from the mocks in
 * tests) once, at the program entry, and validates it.
 */
export function readStackConfig(): StackConfig {
  const values = pulumi.runtime.allConfig();
  // `isConfigSecret` is exported at runtime but missing from the SDK's typings.
  const runtime = pulumi.runtime as unknown as { isConfigSecret?: (key: string) => boolean };
  const secretKeys = new Set(Object.keys(values).filter((key) => runtime.isConfigSecret?.(key) ?? false));
  return parseStackConfig({ stack: pulumi.getStack(), values, secretKeys });
}
