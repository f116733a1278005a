import { waitFor } from "../../services/dev/ports";
import type { Pipeline } from "../../services/dev/pipeline";
import { seededRandom } from "../../services/dev/seeded-random";
import { InfluxClient } from "../../services/core/influx";

/**
 * The seeded data set the report tests send through the real ingest and worker: people who browse
 * anonymously on a device, sign up (the event that carries `$device_id` and `$user_id`, i.e. the
 * merge) and come back; anonymous-only visitors; a property whose type changes (`plan`); tags
 * (`$os`) and fields; and hand-made people for each edge case, tagged with a `case` property.
 * Every event has its own millisecond (never a whole second), so the worker stores each exactly.
 */

export interface SentEvent {
  event: string;
  properties: Record<string, unknown> & { time: number; distinct_id: string; $insert_id: string };
}

export const DAY = 86_400_000;
/** Day 0 of the data set: 2026-10-01 (UTC). */
export const BASE = Date.UTC(2026, 9, 1);
export const DAYS = 21;
export const iso = (day: number) => new Date(BASE + day * DAY).toISOString().slice(0, 10);

export interface Dataset {
  events: SentEvent[];
  /** device → user, as the worker will merge them. */
  merges: Map<string, string>;
  /** Profile `$set`s, by distinct id. */
  profiles: Map<string, Record<string, unknown>>;
  /** Which events go in which wave: device-phase first, then the rest, then late arrivals. */
  waves: SentEvent[][];
}

export function buildDataset(seed = 14, people = 120): Dataset {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
  const usedTimes = new Set<number>();
  const uniqueTime = (time: number, exact = false) => {
    let t = Math.floor(time);
    if (exact) {
      if (usedTimes.has(t) || t % 1000 === 0) throw new Error(`edge-case time ${t} is taken or a whole second`);
      usedTimes.add(t);
      return t;
    }
    if (t % 1000 === 0) t += 1;
    while (usedTimes.has(t) || t % 1000 === 0) t += 1;
    usedTimes.add(t);
    return t;
  };
  let counter = 0;
  const events: SentEvent[] = [];
  const devicePhase: SentEvent[] = [];
  const merges = new Map<string, string>();
  const profiles = new Map<string, Record<string, unknown>>();
  const add = (event: string, time: number, distinctId: string, properties: Record<string, unknown>, phase?: SentEvent[], exact = false) => {
    const sent: SentEvent = { event, properties: { ...properties, time: uniqueTime(time, exact), distinct_id: distinctId, $insert_id: `q${seed}-${counter++}` } };
    events.push(sent);
    phase?.push(sent);
    return sent;
  };

  for (let index = 0; index < people; index += 1) {
    const device = `d${index}`;
    const identified = random() < 0.7;
    const user = identified ? `u${index}` : undefined;
    const os = pick(["Linux", "Mac OS X", "Windows"]);
    const plan = random() < 0.08 ? pick([1, 2]) : pick(["free", "pro"]);
    const firstDay = Math.floor(random() * 14);
    const at = (day: number) => BASE + day * DAY + Math.floor(random() * 20 * 3_600_000) + 3_600_000;
    const asDevice = { $device_id: device, $os: os };
    // Anonymous browsing first.
    const start = at(firstDay);
    for (let n = 0; n < 1 + Math.floor(random() * 3); n += 1) add("Viewed", start - (n + 1) * 60_000 - 7, `$device:${device}`, { ...asDevice, page: pick(["home", "pricing"]) }, devicePhase);
    if (!user) {
      for (let day = firstDay + 1; day < DAYS; day += 1) if (random() < 0.2) add("Viewed", at(day), `$device:${device}`, { ...asDevice, page: "home" }, devicePhase);
      continue;
    }
    merges.set(device, user);
    add("Signed up", start, user, { ...asDevice, $user_id: user, plan });
    profiles.set(user, { tier: pick(["gold", "silver"]), age: 18 + Math.floor(random() * 50), $email: `${user}@example.com` });
    const asUser = { $device_id: device, $user_id: user, $os: os };
    for (let day = firstDay; day < DAYS; day += 1) {
      if (day > firstDay && random() < 0.5) continue;
      const base = day === firstDay ? start + 120_000 : at(day);
      for (let n = 0; n < 1 + Math.floor(random() * 3); n += 1) add("Viewed", base + n * 300_000, user, { ...asUser, page: pick(["home", "pricing", "docs"]), plan });
      if (random() < 0.6) add("Other", base + 1_000_000, user, { ...asUser, plan });
      if (random() < 0.4) add("Paid", base + (random() < 0.5 ? 1_500_000 : 5 * DAY), user, { ...asUser, amount: Math.floor(random() * 300), plan });
    }
  }

  // Hand-made people, one per edge case (funnel Viewed → Signed up → Paid with a 1-hour window).
  const hour = 3_600_000;
  let edges = 0;
  const edge = (name: string, day: number, steps: Array<[string, number, Record<string, unknown>?]>) => {
    // Each case at its own minute, so that no two cases' times meet (and move each other's).
    const t0 = BASE + day * DAY + hour + 123 + (3 * hour + 17) * edges++;
    for (const [event, offset, extra] of steps) add(event, t0 + offset, `edge-${name}`, { case: name, $os: "Linux", amount: 150, ...extra }, undefined, true);
  };
  edge("window-inside", 16, [["Viewed", 0], ["Signed up", 60_000], ["Paid", hour]]);
  edge("window-outside", 16, [["Viewed", 0], ["Signed up", 60_000], ["Paid", hour + 1]]);
  edge("enters-twice", 17, [["Viewed", 0], ["Viewed", 30 * 60_000], ["Signed up", 70 * 60_000], ["Paid", 71 * 60_000], ["Viewed", DAY], ["Signed up", DAY + 60_000], ["Paid", DAY + 120_000]]);
  edge("grace", 16, [["Signed up", 0], ["Viewed", 1_500], ["Paid", 3_000]]);
  edge("beyond-grace", 16, [["Signed up", 0], ["Viewed", 2_500], ["Paid", 3_000]]);
  edge("cheap", 16, [["Viewed", 0], ["Signed up", 1_000], ["Paid", 2_000, { amount: 20 }]]);
  // An event at 20:00 UTC on day 5 is already day 6 in Asia/Kolkata (+05:30).
  for (const [name, offset] of [["late-evening", 20 * hour + 30 * 60_000], ["early-morning", 2 * hour]] as const) {
    add("Viewed", BASE + 5 * DAY + offset + 7, `tz-${name}`, { case: `tz-${name}`, $os: "Linux" });
    add("Signed up", BASE + 5 * DAY + offset + 60_007, `tz-${name}`, { case: `tz-${name}`, $os: "Linux" });
  }

  // Waves: device-phase events first (written with `$device:` ids before their merge), then the rest
  // shuffled, then 10 % of everything held back and sent last (late, out of order).
  const late = new Set<SentEvent>();
  for (const event of events) if (random() < 0.1 && !devicePhase.includes(event)) late.add(event);
  const rest = shuffle(events.filter((event) => !devicePhase.includes(event) && !late.has(event)), random);
  return { events, merges, profiles, waves: [shuffle(devicePhase, random), rest, shuffle([...late], random)] };
}

function shuffle<T>(items: T[], random: () => number): T[] {
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index -= 1) {
    const other = Math.floor(random() * (index + 1));
    [copy[index], copy[other]] = [copy[other]!, copy[index]!];
  }
  return copy;
}

const basic = (secret: string) => `Basic ${Buffer.from(`${secret}:`).toString("base64")}`;

/** `/import` in requests of 500, wave after wave, each written by the worker before the next. */
export async function sendDataset(pipeline: Pipeline, dataset: Dataset): Promise<void> {
  const reader = new InfluxClient({ url: pipeline.influx.url, ...pipeline.credentials.reader });
  let sent = 0;
  for (const wave of dataset.waves) {
    for (let start = 0; start < wave.length; start += 500) {
      const response = await fetch(`${pipeline.ingestUrl}/import?strict=0`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: basic(pipeline.apiSecret) },
        body: JSON.stringify(wave.slice(start, start + 500)),
      });
      const text = await response.text();
      if (response.status !== 200 || text !== "1") throw new Error(`import answered ${response.status} ${text}`);
    }
    sent += wave.length;
    await waitFor(
      `the worker to write ${sent} events`,
      async () => (await reader.rows(`SELECT count("insert_id") FROM "events"`, { db: pipeline.database }))[0]?.count === sent,
      { timeoutMs: 60_000 },
    );
  }
  const updates = [...dataset.profiles].map(([distinctId, set]) => ({ $token: pipeline.token, $distinct_id: distinctId, $set: set }));
  const response = await fetch(`${pipeline.ingestUrl}/engage`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(updates) });
  if ((await response.text()) !== "1") throw new Error("engage refused");
}
