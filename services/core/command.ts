/** One `mixstack <name>` command. `run` returns the process exit code (0 when omitted). */
export interface Command {
  summary: string;
  usage?: string;
  run(argv: string[]): Promise<number | void>;
}

export type CommandTable = Record<string, () => Promise<Command>>;

export function usageText(program: string, commands: Record<string, Command>): string {
  const width = Math.max(...Object.keys(commands).map((name) => name.length));
  const lines = Object.entries(commands).map(([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`);
  return [`usage: ${program} <command> [options]`, "", "commands:", ...lines, ""].join("\n");
}

/** Looks up and runs a command; unknown names print the usage and exit 2. */
export async function dispatch(program: string, table: CommandTable, argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const loaded: Record<string, Command> = {};
  const loadAll = async () => {
    for (const [key, load] of Object.entries(table)) loaded[key] = await load();
    return loaded;
  };
  if (!name || name === "help" || name === "--help" || name === "-h") {
    process.stdout.write(usageText(program, await loadAll()));
    return name ? 0 : 2;
  }
  const load = table[name];
  if (!load) {
    process.stderr.write(`${program}: unknown command "${name}"\n\n${usageText(program, await loadAll())}`);
    return 2;
  }
  const command = await load();
  if (rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(`${command.usage ?? `usage: ${program} ${name}`}\n\n${command.summary}\n`);
    return 0;
  }
  const code = await command.run(rest);
  return typeof code === "number" ? code : 0;
}
