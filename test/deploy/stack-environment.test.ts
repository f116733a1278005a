import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { pulumiPassthrough } from "../../cli/pulumi/command";
import { stackEnvironment } from "../../cli/pulumi/environment";
import { DEFAULT_BACKEND, FakePulumiCli } from "./fake-pulumi-cli";
import { root } from "./support";

/**
 * One backend and passphrase per stack for every mixstack command that runs Pulumi
 * (cli/pulumi/environment.ts), and `mixstack pulumi --stack NAME …` running any Pulumi command in it.
 */

const scratch: string[] = [];
afterAll(() => scratch.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function project(): string {
  const dir = mkdtempSync(join(tmpdir(), "mixstack-env-"));
  scratch.push(dir);
  mkdirSync(join(dir, "stacks"));
  writeFileSync(join(dir, "stacks", "Pulumi.remote.yaml"), readFileSync(join(root, "stacks", "Pulumi.remote.yaml")));
  return dir;
}

describe("the backend of a stack", () => {
  it("PULUMI_BACKEND_URL wins, with the user's own passphrase", async () => {
    const dir = project();
    const chosen = await stackEnvironment("remote", { root: dir, env: { PULUMI_BACKEND_URL: "s3://acme-state", PULUMI_CONFIG_PASSPHRASE: "x" }, tools: new FakePulumiCli(dir) });
    expect([chosen.choice, chosen.env.PULUMI_BACKEND_URL, chosen.env.PULUMI_CONFIG_PASSPHRASE_FILE]).toEqual(["environment", "s3://acme-state", undefined]);
  });

  it("a new stack goes to the project's .pulumi/ with a generated passphrase (mode 0600)", async () => {
    const dir = project();
    const chosen = await stackEnvironment("remote", { root: dir, env: {}, tools: new FakePulumiCli(dir) });
    expect(chosen.choice).toBe("new-project");
    expect(chosen.env.PULUMI_BACKEND_URL).toBe(`file://${join(dir, ".pulumi")}`);
    expect(chosen.generatedPassphrase).toBe(join(dir, ".pulumi", "passphrase.remote"));
    expect(existsSync(chosen.generatedPassphrase!)).toBe(true);
    const again = await stackEnvironment("remote", { root: dir, env: {}, tools: new FakePulumiCli(dir) });
    expect(again.generatedPassphrase).toBeUndefined();
  });

  it("a stack the logged-in backend holds stays there (no second copy in .pulumi/)", async () => {
    const dir = project();
    const cli = new FakePulumiCli(dir);
    cli.loggedIn = true;
    expect(cli.run("pulumi", ["stack", "init", "remote"], {}).code).toBe(0);
    const chosen = await stackEnvironment("remote", { root: dir, env: {}, tools: cli });
    expect([chosen.choice, chosen.env.PULUMI_BACKEND_URL]).toEqual(["login", undefined]);
    expect(existsSync(join(dir, ".pulumi"))).toBe(false);
  });

  it("a stack already in .pulumi/ is found there even when logged in elsewhere", async () => {
    const dir = project();
    const cli = new FakePulumiCli(dir);
    expect(await pulumiPassthrough(["--stack", "remote", "config", "set", "logLevel", "debug"], { root: dir, tools: cli, env: {}, out: () => {}, err: () => {} })).toBe(0);
    cli.loggedIn = true;
    const chosen = await stackEnvironment("remote", { root: dir, env: {}, tools: cli });
    expect(chosen.choice).toBe("project");
  });
});

describe("mixstack pulumi --stack NAME", () => {
  it("sets a secret before the first deploy in the backend and passphrase the deploy will use", async () => {
    const dir = project();
    const cli = new FakePulumiCli(dir);
    const out: string[] = [];
    const code = await pulumiPassthrough(["--stack", "remote", "config", "set", "--secret", "grafanaAdminPassword", "s3cret"], { root: dir, tools: cli, env: {}, out: (t) => out.push(t), err: () => {} });
    expect(code).toBe(0);
    expect(out.join("")).toContain("passphrase.remote");
    const file = readFileSync(join(dir, "stacks", "Pulumi.remote.yaml"), "utf8");
    const salt = /^encryptionsalt: v1:([0-9a-f]+)$/m.exec(file)?.[1];
    expect(salt).toBeDefined();
    // Encrypted with the key of that salt: the passphrase the deploy will read from .pulumi/passphrase.remote.
    expect(file).toMatch(new RegExp(`mixstack:grafanaAdminPassword:\\n\\s+secure: v1:${salt}:`));
    // Only the question "does your logged-in backend hold it?" goes to the default backend.
    expect(cli.calls.filter((c) => c.backend === DEFAULT_BACKEND).map((c) => c.args.join(" "))).toEqual(["stack ls --json"]);
  });

  it("refuses to run without --stack or without a command", async () => {
    const err: string[] = [];
    const deps = { root: project(), tools: new FakePulumiCli(root), env: {}, out: () => {}, err: (t: string) => err.push(t) };
    expect(await pulumiPassthrough(["config", "set", "x", "y"], deps)).toBe(2);
    expect(await pulumiPassthrough(["--stack", "remote"], deps)).toBe(2);
    expect(err.join("")).toMatch(/--stack NAME is required[\s\S]*which pulumi command/);
  });
});
