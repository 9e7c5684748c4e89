/**
 * Benchmarks (`npm run bench [case …] [--clean]`): generates its inputs under test/bench/out/ (nothing
 * large is committed), then measures, each operation in its own process for its peak RSS. Not a
 * test: numbers are printed, never asserted. Figures and the machine go to BENCHMARKS.md.
 *
 * Cases:
 *   inspect-100k   list a 100 000-variable checkpoint (index only)
 *   big            ~2 GiB, 1 000 float32 variables, 2 shards: cp of the data files (the floor),
 *                  migrate rename-only, migrate with a transpose on every kernel, validate (all CRCs)
 *   embedding      a 1 GiB embedding partitioned in 8 row slices, migrated into one whole tensor
 *   draft-quality  draft-mapping precision / recall on test/draft's evaluation set
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { randomFillSync } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { BundleWriter } from "../../src/bundle/writer.js";
import { openCheckpoint } from "../../src/checkpoint/open.js";
import { dtypeFromName } from "../../src/dtypes.js";
import { evalCases } from "../draft/cases.js";
import { scoreCase } from "../draft/score.js";

// dist/test/bench/run.js → <repo>/test/bench/out
const OUT = join(fileURLToPath(import.meta.url), "..", "..", "..", "..", "test", "bench", "out");

const CHILD = join(fileURLToPath(import.meta.url), "..", "child.js");

/** Runs one operation of bench/child.ts in a fresh process. */
function child(op: string, args: object): { seconds: number; maxRssMiB: number; detail: string } {
  const r = spawnSync(process.execPath, [CHILD, op, JSON.stringify(args)], {
    encoding: "utf8",
    maxBuffer: 1 << 24,
  });
  if (r.status !== 0) throw new Error(`${op} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").at(-1) as string) as {
    seconds: number;
    maxRssMiB: number;
    detail: string;
  };
}

interface Row {
  readonly name: string;
  readonly seconds: number;
  readonly detail: string;
  readonly bytes?: number;
  readonly maxRssMiB?: number;
  readonly floorSeconds?: number;
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

const f32 = dtypeFromName("float32");
const KERNEL: [number, number] = [1024, 512]; // 2 MiB of float32

/** ~2 GiB: 1 000 kernels of 2 MiB, alternating over 2 shards; target graphs and mappings beside. */
async function bigInputs(dir: string): Promise<void> {
  const prefix = join(dir, "src", "model.ckpt-1");
  if (existsSync(`${prefix}.index`)) return;
  const w = await BundleWriter.create(prefix, { numShards: 2, force: true, sync: false });
  const data = new Uint8Array(KERNEL[0] * KERNEL[1] * 4);
  for (let i = 0; i < 1000; i++) {
    randomFillSync(data);
    // Keep values finite floats (exponent bits not all ones) so casts and prints stay meaningful.
    for (let j = 3; j < data.length; j += 4) data[j] = (data[j] as number) & 0x3f;
    await w.add(`layer_${i}/kernel`, f32, KERNEL, data, { shard: i % 2 });
  }
  await w.finish();
  const graph = (shape: number[]) => ({
    model: Object.fromEntries(
      Array.from({ length: 1000 }, (_, i) => [`layer_${i}`, { kernel: { dtype: "float32", shape } }]),
    ),
  });
  writeFileSync(join(dir, "rename.graph.json"), JSON.stringify(graph(KERNEL)));
  writeFileSync(join(dir, "transpose.graph.json"), JSON.stringify(graph([KERNEL[1], KERNEL[0]])));
  writeFileSync(join(dir, "rename.map.json"), JSON.stringify({ assignments: [{ from: "/", to: "model/" }] }));
  writeFileSync(
    join(dir, "transpose.map.json"),
    JSON.stringify({
      assignments: [{ from: "/", to: "model/", transforms: [{ op: "transpose", perm: [1, 0] }] }],
    }),
  );
}

function dataBytes(prefix: string): number {
  const dir = join(prefix, "..");
  const base = prefix.slice(dir.length + 1);
  return readdirSync(dir)
    .filter((f) => f.startsWith(`${base}.data-`))
    .reduce((a, f) => a + statSync(join(dir, f)).size, 0);
}

async function big(): Promise<Row[]> {
  const dir = join(OUT, "big");
  await bigInputs(dir);
  const src = join(dir, "src", "model.ckpt-1");
  const bytes = dataBytes(src);
  const cpDir = join(dir, "cp");
  rmSync(cpDir, { recursive: true, force: true });
  mkdirSync(cpDir, { recursive: true });
  const files = readdirSync(join(dir, "src"))
    .filter((f) => f.includes(".data-"))
    .map((f) => join(dir, "src", f));
  // Warm the page cache the same way for every run, then time cp (+ sync, as migrate fsyncs).
  spawnSync("cat", files, { stdio: ["ignore", "ignore", "ignore"] });
  const t0 = process.hrtime.bigint();
  spawnSync("cp", [...files, cpDir]);
  spawnSync("sync", [join(cpDir, readdirSync(cpDir)[0] as string)]);
  const cpSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  rmSync(cpDir, { recursive: true, force: true });
  const rows: Row[] = [
    {
      name: "cp (floor)",
      seconds: cpSeconds,
      bytes,
      detail: `${files.length} data files`,
      floorSeconds: cpSeconds,
    },
  ];
  for (const kind of ["rename", "transpose"]) {
    const out = join(dir, `out-${kind}`, "ckpt-1");
    const r = child("migrate", {
      source: src,
      target: join(dir, `${kind}.graph.json`),
      mapping: join(dir, `${kind}.map.json`),
      output: out,
    });
    rows.push({
      name: `migrate ${kind}`,
      seconds: r.seconds,
      bytes,
      maxRssMiB: r.maxRssMiB,
      detail: r.detail,
      floorSeconds: cpSeconds,
    });
    rmSync(join(dir, `out-${kind}`), { recursive: true, force: true });
  }
  const v = child("validate", { path: src });
  rows.push({
    name: "validate (all CRCs)",
    seconds: v.seconds,
    bytes,
    maxRssMiB: v.maxRssMiB,
    detail: v.detail,
    floorSeconds: cpSeconds,
  });
  return rows;
}

/** A 1 GiB embedding [262144, 1024] in 8 row slices over 2 shards, migrated into one tensor. */
async function embedding(): Promise<Row[]> {
  const dir = join(OUT, "embedding");
  const prefix = join(dir, "src", "model.ckpt-1");
  const rows = 262144;
  const cols = 1024;
  if (!existsSync(`${prefix}.index`)) {
    const w = await BundleWriter.create(prefix, { numShards: 2, force: true, sync: false });
    const part = rows / 8;
    const data = new Uint8Array(part * cols * 4);
    for (let i = 0; i < 8; i++) {
      randomFillSync(data);
      await w.addSlice(
        "embedding/embeddings",
        [rows, cols],
        [
          { start: i * part, length: part },
          { start: 0, length: cols },
        ],
        f32,
        data,
        { shard: i % 2 },
      );
    }
    await w.finish();
    writeFileSync(
      join(dir, "graph.json"),
      JSON.stringify({ model: { embedding: { embeddings: { dtype: "float32", shape: [rows, cols] } } } }),
    );
    writeFileSync(
      join(dir, "map.json"),
      JSON.stringify({ assignments: [{ from: "embedding/", to: "model/embedding/" }] }),
    );
  }
  const bytes = dataBytes(prefix);
  const out = join(dir, "out", "ckpt-1");
  const r = child("migrate", {
    source: prefix,
    target: join(dir, "graph.json"),
    mapping: join(dir, "map.json"),
    output: out,
  });
  rmSync(join(dir, "out"), { recursive: true, force: true });
  return [
    {
      name: "migrate partitioned",
      seconds: r.seconds,
      bytes,
      maxRssMiB: r.maxRssMiB,
      detail: `8 row slices → 1 tensor; ${r.detail}`,
    },
  ];
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
  const cases: Array<[string, () => Promise<Row | Row[]>]> = [
    ["inspect-100k", inspect100k],
    ["big", big],
    ["embedding", embedding],
    ["draft-quality", draftQuality],
  ];
  const wanted = only.filter((o) => !o.startsWith("--"));
  const rows: Row[] = [];
  for (const [name, run] of cases) {
    if (wanted.length > 0 && !wanted.includes(name)) continue;
    process.stderr.write(`running ${name}…\n`);
    rows.push(...[await run()].flat());
  }
  console.log(
    `\n${"case".padEnd(24)} ${"seconds".padStart(8)} ${"GB/s".padStart(6)} ${"× cp".padStart(6)} ${"peak RSS".padStart(10)}  detail`,
  );
  for (const r of rows) {
    const gbps = r.bytes !== undefined ? (r.bytes / 1e9 / r.seconds).toFixed(2) : "";
    const ratio = r.floorSeconds !== undefined ? (r.seconds / r.floorSeconds).toFixed(2) : "";
    const rss = r.maxRssMiB !== undefined ? `${r.maxRssMiB.toFixed(0)} MiB` : "";
    console.log(
      `${r.name.padEnd(24)} ${r.seconds.toFixed(3).padStart(8)} ${gbps.padStart(6)} ${ratio.padStart(6)} ${rss.padStart(10)}  ${r.detail}`,
    );
  }
  if (process.argv.includes("--clean")) rmSync(OUT, { recursive: true, force: true });
}

await main();
