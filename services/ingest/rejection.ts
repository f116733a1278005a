/**
 * Why an item or a whole request was refused, as a value the caller decides about: a short
 * `reason` slug for metrics (`ingest_rejects.reason`), the Mixpanel-style `field` it concerns
 * (`properties.time`) and the message the client sees (`properties.time, before 1971-01-01`).
 */
export class Rejection {
  readonly message: string;
  /** For whole-request problems that have their own HTTP status (413 too large, 415 encoding). */
  readonly status?: number;

  constructor(
    readonly reason: string,
    readonly field: string,
    problem: string,
    options: { status?: number; label?: string } = {},
  ) {
    const label = options.label ?? field;
    this.message = label ? `${label}, ${problem}` : problem;
    if (options.status) this.status = options.status;
  }
}

/** Truncates client-supplied text quoted in a message. */
export function quoteForMessage(value: string, max = 60): string {
  return JSON.stringify(value.length > max ? `${value.slice(0, max)}…` : value);
}
