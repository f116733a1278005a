/**
 * A bad expression: where (1-based column) and what the parser expected there, worded like a
 * compiler's message: `column 19: expected a value after "and", found end of expression`.
 */
export class ParseError extends Error {
  constructor(
    readonly problem: string,
    readonly column: number,
    readonly expected: readonly string[] = [],
  ) {
    super(`column ${column}: ${problem}${expected.length ? ` (expected ${expected.join(" or ")})` : ""}`);
    this.name = "ParseError";
  }
}
