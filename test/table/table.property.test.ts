// Table writer → reader round trips, and the reader on random bytes.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TfckptError } from "../../src/errors.js";
import { MemorySource } from "../../src/io/byte-source.js";
import { parseBlock } from "../../src/table/block.js";
import { compareBytes, shortestSeparator, shortSuccessor } from "../../src/table/keys.js";
import { TableReader } from "../../src/table/reader.js";
import { concatBytes, TableWriter } from "../../src/table/writer.js";

const bytes = (max: number) => fc.uint8Array({ maxLength: max });

function uniqueSorted(keys: Uint8Array[]): Uint8Array[] {
  const out = [...keys]
    .sort(compareBytes)
    .filter((k, i, a) => i === 0 || compareBytes(a[i - 1] as Uint8Array, k) !== 0);
  return out;
}

describe("table round trip", () => {
  it("reads back every entry, in order, with any block size, restart interval and compression", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(bytes(24), bytes(300)), { maxLength: 60 }),
        fc.integer({ min: 16, max: 4096 }),
        fc.integer({ min: 1, max: 20 }),
        fc.constantFrom("none" as const, "snappy" as const),
        async (pairs, blockSize, restartInterval, compression) => {
          const keys = uniqueSorted(pairs.map(([k]) => k));
          const values = keys.map((_, i) => (pairs[i] as [Uint8Array, Uint8Array])[1]);
          const w = new TableWriter({ blockSize, restartInterval, compression });
          for (const [i, k] of keys.entries()) w.add(k, values[i] as Uint8Array);
          const file = concatBytes(w.finish());
          const r = await TableReader.open(new MemorySource(file));
          const got: Array<[Uint8Array, Uint8Array]> = [];
          for await (const e of r.entries()) got.push([e.key, Uint8Array.from(e.value)]);
          expect(got).toEqual(keys.map((k, i) => [k, values[i]]));
          for (let i = 0; i < keys.length; i++) expect(await r.get(keys[i] as Uint8Array)).toEqual(values[i]);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("get() returns undefined for absent keys", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(bytes(8), { maxLength: 30 }), bytes(8), async (ks, probe) => {
        const keys = uniqueSorted(ks);
        const w = new TableWriter({ blockSize: 64 });
        for (const k of keys) w.add(k, k);
        const r = await TableReader.open(new MemorySource(concatBytes(w.finish())));
        const present = keys.some((k) => compareBytes(k, probe) === 0);
        expect(await r.get(probe)).toEqual(present ? probe : undefined);
      }),
      { numRuns: 200 },
    );
  });

  it("refuses keys out of order", () => {
    const w = new TableWriter();
    w.add(new Uint8Array([2]), new Uint8Array());
    expect(() => w.add(new Uint8Array([1]), new Uint8Array())).toThrow(/increasing order/);
  });

  it("separators lie between their keys", () => {
    fc.assert(
      fc.property(bytes(12), bytes(12), (x, y) => {
        const [a, b] = compareBytes(x, y) < 0 ? [x, y] : [y, x];
        if (compareBytes(a, b) === 0) return;
        const s = shortestSeparator(a, b);
        expect(compareBytes(a, s)).toBeLessThanOrEqual(0);
        expect(compareBytes(s, b)).toBeLessThan(0);
        expect(compareBytes(shortSuccessor(a), a)).toBeGreaterThanOrEqual(0);
      }),
    );
  });
});

describe("hostile bytes", () => {
  it("parseBlock on random bytes returns entries or throws a TfckptError", () => {
    fc.assert(
      fc.property(bytes(200), (b) => {
        try {
          parseBlock(b, 0, { file: "x" });
        } catch (e) {
          expect(e).toBeInstanceOf(TfckptError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("TableReader on random files returns or throws a TfckptError", async () => {
    await fc.assert(
      fc.asyncProperty(bytes(300), async (b) => {
        try {
          const r = await TableReader.open(new MemorySource(b, "rand"));
          for await (const _ of r.entries()) {
            // drain
          }
        } catch (e) {
          expect(e).toBeInstanceOf(TfckptError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
