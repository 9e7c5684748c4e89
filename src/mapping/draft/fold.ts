/**
 * draft-mapping, stage 5 (fold): runs of exact lines that one scope rule expresses equivalently
 * are folded into it, kept only when resolving the folded map gives the same assignments.
 *
 * @module
 */
import type { Transform } from "../../transforms/index.js";
import type { Resolution } from "../resolve.js";

/** A line of the drafted map. */
export type Line =
  | { from: string; to: string; transforms?: readonly Transform[]; confidence: number; reason: string }
  | { value: number; to: string; confidence: number; reason: string };

/** Groups tried one by one when folding them all at once changes the resolution. */
const MAX_FOLD_TRIALS = 64;

/** Maps with more lines than this are folded all at once or not at all. */
const MAX_TRIAL_LINES = 2000;

/** What a resolution assigns, as one comparable string. */
function signature(r: Resolution): string {
  return r.assignments
    .map(
      (a) =>
        `${a.target.checkpointKey}<${a.source.kind === "variables" ? a.source.names.join("+") : a.source.kind === "value" ? `=${a.source.value}` : a.source.kind}|${JSON.stringify(a.transforms)}`,
    )
    .join("\n");
}

/**
 * Folds lines into scope rules where `resolve` (of a candidate line list) assigns exactly what
 * the unfolded lines assign. Groups are tried in a fixed order: the result is deterministic.
 */
export function foldLines(
  lines: readonly Line[],
  resolve: (ls: readonly Line[]) => Resolution,
): { lines: Line[]; resolution: Resolution } {
  let out = [...lines];
  let resolution = resolve(out);
  const wanted = signature(resolution);
  const groups = new Map<string, Array<Line & { from: string }>>();
  for (const l of out) {
    if (!("from" in l) || l.transforms !== undefined) continue;
    const fs = l.from.split("/");
    const ts = l.to.split("/");
    let k = 0;
    while (k < Math.min(fs.length, ts.length) - 1 && fs[fs.length - 1 - k] === ts[ts.length - 1 - k]) k++;
    if (k === 0) continue;
    const key = `${fs.slice(0, fs.length - k).join("/")}/\u0000${ts.slice(0, ts.length - k).join("/")}/`;
    const g = groups.get(key);
    if (g === undefined) groups.set(key, [l]);
    else g.push(l);
  }
  const ordered = [...groups].filter(([, g]) => g.length >= 2).sort((a, b) => a[0].localeCompare(b[0]));
  const scopeLine = (key: string, group: readonly Line[]): Line => {
    const [fromScope, toScope] = key.split("\u0000") as [string, string];
    return {
      from: fromScope,
      to: toScope,
      confidence: group.reduce((a, g) => Math.min(a, g.confidence), Number.POSITIVE_INFINITY),
      reason: `${group.length} variables under ${toScope}: ${[...new Set(group.map((g) => g.reason.replace(/^ambiguous: /, "")))].slice(0, 2).join("; ")}`,
    };
  };
  // Every group at once first (one resolution, whatever the number of groups) …
  const folded = new Set<Line>(ordered.flatMap(([, g]) => g));
  if (ordered.length === 0) return { lines: out, resolution };
  const all = [...out.filter((l) => !folded.has(l)), ...ordered.map(([k, g]) => scopeLine(k, g))];
  const allResolved = resolve(all);
  if (signature(allResolved) === wanted) return { lines: all, resolution: allResolved };
  // … else group by group, for a bounded number of groups in a map of bounded size (each trial
  // costs one resolution).
  if (out.length > MAX_TRIAL_LINES) return { lines: out, resolution };
  for (const [key, group] of ordered.slice(0, MAX_FOLD_TRIALS)) {
    const members = new Set<Line>(group);
    const candidate = [...out.filter((l) => !members.has(l)), scopeLine(key, group)];
    const r = resolve(candidate);
    if (signature(r) === wanted) {
      out = candidate;
      resolution = r;
    }
  }
  return { lines: out, resolution };
}
