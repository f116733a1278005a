import { z } from "zod";
import { platforms } from "../components/platforms";
import { baseShape } from "./schema";
import { secretNames } from "./secrets";

/**
 * The configuration reference table of docs/deploy.md, generated from the schema so that the two
 * cannot drift (a test compares them). Print it with `npx tsx config/reference.ts`.
 */

interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  description?: string;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
}

export function configReference(): string {
  const rows: string[] = ["| key | type | meaning |", "|---|---|---|"];
  const add = (key: string, schema: JsonSchema) => {
    if (schema.type === "object" && schema.properties) {
      for (const [name, child] of Object.entries(schema.properties)) add(`${key}.${name}`, child);
      return;
    }
    rows.push(`| \`${key}\` | ${typeOf(key, schema)} | ${(schema.description ?? "").replace(/\|/g, "\\|")} |`);
  };
  const base = z.toJSONSchema(z.object(baseShape), { io: "input", unrepresentable: "any" }) as JsonSchema;
  for (const [name, schema] of Object.entries(base.properties ?? {})) add(`mixstack:${name}`, schema);
  for (const { name: platform, section } of platforms) {
    const schema = z.toJSONSchema(section, { io: "input", unrepresentable: "any" }) as JsonSchema;
    for (const [name, child] of Object.entries(schema.properties ?? {})) add(`mixstack:${platform}.${name}`, child);
  }
  return `${rows.join("\n")}\n`;
}

function typeOf(key: string, schema: JsonSchema): string {
  if ((secretNames as readonly string[]).includes(key.replace(/^mixstack:/, ""))) return "secret";
  if (schema.enum) return schema.enum.map((v) => `\`${String(v)}\``).join(" \\| ");
  if (schema.anyOf) return [...new Set(schema.anyOf.map((s) => typeOf(key, s)))].join(" \\| ");
  if (schema.type === "array") return `list of ${typeOf(key, schema.items ?? {})}`;
  if (schema.type === "integer") return "integer";
  return String(schema.type ?? "any");
}

if (require.main === module) process.stdout.write(configReference());
