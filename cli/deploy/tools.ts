import { spawn } from "node:child_process";

export interface ToolResult {
  /** Exit code; 127 when the program is not on PATH. */
  code: number;
  stdout: string;
  stderr: string;
}

/** The external programs the deploy command drives (`pulumi`, `docker`), behind a seam for tests. */
export interface Tools {
  /** Runs and captures the output. */
  capture(program: string, args: string[], env: NodeJS.ProcessEnv): Promise<ToolResult>;
  /** Runs with the terminal attached (progress of `pulumi up`); resolves to the exit code. */
  interactive(program: string, args: string[], env: NodeJS.ProcessEnv): Promise<number>;
}

export const NOT_FOUND = 127;

export const systemTools: Tools = {
  capture(program, args, env) {
    return new Promise((resolve) => {
      const child = spawn(program, args, { env, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      child.on("error", (error: NodeJS.ErrnoException) =>
        resolve({ code: error.code === "ENOENT" ? NOT_FOUND : 1, stdout, stderr: stderr || error.message }),
      );
      child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
    });
  },
  interactive(program, args, env) {
    return new Promise((resolve) => {
      const child = spawn(program, args, { env, stdio: "inherit" });
      child.on("error", (error: NodeJS.ErrnoException) => resolve(error.code === "ENOENT" ? NOT_FOUND : 1));
      child.on("close", (code) => resolve(code ?? 1));
    });
  },
};
