import { redisKeys, type EventItem } from "../core/queue";
import type { RedisConnection } from "./redis-connection";
import { RedisScript } from "./redis-script";
import { isTagProperty, toTagValue, type EventSchema } from "./schema";
import { hasVocabulary } from "./tag-values";

/**
 * Budgets of new names per UTC day: event names (the `event` tag: a series each), event property
 * keys (a field key each, kept in InfluxDB's index and in the worker's memory forever) and values of
 * the custom tags (`EVENT_TAGS` beyond the four with a vocabulary). Names already known cost
 * nothing; a new one is let in while the day's budget lasts, across workers (Redis sets
 * `mx:names:<kind>` and counters `mx:budget:<kind>:<day>`). An event with a name beyond the budget
 * is dead-lettered whole with the reason, so that nothing is lost: `dlq replay` sends it again
 * (on a later day, or after the budget was raised).
 */

export type NameKind = "event" | "property" | `tag:${string}`;

export interface NameBudgetLimits {
  eventNamesPerDay: number;
  propertyKeysPerDay: number;
  tagValuesPerDay: number;
}

export const DEFAULT_NAME_BUDGET: NameBudgetLimits = { eventNamesPerDay: 1000, propertyKeysPerDay: 5000, tagValuesPerDay: 100 };

/** Known names remembered in memory; past it the memory is emptied (Redis still knows them). */
const KNOWN_KEPT = 200_000;

export const namesKey = (kind: NameKind) => redisKeys.names(kind);
export const budgetKey = (kind: NameKind, day: string) => redisKeys.nameBudget(kind, day);

/**
 * KEYS: per kind its set and today's counter. ARGV: per kind the budget, the count n, then n names.
 * Returns per kind a string with one character per name: k (known), a (admitted now), r (refused).
 */
const admitSource = `
local out = {}
local i = 1
for kind = 1, #KEYS / 2 do
  local set, counter = KEYS[2 * kind - 1], KEYS[2 * kind]
  local budget, n = tonumber(ARGV[i]), tonumber(ARGV[i + 1])
  local used = tonumber(redis.call('GET', counter) or '0')
  local marks = {}
  for j = 1, n do
    local name = ARGV[i + 1 + j]
    if redis.call('SISMEMBER', set, name) == 1 then marks[j] = 'k'
    elseif used < budget then
      redis.call('SADD', set, name)
      used = used + 1
      marks[j] = 'a'
    else marks[j] = 'r' end
  end
  if used > 0 then redis.call('SET', counter, used, 'EX', 172800) end
  out[kind] = table.concat(marks)
  i = i + 2 + n
end
return out
`;

export const admitNamesScript = new RedisScript("admit-names", admitSource, { allowOom: true });

/** Why one event of a batch was refused: the kind and the names beyond the budget. */
export interface BudgetRefusal {
  kind: "event_name" | "property_key" | "tag_value";
  names: string[];
}

export class NameBudget {
  private readonly known = new Map<NameKind, Set<string>>();
  private knownCount = 0;

  constructor(
    private readonly redis: RedisConnection,
    private readonly schema: EventSchema,
    private readonly limits: NameBudgetLimits = DEFAULT_NAME_BUDGET,
  ) {}

  private limitOf(kind: NameKind): number {
    if (kind === "event") return this.limits.eventNamesPerDay;
    if (kind === "property") return this.limits.propertyKeysPerDay;
    return this.limits.tagValuesPerDay;
  }

  private isKnown(kind: NameKind, name: string): boolean {
    return this.known.get(kind)?.has(name) ?? false;
  }

  private remember(kind: NameKind, name: string): void {
    if (this.knownCount >= KNOWN_KEPT) {
      this.known.clear();
      this.knownCount = 0;
    }
    let names = this.known.get(kind);
    if (!names) this.known.set(kind, (names = new Set()));
    if (!names.has(name)) {
      names.add(name);
      this.knownCount += 1;
    }
  }

  /** Names of one event, by kind. */
  private *namesOf(event: EventItem): Generator<[NameKind, string]> {
    yield ["event", event.event];
    for (const key of Object.keys(event.properties)) {
      if (isTagProperty(key, this.schema)) {
        if (hasVocabulary(key)) continue;
        const value = toTagValue(event.properties[key]);
        if (value !== undefined) yield [`tag:${key}`, value];
      } else if (event.properties[key] !== null) yield ["property", key];
    }
  }

  /**
   * Lets the batch's new names in while the day's budgets last. Returns, by position in `events`,
   * the events that carry a name beyond a budget. Known names cost one set lookup each.
   */
  async admit(events: readonly EventItem[], day: string): Promise<Map<number, BudgetRefusal>> {
    const refusals = new Map<number, BudgetRefusal>();
    const unknown = new Map<NameKind, Set<string>>();
    events.forEach((event) => {
      for (const [kind, name] of this.namesOf(event)) {
        if (this.isKnown(kind, name)) continue;
        let names = unknown.get(kind);
        if (!names) unknown.set(kind, (names = new Set()));
        names.add(name);
      }
    });
    if (unknown.size === 0) return refusals;
    const kinds = [...unknown.keys()];
    const keys = kinds.flatMap((kind) => [namesKey(kind), budgetKey(kind, day)]);
    const args = kinds.flatMap((kind) => [String(this.limitOf(kind)), String(unknown.get(kind)!.size), ...unknown.get(kind)!]);
    const reply = (await admitNamesScript.run(this.redis, keys, args)) as string[];
    const refused = new Map<NameKind, Set<string>>();
    kinds.forEach((kind, position) => {
      const marks = String(reply[position] ?? "");
      [...unknown.get(kind)!].forEach((name, index) => {
        if (marks[index] === "r") {
          let names = refused.get(kind);
          if (!names) refused.set(kind, (names = new Set()));
          names.add(name);
        } else this.remember(kind, name);
      });
    });
    if (refused.size === 0) return refusals;
    events.forEach((event, position) => {
      for (const [kind, name] of this.namesOf(event)) {
        if (!refused.get(kind)?.has(name)) continue;
        const label = kind === "event" ? "event_name" : kind === "property" ? "property_key" : "tag_value";
        const refusal = refusals.get(position) ?? { kind: label, names: [] };
        refusal.names.push(kind.startsWith("tag:") ? `${kind.slice(4)}=${name}` : name);
        refusals.set(position, refusal);
      }
    });
    return refusals;
  }

  /** Names InfluxDB already holds (at start, when Redis has none: a new or restored Redis): known, free of budget. */
  async seed(kind: NameKind, names: readonly string[]): Promise<void> {
    for (let start = 0; start < names.length; start += 1000) {
      const chunk = names.slice(start, start + 1000);
      if (chunk.length > 0) await this.redis.sendCommand(["SADD", namesKey(kind), ...chunk]);
    }
  }
}

/** Why an event was refused (the same text for every event of one budget), and which of its names (at most three, quoted). */
export function budgetReason(refusal: BudgetRefusal, limits: NameBudgetLimits): { reason: string; names: string } {
  const [what, limit, setting] =
    refusal.kind === "event_name"
      ? ["new event names", limits.eventNamesPerDay, "WORKER_NEW_EVENT_NAMES_PER_DAY"]
      : refusal.kind === "property_key"
        ? ["new property keys", limits.propertyKeysPerDay, "WORKER_NEW_PROPERTY_KEYS_PER_DAY"]
        : ["new tag values", limits.tagValuesPerDay, "WORKER_NEW_TAG_VALUES_PER_DAY"];
  const shown = refusal.names.slice(0, 3).map((name) => JSON.stringify(name.length > 60 ? `${name.slice(0, 60)}…` : name));
  const more = refusal.names.length > 3 ? ` and ${refusal.names.length - 3} more` : "";
  return { reason: `budget of ${what} for today spent (${limit}, ${setting})`, names: `${shown.join(", ")}${more}` };
}
