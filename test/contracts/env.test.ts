import { readFileSync } from "node:fs";
import { topologyFor } from "../../components/stack";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { readStackFile, stackNames } from "../../cli/graph/stack-file";
import { parseStackConfig } from "../../config/load";
import { inStackForm, service, type ServiceName, type Topology } from "../../components/topology";
import { ingestEnvironment, readIngestSettings } from "../../services/ingest/settings";
import { readOpsSettings } from "../../services/ops/settings";
import { readBootstrapSettings } from "../../services/worker/bootstrap";
import { readWorkerSettings } from "../../services/worker/settings";

/**
 * Keeps the environment table of docs/contracts.md honest against the code, both ways: what each
 * service's settings reader really asks the environment for (recorded through a proxy, so nothing
 * is parsed out of source text), its defaults, and what the topology gives each of our containers.
 */

const root = resolve(__dirname, "..", "..");
const contracts = readFileSync(join(root, "docs", "contracts.md"), "utf8");

type Reader = "ingest" | "worker" | "bootstrap" | "ops";
const readerNames: Reader[] = ["ingest", "worker", "bootstrap", "ops"];

/** The settings reader of each service, given an environment. */
const readers: Record<Reader, (env: NodeJS.ProcessEnv) => unknown> = {
  ingest: (env) => readIngestSettings(env),
  worker: (env) => readWorkerSettings(env),
  bootstrap: (env) => readBootstrapSettings(env),
  ops: (env) => readOpsSettings("backup", env),
};

/** Where a service documents the settings that are not part of the shared contract. */
const servicePages: Record<Reader, string> = { ingest: "ingest.md", worker: "worker.md", bootstrap: "worker.md", ops: "operations.md" };

/** The command a container of our image runs → the reader behind it. */
const readerOfCommand: Record<string, Reader> = { ingest: "ingest", worker: "worker", bootstrap: "bootstrap", backup: "ops", scheduler: "ops" };

/** The values required to get past validation, so that the readers return their defaults. */
const required: Record<Reader, NodeJS.ProcessEnv> = {
  ingest: { REDIS_URL: "redis://127.0.0.1:6379", MIXSTACK_TOKEN: "t" },
  worker: { REDIS_URL: "redis://127.0.0.1:6379", INFLUX_URL: "http://127.0.0.1:8086" },
  bootstrap: { INFLUX_URL: "http://127.0.0.1:8086" },
  ops: { REDIS_URL: "redis://127.0.0.1:6379", INFLUX_URL: "http://127.0.0.1:8086", INFLUX_BACKUP_ADDR: "127.0.0.1:8088", BACKUP_TARGET: "file:///tmp/b" },
};

/** Every variable name a reader looks up (whether or not the environment has it). */
function namesRead(reader: Reader): Set<string> {
  const read = new Set<string>();
  const environment = new Proxy({} as NodeJS.ProcessEnv, {
    get(_target, key) {
      if (typeof key === "string") read.add(key);
      return undefined;
    },
  });
  try {
    readers[reader](environment);
  } catch {
    // Required values are missing on purpose: every name was looked up before validation failed.
  }
  return read;
}

interface Row {
  names: string[];
  usedBy: Reader[];
  /** Per name; undefined for "—". */
  defaults: Array<string | undefined>;
}

function section(title: string): string {
  const start = contracts.indexOf(`## ${title}`);
  expect(start, `docs/contracts.md has a "## ${title}" section`).toBeGreaterThanOrEqual(0);
  const end = contracts.indexOf("\n## ", start + 1);
  return contracts.slice(start, end === -1 ? undefined : end);
}

function envTable(): Row[] {
  return section("Environment")
    .split("\n")
    .filter((line) => line.startsWith("| `"))
    .map((line) => {
      const [variables, usedBy, defaults] = line.split(" | ").map((cell) => cell.replace(/^\| /, ""));
      const names = [...variables!.matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1]!);
      const services = usedBy!.trim() === "all" ? readerNames : readerNames.filter((name) => new RegExp(`\\b${name}\\b`).test(usedBy!));
      const values = defaults!.trim() === "—" ? [] : [...defaults!.matchAll(/`([^`]*)`/g)].map((m) => m[1]!);
      return { names, usedBy: services, defaults: names.map((_, index) => values[index] ?? (values.length === 1 ? values[0] : undefined)) };
    });
}

function topologies(): Array<[string, Topology]> {
  return stackNames(root).map((stack) => {
    const file = readStackFile(stack, root);
    return [stack, topologyFor(parseStackConfig({ stack, values: file.config, secretKeys: new Set(file.secretKeys) }))];
  });
}

/** The value a reader settles on for `name` when the environment does not set it; undefined when it requires it. */
function defaultOf(reader: Reader, name: string): unknown {
  if (reader === "ingest") {
    const parsed = ingestEnvironment.shape[name as keyof typeof ingestEnvironment.shape].safeParse(undefined);
    return parsed.success ? parsed.data : undefined;
  }
  const { [name]: _left, ...others } = required[reader];
  try {
    return (readers[reader](others) as Record<string, unknown>)[name];
  } catch {
    return undefined;
  }
}

function asText(value: unknown): string | undefined {
  if (value === undefined || value === "" || (Array.isArray(value) && value.length === 0)) return undefined;
  return Array.isArray(value) ? value.join(",") : String(value);
}

const rows = envTable();
const tabled = new Map(rows.flatMap((row) => row.names.map((name) => [name, row] as const)));

describe("docs/contracts.md, environment", () => {
  it("lists the contract's variables, each with the services that read it", () => {
    expect(rows.length).toBeGreaterThan(15);
    for (const row of rows) expect([row.names, row.usedBy.length > 0]).toEqual([row.names, true]);
  });

  it.each(rows.flatMap((row) => row.names.flatMap((name) => row.usedBy.map((reader) => [name, reader] as const))))(
    "%s is read by %s",
    (name, reader) => {
      expect(namesRead(reader)).toContain(name);
    },
  );

  it.each(readerNames)("names every variable %s reads, here or on its own page", (reader) => {
    const page = readFileSync(join(root, "docs", servicePages[reader]), "utf8");
    const read = [...namesRead(reader)];
    expect(read.length).toBeGreaterThan(3);
    const undocumented = read.filter((name) => !tabled.get(name)?.usedBy.includes(reader) && !page.includes(`\`${name}\``));
    expect(undocumented, `variables ${reader} reads that neither docs/contracts.md (for ${reader}) nor docs/${servicePages[reader]} names`).toEqual([]);
  });

  it.each(rows.flatMap((row) => row.names.flatMap((name, index) => row.usedBy.filter((reader) => !(name === "LOG_LEVEL" && reader === "ops")).map((reader) => [name, reader, row.defaults[index]] as const))))(
    "%s defaults in %s to what the table says",
    (name, reader, documented) => {
      expect(asText(defaultOf(reader, name))).toBe(documented);
    },
  );

  it.each(topologies())("gives the containers of stack %s only variables their command reads and the table lists", (_stack, topology) => {
    const ours = topology.services.filter((spec) => spec.image.kind === "build" && spec.image.build === "services");
    expect(ours.map((spec) => spec.name).sort()).toEqual(expect.arrayContaining(["bootstrap", "ingest", "worker"]));
    for (const spec of ours) {
      // A scheduled job runs `command` on the clouds and its in-stack form (more env) on Docker.
      const forms = spec.schedule ? [spec, inStackForm(spec)] : [spec];
      for (const form of forms) {
        const command = form.command?.[0];
        if (command === undefined) continue;
        const reader = readerOfCommand[command]!;
        expect(reader, `${spec.name} runs ${command}`).toBeDefined();
        const read = namesRead(reader);
        for (const name of Object.keys(form.env)) {
          expect([spec.name, name, read.has(name) || (name === "LOG_LEVEL" && reader === "ops")]).toEqual([spec.name, name, true]);
          expect([spec.name, name, tabled.get(name)?.usedBy.includes(reader)]).toEqual([spec.name, name, true]);
        }
      }
    }
  });

  it("names what Grafana's container reads, and its data source uses those names", () => {
    const paragraph = /Grafana's container reads[^\n]*\n[^\n]*/.exec(section("Environment"))?.[0] ?? "";
    const names = [...paragraph.matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1]!);
    expect(names.sort()).toEqual(["GF_SECURITY_ADMIN_PASSWORD", "INFLUX_DB", "INFLUX_READER_PASSWORD", "INFLUX_READER_USER", "INFLUX_URL"]);
    const datasource = readFileSync(join(root, "grafana", "provisioning", "datasources", "influxdb.yaml"), "utf8");
    for (const [, topology] of topologies()) {
      const grafana = service(topology, "grafana" as ServiceName);
      expect(Object.keys(grafana.env)).toEqual(expect.arrayContaining(names));
    }
    for (const name of names.filter((name) => name.startsWith("INFLUX_"))) expect(datasource).toContain(`\${${name}}`);
  });
});
