// Writing, judged by TensorFlow: every `rewrite` output (plain, --shards 3, --merge-slices, V1 → V2)
// of every corpus and real checkpoint is read back by TF with the source's keys, dtypes, shapes and
// bytes; where the output holds whole tensors only, its files are byte-identical to TF's own re-save
// (RestoreV2 → SaveV2 per shard in the same order → MergeV2Checkpoints).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { BundleReader } from "../../src/bundle/reader.js";
import { rewriteCheckpoint } from "../../src/rewrite.js";
import { expectedCheckpoints, hasDataShards, prefixOf } from "../helpers/fixtures.js";
import { CORPUS, corpusCheckpoints, LARGE_CORPUS, oracle, Tally, tfRead } from "./helpers.js";

interface TfKey {
  dtype: string;
  shape: number[];
  sha256?: string;
  error?: string;
}
type TfRead = Record<string, { error?: string; keys?: Record<string, TfKey> }>;

const work = mkdtempSync(join(tmpdir(), "tfckpt-tf-rewrite-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Sources: the corpora and every real fixture with data. */
function sources(): string[] {
  const out = [...corpusCheckpoints(CORPUS), ...corpusCheckpoints(LARGE_CORPUS)].map((c) => c.path);
  for (const c of expectedCheckpoints()) {
    if (c.format === "v1") out.push(c.file);
    else if (hasDataShards(c.file)) out.push(prefixOf(c.file));
  }
  return out;
}

/** Every file of a V2 checkpoint at `prefix`, by name relative to the prefix. */
function bundleFiles(prefix: string): Map<string, Buffer> {
  const base = basename(prefix);
  const files = new Map<string, Buffer>();
  for (const f of readdirSync(dirname(prefix))) {
    if (f.startsWith(`${base}.`)) files.set(f.slice(base.length), readFileSync(join(dirname(prefix), f)));
  }
  return files;
}

describe("rewrite: TensorFlow reads every output as the source", () => {
  test("plain, --shards 3, --merge-slices and V1 → V2 outputs; byte-identical to TF's re-save", async () => {
    const srcs = sources();
    const outputs: { src: string; out: string; mode: string }[] = [];
    const failures = new Tally("rewrite ran");
    for (const [i, src] of srcs.entries()) {
      const modes: [string, Parameters<typeof rewriteCheckpoint>[2]][] = [
        ["plain", {}],
        ["shards3", { shards: 3 }],
        ["merged", { mergeSlices: true }],
      ];
      for (const [mode, options] of modes) {
        const out = join(work, `${i}-${mode}`, "ckpt");
        try {
          await rewriteCheckpoint(src, out, options);
          outputs.push({ src, out, mode });
          failures.check(true, () => "");
        } catch (e) {
          failures.check(false, () => `${src} (${mode}): ${(e as Error).message}`);
        }
      }
    }
    const tf = await tfRead<TfRead[string]>([...srcs, ...outputs.map((o) => o.out)]);
    const values = new Tally("tensors TF reads back equal");
    for (const { src, out, mode } of outputs) {
      const want = tf[src]?.keys ?? {};
      const got = tf[out]?.keys;
      if (got === undefined) {
        values.check(false, () => `${src} (${mode}): TF cannot open the output: ${tf[out]?.error}`);
        continue;
      }
      for (const name of new Set([...Object.keys(want), ...Object.keys(got)])) {
        const w = want[name];
        const g = got[name];
        values.check(
          w !== undefined &&
            g !== undefined &&
            w.dtype === g.dtype &&
            w.shape.join() === g.shape.join() &&
            w.sha256 === g.sha256 &&
            (w.error === undefined) === (g.error === undefined),
          () =>
            `${src} (${mode}) ${name}: source ${w ? `${w.dtype}[${w.shape}] ${w.sha256?.slice(0, 8) ?? w.error}` : "absent"}, output ${g ? `${g.dtype}[${g.shape}] ${g.sha256?.slice(0, 8) ?? g.error}` : "absent"}`,
        );
      }
    }
    // TF's own re-save of each whole-tensor output, in the output's shard grouping and data order.
    const jobs: { src: string; dst: string; shards: string[][]; from: string }[] = [];
    for (const { out, src: source } of outputs) {
      const r = await BundleReader.open(out);
      try {
        const entries = r.storedEntries();
        if (entries.some((e) => e.slice !== undefined)) continue;
        // tfckpt keeps a source's Snappy-compressed index (TF 1.14/2.14 SavedModels have one) so
        // that rewrite reproduces the source; TF 2.21's SaveV2 writes the index uncompressed.
        if (r.indexStats.compressedBlocks > 0) continue;
        const shards: string[][] = Array.from({ length: r.shards }, () => []);
        const ordered = [...entries].sort(
          (a, b) => a.proto.shardId - b.proto.shardId || a.proto.offset - b.proto.offset,
        );
        for (const e of ordered) shards[e.proto.shardId]?.push(e.key);
        // SaveV2 cannot write a shard with no tensor (its dtypes attr has minimum 1), so TF never
        // makes one; outputs with an empty shard are checked by value only.
        if (shards.some((s) => s.length === 0)) continue;
        jobs.push({ src: out, dst: `${out}-tf`, shards, from: source });
      } finally {
        await r.close();
      }
    }
    await oracle({ op: "resave", jobs });
    const bytes = new Tally("files byte-identical to TF's re-save");
    for (const { src, dst, from } of jobs) {
      const ours = bundleFiles(src);
      const theirs = bundleFiles(dst);
      for (const f of new Set([...ours.keys(), ...theirs.keys()])) {
        const a = ours.get(f);
        const b = theirs.get(f);
        bytes.check(
          a !== undefined && b !== undefined && a.equals(b),
          () => `${src}${f} (from ${from}): differs from TF's re-save`,
        );
      }
    }
    const tallies = [failures, values, bytes];
    console.log(
      `rewrite, ${srcs.length} sources, ${outputs.length} outputs, ${jobs.length} re-saved by TF:\n  ${tallies.map((t) => t.summary()).join("\n  ")}`,
    );
    expect(values.agreements).toBeGreaterThan(1000);
    expect(bytes.agreements).toBeGreaterThan(50);
    expect(tallies.flatMap((t) => t.disagreements)).toEqual([]);
  });
});
