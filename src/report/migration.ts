/**
 * The migration report: for each target variable its source(s), rule, transforms, dtype, shape
 * and CRC; unused source variables (ignored vs unmatched); unassigned targets; problems; rules
 * that never fired; and TF's verdicts. Stable JSON (`--report FILE`) and a text summary.
 *
 * @module
 */

import { hex32 } from "../errors.js";
import type { Assignment, Resolution, RuleRef } from "../mapping/resolve.js";
import type { CheckpointFormat } from "../reader.js";
import type { Transform } from "../transforms/index.js";
import type { Verdicts } from "./verdicts.js";

/** One assigned target in the report. */
export interface ReportAssignment {
  /** Checkpoint key written. */
  readonly target: string;
  /** TF's pretty name of the object. */
  readonly object: string;
  readonly fullName: string;
  readonly dtype: string;
  readonly shape: readonly number[];
  /** Source variable names (empty for constants, template and defaults). */
  readonly sources: readonly string[];
  readonly rule: RuleRef;
  readonly transforms: readonly Transform[];
  /** Source names the EMA option replaced. */
  readonly emaOf?: readonly string[];
  /** Masked CRC32C of the written tensor, as stored in the index (absent on a dry run). */
  readonly crc32c?: string;
  readonly value?: number;
}

/** The whole report (`tfckpt migrate --report FILE`). */
export interface MigrationReport {
  readonly tool: "tfckpt";
  readonly reportVersion: 1;
  readonly source: { readonly path: string; readonly format: CheckpointFormat; readonly variables: number };
  readonly target: {
    readonly path: string;
    /** `keras`: a Keras 3 `.weights.h5` / `.keras` template. */
    readonly kind: "checkpoint" | "json" | "keras";
    readonly variables: number;
  };
  readonly mapping: string;
  readonly output: {
    readonly prefix: string | null;
    readonly written: boolean;
    readonly files: readonly string[];
    readonly stateFile: string | null;
    readonly reason: string | null;
    /**
     * With `--link`: the output shards that are links of source shards (how, and how many of
     * their bytes the output's index uses; the rest is unused until `--compact`).
     */
    readonly linked?: ReadonlyArray<{
      readonly path: string;
      readonly source: string;
      readonly method: "reflink" | "hardlink";
      readonly bytes: number;
      readonly usedBytes: number;
    }>;
  };
  readonly verdicts: Verdicts;
  readonly assignments: readonly ReportAssignment[];
  readonly unusedSources: {
    readonly ignored: ReadonlyArray<{ name: string; reason: string }>;
    readonly unmatched: readonly string[];
  };
  readonly unassignedTargets: ReadonlyArray<{
    target: string;
    object: string;
    fullName: string;
    dtype: string;
    shape: readonly number[];
  }>;
  readonly problems: Resolution["problems"];
  readonly rulesNeverFired: ReadonlyArray<{ index: number }>;
  readonly notes: readonly string[];
}

/** One report row from an assignment (and the CRC the written index holds for it). */
export function reportAssignment(a: Assignment, crc?: number): ReportAssignment {
  return {
    target: a.target.checkpointKey,
    object: a.target.prettyName,
    fullName: a.target.fullName,
    dtype: a.target.dtype.name,
    shape: a.target.shape,
    sources: a.source.kind === "variables" ? a.source.names : [],
    rule: a.rule,
    transforms: a.transforms,
    ...(a.emaOf !== undefined ? { emaOf: a.emaOf } : {}),
    ...(a.source.kind === "value" || a.source.kind === "default" ? { value: a.source.value } : {}),
    ...(crc !== undefined ? { crc32c: hex32(crc) } : {}),
  };
}

/** A human summary of a report (for stderr). */
export function renderMigrationSummary(r: MigrationReport): string {
  const lines: string[] = [];
  lines.push(`source  ${r.source.format.toUpperCase()} ${r.source.path} (${r.source.variables} variables)`);
  lines.push(`target  ${r.target.kind} ${r.target.path} (${r.target.variables} variables)`);
  const byRule = new Map<string, number>();
  for (const a of r.assignments) byRule.set(a.rule.kind, (byRule.get(a.rule.kind) ?? 0) + 1);
  lines.push(
    `assigned ${r.assignments.length} of ${r.target.variables} target variables (${[...byRule].map(([k, n]) => `${n} ${k}`).join(", ") || "none"}); ` +
      `${r.assignments.filter((a) => a.transforms.length > 0).length} transformed`,
  );
  if (r.unusedSources.ignored.length > 0)
    lines.push(`ignored ${r.unusedSources.ignored.length} source variables`);
  for (const u of r.unassignedTargets)
    lines.push(`  UNASSIGNED ${u.object} (${u.target}, ${u.dtype}[${u.shape.join(", ")}])`);
  for (const u of r.unusedSources.unmatched) lines.push(`  UNUSED source ${u}`);
  for (const p of r.problems) lines.push(`  PROBLEM ${p.kind}: ${p.message}`);
  for (const f of r.rulesNeverFired) lines.push(`  rule #${f.index} never fired`);
  for (const [name, v] of Object.entries(r.verdicts)) {
    lines.push(
      `${v.passed ? "PASS" : "FAIL"} ${name}${v.passed ? "" : `: ${(v.message ?? "").split("\n")[0]}`}`,
    );
  }
  lines.push(
    r.output.written
      ? `wrote ${r.output.prefix} (${r.output.files.length} files)${r.output.stateFile !== null ? ` and ${r.output.stateFile}` : ""}`
      : `nothing written: ${r.output.reason ?? ""}`,
  );
  for (const l of r.output.linked ?? [])
    lines.push(
      `  ${l.method === "reflink" ? "reflinked" : "hard-linked"} ${l.path} to ${l.source}: ${l.usedBytes} of ${l.bytes} bytes used${l.bytes > l.usedBytes ? ` (${l.bytes - l.usedBytes} unused: migrate with --compact, or tfckpt rewrite this output, for fresh shards without them)` : ""}`,
    );
  return `${lines.join("\n")}\n`;
}
