import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/**
 * The worker's self-metrics: Prometheus counters and gauges (served on `/metrics`), and the window
 * sums behind the `pipeline` point written to InfluxDB every sample (see `sampler.ts`).
 */
export class WorkerMetrics {
  readonly registry = new Registry();

  readonly pointsWritten = new Counter({
    name: "mixstack_worker_points_written_total",
    help: "Points InfluxDB accepted, by measurement",
    labelNames: ["measurement"] as const,
    registers: [this.registry],
  });
  readonly eventsWritten = new Counter({ name: "mixstack_worker_events_written_total", help: "Events written to InfluxDB", registers: [this.registry] });
  readonly entriesDone = new Counter({ name: "mixstack_worker_entries_total", help: "Stream entries finished, by outcome", labelNames: ["outcome"] as const, registers: [this.registry] });
  readonly deadLettered = new Counter({ name: "mixstack_worker_dead_letters_total", help: "Entries or items sent to the dead letters", registers: [this.registry] });
  readonly writeRetries = new Counter({ name: "mixstack_worker_write_retries_total", help: "InfluxDB writes retried after an error", registers: [this.registry] });
  readonly typeConflicts = new Counter({ name: "mixstack_worker_type_conflicts_total", help: "Field types learnt from InfluxDB conflict answers", registers: [this.registry] });
  readonly droppedProperties = new Counter({ name: "mixstack_worker_dropped_properties_total", help: "Event properties with no field name left (type suffixes exhausted)", registers: [this.registry] });
  readonly beyondRetention = new Counter({ name: "mixstack_worker_beyond_retention_entries_total", help: "Entries whose points were older than the retention policy", registers: [this.registry] });
  readonly profileOperations = new Counter({ name: "mixstack_worker_profile_operations_total", help: "Profile and group operations applied", labelNames: ["kind"] as const, registers: [this.registry] });
  readonly deadLettersTrimmed = new Counter({ name: "mixstack_worker_dead_letters_trimmed_total", help: "Dead letters dropped from mx:dlq to keep it within WORKER_DLQ_MAX_ENTRIES / WORKER_DLQ_MAX_BYTES", registers: [this.registry] });
  readonly budgetRefusals = new Counter({
    name: "mixstack_worker_budget_refusals_total",
    help: "Events dead-lettered because they carried a new event name, property key or tag value beyond the day's budget",
    labelNames: ["kind"] as const,
    registers: [this.registry],
  });
  readonly quotaRefusals = new Counter({
    name: "mixstack_worker_profile_quota_refusals_total",
    help: "Profile and group updates not applied (and dead-lettered) because they would pass a quota",
    labelNames: ["quota"] as const,
    registers: [this.registry],
  });
  readonly redisUsedMemory = new Gauge({ name: "mixstack_worker_redis_used_memory_bytes", help: "Redis used_memory (INFO memory)", registers: [this.registry] });
  readonly redisMaxMemory = new Gauge({ name: "mixstack_worker_redis_maxmemory_bytes", help: "Redis maxmemory (0: no limit)", registers: [this.registry] });
  readonly batchSeconds = new Histogram({
    name: "mixstack_worker_batch_seconds",
    help: "Time from reading a batch to acknowledging it",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly writeSeconds = new Histogram({
    name: "mixstack_worker_write_seconds",
    help: "Duration of the InfluxDB write requests that succeeded",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly influxUp = new Gauge({ name: "mixstack_worker_influx_up", help: "1 while InfluxDB accepts writes", registers: [this.registry] });
  readonly streamLength = new Gauge({ name: "mixstack_worker_stream_length", help: "Entries in mx:stream (the backlog)", registers: [this.registry] });
  readonly lag = new Gauge({ name: "mixstack_worker_lag", help: "Entries not yet delivered to the consumer group", registers: [this.registry] });
  readonly pending = new Gauge({ name: "mixstack_worker_pending", help: "Entries delivered and not yet acknowledged", registers: [this.registry] });
  readonly deadLetters = new Gauge({ name: "mixstack_worker_dead_letter_stream_length", help: "Entries in mx:dlq", registers: [this.registry] });
  readonly profiles = new Gauge({ name: "mixstack_worker_profiles", help: "User profiles in Redis", registers: [this.registry] });
  readonly groups = new Gauge({ name: "mixstack_worker_group_profiles", help: "Group profiles in Redis", registers: [this.registry] });

  private windowWritten = 0;
  private windowRefused = 0;
  private windowWriteMs = 0;
  private windowWrites = 0;

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: "mixstack_worker_" });
    this.influxUp.set(1);
  }

  recordBatch(points: Record<string, number>, events: number, milliseconds: number): void {
    let total = 0;
    for (const [measurement, count] of Object.entries(points)) {
      if (count > 0) this.pointsWritten.inc({ measurement }, count);
      total += count;
    }
    if (events > 0) this.eventsWritten.inc(events);
    this.batchSeconds.observe(milliseconds / 1000);
    this.windowWritten += total;
  }

  /** Items refused by a budget or a quota (dead-lettered), for the `pipeline` sample. */
  recordRefused(kind: "event_name" | "property_key" | "tag_value" | "profile", count: number, quota?: string): void {
    if (count <= 0) return;
    if (kind === "profile") this.quotaRefusals.inc({ quota: quota ?? "profile" }, count);
    else this.budgetRefusals.inc({ kind }, count);
    this.windowRefused += count;
  }

  recordWrite(milliseconds: number): void {
    this.writeSeconds.observe(milliseconds / 1000);
    this.windowWriteMs += milliseconds;
    this.windowWrites += 1;
  }

  /** Points written and the mean duration of the InfluxDB writes since the previous call (0 when none). */
  takeWindow(): { written: number; batchMs: number; refused: number } {
    const window = { written: this.windowWritten, batchMs: this.windowWrites ? this.windowWriteMs / this.windowWrites : 0, refused: this.windowRefused };
    this.windowWritten = 0;
    this.windowRefused = 0;
    this.windowWriteMs = 0;
    this.windowWrites = 0;
    return window;
  }
}
