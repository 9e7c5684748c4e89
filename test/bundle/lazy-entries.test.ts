// Index entries kept as columns (src/bundle/entries.ts, src/table/scan.ts): found by name in
// UTF-8 byte order, decoded as protobufjs decodes them, and bad ones still reported by `open`
// with file, key and the offset of their block, however deep in the index.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { PlainEntryDecoder } from "../../src/bundle/entries.js";
import { BundleReader } from "../../src/bundle/reader.js";
import { BundleWriter } from "../../src/bundle/writer.js";
import { CorruptCheckpointError } from "../../src/errors.js";
import { FileSource } from "../../src/io/byte-source.js";
import { crc32c, maskCrc } from "../../src/io/crc32c.js";
import { ByteWriter } from "../../src/io/cursor.js";
import { decodeBundleEntry, encodeBundleHeader } from "../../src/proto/index.js";
import { BlockBuilder } from "../../src/table/block.js";
import { encodeBlockHandle, encodeFooter } from "../../src/table/format.js";
import { TableReader } from "../../src/table/reader.js";
import { craftIndex, encodeBundleEntry, entry, F32, floats } from "../helpers/build.js";

const work = mkdtempSync(join(tmpdir(), "tfckpt-lazy-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(work, `c${n++}`, "model.ckpt");
const enc = (s: string) => new TextEncoder().encode(s);

async function openError(prefix: string): Promise<CorruptCheckpointError> {
  const e = await BundleReader.open(prefix).then(
    async (r) => {
      await r.close();
      return undefined;
    },
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(CorruptCheckpointError);
  return e as CorruptCheckpointError;
}

/** Writes `prefix.index` with these data blocks exactly as given (no order check), one header first. */
function rawTable(prefix: string, blocks: Array<Array<[string, Uint8Array]>>): number[] {
  const header = encodeBundleHeader({
    numShards: 1,
    endianness: "little",
    version: { producer: 1, minConsumer: 0, badConsumers: [] },
  });
  const chunks: Uint8Array[] = [];
  const offsets: number[] = [];
  const index = new BlockBuilder(1);
  let at = 0;
  blocks.forEach((entries, i) => {
    const b = new BlockBuilder(16);
    if (i === 0) b.add(new Uint8Array(0), header);
    for (const [k, v] of entries) b.add(enc(k), v);
    const bytes = b.finish();
    const trailer = new Uint8Array(5);
    new DataView(trailer.buffer).setUint32(1, maskCrc(crc32c(new Uint8Array([0]), crc32c(bytes))), true);
    const handle = new ByteWriter(16);
    encodeBlockHandle(handle, { offset: at, size: bytes.length });
    index.add(new Uint8Array([0xff, i]), handle.finish());
    offsets.push(at);
    chunks.push(bytes, trailer);
    at += bytes.length + 5;
  });
  const indexBytes = index.finish();
  const trailer = new Uint8Array(5);
  new DataView(trailer.buffer).setUint32(1, maskCrc(crc32c(new Uint8Array([0]), crc32c(indexBytes))), true);
  const footer = encodeFooter({
    metaindex: { offset: 0, size: 0 },
    index: { offset: at, size: indexBytes.length },
  });
  mkdirSync(dirname(prefix), { recursive: true });
  writeFileSync(`${prefix}.index`, Buffer.concat([...chunks, indexBytes, trailer, footer]));
  return offsets;
}

const ok = encodeBundleEntry(entry({}));

describe("key order", () => {
  it("keys out of order inside a block: the key and the block's offset", async () => {
    const p = fresh();
    const [at] = rawTable(p, [
      [
        ["a", ok],
        ["c", ok],
        ["b", ok],
      ],
    ]);
    const e = await openError(p);
    expect(e.message).toBe(
      `table keys are not in strictly increasing order (file ${p}.index, key "b", offset ${at})`,
    );
  });

  it("keys out of order across blocks, and a repeated key", async () => {
    const p = fresh();
    const offsets = rawTable(p, [
      [
        ["a", ok],
        ["m", ok],
      ],
      [
        ["k", ok],
        ["z", ok],
      ],
    ]);
    expect((await openError(p)).message).toBe(
      `table keys are not in strictly increasing order (file ${p}.index, key "k", offset ${offsets[1]})`,
    );
    const q = fresh();
    rawTable(q, [
      [
        ["a", ok],
        ["ab", ok],
        ["ab", ok],
      ],
    ]);
    expect((await openError(q)).key).toBe("ab");
  });

  it("names beyond the BMP: listed in UTF-8 byte order, each found by name", async () => {
    const p = fresh();
    // UTF-16 order puts "a\u{1F600}" (a surrogate pair) before "a\uE000"; UTF-8 order after.
    const names = ["a", "a\uE000", "a\uFFFF", "a\u{1F600}", "a\u{1F600}b", "b", "\u00e9", "\u{10FFFF}"];
    const w = await BundleWriter.create(p, { sync: false });
    for (const [i, name] of names.entries()) await w.add(name, F32, [], floats(i));
    await w.finish();
    const r = await BundleReader.open(p);
    try {
      const byBytes = [...names].sort((x, y) => Buffer.compare(enc(x), enc(y)));
      expect(r.list().map((v) => v.name)).toEqual(byBytes);
      for (const [i, name] of names.entries()) {
        expect(r.get(name)?.name).toBe(name);
        expect(r.entry(name)?.key).toBe(name);
        expect(r.entry(name)).toBe(r.entry(name));
        const t = await r.readTensor(name);
        expect(t.kind === "fixed" && new Float32Array(t.data.slice().buffer)[0]).toBe(i);
      }
      for (const absent of ["", "a\uD83D", "a\uE001", "c", "\u{10FFFF}x"]) {
        expect(r.get(absent)).toBeUndefined();
        expect(r.entry(absent)).toBeUndefined();
      }
    } finally {
      await r.close();
    }
  });
});

describe("entries deep in a large index", () => {
  it("a bad entry among 20 000 is reported with its key and its block's offset", async () => {
    const p = fresh();
    const entries: Array<[string, Uint8Array]> = [];
    for (let i = 0; i < 20_000; i++) {
      const name = `layer_${String(i).padStart(5, "0")}/kernel`;
      entries.push([name, encodeBundleEntry(entry({ dims: [1], size: i === 17_345 ? 8 : 4 }))]);
    }
    craftIndex(p, entries);
    const source = await FileSource.open(`${p}.index`);
    const table = await TableReader.open(source);
    let blockAt = -1;
    for await (const b of table.blocks())
      if (b.entries.some((e) => new TextDecoder().decode(e.key) === "layer_17345/kernel")) blockAt = b.offset;
    await source.close();
    expect(table.index.length).toBeGreaterThan(1);
    expect(blockAt).toBeGreaterThan(0);
    expect((await openError(p)).message).toBe(
      `invalid size in bundle entry: stored size 8; expected size 4 (float32[1]) (file ${p}.index, key "layer_17345/kernel", offset ${blockAt})`,
    );
  });

  it("entries are built on demand with what the index holds", async () => {
    const p = fresh();
    craftIndex(p, [
      ["w", encodeBundleEntry(entry({ dims: [3, 2], size: 24, offset: 40, crc32c: 0xdeadbeef }))],
      ["s", encodeBundleEntry(entry({ dtype: 7, dims: [2], size: 6, offset: 64 }))],
    ]);
    const r = await BundleReader.open(p);
    try {
      expect(r.entry("w")?.proto).toEqual(entry({ dims: [3, 2], size: 24, offset: 40, crc32c: 0xdeadbeef }));
      expect(r.entry("w")?.indexOffset).toBe(0);
      expect(r.get("s")).toMatchObject({ name: "s", shape: [2], bytes: 6 });
      expect(r.get("s")?.dtype.name).toBe("string");
      expect(r.list().map((v) => v.name)).toEqual(["s", "w"]);
    } finally {
      await r.close();
    }
  });
});

describe("the plain-encoding decoder", () => {
  const plainEntry = fc.record({
    dtype: fc.integer({ min: 1, max: 30 }),
    dims: fc.array(fc.integer({ min: 0, max: 2 ** 45 }), { maxLength: 5 }),
    shardId: fc.integer({ min: 0, max: 1000 }),
    offset: fc.integer({ min: 0, max: 2 ** 48 }),
    size: fc.integer({ min: 0, max: 2 ** 48 }),
    crc32c: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
  });

  it("decodes what encodeBundleEntry writes exactly as decodeBundleEntry does", () => {
    const d = new PlainEntryDecoder();
    fc.assert(
      fc.property(plainEntry, (e) => {
        const bytes = encodeBundleEntry(entry(e));
        expect(d.decode(bytes, 0, bytes.length)).toBe(true);
        const want = decodeBundleEntry(bytes);
        expect({ ...want, shape: want.shape.dims }).toEqual({
          dtype: d.dtype,
          shape: d.dims.slice(0, d.rank),
          shardId: d.shardId,
          offset: d.offset,
          size: d.size,
          crc32c: d.crc32c,
          slices: [],
        });
      }),
      { numRuns: 1000 },
    );
  });

  it("damaged bytes: refused (left to protobufjs) or decoded as protobufjs decodes them", () => {
    const d = new PlainEntryDecoder();
    fc.assert(
      fc.property(
        plainEntry,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        (e, edits) => {
          const bytes = encodeBundleEntry(entry(e)).slice();
          for (const [at, v] of edits) bytes[at % bytes.length] = v;
          if (!d.decode(bytes, 0, bytes.length)) return;
          const want = decodeBundleEntry(bytes);
          expect([want.dtype, want.shape.dims, want.shardId, want.offset, want.size, want.crc32c]).toEqual([
            d.dtype,
            d.dims.slice(0, d.rank),
            d.shardId,
            d.offset,
            d.size,
            d.crc32c,
          ]);
          expect(want.slices).toEqual([]);
          expect(want.shape.unknownRank).toBe(false);
        },
      ),
      { numRuns: 3000 },
    );
  });
});
