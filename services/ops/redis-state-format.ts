import { z } from "zod";

/**
 * The portable form of the state mixstack keeps in Redis: one JSON object per line (NDJSON, gzip'd
 * in the backup). Built only from what SCAN/HGETALL/XRANGE return, so it works on managed Redis
 * where SYNC, BGSAVE and DUMP are not allowed, and it can be read by anything.
 * Profile and group values stay the JSON text the worker stored.
 */

const fields = z.record(z.string(), z.string());

export const stateRecordSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("identity"), device: z.string(), user: z.string() }),
  z.object({ type: z.literal("firstSeen"), id: z.string(), day: z.string() }),
  z.object({ type: z.literal("profile"), id: z.string(), props: fields }),
  z.object({ type: z.literal("group"), member: z.string(), props: fields }),
  z.object({ type: z.literal("deadLetter"), id: z.string(), fields }),
  z.object({ type: z.literal("streamEntry"), id: z.string(), fields }),
]);

export type StateRecord = z.infer<typeof stateRecordSchema>;
export type StateRecordType = StateRecord["type"];

export function encodeStateRecord(record: StateRecord): string {
  return `${JSON.stringify(record)}\n`;
}

/** One line back; a damaged line is an Error value naming the line number. */
export function decodeStateRecord(line: string, lineNumber: number): StateRecord | Error {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (error) {
    return new Error(`line ${lineNumber}: not JSON: ${(error as Error).message}`);
  }
  const parsed = stateRecordSchema.safeParse(json);
  if (!parsed.success) return new Error(`line ${lineNumber}: not a state record: ${parsed.error.issues[0]!.message}`);
  return parsed.data;
}

export interface StateCounts {
  identities: number;
  firstSeen: number;
  profiles: number;
  groups: number;
  deadLetters: number;
  streamEntries: number;
}

export function emptyStateCounts(): StateCounts {
  return { identities: 0, firstSeen: 0, profiles: 0, groups: 0, deadLetters: 0, streamEntries: 0 };
}

const countKey: Record<StateRecordType, keyof StateCounts> = {
  identity: "identities",
  firstSeen: "firstSeen",
  profile: "profiles",
  group: "groups",
  deadLetter: "deadLetters",
  streamEntry: "streamEntries",
};

export function countRecord(counts: StateCounts, record: StateRecord): void {
  counts[countKey[record.type]] += 1;
}

/** Orders stream ids (`<ms>-<seq>`) numerically, as Redis does. */
export function compareStreamIds(a: string, b: string): number {
  const [aMs = 0n, aSeq = 0n] = a.split("-").map(BigInt);
  const [bMs = 0n, bSeq = 0n] = b.split("-").map(BigInt);
  return aMs === bMs ? (aSeq < bSeq ? -1 : aSeq > bSeq ? 1 : 0) : aMs < bMs ? -1 : 1;
}
