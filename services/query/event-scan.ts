import { quoteIdentifier, type InfluxConnection } from "../core/influx";
import { compilePredicate, compileExpression, type Bindings, type Evaluate } from "./expression/compile";
import { influxString, translateWhere } from "./expression/influxql";
import { referencedProperties, type Expression, type Scope } from "./expression/parser";
import { DateTime, type Value } from "./expression/values";
import { DISTINCT_ID_FIELD, EVENT_NAME_TAG, INSERT_ID_FIELD, storedTag, storedValue, type EventCatalog } from "./event-columns";
import type { IdentityResolver } from "./identity";
import { streamSelect } from "./influx-stream";
import { LimitExceeded } from "./limits";
import { People } from "./reports/people";
import type { ProfileReader } from "./profiles";
import type { TimeZone } from "./time-zone";

/**
 * The edge between InfluxDB and the report engines: one streamed SELECT per report, of only the
 * columns its expressions use, filtered in InfluxDB as far as `translateWhere` allows; every row is
 * handed on in time order with the person it counts for (after identity merges) and, when an
 * expression reads `user[...]`, that person's profile.
 */

/** One event as the expressions and engines see it; one object reused for every row. */
export interface EventRow {
  values: unknown[];
  time: number;
  event: string;
  /** Canonical id after identity merges; "" for an event without a user. */
  distinctId: string;
  /** The person's number in this report (`People`), -1 for an event without a user. */
  person: number;
  profile?: Record<string, Value>;
}

export interface EventScanRequest {
  /** Event names to read (undefined: every event). */
  events?: readonly string[];
  /** Kept only where true; pushed down to InfluxDB where possible. */
  where?: Expression;
  /** Other expressions evaluated per row (`on`, step `where`s): their columns are selected too. */
  expressions: ReadonlyArray<Expression | undefined>;
  start: number;
  end: number;
}

export interface EventScanContext {
  influx: InfluxConnection;
  database: string;
  chunkSize: number;
  catalog: EventCatalog;
  identity: IdentityResolver;
  profiles: ProfileReader;
  zone: TimeZone;
  maxRows: number;
  maxPeople: number;
  signal: AbortSignal;
  /** Select every column of `events` (the export), not only those the expressions read. */
  allColumns?: boolean;
}

export class EventScan {
  readonly bindings: Bindings<EventRow>;
  readonly query: string;
  readonly columns: string[];
  private readonly residual: (row: EventRow) => boolean;
  private readonly profileProperties: string[];
  /** Only event names no event can have (control characters): nothing to read. */
  private matchesNothing = false;

  constructor(
    private readonly request: EventScanRequest,
    private readonly context: EventScanContext,
  ) {
    const { catalog } = context;
    const used = { properties: new Set<string>(), user: new Set<string>(), event: new Set<string>() };
    for (const expression of [request.where, ...request.expressions]) if (expression) referencedProperties(expression, used);
    const selected = new Set<string>([EVENT_NAME_TAG, DISTINCT_ID_FIELD]);
    for (const name of [...used.properties, ...used.event]) {
      if (name === "$insert_id") selected.add(INSERT_ID_FIELD);
      for (const column of catalog.columnsOf(name)) selected.add(column);
    }
    if (context.allColumns) for (const column of [...catalog.tagKeys, ...catalog.fieldKeys.map((field) => field.key)]) selected.add(column);
    this.columns = ["time", ...selected];
    this.profileProperties = [...used.user];
    const translation = translateWhere(request.where, catalog);
    this.bindings = this.makeBindings();
    this.residual = compilePredicate(translation.residual, this.bindings);
    const conditions = [`time >= ${Math.floor(request.start)}ms`, `time < ${Math.floor(request.end)}ms`];
    if (request.events) {
      const names = request.events.map(influxString).filter((name) => name !== undefined);
      this.matchesNothing = names.length === 0;
      conditions.push(`(${names.map((name) => `${quoteIdentifier(EVENT_NAME_TAG)} = ${name}`).join(" OR ")})`);
    }
    conditions.push(...translation.conditions);
    this.query = `SELECT ${[...selected].map(quoteIdentifier).join(", ")} FROM "events" WHERE ${conditions.join(" AND ")}`;
  }

  compile(expression: Expression): Evaluate<EventRow> {
    return compileExpression(expression, this.bindings);
  }

  predicate(expression: Expression | undefined): (row: EventRow) => boolean {
    return compilePredicate(expression, this.bindings);
  }

  private makeBindings(): Bindings<EventRow> {
    const index = new Map(this.columns.map((column, position) => [column, position]));
    const { catalog } = this.context;
    const propertyGetter = (name: string): Evaluate<EventRow> => {
      if (name === "distinct_id") return (row) => (row.distinctId === "" ? undefined : row.distinctId);
      if (name === "$insert_id") {
        const position = index.get(INSERT_ID_FIELD)!;
        return (row) => storedValue(row.values[position]);
      }
      const entry = catalog.property(name);
      if (!entry) return () => undefined;
      const getters: Evaluate<EventRow>[] = [];
      if (entry.tag !== undefined) {
        const position = index.get(entry.tag)!;
        getters.push((row) => storedTag(row.values[position]));
      }
      for (const field of entry.fields) {
        const position = index.get(field.column)!;
        getters.push((row) => storedValue(row.values[position]));
      }
      if (getters.length === 1) return getters[0]!;
      return (row) => {
        for (const getter of getters) {
          const value = getter(row);
          if (value !== undefined) return value;
        }
        return undefined;
      };
    };
    return {
      lookup: (scope: Scope, name: string): Evaluate<EventRow> => {
        if (scope === "user") return (row) => (row.profile && Object.hasOwn(row.profile, name) ? row.profile[name] : undefined);
        if (scope === "event") {
          if (name === "$time" || name === "time") return (row) => new DateTime(row.time);
          if (name === "name" || name === "$event_name" || name === "event") return (row) => row.event;
          if (name === "distinct_id" || name === "$distinct_id") return (row) => (row.distinctId === "" ? undefined : row.distinctId);
        }
        return propertyGetter(name);
      },
      zoneOffsetMs: this.context.zone.offsetOfWallTime,
    };
  }

  /** Streams the rows; `onRow` gets the shared row object for each event kept by `where`. Returns rows read. */
  async run(onRow: (row: EventRow) => void, afterChunk?: () => Promise<void>): Promise<number> {
    const { identity, profiles, signal } = this.context;
    if (this.matchesNothing) return 0;
    const row: EventRow = { values: [], time: 0, event: "", distinctId: "", person: -1, profile: undefined };
    // One lookup per row: the stored id → its canonical id and person number, filled once per id.
    const people = new People(this.context.maxPeople);
    const known = new Map<string, number>();
    let read = 0;
    const distinctColumn = this.columns.indexOf(DISTINCT_ID_FIELD);
    const eventColumn = this.columns.indexOf(EVENT_NAME_TAG);
    const unseen: string[] = [];
    const whos = new Int32Array(this.context.chunkSize * 2);
    for await (const chunk of streamSelect(this.context.influx, this.query, { database: this.context.database, chunkSize: this.context.chunkSize, signal })) {
      read += chunk.values.length;
      if (read > this.context.maxRows) throw new LimitExceeded("maxRows", `the report reads more than ${this.context.maxRows} events`);
      const values = sameColumns(chunk.columns, this.columns) ? chunk.values : reorder(chunk, this.columns);
      // Each row's id is looked up once; ids not seen before are resolved (identity, person) in one batch.
      unseen.length = 0;
      const persons = values.length <= whos.length ? whos : new Int32Array(values.length);
      for (let index = 0; index < values.length; index += 1) {
        const raw = values[index]![distinctColumn];
        if (typeof raw !== "string" || raw === "") {
          persons[index] = -1;
          continue;
        }
        const who = known.get(raw);
        persons[index] = who ?? UNSEEN;
        if (who === undefined) unseen.push(raw);
      }
      if (unseen.length) {
        await identity.prefetch(unseen);
        for (const raw of unseen) if (!known.has(raw)) known.set(raw, people.of(identity.resolve(raw)));
      }
      if (this.profileProperties.length) await profiles.prefetch(unseen.map((raw) => people.idOf(known.get(raw)!)), this.profileProperties);
      const withProfiles = this.profileProperties.length > 0;
      for (let index = 0; index < values.length; index += 1) {
        const one = values[index]!;
        row.values = one;
        row.time = one[0] as number;
        row.event = (one[eventColumn] as string | null) ?? "";
        const person = persons[index] === UNSEEN ? known.get(one[distinctColumn] as string)! : persons[index]!;
        row.person = person;
        row.distinctId = people.idOf(person);
        if (withProfiles) row.profile = profiles.get(row.distinctId);
        if (!this.residual(row)) continue;
        onRow(row);
      }
      if (afterChunk) await afterChunk();
      if (signal.aborted) throw signal.reason;
    }
    return read;
  }
}

/** Marks a row whose id was first met in its chunk (resolved after the chunk's batch lookup). */
const UNSEEN = -2;

function sameColumns(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((column, index) => column === b[index]);
}

/** InfluxDB names the columns it returns; should their order ever differ, rows are put in ours. */
function reorder(chunk: { columns: string[]; values: unknown[][] }, columns: readonly string[]): unknown[][] {
  const from = columns.map((column) => chunk.columns.indexOf(column));
  return chunk.values.map((values) => from.map((position) => (position === -1 ? null : values[position])));
}
