import type { DayNumber } from "../../core/reopened-days";
import { FingerprintTable } from "./fingerprint";

export type { DayNumber };

/**
 * Rolling distinct counts (WAU, MAU, week to date, sign-ups over 7 days) exactly, from each day's
 * people read once: the window keeps, per person, the last day they were active, and how many
 * people have each last day. Folding the days in order, the people active in `[from, day]` are
 * those whose last day is at least `from`: a sum over at most 30 numbers. Memory grows with the
 * people active in the window (12–24 bytes each), not with the days or the events.
 */

/** The widest window the figures use (MAU: the day and the 29 before it). */
export const WIDEST_WINDOW_DAYS = 30;

export class ActivityWindow {
  private lastSeen: FingerprintTable;
  /** Day -> people whose last active day it is (only days still inside the widest window). */
  private perLastDay: Map<DayNumber, number>;
  /** The last day folded in. */
  through: DayNumber | undefined;

  constructor(private readonly keepDays = WIDEST_WINDOW_DAYS) {
    this.lastSeen = new FingerprintTable();
    this.perLastDay = new Map();
  }

  /** Bytes held by the per-person table. */
  get bytes(): number {
    return this.lastSeen.bytes;
  }

  get people(): number {
    return this.lastSeen.size;
  }

  /**
   * Folds in the people active on `day` (fingerprints as `[high, low, ...]`). Days must come in
   * increasing order; a day skipped is a day without anyone.
   */
  add(day: DayNumber, people: Uint32Array): void {
    if (this.through !== undefined && day <= this.through) throw new Error(`day ${day} folded after day ${this.through}`);
    for (let at = 0; at < people.length; at += 2) {
      const previous = this.lastSeen.set(people[at]!, people[at + 1]!, day);
      if (previous === day) continue;
      if (previous !== -1) {
        const left = (this.perLastDay.get(previous) ?? 0) - 1;
        if (left > 0) this.perLastDay.set(previous, left);
        else this.perLastDay.delete(previous);
      }
      this.perLastDay.set(day, (this.perLastDay.get(day) ?? 0) + 1);
    }
    this.through = day;
    this.forgetBefore(day - this.keepDays + 1);
  }

  /** People active on a day in `[from, through]`. */
  activeSince(from: DayNumber): number {
    let total = 0;
    for (const [day, people] of this.perLastDay) if (day >= from) total += people;
    return total;
  }

  clone(): ActivityWindow {
    const copy = new ActivityWindow(this.keepDays);
    copy.lastSeen = this.lastSeen.clone();
    copy.perLastDay = new Map(this.perLastDay);
    copy.through = this.through;
    copy.staleEntries = this.staleEntries;
    return copy;
  }

  /** Drops the people whose last day fell out of every window; the table is compacted when they are most of it. */
  private forgetBefore(oldest: DayNumber): void {
    let stale = 0;
    for (const [day, people] of this.perLastDay) {
      if (day < oldest) {
        stale += people;
        this.perLastDay.delete(day);
      }
    }
    this.staleEntries += stale;
    if (this.staleEntries > 1024 && this.staleEntries * 2 > this.lastSeen.size) {
      this.lastSeen.retain((day) => day >= oldest);
      this.staleEntries = 0;
    }
  }

  private staleEntries = 0;
}
