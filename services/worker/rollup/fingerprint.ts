/**
 * People are held by the rollup job as 64-bit fingerprints of their `distinct_id` (two 32-bit
 * MurmurHash3 words with different seeds), never as strings: 8 bytes per person in typed arrays,
 * whatever the id's length. Two different ids share a fingerprint with probability about
 * n² / 2⁶⁵ among n people (3 × 10⁻⁸ at a million): the counts are exact unless that happens.
 */

function murmur32(text: string, seed: number): number {
  let h = seed >>> 0;
  const length = text.length;
  let index = 0;
  // Two UTF-16 code units per 32-bit block.
  for (; index + 1 < length; index += 2) {
    let k = (text.charCodeAt(index) & 0xffff) | ((text.charCodeAt(index + 1) & 0xffff) << 16);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  if (index < length) {
    let k = text.charCodeAt(index) & 0xffff;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
  }
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const SEED_HIGH = 0x9747b28c;
const SEED_LOW = 0x5bd1e995;

/** Writes the fingerprint of `id` at `into[at]` (high word) and `into[at + 1]` (low word). (0, 0) is never produced: it marks an empty slot. */
export function fingerprintInto(id: string, into: Uint32Array, at: number): void {
  const high = murmur32(id, SEED_HIGH);
  const low = murmur32(id, SEED_LOW);
  into[at] = high;
  into[at + 1] = high === 0 && low === 0 ? 1 : low;
}

/**
 * An open-addressing table from fingerprint to a 32-bit value (a day number, a bit mask). Memory:
 * 12 bytes per slot, at most twice as many slots as entries.
 */
export class FingerprintTable {
  private high: Uint32Array;
  private low: Uint32Array;
  private values: Int32Array;
  private mask: number;
  size = 0;

  constructor(capacity = 1024) {
    let slots = 16;
    while (slots < capacity * 2) slots *= 2;
    this.high = new Uint32Array(slots);
    this.low = new Uint32Array(slots);
    this.values = new Int32Array(slots);
    this.mask = slots - 1;
  }

  /** Bytes held by the table's arrays. */
  get bytes(): number {
    return this.high.byteLength + this.low.byteLength + this.values.byteLength;
  }

  private slotOf(high: number, low: number): number {
    let slot = (low ^ Math.imul(high, 0x9e3779b1)) & this.mask;
    for (;;) {
      const h = this.high[slot]!;
      const l = this.low[slot]!;
      if ((h === 0 && l === 0) || (h === high && l === low)) return slot;
      slot = (slot + 1) & this.mask;
    }
  }

  /** The value of a fingerprint, or `missing`. */
  get(high: number, low: number, missing = -1): number {
    const slot = this.slotOf(high, low);
    return this.high[slot] === 0 && this.low[slot] === 0 ? missing : this.values[slot]!;
  }

  /** Sets a value; returns the previous one, or `missing`. */
  set(high: number, low: number, value: number, missing = -1): number {
    let slot = this.slotOf(high, low);
    if (this.high[slot] === 0 && this.low[slot] === 0) {
      if ((this.size + 1) * 2 > this.mask + 1) {
        this.resize((this.mask + 1) * 2);
        slot = this.slotOf(high, low);
      }
      this.high[slot] = high;
      this.low[slot] = low;
      this.values[slot] = value;
      this.size += 1;
      return missing;
    }
    const previous = this.values[slot]!;
    this.values[slot] = value;
    return previous;
  }

  /** Every entry, as `(high, low, value)`. */
  forEach(visit: (high: number, low: number, value: number) => void): void {
    for (let slot = 0; slot <= this.mask; slot += 1) {
      const h = this.high[slot]!;
      const l = this.low[slot]!;
      if (h !== 0 || l !== 0) visit(h, l, this.values[slot]!);
    }
  }

  /** Keeps only the entries `keep` accepts (and shrinks the table when that frees most of it). */
  retain(keep: (value: number) => boolean): void {
    let count = 0;
    this.forEach((_, __, value) => {
      if (keep(value)) count += 1;
    });
    const fresh = new FingerprintTable(Math.max(count, 512));
    this.forEach((high, low, value) => {
      if (keep(value)) fresh.set(high, low, value);
    });
    this.high = fresh.high;
    this.low = fresh.low;
    this.values = fresh.values;
    this.mask = fresh.mask;
    this.size = fresh.size;
  }

  clone(): FingerprintTable {
    const copy = new FingerprintTable(0);
    copy.high = this.high.slice();
    copy.low = this.low.slice();
    copy.values = this.values.slice();
    copy.mask = this.mask;
    copy.size = this.size;
    return copy;
  }

  private resize(slots: number): void {
    const { high, low, values } = this;
    this.high = new Uint32Array(slots);
    this.low = new Uint32Array(slots);
    this.values = new Int32Array(slots);
    this.mask = slots - 1;
    for (let slot = 0; slot < high.length; slot += 1) {
      const h = high[slot]!;
      const l = low[slot]!;
      if (h === 0 && l === 0) continue;
      const target = this.slotOf(h, l);
      this.high[target] = h;
      this.low[target] = l;
      this.values[target] = values[slot]!;
    }
  }
}

/** A set of fingerprints being collected (a day's people), frozen into a compact array once complete. */
export class FingerprintSet {
  private readonly table = new FingerprintTable();

  /** Adds a fingerprint; true when it was not there yet. */
  add(high: number, low: number): boolean {
    return this.table.set(high, low, 1) === -1;
  }

  get size(): number {
    return this.table.size;
  }

  /** The members as `[high0, low0, high1, low1, ...]`. */
  toArray(): Uint32Array {
    const out = new Uint32Array(this.table.size * 2);
    let at = 0;
    this.table.forEach((high, low) => {
      out[at++] = high;
      out[at++] = low;
    });
    return out;
  }
}
