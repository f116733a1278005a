import type { InfluxClient } from "../core/influx";
import { toLine } from "../core/line-protocol";
import type { Logger } from "../core/log";
import { redisKeys } from "../core/queue";
import { parseRedisMemory } from "../core/redis-memory";
import type { WorkerMetrics } from "./metrics";
import type { RedisConnection } from "./redis-connection";
import { toPipelinePoint, type PipelineSample } from "./schema";
import type { ConsumerGroup } from "./stream";

/**
 * Every sample interval: reads the queue's state from Redis, updates the Prometheus gauges and writes
 * one `pipeline` point to InfluxDB (Grafana's pipeline-health panels read it). A sample that cannot be
 * written (InfluxDB down) is skipped, not queued: the next one tells the same story.
 */
export class PipelineSampler {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly deps: {
      redis: RedisConnection;
      group: ConsumerGroup;
      influx: InfluxClient;
      db: string;
      metrics: WorkerMetrics;
      log: Logger;
      intervalMs: number;
    },
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      if (!this.running) this.running = this.sample().then(() => undefined, () => undefined).finally(() => (this.running = undefined));
    }, this.deps.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  async sample(): Promise<PipelineSample | undefined> {
    const { redis, group, influx, db, metrics, log } = this.deps;
    let sample: PipelineSample;
    try {
      const [state, streamLength, deadLetters, profiles, groups, memory] = await Promise.all([
        group.state(),
        group.length(),
        group.deadLetterCount(),
        redis.sendCommand(["SCARD", redisKeys.profileIndex]).then(Number),
        redis.sendCommand(["SCARD", redisKeys.groupIndex]).then(Number),
        redis.sendCommand(["INFO", "memory"]).then((info) => parseRedisMemory(String(info))),
      ]);
      const window = metrics.takeWindow();
      sample = { consumer: group.consumer, time: Date.now(), ...window, ...state, streamLength, deadLetters, profiles, groups, redisUsedBytes: memory.used, redisMaxBytes: memory.max };
    } catch (error) {
      log.debug({ err: (error as Error).message }, "pipeline sample skipped: Redis unavailable");
      return undefined;
    }
    metrics.streamLength.set(sample.streamLength);
    metrics.lag.set(sample.lag);
    metrics.pending.set(sample.pending);
    metrics.deadLetters.set(sample.deadLetters);
    metrics.profiles.set(sample.profiles);
    metrics.groups.set(sample.groups);
    metrics.redisUsedMemory.set(sample.redisUsedBytes ?? 0);
    metrics.redisMaxMemory.set(sample.redisMaxBytes ?? 0);
    try {
      await influx.write(toLine(toPipelinePoint(sample)) as string, { db });
    } catch (error) {
      log.debug({ err: (error as Error).message }, "pipeline sample not written");
    }
    return sample;
  }
}

