/**
 * One benchmark operation in its own process, so its peak RSS is its own:
 * `node dist/test/bench/child.js <op> <json options>` prints `{"seconds": …, "maxRssMiB": …}`.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { openCheckpoint } from "../../src/checkpoint/open.js";
import { migrate } from "../../src/migrate.js";
import { validateCheckpoint } from "../../src/validate.js";

const [op, raw] = process.argv.slice(2);
const args = JSON.parse(raw ?? "{}") as Record<string, string | boolean>;
const t0 = process.hrtime.bigint();
let detail = "";
if (op === "migrate") {
  const r = await migrate({
    source: args.source as string,
    target: args.target as string,
    mapping: args.mapping as string,
    output: args.output as string,
    force: true,
    writeState: false,
    ...(args.link === true ? { link: true } : {}),
  });
  detail = `${r.assignments.length} assigned, assert_consumed ${r.verdicts.assertConsumed.passed ? "passed" : "FAILED"}`;
} else if (op === "validate") {
  const r = await validateCheckpoint(args.path as string);
  detail = `${r.integrity.tensorsChecked} tensors, ${r.integrity.failures.length} failures`;
} else if (op === "inspect") {
  const r = await openCheckpoint(args.path as string);
  detail = `${r.list().length} variables`;
  await r.close();
} else {
  throw new Error(`unknown op ${op}`);
}
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
/**
 * This process's own peak RSS: `VmHWM` of /proc/self/status where there is one. getrusage's
 * maxRSS also counts the spawning process's RSS at the fork (Linux keeps the old mm's high-water
 * mark across exec), so a bench runner holding 285 MiB made every child report at least that.
 */
function peakRssMiB(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync("/proc/self/status", "utf8"));
    if (m !== null) return Number(m[1]) / 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS / 1024;
}
process.stdout.write(`${JSON.stringify({ seconds, maxRssMiB: peakRssMiB(), detail })}\n`);
