/**
 * Benchmarks (`npm run bench`): generates its inputs under bench/out/ (nothing large is
 * committed), then measures. Not a test: numbers are printed, never asserted.
 *
 * Cases:
 *   inspect-100k   list a 100 000-variable checkpoint (index only): openCheckpoint + list
 *
 * @module
 */
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { BundleWriter } from "../src/bundle/writer.js";
import { openCheckpoint } from "../src/checkpoint/open.js";
import { dtypeFromName } from "../src/dtypes.js";
import { evalCases } from "../test/draft/cases.js";
import { scoreCase } from "../test/draft/score.js";

const OUT = join(fileURLToPath(import.meta.url), "..", "..", "..", "bench", "out");

interface Row {
  readonly name: string;
  readonly seconds: number;
  readonly detail: string;
}

async function time<T>(f: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const t0 = process.hrtime.bigint();
  const value = await f();
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, value };
}

async function manyVariables(prefix: string, count: number): Promise<void> {
  if (existsSync(`${prefix}.index`)) return;
  const w = await BundleWriter.create(prefix, { force: true, sync: false });
  const f32 = dtypeFromName("float32");
  const data = new Uint8Array(16);
  for (let i = 0; i < count; i++) {
    await w.add(`model/block_${Math.floor(i / 100)}/layer_${i % 100}/kernel`, f32, [2, 2], data);
  }
  await w.finish();
}

async function inspect100k(): Promise<Row> {
  const prefix = join(OUT, "many", "model.ckpt");
  await manyVariables(prefix, 100_000);
  // Best of 3: the first run also pays for module warm-up.
  let best = Number.POSITIVE_INFINITY;
  let count = 0;
  for (let i = 0; i < 3; i++) {
    const { seconds, value } = await time(async () => {
      const r = await openCheckpoint(prefix);
      const n = r.list().length;
      await r.close();
      return n;
    });
    best = Math.min(best, seconds);
    count = value;
  }
  return { name: "inspect-100k", seconds: best, detail: `${count} variables listed (target < 1 s)` };
}

/** draft-mapping precision / recall on the evaluation set in test/draft/. */
async function draftQuality(): Promise<Row> {
  const { seconds, value } = await time(async () => evalCases().map(scoreCase));
  console.log("\ndraft-mapping quality (test/draft/cases.ts):");
  console.log(`${"case".padEnd(54)} precision  recall  sure (precision)`);
  for (const s of value) {
    console.log(
      `${s.name.padEnd(54)} ${`${(s.precision * 100).toFixed(0)}%`.padStart(9)} ${`${(s.recall * 100).toFixed(0)}%`.padStart(7)}  ${`${s.sure}/${s.truths}`.padStart(7)} (${(s.surePrecision * 100).toFixed(0)}%)`,
    );
  }
  const sure = value.reduce((a, s) => a + s.sure, 0);
  const right = value.reduce((a, s) => a + s.sureRight, 0);
  return {
    name: "draft-quality",
    seconds,
    detail: `${value.length} cases; sure precision ${((right / sure) * 100).toFixed(1)}% over ${sure} sure assignments`,
  };
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const only = process.argv.slice(2);
  const cases: Array<[string, () => Promise<Row>]> = [
    ["inspect-100k", inspect100k],
    ["draft-quality", draftQuality],
  ];
  const rows: Row[] = [];
  for (const [name, run] of cases) {
    if (only.length > 0 && !only.includes(name)) continue;
    process.stderr.write(`running ${name}…\n`);
    rows.push(await run());
  }
  for (const r of rows)
    console.log(`${r.name.padEnd(16)} ${r.seconds.toFixed(3).padStart(8)} s  ${r.detail}`);
  if (process.argv.includes("--clean")) rmSync(OUT, { recursive: true, force: true });
}

await main();
