import { z } from "zod";
import { env, readSettings } from "../core/settings";

/**
 * `mixstack ready`: waits until the dependencies named in its environment answer, then exits 0. A
 * platform runs it as a gate before a workload whose first start must not fail (GCP: Cloud Run
 * refuses a retry of a failed first create with 409, issue 17), in the workload's own network and
 * identity, with the workload's own variables.
 */
export const readyEnvironment = z.object({
  /** The queue: answers an authenticated PING. */
  REDIS_URL: env.redisUrl().optional(),
  /** InfluxDB: answers `/ping`. */
  INFLUX_URL: env.url().optional(),
  /** How long to wait for all of them. */
  READY_WAIT_S: env.positiveInt(540),
});

export type ReadySettings = z.output<typeof readyEnvironment>;

export const readReadySettings = (source: NodeJS.ProcessEnv = process.env) => readSettings("ready", readyEnvironment, source);
