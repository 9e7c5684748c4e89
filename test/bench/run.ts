/**
 * Benchmarks (`npm run bench [case …] [--clean]`): generates its inputs under test/bench/out/ (nothing
 * large is committed), then measures, each operation in its own process for its peak RSS. Not a
 * test: numbers are printed, never asserted. Figures and the machine go to BENCHMARKS.md.
 *
 * Cases:
 *   inspect-100k   list a 100 000-variable checkpoint (index only)
 *   ratios         the ratio table (`--gib 0.5` by default, `--reps 3`, `--tensor-mib 2`: float32
 *                  kernels of that many MiB each): cp + sync of the data file
 *                  (the floor), migrate rename-only, with --link, with a transpose on every tensor,
 *                  validate, and TensorFlow's own way (test/bench/tf_way.py) when .venv-tf exists;
 *                  interleaved rounds, medians, peak RSS
 *   link-reflink   migrate --link where the file system has reflinks (test/tf/xfs-mount.sh's
 *                  loop-mounted XFS, or $TFCKPT_REFLINK_DIR), the ratio table's checkpoint
 *                  (`--gib`, `--reps`): against cp --reflink=never + sync, and the whole CLI process
 *   list-1m        list a 1 000 000-variable checkpoint (index only; target < 5 s)
 *   migrate-100k   migrate 100 000 small variables, rename-only (target < 10 s)
 *   embedding      a 1 GiB embedding partitioned in 8 row slices, migrated into one whole tensor
 *   sparse-20g     peak RSS of migrating a 20 GiB checkpoint next to a 2 GiB one (float32 [4096, 4096]
 *                  tensors of zeros in a sparse data shard: nothing large is written), rename-only and
 *                  with one transposed tensor, with --link (`--copy`: also without, which writes
 *                  every byte of the output)
 *   draft-quality  draft-mapping precision / recall on test/draft's evaluation set
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { randomFillSync } from "node:crypto";
import {
  closeSync,
  existsSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { BundleWriter } from "../../src/bundle/writer.js";
import { openCheckpoint } from "../../src/checkpoint/open.js";
import { dtypeFromName } from "../../src/dtypes.js";
import { crc32c, maskCrc } from "../../src/io/crc32c.js";
import { evalCases } from "../draft/cases.js";
import { scoreCase } from "../draft/score.js";
import { craftIndex, encodeBundleEntry, entry } from "../helpers/build.js";

// dist/test/bench/run.js → <repo>/test/bench/out
const OUT = join(fileURLToPath(import.meta.url), "..", "..", "..", "..", "test", "bench", "out");

const CHILD = join(fileURLToPath(import.meta.url), "..", "child.js");

/**
 * Runs one operation of bench/child.ts in a fresh process (or of another build's child.js, to
 * compare with an older commit: see BENCH_BASELINE in {@link ratios}).
 */
function child(
  op: string,
  args: object,
  script = CHILD,
): { seconds: number; maxRssMiB: number; detail: string } {
  const r = spawnSync(process.execPath, [script, op, JSON.stringify(args)], {
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
const PYTHON_TF = join(OUT, "..", "..", "..", ".venv-tf", "bin", "python");
const TF_WAY = join(OUT, "..", "tf_way.py");

/**
 * The ratio table's checkpoint of `gib` GiB in `<parent>/<name>-<gib>g` (`-16m` after it for
 * `--tensor-mib 16`; nothing for the default 2): float32 kernels [512 × tensorMiB, 512] in one
 * data shard, target graphs and rename / transpose maps beside; made unless already there.
 */
async function ratioInputs(
  parent: string,
  name: string,
  gib: number,
  tensorMiB: number,
): Promise<{ dir: string; count: number; kernel: [number, number] }> {
  if (!Number.isInteger(tensorMiB) || tensorMiB < 1)
    throw new Error(`--tensor-mib must be a whole number ≥ 1, got ${tensorMiB}`);
  const kernel: [number, number] = [512 * tensorMiB, 512];
  const count = Math.round((gib * 1024) / tensorMiB);
  const dir = join(parent, `${name}-${gib}g${tensorMiB === 2 ? "" : `-${tensorMiB}m`}`);
  const made = { dir, count, kernel };
  const prefix = join(dir, "src", "model.ckpt-1");
  if (existsSync(`${prefix}.index`)) return made;
  const w = await BundleWriter.create(prefix, { force: true, sync: false });
  const data = new Uint8Array(kernel[0] * kernel[1] * 4);
  for (let i = 0; i < count; i++) {
    randomFillSync(data);
    // Keep values finite floats (exponent bits not all ones) so casts and prints stay meaningful.
    for (let j = 3; j < data.length; j += 4) data[j] = (data[j] as number) & 0x3f;
    await w.add(`layer_${i}/kernel`, f32, kernel, data);
  }
  await w.finish();
  const graph = (shape: number[]) => ({
    model: Object.fromEntries(
      Array.from({ length: count }, (_, i) => [`layer_${i}`, { kernel: { dtype: "float32", shape } }]),
    ),
  });
  writeFileSync(join(dir, "rename.graph.json"), JSON.stringify(graph(kernel)));
  writeFileSync(join(dir, "transpose.graph.json"), JSON.stringify(graph([kernel[1], kernel[0]])));
  writeFileSync(join(dir, "rename.map.json"), JSON.stringify({ assignments: [{ from: "/", to: "model/" }] }));
  writeFileSync(
    join(dir, "transpose.map.json"),
    JSON.stringify({
      assignments: [{ from: "/", to: "model/", transforms: [{ op: "transpose", perm: [1, 0] }] }],
    }),
  );
  return made;
}

function dataBytes(prefix: string): number {
  const dir = join(prefix, "..");
  const base = prefix.slice(dir.length + 1);
  return readdirSync(dir)
    .filter((f) => f.startsWith(`${base}.data-`))
    .reduce((a, f) => a + statSync(join(dir, f)).size, 0);
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1
    ? (s[(s.length - 1) / 2] as number)
    : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
}

/** One contender of the ratio table: runs once into `out`, returns its seconds and peak RSS. */
interface Contender {
  readonly name: string;
  readonly what: string;
  run(out: string): { seconds: number; maxRssMiB?: number };
}

/**
 * The ratio table at `gib` GiB: cp + sync of the data file (the floor), tfckpt migrate rename-only
 * (fresh shards), with --link, with a transpose on every tensor, TensorFlow's own way (when
 * .venv-tf exists) and validate; `reps` interleaved rounds (every contender once per round, the
 * page cache warmed the same way before each), medians reported.
 */
async function ratios(gib: number, reps: number, tensorMiB: number): Promise<Row[]> {
  const { dir, count, kernel } = await ratioInputs(OUT, "ratios", gib, tensorMiB);
  const src = join(dir, "src", "model.ckpt-1");
  const bytes = dataBytes(src);
  const srcData = join(dir, "src", "model.ckpt-1.data-00000-of-00001");
  const migrateWith =
    (kind: string, link: boolean, script = CHILD) =>
    (out: string) =>
      child(
        "migrate",
        {
          source: src,
          target: join(dir, `${kind}.graph.json`),
          mapping: join(dir, `${kind}.map.json`),
          output: join(out, "ckpt-1"),
          link,
        },
        script,
      );
  const contenders: Contender[] = [
    {
      name: "cp + sync",
      what: "the data file (floor)",
      run: (out) => {
        mkdirSync(out, { recursive: true });
        const t0 = process.hrtime.bigint();
        spawnSync("cp", [srcData, out]);
        spawnSync("sync", [join(out, "model.ckpt-1.data-00000-of-00001")]);
        return { seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
      },
    },
    { name: "tfckpt rename", what: "rename-only map, fresh shard", run: migrateWith("rename", false) },
    { name: "tfckpt --link", what: "rename-only map, shard hard-linked", run: migrateWith("rename", true) },
    { name: "tfckpt transpose", what: "transpose on every tensor", run: migrateWith("transpose", false) },
    {
      name: "tfckpt validate",
      what: "every CRC of the source",
      run: () => child("validate", { path: src }),
    },
  ];
  // BENCH_BASELINE=<another build's dist/test/bench/child.js>: that build's rename-only migrate too.
  const baseline = process.env.BENCH_BASELINE;
  if (baseline !== undefined && existsSync(baseline)) {
    contenders.push({
      name: "baseline rename",
      what: `rename-only, the build at ${baseline}`,
      run: migrateWith("rename", false, baseline),
    });
  }
  if (existsSync(PYTHON_TF)) {
    contenders.push({
      name: "TF's way",
      what: "load_checkpoint, assign to a tf.Module, Checkpoint.write, fsync",
      run: (out) => {
        mkdirSync(out, { recursive: true });
        const r = spawnSync(PYTHON_TF, [TF_WAY, src, join(out, "ckpt")], {
          encoding: "utf8",
          env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: "2", CUDA_VISIBLE_DEVICES: "" },
        });
        if (r.status !== 0) throw new Error(`TF's way failed: ${r.stderr}`);
        return JSON.parse(r.stdout.trim().split("\n").at(-1) as string) as {
          seconds: number;
          maxRssMiB: number;
        };
      },
    });
  }
  const times = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  const rss = new Map<string, number>();
  for (let rep = 0; rep < reps; rep++) {
    for (const c of contenders) {
      const out = join(dir, "out");
      rmSync(out, { recursive: true, force: true });
      // Warm the page cache the same way for every run (the source as a user just wrote it).
      spawnSync("cat", [srcData], { stdio: ["ignore", "ignore", "ignore"] });
      const r = c.run(out);
      times.get(c.name)?.push(r.seconds);
      if (r.maxRssMiB !== undefined) rss.set(c.name, Math.max(rss.get(c.name) ?? 0, r.maxRssMiB));
      rmSync(out, { recursive: true, force: true });
      process.stderr.write(`  ${c.name}: ${r.seconds.toFixed(3)} s\n`);
    }
  }
  const cp = median(times.get("cp + sync") ?? []);
  const tf = times.has("TF's way") ? median(times.get("TF's way") ?? []) : undefined;
  console.log(
    `\nratio table, ${(bytes / 2 ** 30).toFixed(2)} GiB (${count} float32 [${kernel.join(", ")}], one shard), medians of ${reps} interleaved rounds:`,
  );
  console.log(
    `${"contender".padEnd(18)} ${"seconds".padStart(8)} ${"× cp".padStart(6)} ${"× TF".padStart(6)} ${"peak RSS".padStart(10)}  what`,
  );
  const rows: Row[] = [];
  for (const c of contenders) {
    const s = median(times.get(c.name) ?? []);
    const m = rss.get(c.name);
    console.log(
      `${c.name.padEnd(18)} ${s.toFixed(3).padStart(8)} ${(s / cp).toFixed(2).padStart(6)} ${(tf !== undefined ? (s / tf).toFixed(2) : "").padStart(6)} ${(m !== undefined ? `${m.toFixed(0)} MiB` : "").padStart(10)}  ${c.what}`,
    );
    rows.push({
      name: `${c.name} ${gib}G`,
      seconds: s,
      bytes,
      ...(m !== undefined ? { maxRssMiB: m } : {}),
      detail: `${c.what}; runs ${(times.get(c.name) ?? []).map((x) => x.toFixed(2)).join(", ")}`,
      floorSeconds: cp,
    });
  }
  return rows;
}

/**
 * The directory with reflinks test/tf/xfs-mount.sh recorded (a loop-mounted XFS where the machine
 * allows it), or $TFCKPT_REFLINK_DIR; undefined when there is none.
 */
function reflinkDir(): string | undefined {
  const env = process.env.TFCKPT_REFLINK_DIR;
  if (env !== undefined && env !== "") return env;
  const record = join(OUT, "..", "..", "..", ".tf-corpus", "reflink-dir");
  if (!existsSync(record)) return undefined;
  const dir = readFileSync(record, "utf8").trim();
  return existsSync(dir) ? dir : undefined;
}

const CLI = join(fileURLToPath(import.meta.url), "..", "..", "..", "src", "cli", "main.js");

/**
 * `--link` where the file system has reflinks (test/tf/xfs-mount.sh's XFS): the rename-only
 * migration of the ratio table's checkpoint (`--gib`), with a real copy of the data file as the
 * floor (`cp --reflink=never` + sync: plain `cp` reflinks there too), `migrate --link` timed
 * in-process as in the ratio table, and the whole CLI process (start, module loading, parse).
 */
async function linkReflink(gib: number, reps: number, tensorMiB: number): Promise<Row[]> {
  const base = reflinkDir();
  if (base === undefined) {
    return [
      {
        name: "link-reflink",
        seconds: 0,
        detail: "no reflink file system: run `bash test/tf/xfs-mount.sh` as root, or set TFCKPT_REFLINK_DIR",
      },
    ];
  }
  const { dir } = await ratioInputs(base, "tfckpt-bench-ratios", gib, tensorMiB);
  const src = join(dir, "src", "model.ckpt-1");
  const srcData = `${src}.data-00000-of-00001`;
  const bytes = dataBytes(src);
  const out = join(dir, "out");
  const args = (o: string) => [
    ...["migrate", "--source", src, "--target", join(dir, "rename.graph.json")],
    ...["--mapping", join(dir, "rename.map.json"), "--output", join(o, "ckpt-1"), "--link", "--force"],
  ];
  const runs: Record<string, number[]> = { cp: [], link: [], cli: [] };
  let rss = 0;
  let method = "";
  for (let rep = 0; rep < reps; rep++) {
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    spawnSync("cat", [srcData], { stdio: ["ignore", "ignore", "ignore"] });
    let t0 = process.hrtime.bigint();
    spawnSync("cp", ["--reflink=never", srcData, out]);
    spawnSync("sync", [join(out, "model.ckpt-1.data-00000-of-00001")]);
    runs.cp?.push(Number(process.hrtime.bigint() - t0) / 1e9);
    rmSync(out, { recursive: true, force: true });
    const r = child("migrate", {
      source: src,
      target: join(dir, "rename.graph.json"),
      mapping: join(dir, "rename.map.json"),
      output: join(out, "ckpt-1"),
      link: true,
    });
    runs.link?.push(r.seconds);
    rss = Math.max(rss, r.maxRssMiB);
    rmSync(out, { recursive: true, force: true });
    t0 = process.hrtime.bigint();
    const c = spawnSync(process.execPath, [CLI, ...args(out)], { encoding: "utf8" });
    runs.cli?.push(Number(process.hrtime.bigint() - t0) / 1e9);
    if (c.status !== 0) throw new Error(`migrate --link failed: ${c.stderr}`);
    method = /reflinked|hard-linked/.exec(`${c.stdout}${c.stderr}`)?.[0] ?? "?";
  }
  rmSync(out, { recursive: true, force: true });
  const cp = median(runs.cp ?? []);
  const row = (name: string, xs: number[], detail: string, m?: number): Row => ({
    name: `${name} ${gib}G`,
    seconds: median(xs),
    bytes,
    floorSeconds: cp,
    ...(m !== undefined ? { maxRssMiB: m } : {}),
    detail: `${detail}; runs ${xs.map((x) => x.toFixed(3)).join(", ")}`,
  });
  return [
    row("xfs cp + sync", runs.cp ?? [], `cp --reflink=never of the data file on ${base} (floor)`),
    row("xfs --link", runs.link ?? [], `migrate --link in-process: the shard ${method}`, rss),
    row("xfs --link CLI", runs.cli ?? [], "the whole tfckpt process: start, modules, parse, migrate --link"),
  ];
}

/** Listing 1 000 000 variables (index only; target < 5 s), in a child process for its RSS. */
async function list1m(): Promise<Row> {
  const prefix = join(OUT, "many-1m", "model.ckpt");
  await manyVariables(prefix, 1_000_000);
  const r = child("inspect", { path: prefix });
  return {
    name: "list-1m",
    seconds: r.seconds,
    maxRssMiB: r.maxRssMiB,
    detail: `${r.detail} (target < 5 s)`,
  };
}

/** Migrating 100 000 small variables with a rename-only scope map onto a JSON graph (target < 10 s). */
async function migrate100k(): Promise<Row> {
  const dir = join(OUT, "migrate-100k");
  const prefix = join(dir, "src", "model.ckpt");
  await manyVariables(prefix, 100_000);
  const model: Record<string, Record<string, unknown>> = {};
  for (let i = 0; i < 100_000; i++) {
    const block = `block_${Math.floor(i / 100)}`;
    model[block] ??= {};
    (model[block] as Record<string, unknown>)[`layer_${i % 100}`] = {
      kernel: { dtype: "float32", shape: [2, 2] },
    };
  }
  writeFileSync(join(dir, "graph.json"), JSON.stringify({ model: { model } }));
  writeFileSync(join(dir, "map.json"), JSON.stringify({ assignments: [{ from: "/", to: "model/" }] }));
  const out = join(dir, "out");
  rmSync(out, { recursive: true, force: true });
  const r = child("migrate", {
    source: prefix,
    target: join(dir, "graph.json"),
    mapping: join(dir, "map.json"),
    output: join(out, "ckpt-1"),
  });
  rmSync(out, { recursive: true, force: true });
  return {
    name: "migrate-100k",
    seconds: r.seconds,
    maxRssMiB: r.maxRssMiB,
    detail: `${r.detail} (target < 10 s)`,
  };
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

const SPARSE_SIDE = 4096; // float32 [4096, 4096]: 64 MiB per tensor

/**
 * A checkpoint of `gib` GiB of zero float32 [4096, 4096] tensors whose data shard is one sparse
 * file (ftruncate: no byte written), its index crafted with the CRC32C of 64 MiB of zeros
 * (computed once); a rename map and a map transposing `layer_0/kernel`, with their target graph.
 */
function sparseInputs(dir: string, gib: number): { prefix: string; count: number } {
  const prefix = join(dir, "src", "model.ckpt-1");
  const count = Math.round((gib * 1024) / 64);
  if (existsSync(`${prefix}.index`)) return { prefix, count };
  const bytes = SPARSE_SIDE * SPARSE_SIDE * 4;
  const zeros = new Uint8Array(8 << 20);
  let crc = 0;
  for (let at = 0; at < bytes; at += zeros.length) crc = crc32c(zeros, crc);
  const entries: Array<[string, Uint8Array]> = [];
  for (let i = 0; i < count; i++) {
    const e = entry({
      dims: [SPARSE_SIDE, SPARSE_SIDE],
      size: bytes,
      offset: i * bytes,
      crc32c: maskCrc(crc),
    });
    entries.push([`layer_${i}/kernel`, encodeBundleEntry(e)]);
  }
  craftIndex(prefix, entries);
  const fd = openSync(`${prefix}.data-00000-of-00001`, "w");
  ftruncateSync(fd, count * bytes);
  closeSync(fd);
  const kernel = { dtype: "float32", shape: [SPARSE_SIDE, SPARSE_SIDE] };
  const layers = Object.fromEntries(Array.from({ length: count }, (_, i) => [`layer_${i}`, { kernel }]));
  writeFileSync(join(dir, "graph.json"), JSON.stringify({ model: layers }));
  const scope = { from: "/", to: "model/" };
  writeFileSync(join(dir, "rename.map.json"), JSON.stringify({ assignments: [scope] }));
  const transpose = {
    from: "layer_0/kernel",
    to: "model/layer_0/kernel",
    transforms: [{ op: "transpose", perm: [1, 0] }],
  };
  writeFileSync(join(dir, "transpose.map.json"), JSON.stringify({ assignments: [transpose, scope] }));
  return { prefix, count };
}

/** Bytes the files under `dir` occupy on disk (`du`), to see whether an output stayed sparse. */
function diskBytes(dir: string): number {
  const r = spawnSync("du", ["-s", "--block-size=1", dir], { encoding: "utf8" });
  return Number(r.stdout.split("\t")[0]);
}

/**
 * Peak RSS of migrating the sparse checkpoint at 2 and 20 GiB: rename-only and with one tensor
 * transposed, with --link (the output hard-links the source shard; only the index and a small
 * shard are written), and with `copy` also without --link (every byte written: the kernel copy of
 * ext4 and most file systems fills the holes, so the output is dense; needs the disk room).
 */
async function sparse20g(copy: boolean): Promise<Row[]> {
  const rows: Row[] = [];
  for (const gib of [2, 20]) {
    const dir = join(OUT, `sparse-${gib}g`);
    const { prefix, count } = sparseInputs(dir, gib);
    for (const kind of ["rename", "transpose"]) {
      for (const link of copy ? [true, false] : [true]) {
        const out = join(dir, "out");
        rmSync(out, { recursive: true, force: true });
        const r = child("migrate", {
          source: prefix,
          target: join(dir, "graph.json"),
          mapping: join(dir, `${kind}.map.json`),
          output: join(out, "ckpt-1"),
          link,
        });
        const onDisk = diskBytes(out);
        rmSync(out, { recursive: true, force: true });
        rows.push({
          name: `${gib}G sparse ${kind === "rename" ? kind : "transp."}${link ? " link" : ""}`,
          seconds: r.seconds,
          bytes: count * SPARSE_SIDE * SPARSE_SIDE * 4,
          maxRssMiB: r.maxRssMiB,
          detail: `${count} × float32 [4096, 4096] of zeros; output ${(onDisk / 2 ** 20).toFixed(0)} MiB on disk; ${r.detail}`,
        });
        process.stderr.write(
          `  ${rows.at(-1)?.name}: ${r.seconds.toFixed(2)} s, ${r.maxRssMiB.toFixed(0)} MiB\n`,
        );
      }
    }
  }
  return rows;
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
  const opt = (name: string, dflt: number) => {
    const i = only.indexOf(name);
    return i >= 0 ? Number(only.splice(i, 2)[1]) : dflt;
  };
  const sizeGiB = opt("--gib", 0.5);
  const reps = opt("--reps", 3);
  const tensorMiB = opt("--tensor-mib", 2);
  const cases: Array<[string, () => Promise<Row | Row[]>]> = [
    ["inspect-100k", inspect100k],
    ["ratios", () => ratios(sizeGiB, reps, tensorMiB)],
    ["link-reflink", () => linkReflink(sizeGiB, reps, tensorMiB)],
    ["list-1m", list1m],
    ["migrate-100k", migrate100k],
    ["embedding", embedding],
    ["sparse-20g", () => sparse20g(only.includes("--copy"))],
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
