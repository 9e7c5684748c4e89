// Big-endian bundles (written on s390x): fixed-size tensors are byte-swapped after their CRC is
// checked on the file bytes, as TF's reader does; strings are refused with a clear error;
// rewrite turns the bundle little-endian. Data alignment padding is honoured.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BundleReader } from "../../src/bundle/reader.js";
import { BundleWriter } from "../../src/bundle/writer.js";
import { UnsupportedError } from "../../src/errors.js";
import { crc32c, maskCrc } from "../../src/io/crc32c.js";
import { encodeBundleEntry, encodeBundleHeader } from "../../src/proto/index.js";
import { rewriteCheckpoint } from "../../src/rewrite.js";
import { concatBytes, TableWriter } from "../../src/table/writer.js";
import { F32, floats } from "../helpers/build.js";
import { bytesOf, f32s } from "../helpers/values.js";

const work = mkdtempSync(join(tmpdir(), "tfckpt-endian-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("big-endian bundles", () => {
  const prefix = join(work, "be", "model.ckpt");
  it("are read with fixed-size values byte-swapped, strings refused, and rewritten little-endian", async () => {
    mkdirSync(join(work, "be"), { recursive: true });
    const be = new Uint8Array([0x3f, 0x80, 0, 0, 0x40, 0, 0, 0]); // float32 [1, 2], big-endian
    const str = new Uint8Array([1, 0, 0, 0, 0, 0x61]); // a placeholder string entry
    writeFileSync(`${prefix}.data-00000-of-00001`, concatBytes([be, str]));
    const t = new TableWriter();
    t.add(
      new Uint8Array(0),
      encodeBundleHeader({
        numShards: 1,
        endianness: "big",
        version: { producer: 1, minConsumer: 0, badConsumers: [] },
      }),
    );
    t.add(
      new TextEncoder().encode("s"),
      encodeBundleEntry({
        dtype: 7,
        shape: { dims: [1], unknownRank: false },
        shardId: 0,
        offset: 8,
        size: 6,
        crc32c: 1,
        slices: [],
      }),
    );
    t.add(
      new TextEncoder().encode("x"),
      encodeBundleEntry({
        dtype: 1,
        shape: { dims: [2], unknownRank: false },
        shardId: 0,
        offset: 0,
        size: 8,
        crc32c: maskCrc(crc32c(be)),
        slices: [],
      }),
    );
    writeFileSync(`${prefix}.index`, concatBytes(t.finish()));
    const r = await BundleReader.open(prefix);
    expect(r.header.endianness).toBe("big");
    const x = await r.readTensor("x");
    expect(x.kind === "fixed" && f32s(x.data)).toEqual([1, 2]);
    await expect(r.readTensor("s")).rejects.toBeInstanceOf(UnsupportedError);
    expect(r.streamWhole("x")).toBeUndefined();
    await r.close();
  });

  it("rewrite turns a big-endian bundle of numbers little-endian", async () => {
    const only = join(work, "be2", "model.ckpt");
    mkdirSync(join(work, "be2"), { recursive: true });
    const be = new Uint8Array([0x3f, 0x80, 0, 0, 0x40, 0, 0, 0]);
    writeFileSync(`${only}.data-00000-of-00001`, be);
    const t = new TableWriter();
    t.add(
      new Uint8Array(0),
      encodeBundleHeader({
        numShards: 1,
        endianness: "big",
        version: { producer: 1, minConsumer: 0, badConsumers: [] },
      }),
    );
    t.add(
      new TextEncoder().encode("x"),
      encodeBundleEntry({
        dtype: 1,
        shape: { dims: [2], unknownRank: false },
        shardId: 0,
        offset: 0,
        size: 8,
        crc32c: maskCrc(crc32c(be)),
        slices: [],
      }),
    );
    writeFileSync(`${only}.index`, concatBytes(t.finish()));
    const dst = join(work, "le", "model.ckpt");
    const res = await rewriteCheckpoint(only, dst);
    expect(res.notes.join()).toMatch(/byte-swapped to little-endian/);
    expect(readFileSync(`${dst}.data-00000-of-00001`)).toEqual(Buffer.from(floats(1, 2)));
    const r = await BundleReader.open(dst);
    expect(r.header.endianness).toBe("little");
    await r.close();
  });
});

describe("data alignment", () => {
  it("pads each tensor to the alignment and reads back through the offsets", async () => {
    const prefix = join(work, "aligned", "model.ckpt");
    const w = await BundleWriter.create(prefix, { dataAlignment: 64, sync: false });
    await w.add("a", F32, [3], floats(1, 2, 3));
    await w.add("b", F32, [1], floats(4));
    await w.finish();
    expect(readFileSync(`${prefix}.data-00000-of-00001`)).toHaveLength(128);
    const r = await BundleReader.open(prefix);
    expect(r.entry("b")?.proto.offset).toBe(64);
    expect((await r.verify()).failures).toEqual([]);
    await r.close();
    expect(f32s(await bytesOf(prefix, "b"))).toEqual([4]);
  });
});
