// BundleWriter → BundleReader round trips over random keys, dtypes, shapes, shard counts and
// partitioned tensors; plus the spec's complete 117-byte .index test vector.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { BundleReader } from "../../src/bundle/reader.js";
import { BundleWriter } from "../../src/bundle/writer.js";
import { DTYPES, dtypeFromName } from "../../src/dtypes.js";
import { F32, floats } from "../helpers/build.js";

const work = mkdtempSync(join(tmpdir(), "tfckpt-roundtrip-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let n = 0;

const fixedDtypes = [...DTYPES.values()].filter((d) => d.itemSize !== undefined).map((d) => d.name);

const tensorArb = fc
  .record({
    name: fc.string({ minLength: 1, maxLength: 20 }).filter((s) => !s.startsWith("\u0000")),
    dtype: fc.constantFrom(...fixedDtypes, "string"),
    shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }),
    shard: fc.nat(),
    seed: fc.uint8Array({ minLength: 1, maxLength: 8 }),
  })
  .map((t) => {
    const count = t.shape.reduce((a, b) => a * b, 1);
    const d = dtypeFromName(t.dtype);
    const data =
      d.itemSize === undefined
        ? Array.from({ length: count }, (_, i) => t.seed.subarray(0, i % (t.seed.length + 1)))
        : Uint8Array.from(
            { length: count * d.itemSize },
            (_, i) => (t.seed[i % t.seed.length] as number) + i,
          );
    return { ...t, data };
  });

describe("bundle round trip", () => {
  it("reads back what was written, bit for bit", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(tensorArb, { selector: (t) => t.name, maxLength: 12 }),
        fc.integer({ min: 1, max: 3 }),
        async (tensors, numShards) => {
          const prefix = join(work, `rt${n++}`, "ckpt");
          const w = await BundleWriter.create(prefix, { numShards, sync: false });
          for (const t of tensors) {
            const d = dtypeFromName(t.dtype);
            if (Array.isArray(t.data))
              await w.addStrings(t.name, d, t.shape, t.data, { shard: t.shard % numShards });
            else await w.add(t.name, d, t.shape, t.data as Uint8Array, { shard: t.shard % numShards });
          }
          await w.finish();
          const r = await BundleReader.open(prefix);
          try {
            expect(r.shards).toBe(numShards);
            expect(r.list().map((v) => v.name)).toEqual(
              tensors.map((t) => t.name).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))),
            );
            for (const t of tensors) {
              const got = await r.readTensor(t.name);
              expect(got.shape).toEqual(t.shape);
              if (got.kind === "string") expect(got.strings.map((s) => Uint8Array.from(s))).toEqual(t.data);
              else if (got.kind === "fixed") expect(got.data).toEqual(t.data);
              else expect.fail(`${t.name}: unexpected ${got.kind} tensor`);
            }
            expect((await r.verify()).failures).toEqual([]);
          } finally {
            await r.close();
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it("reassembles partitioned tensors from slices in any order and shard", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.nat(8), { maxLength: 4 }),
        fc.boolean(),
        async (rows, cols, cutsRaw, reverse) => {
          const cuts = [
            ...new Set(cutsRaw.map((c) => 1 + (c % Math.max(1, rows - 1))).filter((c) => c < rows)),
          ].sort((a, b) => a - b);
          const bounds = [0, ...cuts, rows];
          const full = floats(...Array.from({ length: rows * cols }, (_, i) => i * 1.5));
          const prefix = join(work, `pt${n++}`, "ckpt");
          const w = await BundleWriter.create(prefix, { numShards: 2, sync: false });
          const parts = bounds.slice(0, -1).map((a, i) => [a, bounds[i + 1] as number] as const);
          for (const [i, [a, b]] of (reverse ? [...parts].reverse() : parts).entries()) {
            await w.addSlice(
              "emb",
              [rows, cols],
              [
                { start: a, length: b - a },
                { start: 0, length: cols },
              ],
              F32,
              full.subarray(a * cols * 4, b * cols * 4),
              { shard: i % 2 },
            );
          }
          await w.finish();
          const r = await BundleReader.open(prefix);
          try {
            const info = r.get("emb");
            expect(info?.shape).toEqual([rows, cols]);
            expect(info?.slices?.length ?? 1).toBe(parts.length === 1 ? 1 : parts.length);
            const t = await r.readTensor("emb");
            expect(t.kind === "fixed" && t.data).toEqual(full);
            expect((await r.verify()).failures).toEqual([]);
          } finally {
            await r.close();
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe("the spec's test vector (§2.9)", () => {
  it("one float32 scalar v = 1.0 gives the exact 117-byte .index", async () => {
    const prefix = join(work, "vector", "ckpt");
    const w = await BundleWriter.create(prefix, { sync: false });
    await w.add("v", F32, [], floats(1));
    await w.finish();
    // The spec's dump, 24 bytes per row.
    const expected = [
      "00 00 06 08 01 1a 02 08 01 00 01 0b 76 08 01 12 00 28 04 35 81 a5 da 2b",
      "00 00 00 00 01 00 00 00 00 95 ce d3 f3 00 00 00 00 01 00 00 00 00 c0 f2",
      "a1 b0 00 01 02 77 00 20 00 00 00 00 01 00 00 00 00 3e 1e a4 62 25 08 32",
      "0e 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00",
      "00 00 00 00 00 00 00 00 00 00 00 00 00 57 fb 80 8b 24 75 47 db",
    ].join(" ");
    expect(readFileSync(`${prefix}.index`).toString("hex")).toBe(expected.replaceAll(" ", ""));
    expect(readFileSync(`${prefix}.index`)).toHaveLength(117);
    expect(readFileSync(`${prefix}.data-00000-of-00001`).toString("hex")).toBe("0000803f");
  });
});
