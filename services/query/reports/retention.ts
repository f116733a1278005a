import type { Buckets } from "../buckets";
import { OVERALL } from "./funnel";
import { PersonArray, StateBudget } from "./people";

/**
 * Retention (`/retention`), the pure part, one pass over events in time order (reference §1.5,
 * decisions in docs/reports.md):
 *
 * - `birth`: a person's cohort is the bucket (`unit`, local calendar) of their first `born_event` in
 *   the range; `compounded`: every bucket in which they did `event` is a cohort of theirs, born at
 *   their first such event of it;
 * - interval `i` runs from the person's own birth: `[birth + i·L, birth + (i+1)·L)` with
 *   `L = interval × unit` (day 24 h, week 7 days, month 30 days); `counts[i]` is the people of the
 *   cohort who did the return event in it; the birth event itself does not count as a return;
 * - `unbounded_retention`: a person counts in interval `i` when they returned in `i` or any later one;
 * - `on`: returns are split by the return event's `on` value; `first` stays the whole cohort.
 *
 * Memory: a few numbers per person (birth, last interval counted), times segments with `on`.
 */

export interface RetentionCohortAnswer {
  counts: number[];
  first: number;
}

export type RetentionAnswer = Record<string, RetentionCohortAnswer> | Record<string, Record<string, RetentionCohortAnswer>>;

export interface RetentionRow {
  cohort: string;
  time: number;
  segment: string;
  first: number;
  counts: number[];
  [period: `c${number}` | `r${number}`]: number;
}

export interface RetentionOptions {
  kind: "birth" | "compounded";
  buckets: Buckets;
  intervalMs: number;
  intervalCount: number;
  unbounded: boolean;
  maxStates: number;
  /** Now (ms): intervals that have not begun for a cohort are left out of its counts. */
  now: number;
}

interface Membership {
  cohort: number;
  birth: number;
  /** Last interval counted (bounded) or furthest interval returned (unbounded), -1: none yet; `$overall`. */
  overall: number;
  /** The same per `on` segment (only with `on`). */
  reached?: Map<string, number>;
}

export class RetentionEngine {
  private readonly firsts: Float64Array;
  /** segment → cohort → per-interval counts. */
  private readonly counts = new Map<string, Float64Array[]>();
  private readonly budget: StateBudget;
  /** birth: one membership per person; compounded: the memberships whose intervals are still open. */
  private readonly members: Array<Membership[] | undefined> = [];
  private readonly lastCohort = new PersonArray(-1);
  private readonly intervals: number;

  constructor(private readonly options: RetentionOptions) {
    this.firsts = new Float64Array(options.buckets.length);
    this.budget = new StateBudget(options.maxStates);
    this.intervals = options.intervalCount + 1;
  }

  private countsOf(segment: string, cohort: number): Float64Array {
    let perCohort = this.counts.get(segment);
    if (!perCohort) {
      perCohort = Array.from({ length: this.options.buckets.length }, () => new Float64Array(this.intervals));
      this.counts.set(segment, perCohort);
    }
    return perCohort[cohort]!;
  }

  /**
   * One event of a person, in time order. `born`: it is a birth event (born_event and born_where;
   * for compounded: the return event); `returned`: it is a return event (event and where);
   * `segment`: its `on` value, undefined without `on`.
   */
  event(person: number, time: number, born: boolean, returned: boolean, segment: string | undefined): void {
    if (person < 0 || (!born && !returned)) return;
    const memberships = this.members[person];
    let birthNow = false;
    if (born) birthNow = this.birth(person, time, memberships);
    if (!returned || !memberships) return;
    // The event that made a birth is not a return for that cohort (only for the ones before it).
    const open = birthNow ? memberships.length - 1 : memberships.length;
    let expired = 0;
    for (let index = 0; index < open; index += 1) {
      const membership = memberships[index]!;
      const interval = Math.floor((time - membership.birth) / this.options.intervalMs);
      if (interval >= this.intervals) {
        expired += 1;
        continue;
      }
      if (interval > membership.overall) {
        membership.overall = interval;
        if (!this.options.unbounded) this.countsOf(OVERALL, membership.cohort)[interval]! += 1;
      }
      if (segment !== undefined) this.reach(membership, segment, interval);
    }
    if (expired && this.options.kind === "compounded") {
      const isOpen = (membership: Membership) => Math.floor((time - membership.birth) / this.options.intervalMs) < this.intervals;
      for (const membership of memberships) if (!isOpen(membership)) this.settle(membership);
      const kept = memberships.filter(isOpen);
      this.budget.release(memberships.length - kept.length);
      this.members[person] = kept;
    }
  }

  private birth(person: number, time: number, memberships: Membership[] | undefined): boolean {
    const cohort = this.options.buckets.index(time);
    if (cohort < 0) return false;
    if (this.options.kind === "birth" ? memberships !== undefined : this.lastCohort.get(person) === cohort) return false;
    this.lastCohort.set(person, cohort);
    this.firsts[cohort]! += 1;
    const membership: Membership = { cohort, birth: time, overall: -1 };
    if (memberships) memberships.push(membership);
    else this.members[person] = [membership];
    this.budget.take();
    return true;
  }

  private reach(membership: Membership, segment: string, interval: number): void {
    membership.reached ??= new Map();
    const previous = membership.reached.get(segment);
    if (previous === undefined) this.budget.take();
    else if (previous >= interval) return;
    membership.reached.set(segment, interval);
    if (!this.options.unbounded) this.countsOf(segment, membership.cohort)[interval]! += 1;
  }

  /** Unbounded: a membership counts in every interval up to the furthest one reached, once it is over. */
  private settle(membership: Membership): void {
    if (!this.options.unbounded) return;
    const reached: Array<[string, number]> = [[OVERALL, membership.overall], ...(membership.reached ?? [])];
    for (const [segment, furthest] of reached) {
      const counts = this.countsOf(segment, membership.cohort);
      for (let interval = 0; interval <= furthest; interval += 1) counts[interval]! += 1;
    }
  }

  private finish(): void {
    for (const memberships of this.members) if (memberships) for (const membership of memberships) this.settle(membership);
  }

  /** Compounded memberships drop out once their intervals are over; their counts are already in. */
  private cohortAnswer(segment: string, cohort: number): RetentionCohortAnswer {
    const started = this.options.buckets.starts[cohort]!;
    const begun = Math.max(1, Math.min(this.intervals, Math.floor((this.options.now - started) / this.options.intervalMs) + 1));
    const counts = this.counts.get(segment)?.[cohort] ?? new Float64Array(this.intervals);
    return { counts: Array.from(counts.subarray(0, begun)), first: this.firsts[cohort]! };
  }

  private segmentsByTotal(limit: number): string[] {
    const totals = [...this.counts]
      .filter(([segment]) => segment !== OVERALL)
      .map(([segment, perCohort]) => ({ segment, total: perCohort.reduce((sum, counts) => sum + counts.reduce((a, b) => a + b, 0), 0) }));
    totals.sort((a, b) => b.total - a.total || (a.segment < b.segment ? -1 : 1));
    return totals.slice(0, limit).map(({ segment }) => segment);
  }

  private finished = false;

  /** Mixpanel's shape `{date: {counts, first}}`; with `on`, `{segment: {date: {counts, first}}}` with `$overall` first. */
  answer(options: { breakdown: boolean; limit: number }): RetentionAnswer {
    if (!this.finished) {
      this.finish();
      this.finished = true;
    }
    const byCohort = (segment: string) =>
      Object.fromEntries(this.options.buckets.labels.map((label, cohort) => [label, this.cohortAnswer(segment, cohort)]));
    if (!options.breakdown) return byCohort(OVERALL);
    const answer: Record<string, Record<string, RetentionCohortAnswer>> = { [OVERALL]: byCohort(OVERALL) };
    for (const segment of this.segmentsByTotal(options.limit)) answer[segment] = byCohort(segment);
    return answer;
  }

  /** `format=rows`: one row per cohort (and segment): `first`, `counts`, `c0…cN` (people) and `r0…rN` (share of `first`). */
  rows(options: { breakdown: boolean; limit: number }): RetentionRow[] {
    const answer = this.answer(options);
    const perSegment = (options.breakdown ? answer : { [OVERALL]: answer }) as Record<string, Record<string, RetentionCohortAnswer>>;
    const rows: RetentionRow[] = [];
    for (const [segment, cohorts] of Object.entries(perSegment)) {
      this.options.buckets.labels.forEach((label, cohort) => {
        const { counts, first } = cohorts[label]!;
        const row: RetentionRow = { cohort: label, time: this.options.buckets.starts[cohort]!, segment, first, counts };
        counts.forEach((count, index) => {
          row[`c${index}`] = count;
          row[`r${index}`] = first > 0 ? count / first : 0;
        });
        rows.push(row);
      });
    }
    return rows;
  }
}
