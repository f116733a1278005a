import pino, { type Logger } from "pino";

export type { Logger };

/** JSON lines on stdout, one logger per service, level from `LOG_LEVEL` (read once at start). */
export function createLogger(service: string, level = process.env.LOG_LEVEL ?? "info"): Logger {
  return pino({ name: service, level, base: { service }, timestamp: pino.stdTimeFunctions.isoTime });
}
