import { dispatch, type CommandTable } from "./core/command";

/**
 * The commands that run inside our containers (and natively): the image's bundle is made from
 * this table. Loaded lazily so that `mixstack ingest` does not load the backup agent's cloud SDKs.
 * Operator and contributor commands (`graph`, `deploy`, `dev`, `--stack` triggers) live in
 * `cli/main.ts`, so they never reach the image.
 */
export const serviceCommands: CommandTable = {
  // require (not import()) so that tsx's CommonJS hook and the esbuild bundle both resolve it.
  ingest: async () => (require("./ingest/command") as typeof import("./ingest/command.js")).ingestCommand,
  worker: async () => (require("./worker/command") as typeof import("./worker/command.js")).workerCommand,
  bootstrap: async () => (require("./worker/bootstrap") as typeof import("./worker/bootstrap.js")).bootstrapCommand,
  query: async () => (require("./query/command") as typeof import("./query/command.js")).queryCommand,
  dlq: async () => (require("./worker/dlq") as typeof import("./worker/dlq.js")).dlqCommand,
  backup: async () => (require("./ops/commands") as typeof import("./ops/commands")).backupCommand,
  backups: async () => (require("./ops/commands") as typeof import("./ops/commands")).backupsCommand,
  restore: async () => (require("./ops/commands") as typeof import("./ops/commands")).restoreCommand,
  scheduler: async () => (require("./ops/commands") as typeof import("./ops/commands")).schedulerCommand,
  forget: async () => (require("./ops/person-commands") as typeof import("./ops/person-commands")).forgetCommand,
  "export-person": async () => (require("./ops/person-commands") as typeof import("./ops/person-commands")).exportPersonCommand,
};

export function main(argv: string[]): Promise<number> {
  return dispatch("mixstack", serviceCommands, argv);
}
