import { resolve } from "node:path";

/**
 * Reading a deployed stack's outputs. The Automation API shells out to the `pulumi` binary, so it
 * sits behind this small interface; tests use a fake.
 */
export interface StackOutputs {
  read(stack: string): Promise<Record<string, unknown>>;
}

/** The slice of `LocalWorkspace.selectStack` this needs. */
export type SelectStack = (args: { stackName: string; workDir: string }) => Promise<{ outputs(): Promise<Record<string, { value: unknown; secret?: boolean }>> }>;

export function automationStackOutputs(workDir: string, selectStack?: SelectStack): StackOutputs {
  return {
    async read(stack) {
      const select: SelectStack =
        selectStack ??
        (async (args) => (require("@pulumi/pulumi/automation") as typeof import("@pulumi/pulumi/automation")).LocalWorkspace.selectStack(args));
      let selected;
      try {
        selected = await select({ stackName: stack, workDir: resolve(workDir) });
      } catch (error) {
        throw new Error(`cannot open stack ${stack} (is the pulumi CLI installed and logged in to the backend that holds it?): ${(error as Error).message}`);
      }
      const outputs = await selected.outputs();
      return Object.fromEntries(Object.entries(outputs).map(([key, output]) => [key, output.value]));
    },
  };
}
