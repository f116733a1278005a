import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { describe, expect, it } from "vitest";
import { StackSecrets } from "../../components/secrets";
import { evaluate, isSecretValue, plainStrings, promiseOf, resourcesOfType } from "./mocks";

class Holder extends pulumi.ComponentResource {
  constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
    super("mixstack:test:Holder", name, {}, opts);
    new random.RandomPassword(`${name}-child`, { length: 20 }, { parent: this });
    this.registerOutputs({});
  }
}

describe("Pulumi mock harness", () => {
  it("records every resource with its parent's name", async () => {
    const evaluation = await evaluate({ values: {} }, () => {
      new Holder("outer");
      return {};
    });
    expect(evaluation.resources.map((r) => [r.type, r.name, r.parent])).toEqual([
      ["mixstack:test:Holder", "outer", "mixstack-test"],
      ["random:index/randomPassword:RandomPassword", "outer-child", "outer"],
    ]);
  });

  it("fails an unexpected invoke instead of answering it", async () => {
    await expect(
      evaluate({ values: {} }, async () => {
        // Even when the program swallows the failure, the evaluation reports it.
        await pulumi.runtime.invoke("aws:index/getRegion:getRegion", {}).catch(() => undefined);
        return {};
      }),
    ).rejects.toThrow(/unmocked invoke aws:index\/getRegion:getRegion/);
  });

  it("hands the program the stack config, secret keys included", async () => {
    const evaluation = await evaluate(
      { stack: "local", values: { platform: "docker", docker: { ingestPort: 9000 }, projectToken: "tok-12345678" }, secretKeys: ["projectToken"] },
      () => {
        const config = new pulumi.Config("mixstack");
        return {
          platform: config.require("platform"),
          docker: config.requireObject<{ ingestPort: number }>("docker").ingestPort,
          token: config.requireSecret("projectToken"),
          stack: pulumi.getStack(),
        };
      },
    );
    expect(evaluation.outputs).toEqual({
      platform: { value: "docker", secret: false },
      docker: { value: 9000, secret: false },
      token: { value: "tok-12345678", secret: true },
      stack: { value: "local", secret: false },
    });
  });

  it("sees generated passwords only inside secret wrappers", async () => {
    const evaluation = await evaluate({ values: {} }, () => {
      const secrets = new StackSecrets("s", { names: ["queuePassword", "projectToken"], given: {} });
      // A resource input built from a secret stays a secret.
      new random.RandomPassword("derived", { length: 16, overrideSpecial: secrets.values.queuePassword });
      return { password: secrets.values.queuePassword };
    });
    expect(evaluation.generatedSecrets).toHaveLength(3);
    const derived = resourcesOfType(evaluation, "random:index/randomPassword:RandomPassword").find((r) => r.name === "derived")!;
    expect(isSecretValue(derived.inputs.overrideSpecial)).toBe(true);
    expect(plainStrings(derived.inputs).map((s) => s.text)).not.toContain(evaluation.generatedSecrets[0]);
    expect(evaluation.outputs.password).toEqual({ value: evaluation.generatedSecrets[0], secret: true });
  });

  it("promiseOf fails with a message when an output never resolves", async () => {
    const never = pulumi.output(new Promise<string>(() => undefined));
    await expect(promiseOf(never, 50)).rejects.toThrow(/never resolved within 50 ms/);
  });
});
