// A partitioned variable whose slices all sit in shard 1 of 2 (TF1 Saver(sharded=True), two
// CPU devices): MergeV2Checkpoints gives its full entry shard_id 1, and tfckpt writes the same.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BundleReader } from "../../src/bundle/reader.js";
import { BundleWriter } from "../../src/bundle/writer.js";
import { dtypeFromName } from "../../src/dtypes.js";
import { rewriteCheckpoint } from "../../src/rewrite.js";
import { scratch, tf221 } from "./helpers.js";

const src = tf221("sharded-partitioned", "model.ckpt");
const work = scratch();
const FILES = [".index", ".data-00000-of-00002", ".data-00001-of-00002"];

async function fullShard(prefix: string, name: string): Promise<number | undefined> {
  const r = await BundleReader.open(prefix);
  try {
    return r.entry(name)?.proto.shardId;
  } finally {
    await r.close();
  }
}

describe("the full entry of a partitioned tensor in a multi-shard bundle", () => {
  it("TF's file: full entry b names shard 1; rewrite reproduces every file byte for byte", async () => {
    expect(await fullShard(src, "b")).toBe(1);
    const dst = join(work, "same", "model.ckpt");
    await rewriteCheckpoint(src, dst);
    for (const f of FILES) expect(Buffer.compare(readFileSync(dst + f), readFileSync(src + f)), f).toBe(0);
  });

  it("rewrite --max-shard-bytes 16 (3 shards) puts each full entry in the first shard holding one of its slices", async () => {
    const dst = join(work, "three", "model.ckpt");
    await rewriteCheckpoint(src, dst, { maxShardBytes: 16 });
    const r = await BundleReader.open(dst);
    try {
      const slices = r.storedEntries().filter((e) => e.slice?.fullName === "b");
      const first = Math.min(...slices.map((e) => e.proto.shardId));
      expect(r.shards).toBe(3);
      expect(first).toBe(1);
      expect(r.entry("b")?.proto.shardId).toBe(first);
      expect((await r.verify()).failures).toEqual([]);
    } finally {
      await r.close();
    }
  });

  it("BundleWriter: slices added to shards 2 then 1 give the full entry shard 1", async () => {
    const prefix = join(work, "direct", "ckpt");
    const f32 = dtypeFromName("float32");
    const w = await BundleWriter.create(prefix, { numShards: 3 });
    await w.addSlice("v", [2], [{ start: 1, length: 1 }], f32, new Uint8Array(4), { shard: 2 });
    await w.addSlice("v", [2], [{ start: 0, length: 1 }], f32, new Uint8Array(4), { shard: 1 });
    await w.finish();
    expect(await fullShard(prefix, "v")).toBe(1);
  });
});
