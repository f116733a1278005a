import { resolve } from "node:path";
import { parseArgs } from "node:util";
import type { Command } from "../core/command";
import { stopSignal } from "../core/signals";
import { startPipeline, type Pipeline } from "./pipeline";
import { startQueryService, type QueryService } from "./query";

const usage = [
  "usage: mixstack dev [--dir DIR] [--ingest-port N] [--redis-port N] [--influx-port N]",
  "                    [--metrics-port N] [--query-port N] [--token TOKEN] [--workers N] [--auth]",
  "",
  "Runs redis-server and influxd (from PATH), bootstrap, ingest, the worker and the query service natively, on 127.0.0.1.",
  "Ports default to free ones; data lives in DIR (default .mixstack/dev). Ctrl-C stops everything.",
].join("\n");

function port(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number <= 0 || number > 65_535) throw new Error(`${flag} must be a port number (got ${value})`);
  return number;
}

/** What `mixstack dev` prints once everything runs: where each part is and a request to try. */
export function describePipeline(pipeline: Pipeline, dir: string, query?: QueryService): string {
  const lines = ["mixstack dev is running; Ctrl-C stops everything.", ""];
  if (pipeline.ingestUrl) lines.push(`  ingest     ${pipeline.ingestUrl}   (token ${pipeline.token}, API secret ${pipeline.apiSecret})`);
  else lines.push("  ingest     not started: write entries to the stream yourself");
  if (pipeline.ingestMetricsUrl) lines.push(`             ${pipeline.ingestMetricsUrl}/metrics`);
  lines.push(`  redis      ${pipeline.redis.url}`);
  lines.push(`  influxdb   ${pipeline.influx.url}   (database ${pipeline.database})`);
  pipeline.workerMetricsUrls.forEach((url, index) => lines.push(`  worker ${index + 1}   ${url}/metrics`));
  if (query) lines.push(`  query      ${query.url}   (query secret ${query.secret})`, `             ${query.metricsUrl}/metrics`);
  lines.push(`  data       ${dir}`, "");
  if (pipeline.ingestUrl) {
    const event = JSON.stringify({ event: "hello", properties: { token: pipeline.token, distinct_id: "u1" } });
    lines.push("Send an event:", `  curl -s "${pipeline.ingestUrl}/track?verbose=1" --data-urlencode 'data=${event}'`, "");
  }
  if (query) {
    const today = new Date().toISOString().slice(0, 10);
    const report = `${query.url}/api/query/segmentation?event=hello&from_date=${today}&to_date=${today}&type=unique`;
    lines.push("Ask for a report (people who sent hello today, after identity merges):", `  curl -s -u ${query.secret}: "${report}"`, "");
  }
  const auth = pipeline.credentials.reader ? ` -u ${pipeline.credentials.reader.username}:${pipeline.credentials.reader.password}` : "";
  lines.push(
    "Count what arrived:",
    `  curl -s -G "${pipeline.influx.url}/query"${auth} --data-urlencode "db=${pipeline.database}" --data-urlencode 'q=SELECT count("insert_id") FROM "events"'`,
    "",
  );
  return lines.join("\n");
}

export const devCommand: Command = {
  summary: "run the whole pipeline natively (redis-server, influxd, ingest, worker) for development",
  usage,
  async run(argv) {
    let values: Record<string, string | boolean | undefined>;
    try {
      ({ values } = parseArgs({
        args: argv,
        options: {
          dir: { type: "string" },
          "ingest-port": { type: "string" },
          "redis-port": { type: "string" },
          "influx-port": { type: "string" },
          "metrics-port": { type: "string" },
          "query-port": { type: "string" },
          token: { type: "string" },
          workers: { type: "string" },
          auth: { type: "boolean" },
        },
      }));
    } catch (error) {
      process.stderr.write(`mixstack dev: ${(error as Error).message}\n\n${usage}\n`);
      return 2;
    }
    const dir = resolve(String(values.dir ?? ".mixstack/dev"));
    let options;
    let queryPort: number | undefined;
    try {
      queryPort = port(values["query-port"] as string | undefined, "--query-port");
      const workers = values.workers === undefined ? 1 : Number(values.workers);
      if (!Number.isInteger(workers) || workers < 1) throw new Error(`--workers must be a positive integer (got ${values.workers})`);
      options = {
        dir,
        ingestPort: port(values["ingest-port"] as string | undefined, "--ingest-port"),
        redisPort: port(values["redis-port"] as string | undefined, "--redis-port"),
        influxPort: port(values["influx-port"] as string | undefined, "--influx-port"),
        metricsPort: port(values["metrics-port"] as string | undefined, "--metrics-port"),
        token: values.token as string | undefined,
        workers,
        authEnabled: values.auth === true,
        logLevel: "info",
      };
    } catch (error) {
      process.stderr.write(`mixstack dev: ${(error as Error).message}\n`);
      return 2;
    }
    // Listening before the start: Ctrl-C while the processes come up stops them once they are up.
    let stopping = false;
    const stopped = stopSignal().then(() => {
      stopping = true;
    });
    const pipeline = await startPipeline(options);
    let query: QueryService | undefined;
    try {
      query = await startQueryService(pipeline, { port: queryPort, logLevel: "info" });
    } catch (error) {
      await pipeline.stop();
      throw error;
    }
    if (!stopping) {
      process.stdout.write(describePipeline(pipeline, dir, query));
      await stopped;
    }
    process.stdout.write("stopping...\n");
    await query.process.stop();
    await pipeline.stop();
    process.stdout.write("stopped\n");
    return 0;
  },
};
