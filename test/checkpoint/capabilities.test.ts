// The reader contract's capabilities for copying and rebuilding (src/reader.ts), tested directly:
// storedTensor says where a V2 tensor's bytes are, checkStored verifies them (across data files,
// each tensor once, refusing tensors it does not store), kerasLayout gives a Keras file's structure.
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BundleReader } from "../../src/bundle/reader.js";
import { BundleWriter } from "../../src/bundle/writer.js";
import { openCheckpoint } from "../../src/checkpoint/open.js";
import { ChecksumMismatchError, NotFoundError } from "../../src/errors.js";
import { FileSource } from "../../src/io/byte-source.js";
import type { CheckpointReader, StoredTensor } from "../../src/reader.js";
import { F32, floats } from "../helpers/build.js";
import { CountingSource } from "../helpers/counting-source.js";
import { REPO } from "../helpers/fixtures.js";

const work = mkdtempSync(join(tmpdir(), "tfckpt-capabilities-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A two-shard bundle: `a` (8 bytes) and `c` in shard 0, `b` (12 bytes) in shard 1. */
async function twoShards(name: string): Promise<string> {
  const prefix = join(work, name, "ckpt");
  const w = await BundleWriter.create(prefix, { numShards: 2, sync: false });
  await w.add("a", F32, [2], floats(1, 2), { shard: 0 });
  await w.add("b", F32, [3], floats(3, 4, 5), { shard: 1 });
  await w.add("c", F32, [], floats(6), { shard: 0 });
  await w.finish();
  return prefix;
}

function stored(r: CheckpointReader, name: string): StoredTensor {
  const t = r.storedTensor?.(name);
  if (t === undefined) throw new Error(`${name} is not stored whole`);
  return t;
}

describe("storedTensor and checkStored (V2 bundles)", () => {
  it("storedTensor gives each tensor's data file, byte range and stored CRC", async () => {
    const prefix = await twoShards("where");
    const r = await openCheckpoint(prefix);
    try {
      const a = stored(r, "a");
      const b = stored(r, "b");
      expect([a.key, a.dtype.name, a.shape, a.shard, a.file, a.offset, a.size]).toEqual([
        "a",
        "float32",
        [2],
        0,
        `${prefix}.data-00000-of-00002`,
        0,
        8,
      ]);
      expect([b.shard, b.file, b.offset, b.size]).toEqual([1, `${prefix}.data-00001-of-00002`, 0, 12]);
      expect(stored(r, "c").offset).toBe(8);
      expect(a.crc32c).not.toBe(b.crc32c);
      expect(r.storedTensor?.("no-such-tensor")).toBeUndefined();
      expect(r.kerasLayout).toBeUndefined();
    } finally {
      await r.close();
    }
  });

  it("checkStored checks tensors of several data files, each against its own file", async () => {
    const prefix = await twoShards("both");
    const r = await openCheckpoint(prefix);
    try {
      await r.checkStored?.(["b", "a", "c"].map((n) => stored(r, n)));
      // A flipped byte of `b` in shard 1 is found there and named.
      const fd = openSync(`${prefix}.data-00001-of-00002`, "r+");
      writeSync(fd, Uint8Array.of(0xff), 0, 1, 5);
      closeSync(fd);
      const bad = await openCheckpoint(prefix);
      try {
        await expect(bad.checkStored?.([stored(bad, "a"), stored(bad, "b")])).rejects.toThrow(
          ChecksumMismatchError,
        );
        await expect(bad.checkStored?.([stored(bad, "b")])).rejects.toMatchObject({ key: "b" });
        await bad.checkStored?.([stored(bad, "a"), stored(bad, "c")]);
      } finally {
        await bad.close();
      }
    } finally {
      await r.close();
    }
  });

  it("checkStored refuses a tensor it does not store whole, and checks one listed twice once", async () => {
    const prefix = await twoShards("once");
    const sources: CountingSource[] = [];
    const r = await BundleReader.open(prefix, undefined, async (path) => {
      const s = new CountingSource(await FileSource.open(path));
      if (!path.endsWith(".index")) sources.push(s);
      return s;
    });
    try {
      const ghost = { ...stored(r, "a"), key: "ghost" };
      await expect(r.checkStored([ghost])).rejects.toThrow(NotFoundError);
      await expect(r.checkStored([ghost])).rejects.toMatchObject({ key: "ghost" });
      const a = stored(r, "a");
      await r.checkStored([a, a, { ...a }]);
      // Shard 0 (12 bytes: a and c) read once in one window; shard 1 never opened.
      expect(sources.map((s) => [s.name, s.ranges])).toEqual([[`${prefix}.data-00000-of-00002`, [[0, 12]]]]);
    } finally {
      await r.close();
    }
  });
});

describe("kerasLayout (Keras weights files)", () => {
  const FIX = join(REPO, "fixtures", "keras-3.15");

  it("lists the root group, every group and dataset of a .weights.h5 with its attributes", async () => {
    const r = await openCheckpoint(join(FIX, "mlp.weights.h5"));
    try {
      const layout = r.kerasLayout?.();
      if (layout === undefined) throw new Error("no kerasLayout");
      expect(layout.archive).toBeUndefined();
      expect(layout.entries[0]).toMatchObject({ kind: "group", path: "" });
      const datasets = layout.entries.filter((e) => e.kind === "dataset");
      expect(datasets.map((d) => d.path).sort()).toEqual(
        r
          .list()
          .map((v) => v.name)
          .sort(),
      );
      for (const d of datasets) {
        const v = r.get(d.path);
        expect([d.dtype.name, d.shape]).toEqual([v?.dtype.name, v?.shape]);
      }
      expect(r.storedTensor).toBeUndefined();
      expect(r.checkStored).toBeUndefined();
    } finally {
      await r.close();
    }
  });

  it("a .keras archive's layout carries its other entries (metadata.json, config.json)", async () => {
    const r = await openCheckpoint(join(FIX, "mlp.keras"));
    try {
      const names = r.kerasLayout?.().archive?.map((e) => e.name) ?? [];
      expect(names).toEqual(expect.arrayContaining(["metadata.json", "config.json"]));
      expect(names).not.toContain("model.weights.h5");
    } finally {
      await r.close();
    }
  });
});
