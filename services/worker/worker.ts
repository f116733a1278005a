import { InfluxClient } from "../core/influx";
import type { Logger } from "../core/log";
import { backoffDelay, pause } from "./backoff";
import { BatchProcessor, type BatchSummary } from "./batch";
import { FieldTypes, isInfluxFieldType, propertyNameOfField } from "./field-types";
import { NameBudget, namesKey } from "./name-budget";
import { BEFORE_IDENTITY_FIELD, measurements } from "./schema";
import { startMetricsListener, type MetricsListener } from "../core/metrics-server";
import { WorkerMetrics } from "./metrics";
import { createRedisConnection, type RedisConnection } from "./redis-connection";
import { RollupJob } from "./rollup/rollup-job";
import { checkRedisRequirements } from "./redis-requirements";
import { PipelineSampler } from "./sampler";
import type { WorkerSettings } from "./settings";
import { ConsumerGroup, isNoGroupError, type StreamEntry } from "./stream";
import { PointWriter, WriteStopped } from "./writer";

/** Consumers that hold nothing and were idle this long are removed from the group. */
const CONSUMER_FORGET_MS = 24 * 3600_000;
/** Entries read per XREADGROUP are sized to fill about one `/write`, within these bounds. */
const MIN_READ_COUNT = 1;
const MAX_READ_COUNT = 1000;

/**
 * `mixstack worker`: the loop that moves stream entries into InfluxDB. One batch at a time: while a
 * batch is unwritten (InfluxDB down) nothing more is read, so memory stays bounded and the backlog
 * waits in Redis, where ingest sees it (XLEN) and pushes back.
 */
export class Worker {
  readonly metrics = new WorkerMetrics();
  private readonly abort = new AbortController();
  private redis?: RedisConnection;
  private blocking?: RedisConnection;
  private metricsListener?: MetricsListener;
  private sampler?: PipelineSampler;
  private rollups?: RollupJob;
  private loop?: Promise<void>;
  private lastAlive = Date.now();
  /**
   * Average items per entry, to size reads to about one `/write`. It starts at the largest entry
   * ingest writes (2,000 items), so that the first reads are small whatever the stream holds.
   */
  private itemsPerEntry = 2000;

  constructor(
    private readonly settings: WorkerSettings,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    const { settings, log } = this;
    this.redis = createRedisConnection(settings.REDIS_URL, log, "commands");
    this.blocking = createRedisConnection(settings.REDIS_URL, log, "blocking-read");
    await Promise.all([this.redis.connect(), this.blocking.connect()]);
    const redisServer = await checkRedisRequirements(this.redis);
    if (redisServer.eviction) log.error({ redis: redisServer.version }, redisServer.eviction);
    const influx = new InfluxClient({ url: settings.INFLUX_URL, username: settings.INFLUX_USER, password: settings.INFLUX_PASSWORD });
    const group = new ConsumerGroup(this.redis, this.blocking, {
      consumer: settings.WORKER_CONSUMER,
      deadLetterLimits: { maxEntries: settings.WORKER_DLQ_MAX_ENTRIES, maxBytes: settings.WORKER_DLQ_MAX_BYTES },
    });
    await group.ensureGroup();
    const types = new FieldTypes(settings.WORKER_FIELD_TYPES_MAX);
    const schema = { tagKeys: new Set(settings.EVENT_TAGS) };
    const nameLimits = {
      eventNamesPerDay: settings.WORKER_NEW_EVENT_NAMES_PER_DAY,
      propertyKeysPerDay: settings.WORKER_NEW_PROPERTY_KEYS_PER_DAY,
      tagValuesPerDay: settings.WORKER_NEW_TAG_VALUES_PER_DAY,
    };
    const names = new NameBudget(this.redis, schema, nameLimits);
    const propertyKeys = await this.learnFieldTypes(influx, types);
    await this.seedNames(influx, names, propertyKeys);

    const writer = new PointWriter(influx, {
      db: settings.INFLUX_DB,
      maxPoints: settings.WORKER_BATCH_POINTS,
      backoffMinMs: settings.WORKER_BACKOFF_MIN_MS,
      backoffMaxMs: settings.WORKER_BACKOFF_MAX_MS,
      types,
      log,
      signal: this.abort.signal,
      onWait: () => this.keepClaimed(group),
      onRetry: () => {
        this.metrics.writeRetries.inc();
        this.metrics.influxUp.set(0);
        this.lastAlive = Date.now();
      },
      onRecovered: () => this.metrics.influxUp.set(1),
      onTypeConflict: () => this.metrics.typeConflicts.inc(),
      onWritten: (_, milliseconds) => this.metrics.recordWrite(milliseconds),
    });
    const processor = new BatchProcessor({
      redis: this.redis,
      group,
      writer,
      types,
      schema,
      metrics: this.metrics,
      log,
      maxDeliveries: settings.WORKER_MAX_DELIVERIES,
      appliedTtlSeconds: settings.WORKER_APPLIED_TTL_S,
      names: { budget: names, limits: nameLimits },
      profileQuotas: {
        maxBytes: settings.WORKER_PROFILE_MAX_BYTES,
        maxProperties: settings.WORKER_PROFILE_MAX_PROPERTIES,
        listMaxBytes: settings.WORKER_PROFILE_LIST_MAX_BYTES,
      },
      firstSeenMaxLateMs: settings.WORKER_FIRST_SEEN_MAX_LATE_DAYS * 86_400_000,
    });
    if (settings.METRICS_PORT > 0) {
      // `/metrics` and `/healthz` (the loop is alive); a failed listen is logged and retried, never fatal.
      this.metricsListener = await startMetricsListener({
        registry: this.metrics.registry,
        port: settings.METRICS_PORT,
        host: settings.METRICS_HOST,
        portIsDefault: settings.metricsPortIsDefault,
        healthy: () => Date.now() - this.lastAlive < Math.max(60_000, settings.WORKER_BLOCK_MS * 5),
        log,
      });
    }
    this.sampler = new PipelineSampler({
      redis: this.redis,
      group,
      influx,
      db: settings.INFLUX_DB,
      metrics: this.metrics,
      log,
      intervalMs: settings.WORKER_SAMPLE_INTERVAL_MS,
    });
    this.sampler.start();
    if (settings.ROLLUP_ENABLED) {
      this.rollups = new RollupJob({
        redis: this.redis,
        // Its own client: reading a day of a large product takes longer than a write may.
        influx: new InfluxClient({ url: settings.INFLUX_URL, username: settings.INFLUX_USER, password: settings.INFLUX_PASSWORD, timeoutMs: 600_000 }),
        db: settings.INFLUX_DB,
        log: log.child({ job: "rollups" }),
        intervalMs: settings.ROLLUP_INTERVAL_MS,
        owner: settings.WORKER_CONSUMER,
      });
      this.rollups.start();
    }
    log.info({ consumer: group.consumer, db: settings.INFLUX_DB, metricsUrl: this.metricsListener?.url }, "worker started");
    this.loop = this.run(group, processor);
  }

  /** Stops reading, abandons a batch InfluxDB has not accepted (it stays pending), closes connections. */
  async stop(): Promise<void> {
    this.abort.abort();
    // A blocked XREADGROUP would hold the loop for up to WORKER_BLOCK_MS: cut its connection.
    this.blocking?.destroy();
    await this.loop;
    await this.rollups?.stop();
    await this.sampler?.stop();
    await this.metricsListener?.close();
    if (this.redis?.isOpen) await this.redis.close().catch(() => this.redis?.destroy());
    this.log.info("worker stopped");
  }

  /** Entries read and not yet finished (at most two batches: one being written, one prepared). */
  private readonly held = new Set<string>();
  private lastTouch = 0;

  /** While a batch waits for InfluxDB, keep its entries from looking abandoned to other workers. */
  private async keepClaimed(group: ConsumerGroup): Promise<void> {
    this.lastAlive = Date.now();
    if (Date.now() - this.lastTouch < this.settings.WORKER_CLAIM_IDLE_MS / 3) return;
    this.lastTouch = Date.now();
    await group.touch([...this.held]);
  }

  private readCount(): number {
    const wanted = Math.round(this.settings.WORKER_BATCH_POINTS / Math.max(this.itemsPerEntry, 1));
    return Math.min(MAX_READ_COUNT, Math.max(MIN_READ_COUNT, wanted));
  }

  /**
   * Reads and prepares the next batch while the previous one is being written (its CPU work overlaps
   * InfluxDB's), but never more than one ahead: while a write is stuck (InfluxDB down), the loop
   * waits for it with one prepared batch in hand and reads nothing more.
   */
  private async run(group: ConsumerGroup, processor: BatchProcessor): Promise<void> {
    const { settings, log } = this;
    const signal = this.abort.signal;
    let readOwnPending = true;
    let nextClaim = 0;
    let nextForget = Date.now() + CONSUMER_FORGET_MS / 24;
    let failures = 0;
    let writing: Promise<BatchSummary> | undefined;
    const finishWriting = async () => {
      if (!writing) return;
      const current = writing;
      writing = undefined;
      const summary = await current;
      this.itemsPerEntry = this.itemsPerEntry * 0.7 + (summary.items / Math.max(summary.entries, 1)) * 0.3;
    };
    while (!signal.aborted) {
      this.lastAlive = Date.now();
      try {
        let entries: StreamEntry[];
        let redelivered = false;
        if (Date.now() >= nextClaim) {
          nextClaim = Date.now() + settings.WORKER_CLAIM_INTERVAL_MS;
          entries = await group.claimIdle(settings.WORKER_CLAIM_IDLE_MS, this.readCount());
          redelivered = true;
          if (entries.length > 0) log.info({ entries: entries.length }, "took over entries idle on other consumers");
          if (Date.now() >= nextForget) {
            nextForget = Date.now() + CONSUMER_FORGET_MS / 24;
            await group.removeIdleConsumers(CONSUMER_FORGET_MS);
          }
        } else if (readOwnPending) {
          // This consumer's pending list includes the batch being written: let that finish first.
          await finishWriting();
          entries = await group.readOwnPending(this.readCount());
          redelivered = true;
          if (entries.length === 0) readOwnPending = false;
        } else {
          entries = await group.readNew(this.readCount(), writing ? Math.min(100, settings.WORKER_BLOCK_MS) : settings.WORKER_BLOCK_MS);
        }
        if (entries.length === 0) {
          await finishWriting();
          failures = 0;
          continue;
        }
        for (const entry of entries) this.held.add(entry.id);
        const prepared = await processor.prepare(entries, { redelivered });
        await finishWriting();
        this.lastTouch = Date.now();
        writing = processor.commit(prepared).finally(() => {
          for (const id of prepared.ids) this.held.delete(id);
        });
        writing.catch(() => undefined); // surfaces at finishWriting(); never an unhandled rejection
        failures = 0;
      } catch (error) {
        await writing?.catch(() => undefined);
        writing = undefined;
        this.held.clear();
        if (signal.aborted || error instanceof WriteStopped) break;
        failures += 1;
        readOwnPending = true;
        log.warn({ err: (error as Error).message, failures }, "batch failed; retrying");
        if (isNoGroupError(error)) {
          await group.ensureGroup().then(
            () => log.warn("consumer group was missing (Redis lost its data?); created it again"),
            () => undefined,
          );
        }
        await pause(backoffDelay(failures - 1, settings.WORKER_BACKOFF_MIN_MS, settings.WORKER_BACKOFF_MAX_MS), signal);
      }
    }
    await writing?.catch(() => undefined);
  }

  /**
   * Starts with the field types InfluxDB already holds, so that the first batch rarely conflicts
   * (at most `WORKER_FIELD_TYPES_MAX` per measurement are read). Returns the property names of
   * `events` among them.
   */
  private async learnFieldTypes(influx: InfluxClient, types: FieldTypes): Promise<string[]> {
    const properties = new Set<string>();
    try {
      const [result] = await influx.query(`SHOW FIELD KEYS LIMIT ${this.settings.WORKER_FIELD_TYPES_MAX}`, { db: this.settings.INFLUX_DB });
      for (const series of result?.series ?? []) {
        for (const [key, type] of series.values ?? []) {
          if (typeof key === "string" && isInfluxFieldType(type) && series.name && types.typeOf(series.name, key) === undefined) {
            types.learn(series.name, key, type);
            if (series.name === measurements.events) properties.add(propertyNameOfField(key));
          }
        }
      }
    } catch (error) {
      this.log.warn({ err: (error as Error).message }, "could not read field types from InfluxDB; learning them from its answers");
    }
    for (const column of ["insert_id", "distinct_id", BEFORE_IDENTITY_FIELD]) properties.delete(column);
    return [...properties];
  }

  /**
   * A Redis without the name registries (a new one, or one restored without them) learns the names
   * InfluxDB already holds, so that they do not count against the day's budgets again.
   */
  private async seedNames(influx: InfluxClient, names: NameBudget, propertyKeys: string[]): Promise<void> {
    try {
      if (Number(await this.redis!.sendCommand(["EXISTS", namesKey("event"), namesKey("property")])) > 0) return;
      const [result] = await influx.query(`SHOW TAG VALUES FROM "events" WITH KEY = "event" LIMIT 100000`, { db: this.settings.INFLUX_DB });
      const events = (result?.series ?? []).flatMap((series) => (series.values ?? []).map((row) => String(row[1])));
      await names.seed("event", events);
      await names.seed("property", propertyKeys);
      if (events.length + propertyKeys.length > 0) this.log.info({ events: events.length, properties: propertyKeys.length }, "name registries seeded from InfluxDB");
    } catch (error) {
      this.log.warn({ err: (error as Error).message }, "could not seed the name registries from InfluxDB; known names count against today's budgets");
    }
  }
}
