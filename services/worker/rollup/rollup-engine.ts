import { ActivityWindow, WIDEST_WINDOW_DAYS, type DayNumber } from "./activity-window";
import type { DayFacts } from "./day-facts";
import { mondayOf, type DayFigures } from "./rollup-points";

/**
 * The rollup job's memory between rounds, and the arithmetic of the rolling figures. No I/O.
 *
 * - `base`: the rolling windows with every day up to `baseThrough` folded in.
 * - `recent`: the people of the last `RECENT_DAYS` days (and today), kept apart so that a late event
 *   on one of them costs reading that day again, not the 30 before it. Each round copies the base,
 *   folds the recent days in and reads the figures off.
 * A change to a day at or before `baseThrough` (an import of history, a restore) rebuilds the base
 * from the 29 days before that day.
 */

/** Days kept apart from the base: late events up to this old re-read one day. */
export const RECENT_DAYS = 7;

/** What is kept of a day once its points are written. */
export interface KeptDay {
  day: DayNumber;
  events: number;
  people: Uint32Array;
  signups: Uint32Array;
}

export function keptDay(facts: DayFacts): KeptDay {
  return { day: facts.day, events: facts.events, people: facts.people, signups: facts.signups };
}

interface Windows {
  people: ActivityWindow;
  signups: ActivityWindow;
  /** DAU of the days in the widest window, for stickiness. */
  dau: Map<DayNumber, number>;
}

function freshWindows(): Windows {
  return { people: new ActivityWindow(), signups: new ActivityWindow(), dau: new Map() };
}

function fold(windows: Windows, day: KeptDay): DayFigures {
  windows.people.add(day.day, day.people);
  windows.signups.add(day.day, day.signups);
  const dau = day.people.length / 2;
  windows.dau.set(day.day, dau);
  for (const known of windows.dau.keys()) if (known <= day.day - WIDEST_WINDOW_DAYS) windows.dau.delete(known);
  const mau = windows.people.activeSince(day.day - 29);
  let dauSum = 0;
  for (const [known, count] of windows.dau) if (known > day.day - WIDEST_WINDOW_DAYS) dauSum += count;
  return {
    day: day.day,
    dau,
    wau: windows.people.activeSince(day.day - 6),
    mau,
    wtd: windows.people.activeSince(mondayOf(day.day)),
    stickiness: mau === 0 ? 0 : dauSum / WIDEST_WINDOW_DAYS / mau,
    signups: day.signups.length / 2,
    signups7d: windows.signups.activeSince(day.day - 6),
    events: day.events,
  };
}

export class RollupEngine {
  private base: Windows | undefined;
  /** The last day folded into the base; days after it are in `recent` or not read yet. */
  baseThrough: DayNumber | undefined;
  private readonly recent = new Map<DayNumber, KeptDay>();

  get ready(): boolean {
    return this.base !== undefined;
  }

  /** Forgets everything (another worker took the job over, or a round failed half-way). */
  reset(): void {
    this.base = undefined;
    this.baseThrough = undefined;
    this.recent.clear();
  }

  /** Starts over with empty windows as of the end of `through`; the caller folds the context days in with `settle`. */
  startAt(through: DayNumber): void {
    this.reset();
    this.base = freshWindows();
    this.baseThrough = through;
  }

  /** Whether a change to `day` needs the base rebuilt (it is already folded in). */
  needsRebuild(day: DayNumber): boolean {
    return this.base === undefined || this.baseThrough === undefined || day <= this.baseThrough;
  }

  has(day: DayNumber): boolean {
    return this.recent.has(day);
  }

  /**
   * Folds the next day straight into the base (it must follow `baseThrough`) and returns its
   * figures: for days old enough that no late event is expected, and for the context of a rebuild.
   */
  settle(day: KeptDay): DayFigures {
    if (!this.base || this.baseThrough === undefined) throw new Error("rollup engine not started");
    if (day.day !== this.baseThrough + 1) throw new Error(`day ${day.day} settled after ${this.baseThrough}`);
    if (this.recent.size > 0 && Math.min(...this.recent.keys()) <= day.day) throw new Error(`day ${day.day} settled before the recent days`);
    this.baseThrough = day.day;
    return fold(this.base, day);
  }

  /** Keeps a recent day (replacing what was kept of it). */
  keep(day: KeptDay): void {
    if (this.baseThrough !== undefined && day.day <= this.baseThrough) throw new Error(`day ${day.day} is already in the base`);
    this.recent.set(day.day, day);
  }

  /** The figures of every recent day, folded in order into a copy of the base (the base is not changed). */
  recentFigures(): DayFigures[] {
    if (!this.base) throw new Error("rollup engine not started");
    const copy: Windows = { people: this.base.people.clone(), signups: this.base.signups.clone(), dau: new Map(this.base.dau) };
    return [...this.recent.keys()].sort((a, b) => a - b).map((day) => fold(copy, this.recent.get(day)!));
  }

  /** Moves recent days older than `RECENT_DAYS` before `today` into the base, in order. */
  settleBefore(today: DayNumber): void {
    const days = [...this.recent.keys()].sort((a, b) => a - b);
    for (const day of days) {
      if (day > today - RECENT_DAYS - 1 || this.baseThrough === undefined) break;
      const kept = this.recent.get(day)!;
      this.recent.delete(day);
      this.settle(kept);
    }
  }

  /** What the engine holds in memory, in bytes and people (the bench and the logs report it). */
  footprint(): { bytes: number; basePeople: number; recentDays: number } {
    let bytes = (this.base?.people.bytes ?? 0) + (this.base?.signups.bytes ?? 0);
    for (const day of this.recent.values()) bytes += day.people.byteLength + day.signups.byteLength;
    return { bytes, basePeople: this.base?.people.people ?? 0, recentDays: this.recent.size };
  }
}
