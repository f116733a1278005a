import type { StatsItem } from "../core/queue";

/**
 * Ingest's counters for one flush window, turned into `stats` stream items (measurements `ingest`
 * and `ingest_rejects` of docs/contracts.md) so that Grafana charts ingest health from InfluxDB.
 * When the flush cannot be written the items are merged back and go out with the next window.
 */
export class StatsWindow {
  private requests = new Map<string, { route: string; status: string; requests: number; accepted: number; rejected: number }>();
  private rejects = new Map<string, { route: string; reason: string; count: number }>();

  recordRequest(route: string, status: number, accepted: number, rejected: number): void {
    const key = `${route}\u0000${status}`;
    let row = this.requests.get(key);
    if (!row) this.requests.set(key, (row = { route, status: String(status), requests: 0, accepted: 0, rejected: 0 }));
    row.requests++;
    row.accepted += accepted;
    row.rejected += rejected;
  }

  recordRejects(route: string, reason: string, count: number): void {
    const key = `${route}\u0000${reason}`;
    let row = this.rejects.get(key);
    if (!row) this.rejects.set(key, (row = { route, reason, count: 0 }));
    row.count += count;
  }

  get empty(): boolean {
    return this.requests.size === 0 && this.rejects.size === 0;
  }

  /** Takes the window's counts as stats items (time = `now`) and starts a new window. */
  drain(now: number): StatsItem[] {
    const items: StatsItem[] = [];
    for (const row of this.requests.values()) {
      items.push({
        measurement: "ingest",
        tags: { route: row.route, status: row.status },
        fields: { requests: row.requests, events_accepted: row.accepted, events_rejected: row.rejected },
        time: now,
      });
    }
    for (const row of this.rejects.values()) {
      items.push({ measurement: "ingest_rejects", tags: { route: row.route, reason: row.reason }, fields: { count: row.count }, time: now });
    }
    this.requests = new Map();
    this.rejects = new Map();
    return items;
  }

  /** Puts items that could not be written back into the current window. */
  restore(items: StatsItem[]): void {
    for (const item of items) {
      if (item.measurement === "ingest") {
        const key = `${item.tags.route}\u0000${item.tags.status}`;
        let row = this.requests.get(key);
        if (!row) this.requests.set(key, (row = { route: item.tags.route!, status: item.tags.status!, requests: 0, accepted: 0, rejected: 0 }));
        row.requests += item.fields.requests ?? 0;
        row.accepted += item.fields.events_accepted ?? 0;
        row.rejected += item.fields.events_rejected ?? 0;
      } else if (item.measurement === "ingest_rejects") {
        this.recordRejects(item.tags.route!, item.tags.reason!, item.fields.count ?? 0);
      }
    }
  }
}
