import { LimitExceeded } from "../limits";

/**
 * People of one report: each canonical distinct id (after identity merges) gets a small integer, so
 * that per-person state lives in typed arrays and small maps instead of string-keyed objects. Memory
 * grows with people, never with events; past `maxPeople` the report stops with a 400.
 */
export class People {
  private readonly ids = new Map<string, number>();
  /** person number → canonical id. */
  private readonly names: string[] = [];

  constructor(private readonly maxPeople: number) {}

  get size(): number {
    return this.ids.size;
  }

  /** The person's number; -1 for "" (an event without a user counts as an event, never as a person). */
  of(distinctId: string): number {
    if (distinctId === "") return -1;
    let index = this.ids.get(distinctId);
    if (index === undefined) {
      index = this.ids.size;
      if (index >= this.maxPeople) throw new LimitExceeded("maxPeople", `the report reaches more than ${this.maxPeople} people`);
      this.ids.set(distinctId, index);
      this.names.push(distinctId);
    }
    return index;
  }

  /** The canonical id of a person number ("" for -1). */
  idOf(person: number): string {
    return person < 0 ? "" : this.names[person]!;
  }
}

/** Counts per-person states against `maxStates` (person × segment, open attempts, cohorts). */
export class StateBudget {
  private used = 0;

  constructor(private readonly maxStates: number) {}

  take(count = 1): void {
    this.used += count;
    if (this.used > this.maxStates) throw new LimitExceeded("maxStates", `the report needs more than ${this.maxStates} per-person states`);
  }

  release(count = 1): void {
    this.used -= count;
  }
}

type NumberArray = Float64Array | Int32Array;

/** Per-person numbers in a typed array that grows with the people; unset entries read `fill`. */
class GrowingArray<Values extends NumberArray> {
  private values: Values;

  constructor(
    private readonly create: (length: number) => Values,
    private readonly fill: number,
    initial = 1024,
  ) {
    this.values = create(initial).fill(fill) as Values;
  }

  get(person: number): number {
    return person < this.values.length ? this.values[person]! : this.fill;
  }

  set(person: number, value: number): void {
    if (person >= this.values.length) {
      let length = this.values.length;
      while (length <= person) length *= 2;
      const grown = this.create(length).fill(this.fill) as Values;
      grown.set(this.values);
      this.values = grown;
    }
    this.values[person] = value;
  }
}

/** Any number per person (times). */
export class PersonArray extends GrowingArray<Float64Array> {
  constructor(fill: number) {
    super((length) => new Float64Array(length), fill);
  }
}

/** Small integers per person (bucket numbers): half the memory. */
export class PersonInts extends GrowingArray<Int32Array> {
  constructor(fill: number) {
    super((length) => new Int32Array(length), fill);
  }
}
