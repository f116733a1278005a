import type * as docker from "@pulumi/docker";
import { seconds } from "./names";

/**
 * How an init container (bootstrap, the volume owner) runs to completion on Docker so that a failed
 * run is retried by the next `pulumi up` (issue 17). The provider records an attached container's
 * exit code and never fails on it, and the engine keeps a container whose inputs did not change, so
 * a failed run used to stay in the state for good. Here the work runs, then marks itself done and
 * idles; the provider waits for the health check that reads the mark (`wait`). A run that fails
 * exits before it is healthy: the create fails after the container exists, Pulumi records it with
 * an initialization error, and `replaceOnChanges: ["*"]` makes the next `up` replace it (run it
 * again) instead of a no-op update. A run that succeeded stays up, idle, and runs again only when
 * its inputs change (image, settings).
 */

/** Written by the wrapper once the work exited 0; the health check reads it. */
export const INIT_DONE = "/tmp/mixstack-init-done";

/** How long an init run may take before the deploy fails (bootstrap waits up to 150 s for InfluxDB). */
export const INIT_WAIT_SECONDS = 300;

/** The wrapper: runs `work` (argv), marks it done, then idles until stopped. */
export function initCommand(work: string[]): { entrypoints: string[]; command: string[] } {
  return {
    entrypoints: ["sh", "-c", `rm -f ${INIT_DONE}; "$@" && touch ${INIT_DONE} && exec sleep infinity`, "mixstack-init"],
    command: work,
  };
}

/** The container arguments that make the run a gate: health check on the mark, waited for, never restarted. */
export function initGate(): Pick<docker.ContainerArgs, "healthcheck" | "wait" | "waitTimeout" | "mustRun" | "restart" | "attach"> {
  return {
    healthcheck: { tests: ["CMD", "test", "-f", INIT_DONE], interval: seconds(2), timeout: seconds(2), retries: 3, startPeriod: seconds(INIT_WAIT_SECONDS) },
    wait: true,
    waitTimeout: INIT_WAIT_SECONDS + 30,
    mustRun: true,
    restart: "no",
    attach: false,
  };
}

/** Resource options of an init container: a failed (initialization-error) run is replaced, not kept. */
export const INIT_OPTIONS: { replaceOnChanges: string[]; deleteBeforeReplace: boolean } = { replaceOnChanges: ["*"], deleteBeforeReplace: true };
