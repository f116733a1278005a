// The Pulumi program: read and validate this stack's config once, build the stack, export its outputs.
import { readStackConfig } from "./config/pulumi";
import { createStack } from "./components/stack";

export = createStack(readStackConfig()).outputs;
