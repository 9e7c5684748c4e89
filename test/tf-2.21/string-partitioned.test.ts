// Partitioned string variables (TF1 Saver, fixed_size_partitioner(2)): tfckpt reads them and
// `rewrite` writes their slices with TF's string CRC recipe, so the output is TF's file again.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BundleReader } from "../../src/bundle/reader.js";
import { rewriteCheckpoint } from "../../src/rewrite.js";
import { scratch, tf221 } from "./helpers.js";

const src = tf221("string-partitioned", "model.ckpt");
const work = scratch();
const text = (t: { kind: string; strings?: readonly Uint8Array[] }) =>
  (t.strings ?? []).map((s) => Buffer.from(s).toString("latin1"));

describe("partitioned string tensors", () => {
  it("reads the whole tensor and each stored slice", async () => {
    const r = await BundleReader.open(src);
    try {
      expect(r.get("words")?.slices).toHaveLength(2);
      expect(r.get("words")?.bytes).toBe(29);
      expect(text(await r.readTensor("words"))).toEqual(["alpha", "", "gamma\u0000\u00ff", "delta"]);
      const slices = r.storedEntries().filter((e) => e.slice !== undefined);
      expect(await Promise.all(slices.map(async (e) => text(await r.readStored(e))))).toEqual([
        ["alpha", ""],
        ["gamma\u0000\u00ff", "delta"],
      ]);
      expect((await r.verify()).failures).toEqual([]);
    } finally {
      await r.close();
    }
  });

  it("rewrite reproduces TF's index and data byte for byte (string slice CRCs included)", async () => {
    const dst = join(work, "same", "model.ckpt");
    await rewriteCheckpoint(src, dst);
    for (const f of [".index", ".data-00000-of-00001"])
      expect(Buffer.compare(readFileSync(dst + f), readFileSync(src + f)), f).toBe(0);
    const r = await BundleReader.open(dst);
    try {
      expect((await r.verify()).failures).toEqual([]);
    } finally {
      await r.close();
    }
  });

  it("rewrite --merge-slices writes one whole string tensor", async () => {
    const dst = join(work, "merged", "model.ckpt");
    await rewriteCheckpoint(src, dst, { mergeSlices: true });
    const r = await BundleReader.open(dst);
    try {
      expect(r.get("words")?.slices).toBeUndefined();
      expect(text(await r.readTensor("words"))).toEqual(["alpha", "", "gamma\u0000\u00ff", "delta"]);
      expect((await r.verify()).failures).toEqual([]);
    } finally {
      await r.close();
    }
  });
});
