import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { StatsWindow } from "./stats-window";

/**
 * Ingest's counters, kept twice from one call site: as Prometheus metrics for `/metrics` and in the
 * current `StatsWindow` that is flushed to the stream (for Grafana via InfluxDB).
 */
export class IngestMetrics {
  readonly registry = new Registry();
  readonly window = new StatsWindow();
  private readonly requests: Counter<"route" | "status">;
  private readonly accepted: Counter<"route">;
  private readonly rejected: Counter<"route" | "reason">;
  private readonly queueWrite: Histogram<"outcome">;
  private readonly backlog: Gauge;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.requests = new Counter({ name: "mixstack_ingest_requests_total", help: "HTTP requests by route and status", labelNames: ["route", "status"], registers });
    this.accepted = new Counter({ name: "mixstack_ingest_events_accepted_total", help: "Items (events, profile and group updates) written to the stream", labelNames: ["route"], registers });
    this.rejected = new Counter({ name: "mixstack_ingest_events_rejected_total", help: "Items or requests refused, by reason", labelNames: ["route", "reason"], registers });
    this.queueWrite = new Histogram({
      name: "mixstack_ingest_queue_write_seconds",
      help: "Time to write one entry to the Redis stream",
      labelNames: ["outcome"],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.backlog = new Gauge({ name: "mixstack_ingest_stream_length", help: "Last seen length of the stream (entries not yet written by the worker)", registers });
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: "mixstack_ingest_" });
  }

  /** Any HTTP request; `route` is an ingest route, a service route (`healthz`...) or `not_found`. */
  request(route: string, status: number, accepted: number, rejected: ReadonlyMap<string, number>): void {
    this.requests.inc({ route, status: String(status) });
    if (accepted > 0) this.accepted.inc({ route }, accepted);
    let rejectedCount = 0;
    for (const [reason, count] of rejected) {
      this.rejected.inc({ route, reason }, count);
      rejectedCount += count;
    }
    if (route === "track" || route === "import" || route === "engage" || route === "groups") {
      this.window.recordRequest(route, status, accepted, rejectedCount);
      for (const [reason, count] of rejected) this.window.recordRejects(route, reason, count);
    }
  }

  queueWriteSeconds(outcome: string, seconds: number): void {
    this.queueWrite.observe({ outcome }, seconds);
  }

  streamLength(length: number): void {
    this.backlog.set(length);
  }
}
