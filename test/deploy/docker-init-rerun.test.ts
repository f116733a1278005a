import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fakeUp, type FakeUpResult } from "./fake-docker-up";

/**
 * Issue 17, item 3: a Docker init container (bootstrap, volume owner) that failed once must run
 * again on the next `pulumi up` until it has succeeded, and then stop re-running. Each `fakeUp` is
 * one `pulumi up` in its own process over a fake Docker engine whose state persists between runs
 * (test/deploy/fake-docker-up.ts): the Docker provider records an attached container's exit code
 * and never fails on it, and the engine keeps a container whose inputs did not change.
 *
 * Red before the fix (components/docker/init-run.ts): the second run kept the failed bootstrap (exit
 * code 1 recorded) and failed the same way, forever.
 */

const checkpoint = () => join(mkdtempSync(join(tmpdir(), "mixstack-fake-up-")), "state.json");
const ranIn = (result: FakeUpResult, container: string) => result.runs.filter((run) => run.container === container).map((run) => run.exitCode);

describe("Docker init containers across deployments", () => {
  it("a bootstrap that failed runs again on the next up, which then succeeds; a third up runs nothing again", async () => {
    const state = checkpoint();
    const script = { "mixstack-local-bootstrap": [1, 0] };

    const first = await fakeUp({ file: "local" }, state, script);
    expect(first.failed).toMatch(/mixstack-local-bootstrap/);
    expect(ranIn(first, "mixstack-local-bootstrap")).toEqual([1]);
    // Nothing that waits for bootstrap started after it failed.
    expect(Object.keys(first.steps)).not.toEqual(expect.arrayContaining(["mixstack-local-worker"]));
    expect(first.steps["mixstack-local-grafana"]).toBeUndefined();

    const second = await fakeUp({ file: "local" }, state, script);
    expect(ranIn(second, "mixstack-local-bootstrap")).toEqual([0]);
    expect(second.failed).toBeUndefined();
    expect(second.steps["mixstack-local-worker"]).toBe("create");

    const third = await fakeUp({ file: "local" }, state, script);
    expect(third.failed).toBeUndefined();
    expect(third.runs).toEqual([]);
    expect(Object.values(third.steps).every((step) => step === "same")).toBe(true);
  }, 240_000);

  it("a volume owner (host directories) that failed runs again on the next up, and bootstrap after it", async () => {
    const state = checkpoint();
    const script = { "mixstack-remote-volume-owner": [1, 0], "mixstack-remote-bootstrap": [0] };

    const first = await fakeUp({ file: "remote" }, state, script);
    expect(first.failed).toMatch(/mixstack-remote-volume-owner/);
    expect(ranIn(first, "mixstack-remote-bootstrap")).toEqual([]);

    const second = await fakeUp({ file: "remote" }, state, script);
    expect(ranIn(second, "mixstack-remote-volume-owner")).toEqual([0]);
    expect(ranIn(second, "mixstack-remote-bootstrap")).toEqual([0]);
    expect(second.failed).toBeUndefined();
  }, 240_000);
});
