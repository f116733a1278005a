import { dispatch, type CommandTable } from "../services/core/command";
import { serviceCommands } from "../services/main";
import { withStackOption } from "./stack/command";

/**
 * `npx mixstack <command>` on an operator's machine: every service command, plus the commands that
 * need the Pulumi SDK or cloud credentials, and the dev harness (none of which ship in the image).
 */
export const operatorCommands: CommandTable = {
  ...serviceCommands,
  ...withStackOption(serviceCommands, ["backup", "backups", "restore", "forget"]),
  // `require` keeps the load lazy without ESM resolution (the CLI runs through tsx's CommonJS hook).
  graph: async () => (require("./graph/command") as typeof import("./graph/command")).graphCommand,
  deploy: async () => (require("./deploy/command") as typeof import("./deploy/command")).deployCommand,
  // The native dev harness: for contributors and tests, never in the image.
  dev: async () => (require("../services/dev/command") as typeof import("../services/dev/command")).devCommand,
  report: async () => (require("./report/command") as typeof import("./report/command")).reportCommand,
};

export function main(argv: string[]): Promise<number> {
  return dispatch("mixstack", operatorCommands, argv);
}
