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

/** float32 [1, 2] in big-endian byte order. */
const BE = new Uint8Array([0x3f, 0x80, 0, 0, 0x40, 0, 0, 0]);

/** Writes a big-endian bundle at `prefix`: `x` = float32 [1, 2] and, optionally, a string `s`. */
function bigEndianBundle(prefix: string, withString: boolean): void {
  mkdirSync(join(prefix, ".."), { recursive: true });
  const str = new Uint8Array([1, 0, 0, 0, 0, 0x61]); // a placeholder string entry
  writeFileSync(`${prefix}.data-00000-of-00001`, withString ? concatBytes([BE, str]) : BE);
  const t = new TableWriter();
  const version = { producer: 1, minConsumer: 0, badConsumers: [] };
  t.add(new Uint8Array(0), encodeBundleHeader({ numShards: 1, endianness: "big", version }));
  const entry = (dtype: number, dims: number[], offset: number, size: number, crc: number) =>
    encodeBundleEntry({
      dtype,
      shape: { dims, unknownRank: false },
      shardId: 0,
      offset,
      size,
      crc32c: crc,
      slices: [],
    });
  if (withString) t.add(new TextEncoder().encode("s"), entry(7, [1], 8, 6, 1));
  t.add(new TextEncoder().encode("x"), entry(1, [2], 0, 8, maskCrc(crc32c(BE))));
  writeFileSync(`${prefix}.index`, concatBytes(t.finish()));
}

describe("big-endian bundles", () => {
  it("are read with fixed-size values byte-swapped and strings refused", async () => {
    const prefix = join(work, "be", "model.ckpt");
    bigEndianBundle(prefix, true);
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
    bigEndianBundle(only, false);
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
