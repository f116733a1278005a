import type { InfluxClient } from "../services/core/influx";
import { toLine } from "../services/core/line-protocol";
import type { EventItem } from "../services/core/queue";
import { seededRandom } from "../services/dev/seeded-random";
import { FieldTypes } from "../services/worker/field-types";
import { toEventPoint } from "../services/worker/schema";
import { DEFAULT_EVENT_TAGS } from "../services/worker/settings";

/** The benchmarks' browser-like event data set (bench/backup.ts, bench/forget.ts). */

const OS = ["Mac OS X", "Windows", "Linux", "iOS", "Android"];
const BROWSERS = ["Chrome", "Safari", "Firefox", "Edge", "Samsung Internet"];
const EVENT_NAMES = ["Page Viewed", "Clicked", "Signed Up", "Purchased", "Searched", "Added To Cart"];
const REFERRERS = ["https://www.google.com/", "https://news.ycombinator.com/", "$direct", "https://t.co/"];
const SCREENS = [[1440, 900], [1920, 1080], [390, 844], [412, 915], [2560, 1440]];

/**
 * Browser-like events as the worker stores them (its own point builder and the default tags):
 * random insert ids, ~12 properties with realistic spread, times jittered over two months (several
 * 7-day shards). Compresses like real data, unlike a counter-driven series.
 */
export async function loadBrowserEvents(client: InfluxClient, db: string, events: number): Promise<void> {
  const next = seededRandom(20261123); // the same data every run, with no pattern gzip could exploit
  const pick = <T>(values: readonly T[]): T => values[Math.floor(next() * values.length)]!;
  const hex = (digits: number) => Array.from({ length: digits }, () => Math.floor(next() * 16).toString(16)).join("");
  const start = Date.UTC(2026, 7, 1);
  const spanMs = 60 * 86_400_000;
  const types = new FieldTypes();
  const schema = { tagKeys: new Set(DEFAULT_EVENT_TAGS) };
  for (let from = 0; from < events; from += 10_000) {
    const lines: string[] = [];
    for (let i = from; i < Math.min(events, from + 10_000); i += 1) {
      const user = Math.floor(next() ** 2 * 50_000); // a few heavy users, a long tail
      const [width, height] = pick(SCREENS);
      const item: EventItem = {
        event: pick(EVENT_NAMES),
        time: start + Math.floor(((i + next()) / events) * spanMs),
        insertId: `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`,
        distinctId: `user-${user}`,
        properties: {
          $device_id: `${hex(14)}-${hex(15)}-${hex(8)}`,
          mp_lib: next() < 0.8 ? "web" : "android",
          $lib_version: "2.83.0",
          $os: pick(OS),
          $browser: pick(BROWSERS),
          $browser_version: 100 + Math.floor(next() * 40),
          $current_url: `https://app.example.com/${pick(["docs", "app", "pricing", "blog"])}/${Math.floor(next() * 5000)}?utm_campaign=${hex(4)}`,
          $referrer: pick(REFERRERS),
          $screen_width: width,
          $screen_height: height,
          mp_country_code: pick(["US", "DE", "FR", "IN", "BR", "GB"]),
          plan: next() < 0.7 ? "free" : "pro",
          amount: Math.round(next() * 20_000) / 100,
        },
      };
      lines.push(toLine(toEventPoint(item, item.distinctId, schema, types).point) as string);
    }
    await client.write(lines.join("\n"), { db, gzip: true });
  }
}

