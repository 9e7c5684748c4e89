// Golden tests: every real TensorFlow-written V2 checkpoint in fixtures/real is listed
// exactly as expected-variables.json says, and every block and tensor CRC verifies.
import { describe, expect, it } from "vitest";
import { BundleReader } from "../../src/bundle/reader.js";
import { expectedCheckpoints, hasDataShards, prefixOf } from "../helpers/fixtures.js";

const v2 = expectedCheckpoints().filter((c) => c.format === "v2");

describe("real TF V2 bundles", () => {
  it("finds the fixtures", () => {
    expect(v2.length).toBeGreaterThanOrEqual(25);
  });

  for (const c of v2) {
    it(`lists ${c.fixture}/${c.file.split("/").slice(-2).join("/")} exactly`, async () => {
      const r = await BundleReader.open(prefixOf(c.file));
      try {
        const got = r.list().map((v) => ({ name: v.name, dtype: v.dtype.name, shape: [...v.shape] }));
        expect(got).toEqual(c.variables);
        expect(r.objectBased).toBe(c.objectBased);
        if (hasDataShards(c.file)) {
          const result = await r.verify();
          expect(result.failures).toEqual([]);
          expect(result.tensorsChecked).toBe(c.variables.length);
        } else {
          const result = await r.verify();
          expect(result.failures.length).toBe(c.variables.length);
          expect(
            result.failures.every((f) => f.code === "not-found" && /missing data shard/.test(f.message)),
          ).toBe(true);
        }
      } finally {
        await r.close();
      }
    });
  }
});

describe("real TF object graphs", () => {
  for (const c of v2.filter((x) => x.objectBased && hasDataShards(x.file))) {
    it(`decodes the object graph of ${c.fixture}/${c.file.split("/").slice(-2).join("/")}`, async () => {
      const r = await BundleReader.open(prefixOf(c.file));
      try {
        const g = await r.objectGraph();
        expect(g).toBeDefined();
        const keys = new Set(r.list().map((v) => v.name));
        const attrs = (g?.nodes ?? []).flatMap((n) => n.attributes);
        // Every attribute's checkpoint key is a bundle key, and every bundle key but the graph is an attribute.
        for (const a of attrs) expect(keys.has(a.checkpointKey)).toBe(true);
        expect(new Set(attrs.map((a) => a.checkpointKey)).size).toBe(keys.size - 1);
      } finally {
        await r.close();
      }
    });
  }
});
