#!/usr/bin/env node
// Runs the TypeScript sources directly (after `npm ci`, `npx mixstack <command>` works).
// Container images run the esbuild bundle instead, which does not go through this file.
require("tsx/cjs/api").register();
require("../cli/main.ts").main(process.argv.slice(2)).then(
  (code) => {
    if (typeof code === "number") process.exitCode = code;
  },
  (error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  },
);
