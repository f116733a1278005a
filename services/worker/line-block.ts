/**
 * The lines of one stream entry, joined into one string as soon as they are built. A batch waits
 * for the previous one's write with its lines in hand; thousands of small strings (each a chain of
 * concatenations) would be copied by every garbage collection in between, one string per entry
 * costs almost nothing. The line ends are kept, so that a request can still be cut at any line
 * (at most `maxPoints` per `/write`, halves after a 413): a newline cannot be searched for, string
 * values may hold one.
 */
export interface LineBlock {
  /** The lines, joined with "\n". */
  text: string;
  /** Where each line ends in `text` (exclusive), in order; its length is the number of lines. */
  ends: number[];
}

export const EMPTY_BLOCK: LineBlock = Object.freeze({ text: "", ends: [] as number[] }) as LineBlock;

export function lineBlock(lines: readonly string[]): LineBlock {
  if (lines.length === 0) return EMPTY_BLOCK;
  const ends = new Array<number>(lines.length);
  let end = -1;
  for (let index = 0; index < lines.length; index += 1) {
    end += 1 + lines[index]!.length;
    ends[index] = end;
  }
  return { text: lines.join("\n"), ends };
}

/** Lines `from` (inclusive) to `to` (exclusive) of a block. */
export function sliceBlock(block: LineBlock, from: number, to: number): LineBlock {
  if (from === 0 && to === block.ends.length) return block;
  if (to <= from) return EMPTY_BLOCK;
  const start = from === 0 ? 0 : block.ends[from - 1]! + 1;
  return { text: block.text.slice(start, block.ends[to - 1]), ends: block.ends.slice(from, to).map((end) => end - start) };
}

export function lineCount(blocks: readonly LineBlock[]): number {
  let count = 0;
  for (const block of blocks) count += block.ends.length;
  return count;
}

/** Groups blocks, in order, into requests of at most `maxLines` lines, cutting a block where it must; empty blocks are left out. */
export function requestsOf(blocks: readonly LineBlock[], maxLines: number): LineBlock[][] {
  const requests: LineBlock[][] = [];
  let current: LineBlock[] = [];
  let room = maxLines;
  for (const block of blocks) {
    for (let from = 0; from < block.ends.length; ) {
      if (room === 0) {
        requests.push(current);
        current = [];
        room = maxLines;
      }
      const to = Math.min(block.ends.length, from + room);
      current.push(sliceBlock(block, from, to));
      room -= to - from;
      from = to;
    }
  }
  if (current.length > 0) requests.push(current);
  return requests;
}

/** The request body: every line of the blocks, one per line. */
export function requestBody(blocks: readonly LineBlock[]): string {
  return blocks.length === 1 ? blocks[0]!.text : blocks.map((block) => block.text).join("\n");
}
