// Preload that writes a V8 CPU profile of a service process when it exits (`--cpu-prof` is not
// allowed in NODE_OPTIONS, `--require` is). Used by the benchmarks' `--service-node-options`:
//
//   npx tsx bench/pipeline.ts "--service-node-options=--require ./bench/cpu-profile.cjs" (CPU_PROFILE_DIR=/tmp/prof)
//
// Open the .cpuprofile files in Chrome DevTools, or summarise them with bench/profile-summary.ts.
const { Session } = require("node:inspector");
const { mkdirSync, writeFileSync } = require("node:fs");
const { join } = require("node:path");

const dir = process.env.CPU_PROFILE_DIR || "/tmp/mixstack-profiles";
const session = new Session();
session.connect();
session.post("Profiler.enable", () => session.post("Profiler.setSamplingInterval", { interval: 200 }, () => session.post("Profiler.start")));

let written = false;
function write() {
  if (written) return;
  written = true;
  // Synchronous: in an exit handler nothing asynchronous runs any more, and the inspector session
  // answers `post` synchronously on the main thread.
  session.post("Profiler.stop", (error, result) => {
    if (error) return;
    mkdirSync(dir, { recursive: true });
    const name = `${(process.argv[3] || process.argv[2] || "node").replace(/[^\w-]/g, "_")}-${process.pid}.cpuprofile`;
    writeFileSync(join(dir, name), JSON.stringify(result.profile));
  });
}
process.on("exit", write);
