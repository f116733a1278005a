import type { Buckets } from "../buckets";
import type { FunnelOrder } from "../funnel-definition";
import { StateBudget } from "./people";

/**
 * Funnels (`/funnels`), the pure part, in one pass over events in time order — PostHog's
 * `funnel-udf/src/steps.rs` model (per-person state, window from the entry) fed by a stream instead
 * of sorted arrays. Mixpanel's semantics (reference §1.4, decisions in docs/reports.md):
 *
 * - one funnel per entry bucket (`unit`/`interval`): a person enters at their first step-1 event of a
 *   bucket inside the range; later step-1 events of that bucket do not restart it; a later bucket is a
 *   new funnel (the person may be counted on several days, as Mixpanel's line chart);
 * - the window runs from the entry: a step counts while `time - entry <= window`;
 * - `sequential`: steps in order, other events (repeats of any step too) allowed between; `any`: the
 *   steps after the first in any order;
 * - the 2-second grace: an event up to 2 s *before* the previous step still counts as the next step
 *   (consecutive steps within 2 s are interchangeable), so events the stream delivers "too early"
 *   are kept for 2 s and looked back at when a step is reached;
 * - one event counts as at most one step of one attempt.
 *
 * Memory: one state per person with open attempts (at most one per bucket the window spans) and
 * their events of the last 2 s.
 */

export const GRACE_MS = 2_000;
/** The segment every attempt also counts in (with `on`, the breakdown keys sit beside it). */
export const OVERALL = "$overall";

interface Attempt {
  bucket: number;
  segment: string | undefined;
  /** Steps done (1 after the entry). */
  done: number;
  /** Bit i: step i done (`any` order). */
  mask: number;
  entry: number;
  last: number;
  /** Sequence numbers of the events this attempt used that can come back through the grace look-back. */
  used?: number[];
}

interface Recent {
  seq: number;
  time: number;
  matched: number;
}

interface PersonState {
  lastEntryBucket: number;
  attempts: Attempt[];
  recent: Recent[];
}

class StepStats {
  readonly counts: Float64Array;
  readonly sumTime: Float64Array;
  readonly sumFromStart: Float64Array;

  constructor(steps: number) {
    this.counts = new Float64Array(steps);
    this.sumTime = new Float64Array(steps);
    this.sumFromStart = new Float64Array(steps);
  }
}

export interface FunnelStepAnswer {
  count: number;
  avg_time: number | null;
  avg_time_from_start: number | null;
  step_conv_ratio: number;
  overall_conv_ratio: number;
  goal: string;
  event: string;
  step_label?: string;
}

export interface FunnelBucketAnswer {
  steps: FunnelStepAnswer[];
  analysis: { completion: number; starting_amount: number; steps: number; worst: number };
}

export interface FunnelAnswer {
  meta: { dates: string[] };
  data: Record<string, FunnelBucketAnswer | Record<string, FunnelBucketAnswer>>;
}

export interface FunnelRow {
  date: string;
  time: number;
  segment: string;
  step: number;
  event: string;
  label: string;
  count: number;
  step_conv_ratio: number;
  overall_conv_ratio: number;
  avg_time: number | null;
  avg_time_from_start: number | null;
}

export interface FunnelEngineOptions {
  steps: ReadonlyArray<{ event: string; label?: string }>;
  windowMs: number;
  order: FunnelOrder;
  buckets: Buckets;
  maxStates: number;
}

export class FunnelEngine {
  /** By person number (dense from 0). */
  private readonly people: Array<PersonState | undefined> = [];
  /** segment → per-bucket stats. */
  private readonly stats = new Map<string, StepStats[]>();
  private readonly budget: StateBudget;
  /**
   * Finished attempts, reused for new entries: an attempt lives for its window (many events), so
   * fresh objects would be promoted and then die in the old generation; reusing them keeps the
   * garbage collector out of the hot loop (measured: about half the engine's time at 1M events).
   */
  private readonly spare: Attempt[] = [];
  private readonly spareRecent: Recent[] = [];
  private readonly stepCount: number;
  private seq = 0;

  constructor(private readonly options: FunnelEngineOptions) {
    this.stepCount = options.steps.length;
    this.budget = new StateBudget(options.maxStates);
  }

  private statsOf(segment: string, bucket: number): StepStats {
    let perBucket = this.stats.get(segment);
    if (!perBucket) {
      perBucket = Array.from({ length: this.options.buckets.length }, () => new StepStats(this.stepCount));
      this.stats.set(segment, perBucket);
    }
    return perBucket[bucket]!;
  }

  private record(attempt: Attempt, position: number, time: number): void {
    const since = Math.max(0, time - attempt.last);
    const fromStart = Math.max(0, time - attempt.entry);
    this.add(this.statsOf(OVERALL, attempt.bucket), position, since, fromStart);
    if (attempt.segment !== undefined) this.add(this.statsOf(attempt.segment, attempt.bucket), position, since, fromStart);
  }

  private add(stats: StepStats, position: number, since: number, fromStart: number): void {
    stats.counts[position]! += 1;
    stats.sumTime[position]! += since;
    stats.sumFromStart[position]! += fromStart;
  }

  /** The next step this event can be for this attempt, or -1. */
  private nextStep(attempt: Attempt, matched: number): number {
    if (this.options.order === "sequential") return matched & (1 << attempt.done) ? attempt.done : -1;
    const open = matched & ~attempt.mask & ~1;
    if (!open) return -1;
    return 31 - Math.clz32(open & -open);
  }

  private advance(attempt: Attempt, step: number, time: number, seq: number, remembered: boolean): void {
    attempt.mask |= 1 << step;
    this.record(attempt, attempt.done, time);
    attempt.done += 1;
    attempt.last = Math.max(attempt.last, time);
    // Only events kept for the look-back can be met again: remember those (no allocation otherwise).
    if (remembered) (attempt.used ??= []).push(seq);
  }

  /** After a step: events of the last 2 s that can be the next steps (the grace period). */
  private lookBack(state: PersonState, attempt: Attempt): void {
    let progressed = true;
    while (progressed && attempt.done < this.stepCount) {
      progressed = false;
      for (const recent of state.recent) {
        if (recent.time < attempt.last - GRACE_MS || attempt.used?.includes(recent.seq)) continue;
        if (recent.time - attempt.entry > this.options.windowMs) continue;
        const step = this.nextStep(attempt, recent.matched);
        if (step < 0) continue;
        this.advance(attempt, step, recent.time, recent.seq, true);
        progressed = true;
        break;
      }
    }
  }

  /**
   * One event of a person, in time order. `matched`: bit i set when the event is step i (its event
   * name and the step's `where`). `segment`: its `on` value (used when it enters), undefined without.
   */
  event(person: number, time: number, matched: number, segment: string | undefined): void {
    if (!matched || person < 0) return;
    const seq = this.seq++;
    let state = this.people[person];
    if (!state) {
      state = { lastEntryBucket: -1, attempts: [], recent: [] };
      this.people[person] = state;
      this.budget.take();
    }
    const recent = state.recent;
    while (recent.length && recent[0]!.time < time - GRACE_MS) this.spareRecent.push(recent.shift()!);
    const remembered = (matched & ~1) !== 0 || this.options.order === "any";

    let finished = false;
    for (const attempt of state.attempts) {
      if (attempt.done === this.stepCount || time - attempt.entry > this.options.windowMs) {
        finished = true;
        continue;
      }
      const step = this.nextStep(attempt, matched);
      if (step < 0) continue;
      this.advance(attempt, step, time, seq, remembered);
      if (recent.length) this.lookBack(state, attempt);
      if (attempt.done === this.stepCount) finished = true;
    }
    if (finished) {
      // In place: an attempt that is complete or past its window takes no more steps.
      const attempts = state.attempts;
      let kept = 0;
      for (const attempt of attempts) {
        if (attempt.done < this.stepCount && time - attempt.entry <= this.options.windowMs) attempts[kept++] = attempt;
        else this.spare.push(attempt);
      }
      this.budget.release(attempts.length - kept);
      while (attempts.length > kept) attempts.pop();
    }

    if (matched & 1) {
      const bucket = this.options.buckets.index(time);
      if (bucket >= 0 && bucket > state.lastEntryBucket) {
        state.lastEntryBucket = bucket;
        const attempt: Attempt = this.spare.pop() ?? { bucket, segment, done: 0, mask: 0, entry: time, last: time, used: undefined };
        attempt.bucket = bucket;
        attempt.segment = segment;
        attempt.done = 0;
        attempt.mask = 0;
        attempt.entry = time;
        attempt.last = time;
        if (attempt.used) attempt.used.length = 0;
        this.advance(attempt, 0, time, seq, remembered);
        if (recent.length) this.lookBack(state, attempt);
        if (attempt.done < this.stepCount) {
          state.attempts.push(attempt);
          this.budget.take();
        } else this.spare.push(attempt);
      }
    }
    if (remembered) {
      const entry = this.spareRecent.pop() ?? { seq, time, matched };
      entry.seq = seq;
      entry.time = time;
      entry.matched = matched;
      recent.push(entry);
      if (recent.length > 64) this.spareRecent.push(recent.shift()!);
    }
  }

  private bucketAnswer(stats: StepStats | undefined): FunnelBucketAnswer {
    const counts = stats?.counts ?? new Float64Array(this.stepCount);
    const steps = this.options.steps.map((step, index): FunnelStepAnswer => {
      const count = counts[index]!;
      const previous = index === 0 ? count : counts[index - 1]!;
      const first = counts[0]!;
      const answer: FunnelStepAnswer = {
        count,
        avg_time: index === 0 || count === 0 ? null : stats!.sumTime[index]! / count / 1000,
        avg_time_from_start: index === 0 || count === 0 ? null : stats!.sumFromStart[index]! / count / 1000,
        step_conv_ratio: index === 0 ? 1 : previous > 0 ? count / previous : 0,
        overall_conv_ratio: index === 0 ? 1 : first > 0 ? count / first : 0,
        goal: step.event,
        event: step.event,
      };
      if (step.label) answer.step_label = step.label;
      return answer;
    });
    let worst = 1;
    for (let index = 1; index < steps.length; index += 1) if (steps[index]!.step_conv_ratio < steps[worst]!.step_conv_ratio) worst = index;
    return { steps, analysis: { completion: counts[this.stepCount - 1]!, starting_amount: counts[0]!, steps: this.stepCount, worst } };
  }

  /** Segments other than `$overall`, largest first by entries, at most `limit`. */
  private topSegments(limit: number): string[] {
    const totals = [...this.stats]
      .filter(([segment]) => segment !== OVERALL)
      .map(([segment, perBucket]) => ({ segment, total: perBucket.reduce((sum, stats) => sum + stats.counts[0]!, 0) }));
    totals.sort((a, b) => b.total - a.total || (a.segment < b.segment ? -1 : 1));
    return totals.slice(0, limit).map(({ segment }) => segment);
  }

  /** Mixpanel's shape; with `on`, each date holds `$overall` and one entry per segment. */
  answer(options: { breakdown: boolean; limit: number }): FunnelAnswer {
    const { labels } = this.options.buckets;
    const segments = options.breakdown ? this.topSegments(options.limit) : [];
    const data: FunnelAnswer["data"] = {};
    labels.forEach((label, bucket) => {
      const overall = this.bucketAnswer(this.stats.get(OVERALL)?.[bucket]);
      if (!options.breakdown) {
        data[label] = overall;
        return;
      }
      const perSegment: Record<string, FunnelBucketAnswer> = { [OVERALL]: overall };
      for (const segment of segments) perSegment[segment] = this.bucketAnswer(this.stats.get(segment)?.[bucket]);
      data[label] = perSegment;
    });
    return { meta: { dates: [...labels] }, data };
  }

  /** `format=rows`: one row per date, segment and step. */
  rows(options: { breakdown: boolean; limit: number }): FunnelRow[] {
    const answer = this.answer(options);
    const rows: FunnelRow[] = [];
    this.options.buckets.labels.forEach((date, bucket) => {
      const entry = answer.data[date]!;
      const perSegment = options.breakdown ? (entry as Record<string, FunnelBucketAnswer>) : { [OVERALL]: entry as FunnelBucketAnswer };
      for (const [segment, { steps }] of Object.entries(perSegment)) {
        steps.forEach((step, index) =>
          rows.push({
            date,
            time: this.options.buckets.starts[bucket]!,
            segment,
            step: index + 1,
            event: step.event,
            label: step.step_label ?? step.event,
            count: step.count,
            step_conv_ratio: step.step_conv_ratio,
            overall_conv_ratio: step.overall_conv_ratio,
            avg_time: step.avg_time,
            avg_time_from_start: step.avg_time_from_start,
          }),
        );
      }
    });
    return rows;
  }
}
