// findTilingProblem (shared by the V1 and V2 readers) agrees with painting every element, on
// random slice sets of rank 0–3, on both its grid and its sweep path.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { findTilingProblem, type SliceExtents } from "../../src/tensor.js";

function bruteForce(exts: readonly SliceExtents[], shape: readonly number[]) {
  const total = shape.reduce((a, b) => a * b, 1);
  const owner = new Array<number>(total).fill(-1);
  let covered = 0;
  let overlap = false;
  exts.forEach((e, i) => {
    const n = e.lengths.reduce((a, b) => a * b, 1);
    covered += n;
    for (let flat = 0; flat < total; flat++) {
      let rest = flat;
      let inside = true;
      for (let d = shape.length - 1; d >= 0; d--) {
        const c = rest % (shape[d] as number);
        rest = Math.floor(rest / (shape[d] as number));
        if (c < (e.starts[d] as number) || c >= (e.starts[d] as number) + (e.lengths[d] as number))
          inside = false;
      }
      if (!inside) continue;
      if (owner[flat] !== -1) overlap = true;
      owner[flat] = i;
    }
  });
  return overlap ? "overlap" : covered === total ? "ok" : "gap";
}

const sliceSet = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 3 }).chain((shape) =>
  fc
    .array(
      fc.tuple(
        ...shape.map((dim) =>
          fc
            .integer({ min: 0, max: dim })
            .chain((start) => fc.tuple(fc.constant(start), fc.integer({ min: 0, max: dim - start }))),
        ),
      ),
      { maxLength: 6 },
    )
    .map((slices) => ({
      shape,
      exts: slices.map((s) => ({ starts: s.map((x) => x[0]), lengths: s.map((x) => x[1]) })),
    })),
);

describe("findTilingProblem", () => {
  it("agrees with painting every element", () => {
    fc.assert(
      fc.property(sliceSet, ({ shape, exts }) => {
        const p = findTilingProblem(exts, shape);
        expect(p === undefined ? "ok" : p.kind).toBe(bruteForce(exts, shape));
        if (p?.kind === "overlap") expect(p.a).toBeLessThan(p.b);
      }),
      { numRuns: 500 },
    );
  });

  it("a repeated slice is an overlap; a one-axis split into 4096 rows is fine", () => {
    const row = (i: number) => ({ starts: [i, 0], lengths: [1, 8] });
    const rows = Array.from({ length: 4096 }, (_, i) => row(4095 - i));
    expect(findTilingProblem(rows, [4096, 8])).toBeUndefined();
    expect(findTilingProblem([...rows, row(7)], [4096, 8])).toEqual({ kind: "overlap", a: 4088, b: 4096 });
  });

  it("an irregular layout too big for the grid takes the sweep and still finds the overlap", () => {
    // 2048 staggered pieces: 4096 distinct boundaries per axis → more than 2^20 grid cells.
    const exts: SliceExtents[] = [];
    for (let i = 0; i < 2048; i++) exts.push({ starts: [2 * i, 2 * i], lengths: [2, 1] });
    const shape = [4096, 4096];
    expect(findTilingProblem(exts, shape)).toEqual({ kind: "gap", covered: 4096, total: 4096 * 4096 });
    exts.push({ starts: [2 * 100 + 1, 2 * 100], lengths: [1, 1] });
    expect(findTilingProblem(exts, shape)).toEqual({ kind: "overlap", a: 100, b: 2048 });
  });
});
