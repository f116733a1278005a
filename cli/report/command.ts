import { parseArgs } from "node:util";
import type { Command } from "../../services/core/command";
import type { StackOutputs } from "../stack/outputs";
import { renderFunnel, renderRetention, renderSegmentation } from "./render";

/**
 * `mixstack report segment|funnel|retention`: a report from a running `mixstack query`, as a terminal
 * table (or `--json`: the Query API's own answer). Against `--url URL --secret SECRET` (or
 * `MIXSTACK_QUERY_URL`/`MIXSTACK_QUERY_SECRET`), or `--stack NAME`: the stack's outputs `queryUrl`
 * and `querySecret` (the query service joins the deployed topology in issue 15; until then a stack
 * has neither and the command says so).
 */

export const reportUsage = [
  "usage: mixstack report segment   --event NAME --from YYYY-MM-DD --to YYYY-MM-DD [--type general|unique|average] [--unit day] [--on EXPR] [--where EXPR] [--limit N]",
  "       mixstack report funnel    (--funnel-id N | --steps 'A,B,C') --from YYYY-MM-DD --to YYYY-MM-DD [--window 7d] [--interval DAYS] [--on EXPR] [--where EXPR]",
  "       mixstack report retention --born-event NAME [--event NAME] --from YYYY-MM-DD --to YYYY-MM-DD [--unit day|week|month] [--intervals N] [--unbounded] [--on EXPR]",
  "",
  "  where: --url URL --secret SECRET (or MIXSTACK_QUERY_URL, MIXSTACK_QUERY_SECRET), or --stack NAME",
  "  --json prints the Query API's answer instead of a table",
].join("\n");

export interface ReportDependencies {
  outputs?: () => StackOutputs;
  env?: NodeJS.ProcessEnv;
  write?: (text: string) => void;
  writeError?: (text: string) => void;
}

class UsageError extends Error {}

const options = {
  url: { type: "string" },
  secret: { type: "string" },
  stack: { type: "string" },
  json: { type: "boolean" },
  event: { type: "string" },
  from: { type: "string" },
  to: { type: "string" },
  type: { type: "string" },
  unit: { type: "string" },
  on: { type: "string" },
  where: { type: "string" },
  limit: { type: "string" },
  "funnel-id": { type: "string" },
  steps: { type: "string" },
  window: { type: "string" },
  interval: { type: "string" },
  "born-event": { type: "string" },
  intervals: { type: "string" },
  unbounded: { type: "boolean" },
} as const;

type Values = { [Key in keyof typeof options]?: (typeof options)[Key]["type"] extends "boolean" ? boolean : string };

const DAY_MS = 86_400_000;

function required(values: Values, name: keyof Values): string {
  const value = values[name];
  if (typeof value !== "string" || value === "") throw new UsageError(`--${name} is required`);
  return value;
}

/** Query API path and parameters of one report. */
export function reportRequest(kind: string, values: Values): { path: string; params: Record<string, string> } {
  const from = required(values, "from");
  const to = required(values, "to");
  const common: Record<string, string> = { from_date: from, to_date: to };
  for (const [flag, param] of [["on", "on"], ["where", "where"], ["unit", "unit"], ["limit", "limit"]] as const) {
    const value = values[flag];
    if (typeof value === "string") common[param] = value;
  }
  switch (kind) {
    case "segment":
      return { path: "segmentation", params: { ...common, event: required(values, "event"), type: values.type ?? "general" } };
    case "funnel": {
      const params: Record<string, string> = { ...common };
      if (values["funnel-id"]) params.funnel_id = values["funnel-id"];
      else if (values.steps) params.steps = JSON.stringify(values.steps.split(",").map((event) => ({ event: event.trim() })));
      else throw new UsageError("--funnel-id or --steps is required");
      if (values.window) {
        const match = /^(\d+)([dhms])$/.exec(values.window);
        if (!match) throw new UsageError(`--window must be like 7d, 12h, 30m or 45s (got ${values.window})`);
        params.length = match[1]!;
        params.length_unit = { d: "day", h: "hour", m: "minute", s: "second" }[match[2] as "d"];
      }
      // A terminal shows one funnel over the whole range unless asked for buckets.
      const days = Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS) + 1;
      if (!values.unit) params.interval = values.interval ?? String(Math.max(1, days));
      return { path: "funnels", params };
    }
    case "retention": {
      const params: Record<string, string> = { ...common, born_event: required(values, "born-event"), interval_count: values.intervals ?? "7" };
      if (values.event) params.event = values.event;
      if (values.unbounded) params.unbounded_retention = "true";
      return { path: "retention", params };
    }
    default:
      throw new UsageError(`unknown report "${kind}": segment, funnel or retention`);
  }
}

async function target(values: Values, dependencies: ReportDependencies): Promise<{ url: string; secret: string }> {
  const env = dependencies.env ?? process.env;
  if (values.stack) {
    if (values.url) throw new UsageError("give --url or --stack, not both");
    const outputs = await (dependencies.outputs?.() ?? (require("../stack/outputs") as typeof import("../stack/outputs")).automationStackOutputs(process.cwd())).read(values.stack);
    if (typeof outputs.queryUrl !== "string" || typeof outputs.querySecret !== "string") {
      throw new Error(
        `stack ${values.stack} does not deploy the query service yet (no queryUrl/querySecret outputs): run \`mixstack query\` yourself and use --url and --secret`,
      );
    }
    return { url: outputs.queryUrl, secret: outputs.querySecret };
  }
  const url = values.url ?? env.MIXSTACK_QUERY_URL;
  const secret = values.secret ?? env.MIXSTACK_QUERY_SECRET;
  if (!url) throw new UsageError("--url (or MIXSTACK_QUERY_URL) or --stack is required");
  if (!secret) throw new UsageError("--secret (or MIXSTACK_QUERY_SECRET) is required with --url");
  return { url, secret };
}

export function makeReportCommand(dependencies: ReportDependencies = {}): Command {
  const write = dependencies.write ?? ((text: string) => process.stdout.write(text));
  const writeError = dependencies.writeError ?? ((text: string) => process.stderr.write(text));
  return {
    summary: "a funnel, retention or segmentation report from the query service, as a table (--json for scripts)",
    usage: reportUsage,
    async run(argv) {
      let kind: string;
      let values: Values;
      let request: ReturnType<typeof reportRequest>;
      try {
        const parsed = parseArgs({ args: argv, options, allowPositionals: true });
        kind = parsed.positionals[0] ?? "";
        if (parsed.positionals.length !== 1) throw new UsageError("name one report: segment, funnel or retention");
        values = parsed.values as Values;
        request = reportRequest(kind, values);
      } catch (error) {
        writeError(`mixstack report: ${(error as Error).message}\n\n${reportUsage}\n`);
        return 2;
      }
      try {
        const { url, secret } = await target(values, dependencies);
        const response = await fetch(`${url.replace(/\/$/, "")}/api/query/${request.path}?${new URLSearchParams(request.params)}`, {
          headers: { Authorization: `Basic ${Buffer.from(`${secret}:`).toString("base64")}` },
          signal: AbortSignal.timeout(120_000),
        });
        const text = await response.text();
        if (response.status !== 200) {
          let message = text;
          try {
            message = (JSON.parse(text) as { error?: string }).error ?? text;
          } catch {
            // not JSON: print as it came
          }
          writeError(`mixstack report ${kind}: the query service answered ${response.status}: ${message}\n`);
          return 1;
        }
        const answer = JSON.parse(text) as unknown;
        if (values.json) write(`${JSON.stringify(answer, null, 2)}\n`);
        else if (kind === "segment") write(renderSegmentation(answer as Parameters<typeof renderSegmentation>[0]));
        else if (kind === "funnel") write(renderFunnel(answer as Parameters<typeof renderFunnel>[0]));
        else write(renderRetention(answer as Parameters<typeof renderRetention>[0]));
        return 0;
      } catch (error) {
        if (error instanceof UsageError) {
          writeError(`mixstack report: ${error.message}\n\n${reportUsage}\n`);
          return 2;
        }
        writeError(`mixstack report ${kind}: ${(error as Error).message}\n`);
        return 1;
      }
    },
  };
}

export const reportCommand = makeReportCommand();
