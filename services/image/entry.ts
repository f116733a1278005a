// Entry point of the services image: the esbuild bundle of this file is `/app/mixstack.js`, and the
// container's command is the `mixstack` command (`ingest`, `worker`, `bootstrap`, `scheduler`, ...).
import { main } from "../main";

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  },
);
