import type { Buckets } from "../buckets";
import { LimitExceeded } from "../limits";
import { PersonInts, StateBudget } from "./people";

/** The first segments keep "last bucket counted" in an array by person (4 bytes each), the rest in maps. */
const ARRAY_SEGMENTS = 8;

/**
 * Segmentation (`/segmentation`), the pure part: events arrive in time order with their bucket, their
 * segment (the `on` value, or the event name) and their person; counts are kept per segment and
 * bucket. `unique` counts a person once per bucket: as buckets only move forward in a time-ordered
 * stream, remembering the last bucket each person was counted in is enough (memory: people ×
 * segments, never events). `average` is events per person (general ÷ unique) per bucket.
 */

export type SegmentationType = "general" | "unique" | "average";

interface Segment {
  general: Float64Array;
  unique: Float64Array;
  /** person → last bucket counted (unique): an array for the first segments, a map for the others. */
  lastBucket: PersonInts | Map<number, number>;
}

export interface SegmentationAnswer {
  data: { series: string[]; values: Record<string, Record<string, number>> };
  legend_size: number;
}

export interface SegmentationRow {
  time: number;
  date: string;
  segment: string;
  value: number;
}

export class SegmentationCounter {
  private readonly segments = new Map<string, Segment>();
  private readonly budget: StateBudget;

  constructor(
    private readonly buckets: Buckets,
    private readonly type: SegmentationType,
    private readonly limits: { maxSegments: number; maxStates: number },
  ) {
    this.budget = new StateBudget(limits.maxStates);
  }

  private segment(key: string): Segment {
    let segment = this.segments.get(key);
    if (!segment) {
      if (this.segments.size >= this.limits.maxSegments) {
        throw new LimitExceeded("maxSegments", `"on" has more than ${this.limits.maxSegments} distinct values in this range`);
      }
      const lastBucket = this.segments.size < ARRAY_SEGMENTS ? new PersonInts(-1) : new Map<number, number>();
      segment = { general: new Float64Array(this.buckets.length), unique: new Float64Array(this.buckets.length), lastBucket };
      this.segments.set(key, segment);
    }
    return segment;
  }

  /** One event; `person` -1 (no user) counts for `general` only. */
  add(bucket: number, segmentKey: string, person: number): void {
    const segment = this.segment(segmentKey);
    segment.general[bucket]! += 1;
    if (person < 0 || this.type === "general") return;
    const last = segment.lastBucket.get(person) ?? -1;
    if (last === bucket) return;
    if (last === -1 && segment.lastBucket instanceof Map) this.budget.take();
    segment.lastBucket.set(person, bucket);
    segment.unique[bucket]! += 1;
  }

  private valuesOf(segment: Segment): Float64Array {
    if (this.type === "general") return segment.general;
    if (this.type === "unique") return segment.unique;
    return segment.general.map((count, index) => (segment.unique[index]! > 0 ? count / segment.unique[index]! : 0));
  }

  /** The top `limit` segments by their total over the range (ties: by name). */
  private top(limit: number): Array<[string, Float64Array]> {
    const ranked = [...this.segments].map(([key, segment]) => {
      const values = this.valuesOf(segment);
      return { key, values, total: values.reduce((sum, value) => sum + value, 0) };
    });
    ranked.sort((a, b) => b.total - a.total || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return ranked.slice(0, limit).map(({ key, values }) => [key, values]);
  }

  /** Mixpanel's shape; `keys` are always present (the event name without `on`, even with no events). */
  answer(limit: number, keys: readonly string[] = []): SegmentationAnswer {
    for (const key of keys) this.segment(key);
    const series = [...this.buckets.labels];
    const values: Record<string, Record<string, number>> = {};
    for (const [key, counts] of this.top(limit)) {
      values[key] = Object.fromEntries(series.map((label, index) => [label, counts[index]!]));
    }
    return { data: { series, values }, legend_size: Object.keys(values).length };
  }

  /** `format=rows`: one row per segment and bucket, for Grafana's Infinity data source. */
  rows(limit: number, keys: readonly string[] = []): SegmentationRow[] {
    for (const key of keys) this.segment(key);
    const rows: SegmentationRow[] = [];
    for (const [segment, counts] of this.top(limit)) {
      counts.forEach((value, index) => rows.push({ time: this.buckets.starts[index]!, date: this.buckets.labels[index]!, segment, value }));
    }
    return rows;
  }
}

/** `/segmentation/sum` and `/segmentation/average`: the `on` expression summed or averaged per bucket. */
export class NumericAccumulator {
  private readonly sums: Float64Array;
  private readonly counts: Float64Array;

  constructor(private readonly buckets: Buckets) {
    this.sums = new Float64Array(buckets.length);
    this.counts = new Float64Array(buckets.length);
  }

  /** A non-numeric value counts as 0.0 in the sum (Mixpanel's rule) and is left out of the average. */
  add(bucket: number, value: unknown): void {
    if (typeof value !== "number") return;
    this.sums[bucket]! += value;
    this.counts[bucket]! += 1;
  }

  results(kind: "sum" | "average"): Record<string, number> {
    return Object.fromEntries(
      this.buckets.labels.map((label, index) => [label, kind === "sum" ? this.sums[index]! : this.counts[index]! > 0 ? this.sums[index]! / this.counts[index]! : 0]),
    );
  }

  rows(kind: "sum" | "average"): Array<{ time: number; date: string; value: number }> {
    const results = this.results(kind);
    return this.buckets.labels.map((label, index) => ({ time: this.buckets.starts[index]!, date: label, value: results[label]! }));
  }
}
