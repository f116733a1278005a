import { dispatch, type CommandTable } from "./core/command";

/**
 * The commands that run inside our containers (and natively). Loaded lazily so that `mixstack ingest`
 * does not load the backup agent's cloud SDKs. Operator-only commands live in `cli/main.ts`.
 */
export const serviceCommands: CommandTable = {
  backup: async () => (require("./ops/commands") as typeof import("./ops/commands")).backupCommand,
  backups: async () => (require("./ops/commands") as typeof import("./ops/commands")).backupsCommand,
  restore: async () => (require("./ops/commands") as typeof import("./ops/commands")).restoreCommand,
  scheduler: async () => (require("./ops/commands") as typeof import("./ops/commands")).schedulerCommand,
};

export function main(argv: string[]): Promise<number> {
  return dispatch("mixstack", serviceCommands, argv);
}
