import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** The query service's Prometheus metrics (`/metrics` on `METRICS_PORT`). */
export class QueryMetrics {
  readonly registry = new Registry();

  readonly requests = new Counter({
    name: "mixstack_query_requests_total",
    help: "Query API requests answered, by endpoint and status",
    labelNames: ["endpoint", "status"] as const,
    registers: [this.registry],
  });
  readonly seconds = new Histogram({
    name: "mixstack_query_request_seconds",
    help: "Time to answer a Query API request, by endpoint",
    labelNames: ["endpoint"] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly rowsRead = new Counter({ name: "mixstack_query_rows_read_total", help: "Events read from InfluxDB by reports and exports", registers: [this.registry] });
  readonly identityLookups = new Counter({ name: "mixstack_query_identity_lookups_total", help: "Device ids looked up in the identity map", registers: [this.registry] });
  readonly inFlight = new Gauge({ name: "mixstack_query_in_flight", help: "Requests reading events or profiles right now", registers: [this.registry] });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry });
  }
}
