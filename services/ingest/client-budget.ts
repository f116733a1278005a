/**
 * A token bucket per client address, counted in milliseconds of ingest's own time (its one thread):
 * each address earns `msPerSecond` up to `burstMs`, a request is let in only when its address has
 * enough for what the request may cost (estimated from its size, at most `burstMs`), and is then
 * charged what it really took. So one client can hold at most `msPerSecond / 1000` of the core,
 * however it shapes its requests (many small ones, or bodies that are expensive to parse), while
 * ordinary traffic (a browser batch costs ~1 ms) never comes near it. Per instance, in memory.
 */

/** What a request is assumed to cost before it is parsed: a fixed part plus 1 ms per 10 KiB (hostile JSON parses at ~60-100 ms/MiB). */
export function estimatedCostMs(bytes: number): number {
  return REQUEST_COST_MS + bytes / 10_240;
}

/** Charged for every request besides its measured time: HTTP parsing and the reply, which are not measured. */
export const REQUEST_COST_MS = 0.05;

/** Addresses remembered at most; the quiet ones (full buckets) are forgotten first. */
const MAX_CLIENTS = 100_000;

interface Bucket {
  balance: number;
  at: number;
}

export class ClientBudget {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly msPerSecond: number,
    private readonly burstMs: number,
  ) {}

  /** Milliseconds until `client` may send a request estimated at `costMs`; 0: now. */
  waitMs(client: string, costMs: number, now: number): number {
    const bucket = this.refill(client, now);
    const needed = Math.min(costMs, this.burstMs);
    if (bucket.balance >= needed) return 0;
    return Math.ceil(((needed - bucket.balance) / this.msPerSecond) * 1000);
  }

  /** Takes `ms` from `client`'s bucket (it may go below zero: a request is not cut short). */
  charge(client: string, ms: number, now: number): void {
    this.refill(client, now).balance -= ms;
  }

  get size(): number {
    return this.buckets.size;
  }

  private refill(client: string, now: number): Bucket {
    let bucket = this.buckets.get(client);
    if (!bucket) {
      if (this.buckets.size >= MAX_CLIENTS) this.forget(now);
      bucket = { balance: this.burstMs, at: now };
      this.buckets.set(client, bucket);
      return bucket;
    }
    bucket.balance = Math.min(this.burstMs, bucket.balance + ((now - bucket.at) / 1000) * this.msPerSecond);
    bucket.at = now;
    return bucket;
  }

  /** Drops the addresses whose bucket is full again; if that is not enough, the oldest half. */
  private forget(now: number): void {
    const fullAfterMs = (this.burstMs / this.msPerSecond) * 1000;
    for (const [client, bucket] of this.buckets) if (now - bucket.at >= fullAfterMs) this.buckets.delete(client);
    if (this.buckets.size < MAX_CLIENTS / 2) return;
    let drop = this.buckets.size / 2;
    for (const client of this.buckets.keys()) {
      if (drop-- <= 0) break;
      this.buckets.delete(client);
    }
  }
}
