import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { ingestEnvironment } from "./ingest/settings";
import { readWorkerSettings } from "./worker/settings";

/**
 * Every limit of ingest and the worker as one table (issue 12): what is bounded, its default, the
 * setting that changes it, what a client (or the operator) sees when it is reached, and the test
 * that shows that answer. docs/limits.md is generated from it (`npx tsx services/limits.ts`), and
 * test/abuse/limits-table.test.ts checks both ways: each default is what the service's settings
 * schema really gives, and each named test exists and shows the answer.
 */

export interface Limit {
  what: string;
  service: "ingest" | "worker";
  /** The environment variable; undefined for a fixed bound. */
  setting?: string;
  /** The stack config key the topology sets `setting` from (`mixstack:<key>`), where users need one. */
  config?: string;
  /** The default as the docs show it. */
  default: string;
  /** The default as the settings reader gives it (checked), for a limit with a setting. */
  value?: unknown;
  /** What the client (ingest) or the operator (worker) sees. */
  answer: string;
  /** Test file (from the repository root) and a text in it that shows the answer. */
  test: [file: string, shows: string];
}

const MIB = 1024 * 1024;

export const LIMITS: readonly Limit[] = [
  {
    what: "age of a `/track` event",
    service: "ingest",
    setting: "MIXSTACK_TRACK_MAX_AGE_DAYS",
    config: "ingest.trackMaxAgeDays",
    default: "5 days (0: none)",
    value: 5,
    answer: "the event is refused: `properties.time, older than 5 days; send old events to /import` (`too_old`)",
    test: ["test/abuse/event-times.test.ts", 'reason="too_old"'],
  },
  {
    what: "earliest event (and profile `$time`) on every route",
    service: "ingest",
    setting: "MIXSTACK_HISTORY_SINCE",
    config: "history.since",
    default: "`730d` (two years back; or a date `YYYY-MM-DD`); from stack config: `history.since`, else a finite `influxdb.retention`",
    value: "730d",
    answer: "the item is refused: `properties.time, before <day>, the earliest time this server accepts (MIXSTACK_HISTORY_SINCE)` (`before_history`)",
    test: ["test/ingest/event.test.ts", "the earliest time this server accepts (MIXSTACK_HISTORY_SINCE)"],
  },
  {
    what: "new weeks of history (InfluxDB shards) per request and per minute, all instances together",
    service: "ingest",
    setting: "MIXSTACK_NEW_WEEKS_PER_MINUTE",
    default: "10 (0: none)",
    value: 10,
    answer: "a request reaching more: `400` strict / `0` (`too_many_new_weeks`); over the minute's budget: `429` + `Retry-After` until the next minute (`new_weeks_budget`)",
    test: ["test/abuse/event-times.test.ts", "toContain(429)"],
  },
  {
    what: "request body (after decompression too)",
    service: "ingest",
    setting: "MIXSTACK_MAX_BODY_BYTES",
    default: "1 MiB",
    value: MIB,
    answer: "`413` `request exceeds max limit of 1048576 bytes` (`body_too_large`), connection closed",
    test: ["test/ingest/limits.test.ts", "request exceeds max limit of ${MIB} bytes"],
  },
  {
    what: "body of `/import` with an API secret or a service account",
    service: "ingest",
    setting: "MIXSTACK_MAX_IMPORT_BODY_BYTES",
    default: "10 MiB",
    value: 10 * MIB,
    answer: "as above; the public token (and a secret only in the form body) gets the 1 MiB limit",
    test: ["test/ingest/limits.test.ts", "keeps the 1 MiB limit"],
  },
  {
    what: "request line and headers",
    service: "ingest",
    setting: "MIXSTACK_MAX_HEADER_BYTES",
    default: "256 KiB",
    value: 256 * 1024,
    answer: "`431`, connection closed (`headers_too_large`)",
    test: ["test/ingest/bad-input.test.ts", "431"],
  },
  {
    what: "items per request",
    service: "ingest",
    setting: "MIXSTACK_MAX_ITEMS",
    default: "2000",
    value: 2000,
    answer: "`413` `request has N items, more than the limit of 2000` (`too_many_items`)",
    test: ["test/ingest/payload.test.ts", "too_many_items"],
  },
  {
    what: "properties per event or operation, keys per nested object, items per list",
    service: "ingest",
    setting: "MIXSTACK_MAX_PROPERTIES",
    default: "255",
    value: 255,
    answer: "the item is refused (`too_many_properties`, `too_many_keys`, `too_many_items`)",
    test: ["test/ingest/bad-input.test.ts", "more than 255 properties"],
  },
  {
    what: "size of one event or update",
    service: "ingest",
    setting: "MIXSTACK_MAX_EVENT_BYTES",
    default: "1 MiB",
    value: MIB,
    answer: "the item is refused: `properties, event is larger than N bytes` (`too_large`)",
    test: ["test/ingest/event.test.ts", "event is larger than 10000 bytes"],
  },
  {
    what: "nesting depth of properties",
    service: "ingest",
    default: "3",
    answer: "the item is refused: `<path>, nested deeper than 3 levels` (`too_deep`)",
    test: ["test/ingest/bad-input.test.ts", "nested deeper than 3 levels"],
  },
  {
    what: "JSON objects and arrays in one request",
    service: "ingest",
    default: "200,000",
    answer: "`413` before parsing (`too_many_containers`)",
    test: ["test/ingest/payload.test.ts", "more empty arrays than the container limit"],
  },
  {
    what: "JSON object keys in one request",
    service: "ingest",
    default: "400,000",
    answer: "`413` before parsing (`too_many_containers`)",
    test: ["test/ingest/payload.test.ts", "more object keys than the key limit"],
  },
  {
    what: "keys of one JSON object, in a payload over 64 KiB",
    service: "ingest",
    default: "1,000",
    answer: "`413` before parsing: `body, holds an object of more than 1000 keys` (`too_many_keys`)",
    test: ["test/ingest/payload.test.ts", "one object of more keys than any item may have"],
  },
  {
    what: "a payload over 16 KiB that names no project token (`/track`, `/engage`, `/groups`)",
    service: "ingest",
    default: "—",
    answer: "refused before parsing: `token (body), names no project token of this server` (`unknown_token`)",
    test: ["test/ingest/bad-input.test.ts", "names no project token of this server"],
  },
  {
    what: "event property names ending in `:float`, `:integer`, `:string`, `:boolean`, `:property`",
    service: "ingest",
    default: "refused",
    answer: 'the event is refused: `properties.plan:float, ends in ":float", which is reserved for properties whose type changed` (`reserved_name`)',
    test: ["test/abuse/poisoning.test.ts", "reserved"],
  },
  {
    what: "ingest time per client address (`X-Forwarded-For` read through `MIXSTACK_TRUSTED_PROXY_HOPS`); `/import` with a secret is exempt",
    service: "ingest",
    setting: "MIXSTACK_CLIENT_MS_PER_SECOND",
    config: "ingest.clientMsPerSecond",
    default: "100 ms per second, 10 % of a core (0: none)",
    value: 100,
    answer: "`429` + `Retry-After` before the body is read: `too many requests from this address; retry later` (strict `/import`: Mixpanel's `Project exceeded rate limits…`) (`rate_limited`)",
    test: ["test/ingest/client-budget.test.ts", "too many requests from this address; retry later"],
  },
  {
    what: "what one address may save up of that time",
    service: "ingest",
    setting: "MIXSTACK_CLIENT_BURST_MS",
    default: "150 ms",
    value: 150,
    answer: "as above; a request is let in when its address has what its size may cost (1 ms per 10 KiB, at most this)",
    test: ["test/ingest/client-budget.test.ts", "lets a client spend its burst"],
  },
  {
    what: "open connections per ingest process",
    service: "ingest",
    setting: "MIXSTACK_MAX_CONNECTIONS",
    default: "10,000",
    value: 10_000,
    answer: "`429` + `Retry-After: 1`, connection closed (`too_many_connections`); beyond twice as many, new connections are dropped",
    test: ["test/ingest/client-budget.test.ts", "MIXSTACK_MAX_CONNECTIONS"],
  },
  {
    what: "entries waiting in the stream",
    service: "ingest",
    setting: "MIXSTACK_MAX_STREAM_LENGTH",
    default: "100,000",
    value: 100_000,
    answer: "`503` + `Retry-After: 5`: `queue backlog above N entries` (`backpressure`)",
    test: ["test/ingest/redis-outage.test.ts", "queue backlog above 5 entries"],
  },
  {
    what: "Redis memory, as a share of its `maxmemory` (the rest is the worker's headroom)",
    service: "ingest",
    setting: "MIXSTACK_QUEUE_MEMORY_PERCENT",
    default: "60 %",
    value: 60,
    answer: "`503` + `Retry-After: 5`: `queue memory above 60% of its maxmemory` (`backpressure`)",
    test: ["test/ingest/limits.test.ts", "queue memory above 60% of its maxmemory"],
  },
  {
    what: "one queue write",
    service: "ingest",
    setting: "MIXSTACK_QUEUE_TIMEOUT_MS",
    default: "2 s",
    value: 2000,
    answer: "`503` + `Retry-After: 1`: `queue did not answer in time` (`queue_timeout`)",
    test: ["test/ingest/redis-outage.test.ts", "did not answer in time"],
  },
  {
    what: "new event names per UTC day, all workers together",
    service: "worker",
    setting: "WORKER_NEW_EVENT_NAMES_PER_DAY",
    config: "worker.newEventNamesPerDay",
    default: "1,000",
    value: 1000,
    answer: "the event is dead-lettered (`budget of new event names for today spent …`), counted in `mixstack_worker_budget_refusals_total{kind}` and `pipeline.refused`",
    test: ["test/abuse/cardinality.test.ts", "new event names"],
  },
  {
    what: "new event property keys (field keys) per UTC day",
    service: "worker",
    setting: "WORKER_NEW_PROPERTY_KEYS_PER_DAY",
    config: "worker.newPropertyKeysPerDay",
    default: "5,000",
    value: 5000,
    answer: "the event is dead-lettered, counted as above",
    test: ["test/abuse/cardinality.test.ts", "mixstack_worker_budget_refusals_total"],
  },
  {
    what: "new values per UTC day of each tag added to `EVENT_TAGS`",
    service: "worker",
    setting: "WORKER_NEW_TAG_VALUES_PER_DAY",
    default: "100",
    value: 100,
    answer: "the event is dead-lettered, counted as above",
    test: ["test/worker/limits.test.ts", "plan=silver"],
  },
  {
    what: "values of the tags `$os`, `$browser`, `mp_lib`, `mp_country_code`",
    service: "worker",
    default: "the SDKs' names; ISO 3166 codes",
    answer: "another value is stored as `Other` (`other` for `mp_lib`); a country that is no ISO code is left out",
    test: ["test/worker/schema.test.ts", "the default tags keep to their vocabulary"],
  },
  {
    what: "one list property of a profile (`$append`, `$union`)",
    service: "worker",
    setting: "WORKER_PROFILE_LIST_MAX_BYTES",
    default: "256 KiB (Mixpanel's)",
    value: 256 * 1024,
    answer: "the update is not applied and is dead-lettered (`profile quota: …`), counted in `mixstack_worker_profile_quota_refusals_total{quota}`",
    test: ["test/worker/profile-ops.test.ts", 'quota: "list"'],
  },
  {
    what: "one profile's memory in Redis",
    service: "worker",
    setting: "WORKER_PROFILE_MAX_BYTES",
    default: "1 MiB",
    value: MIB,
    answer: "as above (an update that does not grow the profile always applies)",
    test: ["test/worker/profile-ops.test.ts", 'quota: "bytes"'],
  },
  {
    what: "properties of one profile",
    service: "worker",
    setting: "WORKER_PROFILE_MAX_PROPERTIES",
    default: "2,000 (Mixpanel's)",
    value: 2000,
    answer: "as above",
    test: ["test/worker/profile-ops.test.ts", 'quota: "properties"'],
  },
  {
    what: "dead letters kept (`mx:dlq`)",
    service: "worker",
    setting: "WORKER_DLQ_MAX_ENTRIES",
    default: "10,000",
    value: 10_000,
    answer: "the oldest are dropped, counted in `mixstack_worker_dead_letters_trimmed_total` and logged",
    test: ["test/worker/limits.test.ts", "keeps at most WORKER_DLQ_MAX_ENTRIES"],
  },
  {
    what: "memory of the dead letters",
    service: "worker",
    setting: "WORKER_DLQ_MAX_BYTES",
    default: "32 MiB",
    value: 32 * MIB,
    answer: "as above",
    test: ["test/worker/limits.test.ts", "keeps at most WORKER_DLQ_MAX_BYTES"],
  },
  {
    what: "field types remembered in memory",
    service: "worker",
    setting: "WORKER_FIELD_TYPES_MAX",
    default: "100,000",
    value: 100_000,
    answer: "the oldest are forgotten and learnt again from InfluxDB's conflict answer (one more write)",
    test: ["test/worker/limits.test.ts", "forgets the oldest types past its bound"],
  },
  {
    what: "lateness of a `/track` event that may move a person's first day back",
    service: "worker",
    setting: "WORKER_FIRST_SEEN_MAX_LATE_DAYS",
    default: "5 days",
    value: 5,
    answer: "a later one is written (tagged by the known first day) but moves no first day back; it may start one",
    test: ["test/worker/data-model.test.ts", "never moves a known one back"],
  },
  {
    what: "deliveries of one stream entry",
    service: "worker",
    setting: "WORKER_MAX_DELIVERIES",
    default: "5",
    value: 5,
    answer: "the entry is dead-lettered: `delivered N times without being written`",
    test: ["test/worker/dlq.test.ts", "without being written"],
  },
  {
    what: "type suffixes of one property name",
    service: "worker",
    default: "3",
    answer: "a value of a fourth type is dropped, counted in `mixstack_worker_dropped_properties_total`",
    test: ["test/worker/field-types.test.ts", "fieldFor"],
  },
];

/** The default each settings reader gives, by variable. */
export function settingDefaults(): Record<string, unknown> {
  const defaults: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(ingestEnvironment.shape)) {
    const parsed = (schema as { safeParse(value: unknown): { success: boolean; data?: unknown } }).safeParse(undefined);
    if (parsed.success) defaults[name] = parsed.data;
  }
  const worker = readWorkerSettings({ REDIS_URL: "redis://127.0.0.1:6379", INFLUX_URL: "http://127.0.0.1:8086" }) as Record<string, unknown>;
  for (const [name, value] of Object.entries(worker)) if (/^[A-Z]/.test(name)) defaults[name] = value;
  return defaults;
}

export function limitsTable(): string {
  const cell = (text: string) => text.replace(/\|/g, "\\|");
  const rows = LIMITS.map((limit) => `| ${cell(limit.what)} | ${limit.service} | ${limit.setting ? `\`${limit.setting}\`` : "fixed"} | ${limit.config ? `\`${limit.config}\`` : ""} | ${cell(limit.default)} | ${cell(limit.answer)} | \`${limit.test[0]}\` |`);
  return `${["| limit | service | setting | stack config | default | answer | test |", "|---|---|---|---|---|---|---|", ...rows].join("\n")}\n`;
}

if (require.main === module) {
  const file = join(resolve(__dirname, ".."), "docs", "limits.md");
  const page = readFileSync(file, "utf8");
  writeFileSync(file, page.replace(/<!-- generated: limits -->\n[\s\S]*?<!-- end: limits -->/, `<!-- generated: limits -->\n${limitsTable()}<!-- end: limits -->`));
}
