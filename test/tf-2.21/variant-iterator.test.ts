// DT_VARIANT tensors: a tf.data iterator's state saved by tf.train.Checkpoint(it=iter(dataset)).
// tfckpt keeps them opaque: it checks their framing and TF's variant CRC recipe, copies bytes and
// CRC as they are, and shows them without interpreting them.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BundleReader } from "../../src/bundle/reader.js";
import { migrate } from "../../src/migrate.js";
import { cli } from "../helpers/cli.js";
import { scratch, tf221 } from "./helpers.js";

const src = tf221("variant-iterator", "ckpt");
const KEY = "it/.ATTRIBUTES/ITERATOR_STATE";
const work = scratch();
const FILES = [".index", ".data-00000-of-00001"];

describe("variant tensors (tf.data iterator state)", () => {
  it("reads them opaque, with every element checksum and the entry CRC checked", async () => {
    const r = await BundleReader.open(src);
    try {
      const t = await r.readTensor(KEY);
      expect(t.kind).toBe("opaque");
      if (t.kind !== "opaque") return;
      expect(t.shape).toEqual([3]);
      expect(t.bytes.length).toBe(508);
      expect(t.elements).toHaveLength(3);
      // Each element is framed by a varint length and a 4-byte checksum.
      expect(t.elements[0]?.length).toBe(127);
      expect(t.elements.reduce((a, e) => a + e.length + 4 + (e.length < 128 ? 1 : 2), 0)).toBe(508);
      const v = await r.verify();
      expect(v.failures).toEqual([]);
      expect(v.tensorsChecked).toBe(2);
    } finally {
      await r.close();
    }
  });

  it("rewrite copies them as they are: TF's files byte for byte", async () => {
    const dst = join(work, "rewrite", "ckpt");
    const r = await cli("rewrite", src, dst);
    expect(r.code).toBe(0);
    for (const f of FILES) expect(Buffer.compare(readFileSync(dst + f), readFileSync(src + f)), f).toBe(0);
  });

  it("inspect --all-tensors shows them opaque", async () => {
    const r = await cli("inspect", src, "--all-tensors");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      `tensor_name: ${KEY}  variant[3]\n  [<variant tensorflow::Iterator, 127 bytes>`,
    );
  });

  it("--verify finds a flipped byte inside a variant element", async () => {
    const bad = join(work, "bad");
    mkdirSync(bad);
    for (const f of FILES) copyFileSync(src + f, join(bad, `ckpt${f}`));
    const data = readFileSync(join(bad, "ckpt.data-00000-of-00001"));
    data[40] = (data[40] as number) ^ 0x01;
    writeFileSync(join(bad, "ckpt.data-00000-of-00001"), data);
    const r = await cli("inspect", join(bad, "ckpt"), "--verify");
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain(KEY);
    expect(r.stdout + r.stderr).toMatch(/checksum|crc/i);
  });

  it("validate accepts TF's file (the ITERATOR attribute's tensor is ITERATOR_STATE)", async () => {
    const r = await cli("validate", src);
    expect(r.stdout + r.stderr).not.toMatch(/missing-key|bad-dtype/);
    expect(r.code).toBe(0);
  });

  it("migrate --keep-unmapped copies the iterator state from the template", async () => {
    const out = join(work, "migrated", "ckpt-1");
    const report = await migrate({
      source: src,
      target: src,
      output: out,
      keepUnmapped: true,
      mapping: { assignments: [], ignore: ["*"] },
    });
    expect(report.output.written).toBe(true);
    for (const f of FILES) expect(Buffer.compare(readFileSync(out + f), readFileSync(src + f)), f).toBe(0);
  });
});
