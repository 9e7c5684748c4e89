// What each operation reads, counted through the injectable byte source (house issue, item 4):
// listing reads the .index only; one tensor reads exactly its byte range; validating reads every
// data byte once; the CRC check of a copied shard reads each shard byte at most once.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BundleReader } from "../../src/bundle/reader.js";
import { FileSource } from "../../src/io/byte-source.js";
import { CountingSource } from "../helpers/counting-source.js";
import { REPO } from "../helpers/fixtures.js";

const TF = join(REPO, "fixtures", "tf-2.21");

/** Opens `prefix` with every file (index and shards) wrapped in a CountingSource, by file name. */
async function counted(prefix: string) {
  const files = new Map<string, CountingSource>();
  const reader = await BundleReader.open(prefix, undefined, async (path) => {
    const s = new CountingSource(await FileSource.open(path));
    files.set(path, s);
    return s;
  });
  const data = () => [...files].filter(([p]) => !p.endsWith(".index")).map(([, s]) => s);
  return { reader, index: files.get(`${prefix}.index`) as CountingSource, data };
}

/** The bytes of `ranges` merged, and whether any byte was read twice. */
function coverage(ranges: ReadonlyArray<readonly [number, number]>) {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  let end = 0;
  let twice = false;
  for (const [o, n] of sorted) {
    if (n > 0 && o < end) twice = true;
    end = Math.max(end, o + n);
  }
  return { twice, bytes: sorted.reduce((a, [, n]) => a + n, 0) };
}

describe("reads per operation (V2 bundles)", () => {
  it("listing reads the .index only: no data shard is opened", async () => {
    const { reader, index, data } = await counted(join(TF, "tf1-sharded3", "model.ckpt-7"));
    try {
      expect(reader.list().length).toBeGreaterThan(0);
      expect(reader.get(reader.list()[0]?.name as string)).toBeDefined();
      expect(data()).toEqual([]);
      expect(index.reads).toBeGreaterThan(0);
      expect(index.bytes).toBeLessThanOrEqual(index.byteLength * 2); // footer + blocks
    } finally {
      await reader.close();
    }
  });

  it("reading one tensor reads exactly its byte range of its shard, in one read", async () => {
    const { reader, data } = await counted(join(TF, "keras3-sequential-adam", "ckpt-1"));
    try {
      const name = reader
        .list()
        .map((v) => v.name)
        .find((n) => n !== "_CHECKPOINTABLE_OBJECT_GRAPH" && (reader.entry(n)?.proto.size ?? 0) > 4);
      const e = reader.entry(name as string);
      if (e === undefined) throw new Error("no tensor in the fixture");
      await reader.readTensor(e.key);
      const [shard, ...others] = data();
      expect(others).toEqual([]);
      expect(shard?.ranges).toEqual([[e.proto.offset, e.proto.size]]);
    } finally {
      await reader.close();
    }
  });

  it("streaming one tensor reads exactly its byte range, in chunks, no read-ahead past its end", async () => {
    const { reader, data } = await counted(join(TF, "tf1-partitioned", "model.ckpt"));
    try {
      const e = reader
        .storedEntries()
        .filter((x) => x.dtype.itemSize !== undefined)
        .sort((a, b) => b.proto.size - a.proto.size)[0];
      if (e === undefined) throw new Error("no fixed-size tensor in the fixture");
      const chunk = Math.ceil(e.proto.size / 3);
      for await (const _ of reader.streamEntry(e, chunk)) {
        // read through: the CRC is checked at the end
      }
      const ranges = data()[0]?.ranges ?? [];
      expect(ranges.length).toBe(3);
      expect(coverage(ranges)).toEqual({ twice: false, bytes: e.proto.size });
      expect(Math.min(...ranges.map(([o]) => o))).toBe(e.proto.offset);
    } finally {
      await reader.close();
    }
  });

  it("validating (verify, then the object graph) reads every data byte of every entry once", async () => {
    const { reader, data } = await counted(join(TF, "keras3-sequential-adam", "ckpt-1"));
    try {
      const result = await reader.verify();
      expect(result.failures).toEqual([]);
      await reader.objectGraph();
      const stored = reader.storedEntries().reduce((a, e) => a + e.proto.size, 0);
      const shards = data();
      expect(shards.length).toBe(reader.shards);
      const all = shards.flatMap((s) => s.ranges);
      expect(coverage(all)).toEqual({ twice: false, bytes: stored });
    } finally {
      await reader.close();
    }
  });

  it("the CRC check of a copied shard reads the shard once in windows, plus each string entry", async () => {
    const { reader, data } = await counted(join(TF, "tf1-partitioned", "model.ckpt"));
    try {
      const entries = reader.storedEntries();
      const strings = entries.filter((e) => e.dtype.kind === "string");
      expect(strings.length).toBeGreaterThan(0);
      const window = 4096;
      await reader.checkEntries(entries, window);
      const [shard] = data();
      if (shard === undefined) throw new Error("no shard read");
      // String entries are decoded from reads of their own (their CRC is not a CRC of their
      // bytes), first; then the shard is read front to back in windows, each byte once.
      const own = shard.ranges.slice(0, strings.length);
      expect(own).toEqual(strings.map((e) => [e.proto.offset, e.proto.size]));
      const windows = shard.ranges.slice(strings.length);
      expect(coverage(windows)).toEqual({ twice: false, bytes: shard.byteLength });
      expect(windows.length).toBe(Math.ceil(shard.byteLength / window));
    } finally {
      await reader.close();
    }
  });
});
