import { build, type BuildResult } from "esbuild";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

/**
 * `bin/mixstack` beside the bundle: the image puts it on PATH, so `docker exec <container> mixstack
 * backup` (what `mixstack backup --stack` runs on Docker) works like the entrypoint does.
 */
const launcher = `#!/bin/sh
exec node --enable-source-maps "$(dirname "$0")/../mixstack.js" "$@"
`;

/**
 * Bundles everything the containers run (services/main.ts and what it loads) into one CommonJS
 * file, so the image carries Node and this file but no node_modules and no Pulumi SDK. Run by the
 * Dockerfile: `npx tsx services/image/bundle.ts /out`.
 */
export async function bundleServices(outdir: string): Promise<BuildResult> {
  const result = await build({
    entryPoints: { mixstack: resolve(__dirname, "entry.ts") },
    outdir,
    bundle: true,
    platform: "node",
    // The image runs Node 24; the bundle also runs on this machine's Node 20 (tests).
    target: "node20",
    format: "cjs",
    sourcemap: "linked",
    minify: false,
    legalComments: "linked",
    logLevel: "warning",
    // Never in a container: the Pulumi SDKs belong to the operator's machine.
    external: ["@pulumi/*"],
    metafile: true,
  });
  mkdirSync(join(outdir, "bin"), { recursive: true });
  writeFileSync(join(outdir, "bin", "mixstack"), launcher);
  chmodSync(join(outdir, "bin", "mixstack"), 0o755);
  return result;
}

if (require.main === module) {
  const outdir = process.argv[2];
  if (!outdir) {
    console.error("usage: tsx services/image/bundle.ts OUTDIR");
    process.exitCode = 2;
  } else {
    bundleServices(resolve(outdir)).then(
      (result) => {
        const bytes = Object.values(result.metafile?.outputs ?? {}).reduce((sum, output) => sum + output.bytes, 0);
        console.log(`bundled services into ${outdir} (${Math.round(bytes / 1024)} KiB)`);
      },
      (error: unknown) => {
        console.error(error instanceof Error ? error.message : error);
        process.exitCode = 1;
      },
    );
  }
}
