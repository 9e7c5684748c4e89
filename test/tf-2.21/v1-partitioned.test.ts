// V1 → V2 rewrite of a TF1 V1 Saver file with a partitioned variable (fixed_size_partitioner(2)):
// the V1 slices stay V2 slices unless --merge-slices asks for one whole tensor.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BundleReader } from "../../src/bundle/reader.js";
import { rewriteCheckpoint } from "../../src/rewrite.js";
import { scratch, tf221 } from "./helpers.js";

const src = tf221("v1-partitioned", "model.ckpt");
const work = scratch();
const W = Array.from({ length: 12 }, (_, i) => i);

async function layout(prefix: string) {
  const r = await BundleReader.open(prefix);
  try {
    const w = await r.readTensor("w");
    return {
      slices: r.get("w")?.slices,
      stored: r.storedEntries().map((e) => `${e.key} ${e.shape.join("x")}`),
      w: w.kind === "fixed" ? [...new Float32Array(w.data.slice().buffer)] : [],
      failures: (await r.verify()).failures,
    };
  } finally {
    await r.close();
  }
}

describe("V1 → V2 rewrite of a partitioned variable", () => {
  it("keeps the V1 slices as V2 slices by default", async () => {
    const dst = join(work, "kept", "model.ckpt");
    await rewriteCheckpoint(src, dst);
    const got = await layout(dst);
    expect(got.slices).toEqual([
      [
        { start: 0, length: 2 },
        { start: 0, length: 3 },
      ],
      [
        { start: 2, length: 2 },
        { start: 0, length: 3 },
      ],
    ]);
    expect(got.stored).toEqual(["c 2", "w [slice 0,2:0,3] 2x3", "w [slice 2,2:0,3] 2x3"]);
    expect(got.w).toEqual(W);
    expect(got.failures).toEqual([]);
  });

  it("writes what TF's own V2 Saver writes for the same graph, byte for byte", async () => {
    const dst = join(work, "as-tf", "model.ckpt");
    await rewriteCheckpoint(src, dst);
    const tfV2 = tf221("v1-partitioned", "model-v2.ckpt");
    for (const f of [".index", ".data-00000-of-00001"])
      expect(Buffer.compare(readFileSync(dst + f), readFileSync(tfV2 + f)), f).toBe(0);
  });

  it("merges them into one whole tensor with mergeSlices", async () => {
    const dst = join(work, "merged", "model.ckpt");
    await rewriteCheckpoint(src, dst, { mergeSlices: true });
    const got = await layout(dst);
    expect(got.slices).toBeUndefined();
    expect(got.stored).toEqual(["c 2", "w 4x3"]);
    expect(got.w).toEqual(W);
  });
});
