import { createWriteStream } from "node:fs";
import { once } from "node:events";
import { z } from "zod";
import type { Command } from "../core/command";
import { readSettings } from "../core/settings";
import { parse, withContext } from "./commands";
import { exportPerson } from "./export-person";
import { forget, lookUpPerson, previewForget, reapplyErasures, type ForgetPreview, type ForgetReport, type ReapplyReport } from "./forget";
import { opsEnvironment } from "./settings";

/**
 * `mixstack forget` and `mixstack export-person`: the data-subject commands (docs/privacy.md). They
 * run with the backup agent's environment (the erasure ledger lives in its store), on a deployed
 * stack through `--stack NAME` like `backup`.
 */

export const personSettingsSchema = opsEnvironment.extend({
  /**
   * What `forget` does about backups taken before the erasure: `age-out` keeps them until retention
   * removes them (every restore re-applies the erasure meanwhile); `replace` takes a new backup at
   * once and deletes every older one.
   */
  FORGET_BACKUPS: z.enum(["age-out", "replace"], { message: "expected age-out or replace" }).default("age-out"),
});

export type PersonSettings = z.infer<typeof personSettingsSchema>;

const readPersonSettings = (command: string) => readSettings(command, personSettingsSchema);

/** Mixpanel's deletion API body (`POST /api/app/data-deletions/v3.0`), accepted by `--request`. */
const deletionRequestSchema = z.object({
  distinct_ids: z.array(z.string().min(1)).min(1).max(2000),
  compliance_type: z.enum(["GDPR", "CCPA"]).default("GDPR"),
});

/** The ids of a request: positionals, or Mixpanel's JSON body; an Error says what is wrong. */
export function requestedIds(positionals: string[], request: string | undefined): { ids: string[]; complianceType?: string } | Error {
  if (request !== undefined) {
    if (positionals.length) return new Error("give the ids either as arguments or in --request, not both");
    let json: unknown;
    try {
      json = JSON.parse(request);
    } catch (error) {
      return new Error(`--request is not JSON: ${(error as Error).message}`);
    }
    const parsed = deletionRequestSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return new Error(`--request: ${issue.path.join(".") || "body"}: ${issue.message} (expected {"distinct_ids": [...], "compliance_type": "GDPR"})`);
    }
    return { ids: [...new Set(parsed.data.distinct_ids)], complianceType: parsed.data.compliance_type };
  }
  const ids = positionals.filter((id) => id !== "");
  if (ids.length === 0) return new Error("name at least one distinct_id");
  return { ids: [...new Set(ids)] };
}

function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

export function formatForgetReport(report: ForgetReport): string {
  const points = Object.entries(report.points).map(([measurement, count]) => `${measurement} ${count}`).join(", ") || "none";
  const r = report.redis;
  const lines = [
    `erasure ${report.erasure}: ${plural(report.requested, "id")} requested → ${plural(report.users, "user")}, ${plural(report.devices, "device")}`,
    `  InfluxDB points deleted: ${points} (${plural(report.shardsScanned, "shard")} scanned)`,
    `  Redis: ${plural(r.identities, "identity mapping")}, ${plural(r.firstSeen, "first-seen day")}, ${plural(r.profiles, "profile")}, ` +
      `${plural(r.deadLetterItems, "dead-letter item")} (${r.deadLettersDeleted} dead letters deleted, ${r.deadLettersRewritten} rewritten without them)`,
  ];
  if (report.queuedEntries) lines.push(`  ${plural(report.queuedEntries, "queued entry", "queued entries")} of theirs waited for, written, and erased`);
  lines.push(`  Redis append-only file rewrite: ${report.aofRewrite}`);
  lines.push(`  recorded in the erasure ledger (keyed hashes, no ids): every restore re-applies it`);
  const { backups } = report;
  if (backups.policy === "replace") {
    lines.push(`  backups: new backup ${backups.replacedBy}; removed ${backups.removed.length ? backups.removed.join(", ") : "none"} (taken before the erasure)`);
  } else if (backups.older.length) {
    const by = backups.agedOutBy ? `retention removes the last of them by ${backups.agedOutBy} if a backup runs every day` : "retention does not remove them within two years";
    lines.push(`  backups: ${plural(backups.older.length, "backup")} taken before the erasure may hold them; ${by} (FORGET_BACKUPS=replace deletes them now)`);
  } else lines.push("  backups: none taken before the erasure");
  return `${lines.join("\n")}\n`;
}

export function formatReapplyReport(report: ReapplyReport): string {
  const points = Object.entries(report.points).map(([measurement, count]) => `${measurement} ${count}`).join(", ") || "none";
  const r = report.redis;
  return (
    [
      `re-applied ${plural(report.erasures, "recorded erasure")}: ${plural(report.idsFound, "erased id")} found in the live data`,
      `  InfluxDB points deleted: ${points}`,
      `  Redis: ${plural(r.identities, "identity mapping")}, ${plural(r.firstSeen, "first-seen day")}, ${plural(r.profiles, "profile")}, ${plural(r.deadLetterItems, "dead-letter item")}`,
    ].join("\n") + "\n"
  );
}

export function formatForgetPreview(preview: ForgetPreview): string {
  const points = Object.entries(preview.points).map(([measurement, count]) => `${measurement} ${count}`).join(", ") || "none";
  return (
    [
      `dry run: ${plural(preview.requested, "id")} → ${plural(preview.users, "user")}, ${plural(preview.devices, "device")}; nothing was changed`,
      `  InfluxDB points: ${points}`,
      `  Redis: ${plural(preview.identities, "identity mapping")}, ${plural(preview.firstSeen, "first-seen day")}, ${plural(preview.profiles, "profile")}, ` +
        `${plural(preview.deadLetters, "dead letter")}, ${plural(preview.queued, "queued entry", "queued entries")} with items of theirs`,
    ].join("\n") + "\n"
  );
}

export const forgetCommand: Command = {
  summary: "erase people (GDPR): their events, merges, profile updates, identity map, profiles and dead letters; recorded for every restore",
  usage: [
    "usage: mixstack forget <distinct_id>... [--dry-run] [--json] [--drain-timeout S]",
    `       mixstack forget --request '{"distinct_ids":["..."],"compliance_type":"GDPR"}'   (Mixpanel's deletion API body)`,
    "       mixstack forget --reapply   (every recorded erasure again, after data came back from a disk snapshot)",
  ].join("\n"),
  async run(argv) {
    const parsed = parse(
      argv,
      { request: { type: "string" }, reapply: { type: "boolean", default: false }, json: { type: "boolean", default: false }, "dry-run": { type: "boolean", default: false }, "drain-timeout": { type: "string", default: "120" } },
      this.usage!,
    );
    if (!parsed) return 2;
    const { values, positionals } = parsed;
    if (values.reapply) {
      if (positionals.length || values.request !== undefined || values["dry-run"]) {
        process.stderr.write(`mixstack forget: --reapply takes no ids (it re-applies every recorded erasure)\n${this.usage}\n`);
        return 2;
      }
      return withContext<PersonSettings>(
        "forget",
        async (ctx) => {
          const report = await reapplyErasures(ctx);
          process.stdout.write(values.json ? `${JSON.stringify(report)}\n` : formatReapplyReport(report));
          return 0;
        },
        readPersonSettings,
      );
    }
    const request = requestedIds(positionals, values.request as string | undefined);
    const drainSeconds = Number(values["drain-timeout"]);
    if (request instanceof Error || !Number.isFinite(drainSeconds) || drainSeconds < 0) {
      process.stderr.write(`mixstack forget: ${request instanceof Error ? request.message : `--drain-timeout must be a number of seconds (got ${values["drain-timeout"]})`}\n${this.usage}\n`);
      return 2;
    }
    return withContext<PersonSettings>(
      "forget",
      async (ctx, settings) => {
        if (values["dry-run"]) {
          const preview = await previewForget(ctx, request.ids);
          process.stdout.write(values.json ? `${JSON.stringify(preview)}\n` : formatForgetPreview(preview));
          return 0;
        }
        const report = await forget(ctx, { ids: request.ids, complianceType: request.complianceType, backups: settings.FORGET_BACKUPS, drainTimeoutMs: drainSeconds * 1000 });
        process.stdout.write(values.json ? `${JSON.stringify(report)}\n` : formatForgetReport(report));
        return 0;
      },
      readPersonSettings,
    );
  },
};

export const exportPersonCommand: Command = {
  summary: "everything held about one person (events as sent, profile, merges, dead letters) as JSON: data-subject access",
  usage: "usage: mixstack export-person <distinct_id>... [--out FILE]",
  async run(argv) {
    const parsed = parse(argv, { out: { type: "string" } }, this.usage!);
    if (!parsed) return 2;
    const request = requestedIds(parsed.positionals, undefined);
    if (request instanceof Error) {
      process.stderr.write(`mixstack export-person: ${request.message}\n${this.usage}\n`);
      return 2;
    }
    const out = parsed.values.out as string | undefined;
    return withContext<PersonSettings>(
      "export-person",
      async (ctx) => {
        const person = await lookUpPerson(ctx, request.ids);
        const stream = out ? createWriteStream(out, { mode: 0o600 }) : process.stdout;
        const write = async (text: string) => {
          if (!stream.write(text)) await once(stream, "drain");
        };
        const counts = await exportPerson(ctx, person, write, ctx.now());
        if (out) {
          await new Promise<void>((resolve, reject) => (stream as ReturnType<typeof createWriteStream>).end((error?: Error | null) => (error ? reject(error) : resolve())));
          process.stderr.write(`export-person: ${counts.events} events, ${counts.profiles} profiles, ${counts.identityMerges} merges, ${counts.profileUpdates} profile updates → ${out}\n`);
        }
        return 0;
      },
      readPersonSettings,
    );
  },
};
