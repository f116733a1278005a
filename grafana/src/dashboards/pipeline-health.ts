import * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import { influxDatasource } from "../datasource";
import { influxql } from "../influxql-target";
import { perSecond } from "../influxql";
import { dataTable, graph, organizeColumns, row, singleStat } from "../panels";
import { mixstackDashboard } from "./common";

/**
 * The analytics database, for the panels that read InfluxDB's own statistics in `_internal`. The
 * data source knows the database name (`INFLUX_DB`) but dashboards cannot read it, so it is offered
 * from `SHOW DATABASES`: the read-only user sees its database and `_internal` only.
 */
function databaseVariable(): dashboard.QueryVariableBuilder {
  return new dashboard.QueryVariableBuilder("database")
    .label("Database")
    .datasource(influxDatasource)
    .query({ refId: "database", query: "SHOW DATABASES" })
    .definition("SHOW DATABASES")
    .regex("/^(?!_internal$).+$/")
    .multi(false)
    .includeAll(false)
    .allowCustomValue(false)
    .current({ text: "mixevents", value: "mixevents" })
    .refresh(dashboard.VariableRefresh.OnDashboardLoad);
}

/**
 * Each shard's latest size (InfluxDB refreshes it every 30 s), to be summed over shards. The
 * figures come from `_internal`: `SHOW SERIES CARDINALITY` ignores the time range and loses its
 * measurement names in Grafana's table format, and `SHOW SHARDS`/`SHOW STATS` need an admin.
 */
function shardBytes(groupByTime: string): string {
  return `SELECT last("diskBytes") AS "bytes" FROM "_internal".."shard" WHERE "database" = '$database' AND $timeFilter GROUP BY ${groupByTime}"id"`;
}

/**
 * The refusal reasons of ingest that are limits of docs/limits.md (the others are bad input): times,
 * weeks of history, the per-address budget and connection cap, reserved names, sizes, backpressure.
 */
export const LIMIT_REASONS = [
  "too_old",
  "before_history",
  "too_many_new_weeks",
  "new_weeks_budget",
  "rate_limited",
  "too_many_connections",
  "reserved_name",
  "body_too_large",
  "too_many_containers",
  "too_many_keys",
  "backpressure",
] as const;

/** Redis memory share at which the panel turns red: ingest refuses from 60 % on (MIXSTACK_QUEUE_MEMORY_PERCENT). */
export const REDIS_MEMORY_ALERT_PERCENT = 80;

/** Is the pipeline keeping up? Ingest traffic and rejects, the queue, the worker, InfluxDB itself. */
export function pipelineHealthDashboard(): dashboard.DashboardBuilder {
  return mixstackDashboard("mixstack-pipeline", "mixstack / Pipeline health", "now-1h", "30s")
    .description("Ingest requests and rejects, the Redis stream backlog, worker throughput and latency, InfluxDB size.")
    .withVariable(databaseVariable())
    .withRow(row("Ingest"))
    .withPanel(
      graph("Ingest requests by status", [influxql(`SELECT ${perSecond("requests")} FROM "ingest" WHERE $timeFilter GROUP BY time($__interval), "status" fill(0)`).alias("$tag_status")], {
        unit: "reqps",
        stacked: true,
        description: "HTTP requests per second answered by ingest, one series per status code.",
      }),
    )
    .withPanel(
      graph(
        "Events accepted and rejected by status",
        [
          influxql(
            `SELECT ${perSecond("events_accepted")} AS "accepted", ${perSecond("events_rejected")} AS "rejected" FROM "ingest" WHERE $timeFilter GROUP BY time($__interval), "status" fill(0)`,
          ).alias("$col ($tag_status)"),
        ],
        {
          description:
            "Events per second that ingest put on the queue or refused, by the HTTP status of their request (a 200 can carry refused events next to accepted ones).",
        },
      ),
    )
    .withPanel(
      graph(
        "Rejected events by reason",
        [influxql(`SELECT sum("count") FROM "ingest_rejects" WHERE $timeFilter GROUP BY time($__interval), "reason" fill(0)`).alias("$tag_reason")],
        { stacked: true, bars: true, description: "Refused events per time bucket, one series per reason." },
      ),
    )
    .withPanel(
      dataTable(
        "Rejects by route and reason",
        [influxql(`SELECT sum("count") AS "rejected" FROM "ingest_rejects" WHERE $timeFilter GROUP BY "route", "reason"`)],
        {
          sortDesc: "Rejected",
          transformations: [organizeColumns({ route: "Route", reason: "Reason", rejected: "Rejected" })],
          description: "Refused events in the selected time range by endpoint and reason.",
        },
      ),
    )
    .withRow(row("Limits"))
    .withPanel(
      graph(
        "Refused by a limit",
        [
          influxql(
            `SELECT sum("count") FROM "ingest_rejects" WHERE "reason" =~ /^(${LIMIT_REASONS.join("|")})$/ AND $timeFilter GROUP BY time($__interval), "reason" fill(0)`,
          ).alias("$tag_reason"),
          influxql(`SELECT sum("refused") AS "dead-lettered by the worker" FROM "pipeline" WHERE $timeFilter GROUP BY time($__interval) fill(0)`).refId("B"),
        ],
        {
          stacked: true,
          bars: true,
          description:
            "Requests and items ingest refused because of a limit (event age, history floor, new weeks, the per-address budget, connections, sizes, backpressure; docs/limits.md), by reason, and the events and updates the worker dead-lettered for a budget of new names or a profile quota.",
        },
      ),
    )
    .withPanel(
      graph(
        "Redis memory",
        [influxql(`SELECT max("redis_used_bytes") AS "used", max("redis_max_bytes") AS "maxmemory" FROM "pipeline" WHERE $timeFilter GROUP BY time($__interval)`)],
        {
          unit: "bytes",
          width: 8,
          description: "Redis' used_memory against its maxmemory. Ingest answers 503 from 60 % on (MIXSTACK_QUEUE_MEMORY_PERCENT); the rest is the worker's headroom.",
        },
      ),
    )
    .withPanel(
      singleStat("Redis memory used", influxql(`SELECT last("redis_used_bytes") / last("redis_max_bytes") * 100 FROM "pipeline" WHERE "redis_max_bytes" > 0 AND $timeFilter`), {
        unit: "percent",
        decimals: 0,
        redFrom: REDIS_MEMORY_ALERT_PERCENT,
        width: 4,
        description: `Share of Redis' maxmemory in use at the latest worker sample; red from ${REDIS_MEMORY_ALERT_PERCENT} %: ingest already refuses events (from 60 %), raise the queue's memory or look for a flood of profiles.`,
      }),
    )
    .withRow(row("Queue and worker"))
    .withPanel(
      singleStat("Stream backlog", influxql(`SELECT last("stream_length") FROM "pipeline" WHERE $timeFilter`), {
        description: "Entries waiting in the Redis stream at the latest worker sample.",
      }),
    )
    .withPanel(
      singleStat("Pending entries", influxql(`SELECT last("pending") FROM "pipeline" WHERE $timeFilter`), {
        description: "Entries delivered to a worker and not yet acknowledged, at the latest sample.",
      }),
    )
    .withPanel(
      singleStat("Dead letters", influxql(`SELECT last("dead_letters") FROM "pipeline" WHERE $timeFilter`), {
        redFrom: 1,
        description: "Entries in the dead-letter stream at the latest sample; `mixstack dlq list` shows them.",
      }),
    )
    .withPanel(
      singleStat("Points written", influxql(`SELECT sum("written") FROM "pipeline" WHERE $timeFilter`), {
        description: "Points the workers wrote to InfluxDB in the selected time range.",
      }),
    )
    .withPanel(
      graph(
        "Stream length, lag and pending",
        [
          influxql(
            `SELECT max("stream_length") AS "stream length", max("lag") AS "lag", max("pending") AS "pending" FROM "pipeline" WHERE $timeFilter GROUP BY time($__interval)`,
          ),
        ],
        { description: "The stream's backlog, the consumer group's lag (entries not yet delivered) and pending entries (delivered, not acknowledged)." },
      ),
    )
    .withPanel(
      graph(
        "Worker writes by consumer",
        [influxql(`SELECT ${perSecond("written")} FROM "pipeline" WHERE $timeFilter GROUP BY time($__interval), "consumer" fill(0)`).alias("$tag_consumer")],
        { stacked: true, description: "Points per second written to InfluxDB, one series per worker." },
      ),
    )
    .withPanel(
      graph(
        "InfluxDB write latency",
        // A sample of a window without writes reports batch_ms 0: not a fast write, no write at all.
        [influxql(`SELECT mean("batch_ms") AS "mean", max("batch_ms") AS "max" FROM "pipeline" WHERE "batch_ms" > 0 AND $timeFilter GROUP BY time($__interval)`)],
        {
          unit: "ms",
          description: "Duration of the workers' batch writes to InfluxDB (each sample holds the mean of its window): mean and worst per time bucket; idle windows are left out.",
        },
      ),
    )
    .withPanel(
      graph("Dead letters over time", [influxql(`SELECT max("dead_letters") FROM "pipeline" WHERE $timeFilter GROUP BY time($__interval)`).alias("dead letters")], {
        description: "Length of the dead-letter stream.",
      }),
    )
    .withRow(row("InfluxDB"))
    .withPanel(
      singleStat("Series", influxql(`SELECT last("numSeries") FROM "_internal".."database" WHERE "database" = '$database' AND $timeFilter`), {
        description: "Series in the database at InfluxDB's latest statistics sample (`_internal`).",
      }),
    )
    .withPanel(
      singleStat("Disk used", influxql(`SELECT sum("bytes") FROM (${shardBytes("")})`), {
        unit: "bytes",
        description: "TSM files and WAL of the database's shards at InfluxDB's latest figure (`_internal`).",
      }),
    )
    .withPanel(
      graph(
        "Series cardinality",
        [
          influxql(
            `SELECT last("numSeries") FROM "_internal".."database" WHERE "database" = '$database' AND $timeFilter GROUP BY time($__interval)`,
          ).alias("series"),
        ],
        {
          description:
            "Series in the database over time. Every combination of tag values is a series; a fast-growing count points at a high-cardinality tag.",
        },
      ),
    )
    .withPanel(
      graph("Disk used over time", [influxql(`SELECT sum("bytes") FROM (${shardBytes("time($__interval), ")}) WHERE $timeFilter GROUP BY time($__interval)`).alias("disk used")], {
        unit: "bytes",
        description: "TSM files and WAL of the database's shards over time.",
      }),
    );
}
