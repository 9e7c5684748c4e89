// Hostile and damaged input: each case gets a typed error naming the file, the key and the offset.
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BundleReader } from "../../src/bundle/reader.js";
import {
  ChecksumMismatchError,
  CorruptCheckpointError,
  LimitExceededError,
  NotFoundError,
  UnsupportedError,
} from "../../src/errors.js";
import { craftIndex, encodeBundleEntry, entry, smallBundle } from "../helpers/build.js";

const work = mkdtempSync(join(tmpdir(), "tfckpt-corrupt-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(work, `c${n++}`, "model.ckpt");

async function openError(prefix: string): Promise<unknown> {
  try {
    const r = await BundleReader.open(prefix);
    await r.close();
  } catch (e) {
    return e;
  }
  throw new Error("expected open to fail");
}

async function readError(prefix: string, key: string): Promise<unknown> {
  const r = await BundleReader.open(prefix);
  try {
    await r.readTensor(key);
  } catch (e) {
    return e;
  } finally {
    await r.close();
  }
  throw new Error("expected read to fail");
}

describe("damaged .index tables", () => {
  it("a file shorter than a footer", async () => {
    const p = fresh();
    await smallBundle(p);
    truncateSync(`${p}.index`, 20);
    const e = await openError(p);
    expect(e).toBeInstanceOf(CorruptCheckpointError);
    expect((e as CorruptCheckpointError).message).toBe(
      `file is too short to be an sstable (20 bytes) (file ${p}.index, offset 0)`,
    );
  });

  it("a truncated table (footer gone)", async () => {
    const p = fresh();
    await smallBundle(p);
    const size = readFileSync(`${p}.index`).length;
    truncateSync(`${p}.index`, size - 10);
    const e = (await openError(p)) as CorruptCheckpointError;
    expect(e.detail).toBe("not an sstable (bad magic number)");
    expect(e.offset).toBe(size - 10 - 8);
  });

  it("a wrong magic number", async () => {
    const p = fresh();
    await smallBundle(p);
    const b = readFileSync(`${p}.index`);
    b[b.length - 1] = 0;
    writeFileSync(`${p}.index`, b);
    const e = (await openError(p)) as CorruptCheckpointError;
    expect(e.detail).toBe("not an sstable (bad magic number)");
    expect(e.file).toBe(`${p}.index`);
  });

  it("a bad block CRC", async () => {
    const p = fresh();
    await smallBundle(p);
    const b = readFileSync(`${p}.index`);
    b[5] = (b[5] as number) ^ 0xff; // inside the first data block
    writeFileSync(`${p}.index`, b);
    const e = await openError(p);
    expect(e).toBeInstanceOf(ChecksumMismatchError);
    expect((e as ChecksumMismatchError).message).toMatch(
      /^block checksum mismatch in data block: checksum does not match: stored 0x[0-9a-f]{8} vs\. calculated 0x[0-9a-f]{8} \(file .*model\.ckpt\.index, offset 0\)$/,
    );
  });

  it("a varint that never ends inside a block", async () => {
    const p = fresh();
    // A data block whose only entry header is five 0xff bytes, framed by a valid index and footer.
    mkdirSync(dirname(p), { recursive: true });
    const { crc32c, maskCrc } = await import("../../src/io/crc32c.js");
    const block = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 1, 0, 0, 0]);
    const trailer = new Uint8Array(5);
    new DataView(trailer.buffer).setUint32(1, maskCrc(crc32c(new Uint8Array([0]), crc32c(block))), true);
    const { encodeFooter } = await import("../../src/table/format.js");
    const { BlockBuilder } = await import("../../src/table/block.js");
    const index = new BlockBuilder(1);
    index.add(new Uint8Array([0x62]), new Uint8Array([0, block.length]));
    const indexBytes = index.finish();
    const indexTrailer = new Uint8Array(5);
    new DataView(indexTrailer.buffer).setUint32(
      1,
      maskCrc(crc32c(new Uint8Array([0]), crc32c(indexBytes))),
      true,
    );
    const footer = encodeFooter({
      metaindex: { offset: 0, size: 0 },
      index: { offset: block.length + 5, size: indexBytes.length },
    });
    writeFileSync(`${p}.index`, Buffer.concat([block, trailer, indexBytes, indexTrailer, footer]));
    const e = (await openError(p)) as CorruptCheckpointError;
    expect(e).toBeInstanceOf(CorruptCheckpointError);
    expect(e.detail).toBe("varint32 overflows 32 bits");
    expect(e.offset).toBe(0);
  });

  it("a table without the header entry", async () => {
    const p = fresh();
    craftIndex(p, [["a", encodeBundleEntry(entry({}))]], 1, false);
    const e = (await openError(p)) as CorruptCheckpointError;
    expect(e.detail).toMatch(/failed to seek to header entry/);
  });
});

describe("bad bundle entries", () => {
  it("a size that disagrees with shape × dtype", async () => {
    const p = fresh();
    craftIndex(p, [["w", encodeBundleEntry(entry({ dims: [3], size: 8 }))]]);
    const e = (await openError(p)) as CorruptCheckpointError;
    expect(e).toBeInstanceOf(CorruptCheckpointError);
    expect(e.message).toBe(
      `invalid size in bundle entry: stored size 8; expected size 12 (float32[3]) (file ${p}.index, key "w", offset 0)`,
    );
  });

  it("an unknown dtype: listed; only its values are refused", async () => {
    const p = fresh();
    craftIndex(p, [["w", encodeBundleEntry(entry({ dtype: 99 }))]]);
    const r = await BundleReader.open(p);
    try {
      expect(r.get("w")?.dtype.name).toBe("unknown_99");
      const e = (await r.readTensor("w").catch((x: unknown) => x)) as UnsupportedError;
      expect(e).toBeInstanceOf(UnsupportedError);
      expect(e.detail).toMatch(/^dtype enum value 99 is unknown to tfckpt/);
      expect(e.key).toBe("w");
    } finally {
      await r.close();
    }
  });

  it("DT_INVALID (0)", async () => {
    const p = fresh();
    craftIndex(p, [["w", encodeBundleEntry(entry({ dtype: 0 }))]]);
    const e = (await openError(p)) as UnsupportedError;
    expect(e).toBeInstanceOf(UnsupportedError);
    expect(e.detail).toBe("unknown or invalid dtype enum value 0");
    expect(e.key).toBe("w");
  });

  it("a hostile shape is refused before anything is allocated", async () => {
    const p = fresh();
    craftIndex(p, [["huge", encodeBundleEntry(entry({ dims: [2 ** 40, 2 ** 40], size: 4 }))]]);
    const e = (await openError(p)) as LimitExceededError;
    expect(e).toBeInstanceOf(LimitExceededError);
    expect(e.detail).toBe("shape [1099511627776, 1099511627776] has more than 2^53 - 1 elements");
    expect(e.key).toBe("huge");
  });

  it("a big declared shape with a small size is a size mismatch, not an allocation", async () => {
    const p = fresh();
    craftIndex(p, [["big", encodeBundleEntry(entry({ dims: [2 ** 20, 2 ** 20], size: 4 }))]]);
    const e = (await openError(p)) as CorruptCheckpointError;
    expect(e.detail).toMatch(/^invalid size in bundle entry: stored size 4; expected size 4398046511104/);
  });

  it("a shard id out of range", async () => {
    const p = fresh();
    craftIndex(p, [["w", encodeBundleEntry(entry({ shardId: 3 }))]], 2);
    const e = (await openError(p)) as CorruptCheckpointError;
    expect(e.detail).toBe("entry refers to shard 3 of 2");
  });

  it("an unparseable entry", async () => {
    const p = fresh();
    craftIndex(p, [["w", new Uint8Array([0x0a, 0x7f])]]);
    const e = (await openError(p)) as CorruptCheckpointError;
    expect(e.detail).toMatch(/^cannot parse bundle entry: /);
    expect(e.key).toBe("w");
  });
});

describe("bad data shards", () => {
  it("an entry whose offset + size passes the end of its shard", async () => {
    const p = fresh();
    await smallBundle(p);
    truncateSync(`${p}.data-00000-of-00001`, 6);
    const e = (await readError(p, "b")) as CorruptCheckpointError;
    expect(e.message).toBe(
      `entry of 4 bytes at offset 8 passes the end of its shard (6 bytes) (file ${p}.data-00000-of-00001, key "b", offset 8)`,
    );
  });

  it("a missing shard", async () => {
    const p = fresh();
    await smallBundle(p);
    unlinkSync(`${p}.data-00000-of-00001`);
    const e = (await readError(p, "a")) as NotFoundError;
    expect(e).toBeInstanceOf(NotFoundError);
    expect(e.message).toBe(`missing data shard (file ${p}.data-00000-of-00001, key "a")`);
  });

  it("a flipped tensor byte", async () => {
    const p = fresh();
    await smallBundle(p);
    const d = readFileSync(`${p}.data-00000-of-00001`);
    d[9] = (d[9] as number) ^ 1;
    writeFileSync(`${p}.data-00000-of-00001`, d);
    const e = (await readError(p, "b")) as ChecksumMismatchError;
    expect(e).toBeInstanceOf(ChecksumMismatchError);
    expect(e.key).toBe("b");
    expect(e.offset).toBe(8);
  });

  it("a damaged string length checksum", async () => {
    const p = fresh();
    await smallBundle(p);
    const d = readFileSync(`${p}.data-00000-of-00001`);
    d[13] = (d[13] as number) ^ 1; // s: varint at 12, checksum at 13..16
    writeFileSync(`${p}.data-00000-of-00001`, d);
    const e = (await readError(p, "s")) as ChecksumMismatchError;
    expect(e.message).toMatch(/^string length checksum: checksum does not match/);
    expect(e.offset).toBe(13);
  });

  it("a string length that runs past the entry", async () => {
    const p = fresh();
    await smallBundle(p);
    const d = readFileSync(`${p}.data-00000-of-00001`);
    d[12] = 0x7f; // length 127 > entry size
    writeFileSync(`${p}.data-00000-of-00001`, d);
    const e = (await readError(p, "s")) as CorruptCheckpointError;
    expect(e.detail).toBe("string lengths longer than the entry (127 > 10 bytes)");
  });

  it("verify reports every failure and keeps going", async () => {
    const p = fresh();
    await smallBundle(p);
    const d = readFileSync(`${p}.data-00000-of-00001`);
    d[0] = (d[0] as number) ^ 1;
    d[9] = (d[9] as number) ^ 1;
    writeFileSync(`${p}.data-00000-of-00001`, d);
    const r = await BundleReader.open(p);
    const v = await r.verify();
    await r.close();
    expect(v.failures.map((f) => [f.key, f.code, f.offset])).toEqual([
      ["a", "checksum", 0],
      ["b", "checksum", 8],
    ]);
    expect(v.tensorsChecked).toBe(1);
  });
});

describe("named caps", () => {
  it("a partitioned entry with more slices than MAX_SLICES_PER_TENSOR is refused before any check", async () => {
    const p = fresh();
    const slices = Array.from({ length: 5000 }, (_, i) => [{ start: i, length: 1 }]);
    craftIndex(p, [["emb", encodeBundleEntry(entry({ dims: [5000], size: 0, slices }))]]);
    const e = (await openError(p)) as LimitExceededError;
    expect(e).toBeInstanceOf(LimitExceededError);
    expect(e.detail).toBe("5000 slices exceed MAX_SLICES_PER_TENSOR (4096)");
  });
});
