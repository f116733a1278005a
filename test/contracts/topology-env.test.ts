import { resolve } from "node:path";
import { topologyFor } from "../../components/stack";
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { readStackFile, stackNames } from "../../cli/graph/stack-file";
import { parseStackConfig } from "../../config/load";
import { inStackForm, resolveEnv } from "../../components/topology";
import { readSettings } from "../../services/core/settings";
import { ingestEnvironment } from "../../services/ingest/settings";
import { opsEnvironment } from "../../services/ops/settings";
import { bootstrapEnvironment } from "../../services/worker/bootstrap";
import { workerEnvironment } from "../../services/worker/settings";

/**
 * The topology types each of our containers' env by its service's schema (tsc refuses a variable
 * the schema does not have); this checks the values too: resolved as a platform would, every env
 * the topology gives passes the schema the container reads it with.
 */

const root = resolve(__dirname, "..", "..");
const schemaOfCommand: Record<string, z.ZodObject> = {
  ingest: ingestEnvironment,
  worker: workerEnvironment,
  bootstrap: bootstrapEnvironment,
  backup: opsEnvironment,
  scheduler: opsEnvironment,
};

const cases = stackNames(root).flatMap((stack) => {
  const file = readStackFile(stack, root);
  const topology = topologyFor(parseStackConfig({ stack, values: file.config, secretKeys: new Set(file.secretKeys) }));
  return topology.services
    .flatMap((spec) => [spec, ...(spec.schedule ? [inStackForm(spec)] : [])])
    .filter((spec) => spec.image.kind === "build" && spec.image.build === "services")
    .map((spec) => [stack, spec.command!.join(" "), spec] as const);
});

describe("the env the topology gives our containers passes their schemas", () => {
  it("covers every command of the services image", () => {
    expect(new Set(cases.map(([, command]) => command))).toEqual(new Set(Object.keys(schemaOfCommand)));
  });

  it.each(cases)("%s: %s", (_stack, command, spec) => {
    const env = Object.fromEntries(
      Object.entries(spec.env).map(([name, value]) => [
        name,
        resolveEnv(value, {
          text: (text) => text,
          secret: (ref) => `${ref.secret}-value`,
          endpoint: (ref) => `${ref.service}.internal:1234`,
          backupStore: () => "s3://bucket/prefix",
        }).join(""),
      ]),
    );
    const schema = schemaOfCommand[command]!;
    expect(() => readSettings(command, schema, env)).not.toThrow();
    expect(Object.keys(env).filter((name) => !(name in schema.shape))).toEqual([]);
  });
});
