import { PROJECT } from "../../config/load";
import { readStackConfig } from "../../config/pulumi";
import { createStack, type Stack } from "../../components/stack";
import { evaluateOffline, type Evaluation } from "./offline";
import { readStackFile } from "./stack-file";

export interface StackEvaluation extends Evaluation {
  stack: Stack;
}

/**
 * Evaluates the real program (the same `readStackConfig` + `createStack` as index.ts) with the
 * config of `stacks/Pulumi.<stack>.yaml`, under mocks: no engine, no Docker, no credentials.
 */
export async function evaluateStack(stack: string, root: string): Promise<StackEvaluation> {
  const file = readStackFile(stack, root);
  let created: Stack | undefined;
  const evaluation = await evaluateOffline({
    project: PROJECT,
    stack,
    ...file,
    run: () => {
      created = createStack(readStackConfig());
      // The summary rides along (not a stack output of index.ts) for the Mermaid view.
      return { ...created.outputs, summary: created.deployment.summary };
    },
  });
  return { ...evaluation, stack: created! };
}
