import { startPipeline, type Pipeline } from "../../services/dev/pipeline";
import { startQueryService, type QueryService, type QueryServiceOptions } from "../../services/dev/query";
import { scratchDir, track } from "../harness/services";

/** A dev pipeline (auth on: the query service reads as the read-only user) for the query tests. */
export async function startReportsPipeline(label: string): Promise<Pipeline> {
  // Rollup rounds every second (the job stretches the pause to 9x a round): the dashboards read them.
  return startPipeline({ dir: scratchDir(label), authEnabled: true, workers: 1, workerEnv: { ROLLUP_INTERVAL_MS: "1000" }, onStarted: (process) => track(process) });
}

export async function startReports(pipeline: Pipeline, options: QueryServiceOptions = {}): Promise<QueryService> {
  const service = await startQueryService(pipeline, options);
  track(service.process);
  return service;
}

export interface Answer<T = unknown> {
  status: number;
  body: T;
  text: string;
}

/** GET a Query API path (`/api/query/` + path) with the service's secret; the JSON body parsed when it is JSON. */
export async function ask<T = any>(service: QueryService, path: string, params: Record<string, string | number | boolean> = {}, init: RequestInit = {}): Promise<Answer<T>> {
  const search = new URLSearchParams(Object.entries(params).map(([key, value]): [string, string] => [key, String(value)]));
  const url = `${service.url}${path.startsWith("/") ? path : `/api/query/${path}`}${search.size ? `?${search}` : ""}`;
  const response = await fetch(url, { ...init, headers: { Authorization: service.authorization, ...(init.headers as Record<string, string>) } });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // NDJSON or plain text: the caller reads `text`
  }
  return { status: response.status, body: body as T, text };
}
