import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { dtypeFromName } from "../../src/dtypes.js";
import type { FixedTensor } from "../../src/tensor.js";
import {
  applyConcat,
  applyTransform,
  isLosslessCast,
  planTransform,
  TransformError,
} from "../../src/transforms/index.js";

const F32 = dtypeFromName("float32");

function f32(shape: number[], values?: number[]): FixedTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return {
    kind: "fixed",
    dtype: F32,
    shape,
    data: new Uint8Array(new Float32Array(values ?? Array.from({ length: n }, (_, i) => i)).buffer),
  };
}
const values = (t: FixedTensor) => [...new Float32Array(t.data.slice().buffer)];

const shapeArb = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 });

describe("transpose", () => {
  it("matches the definition on a 2-D example", () => {
    expect(values(applyTransform({ op: "transpose", perm: [1, 0] }, f32([2, 3])))).toEqual([
      0, 3, 1, 4, 2, 5,
    ]);
  });
  it("the inverse permutation restores the tensor", () => {
    fc.assert(
      fc.property(
        shapeArb.chain((s) =>
          fc.tuple(
            fc.constant(s),
            fc.shuffledSubarray([...s.keys()], { minLength: s.length, maxLength: s.length }),
          ),
        ),
        ([shape, perm]) => {
          const t = f32(shape);
          const inv = perm.map((_, i) => perm.indexOf(i));
          const back = applyTransform(
            { op: "transpose", perm: inv },
            applyTransform({ op: "transpose", perm }, t),
          );
          expect(back.shape).toEqual(shape);
          expect(values(back)).toEqual(values(t));
        },
      ),
    );
  });
  it("element (i, j, k) moves to its permuted index", () => {
    const t = f32([2, 3, 4]);
    const out = applyTransform({ op: "transpose", perm: [2, 0, 1] }, t);
    expect(out.shape).toEqual([4, 2, 3]);
    const v = values(out);
    for (let i = 0; i < 2; i++)
      for (let j = 0; j < 3; j++)
        for (let k = 0; k < 4; k++) expect(v[k * 6 + i * 3 + j]).toBe(i * 12 + j * 4 + k);
  });
});

describe("reshape, squeeze, expandDims", () => {
  it("reshape [768, 768] → [768, 12, 64] keeps bytes and infers -1", () => {
    const p = planTransform({ op: "reshape", shape: [768, -1, 64] }, { dtype: F32, shape: [768, 768] });
    expect(p.shape).toEqual([768, 12, 64]);
  });
  it("refuses sizes that do not match", () => {
    expect(() => planTransform({ op: "reshape", shape: [5, -1] }, { dtype: F32, shape: [4, 3] })).toThrow(
      TransformError,
    );
    expect(() => planTransform({ op: "squeeze", axis: 0 }, { dtype: F32, shape: [2, 1] })).toThrow(
      /size is not 1/,
    );
  });
  it("squeeze and expandDims are inverses", () => {
    const t = f32([3, 1, 2]);
    const s = applyTransform({ op: "squeeze" }, t);
    expect(s.shape).toEqual([3, 2]);
    expect(applyTransform({ op: "expandDims", axis: 1 }, s).shape).toEqual([3, 1, 2]);
    expect(applyTransform({ op: "expandDims", axis: -1 }, s).shape).toEqual([3, 2, 1]);
  });
});

describe("slice, split, concat", () => {
  it("split parts concatenate back to the tensor", () => {
    fc.assert(
      fc.property(shapeArb, fc.nat(), fc.integer({ min: 1, max: 4 }), (shape, axisRaw, parts) => {
        const axis = axisRaw % shape.length;
        const s = [...shape];
        s[axis] = (s[axis] as number) * parts;
        const t = f32(s);
        const pieces = Array.from({ length: parts }, (_, index) =>
          applyTransform({ op: "split", axis, parts, index }, t),
        );
        expect(values(applyConcat(pieces, axis))).toEqual(values(t));
      }),
    );
  });
  it("slice picks the sub-block", () => {
    const t = f32([3, 4]);
    expect(values(applyTransform({ op: "slice", begin: [1, 1], size: [2, -1] }, t))).toEqual([
      5, 6, 7, 9, 10, 11,
    ]);
  });
});

describe("cast", () => {
  it("lossless casts are allowed, lossy ones need allowLossy", () => {
    expect(isLosslessCast("float16", "float32")).toBe(true);
    expect(isLosslessCast("bfloat16", "float32")).toBe(true);
    expect(isLosslessCast("int32", "float64")).toBe(true);
    expect(isLosslessCast("int32", "float32")).toBe(false);
    expect(isLosslessCast("float32", "float16")).toBe(false);
    expect(isLosslessCast("uint8", "int16")).toBe(true);
    expect(isLosslessCast("int8", "uint8")).toBe(false);
    expect(() => planTransform({ op: "cast", to: "float16" }, { dtype: F32, shape: [] })).toThrow(
      /allowLossy/,
    );
  });
  it("rounds to nearest even for float16 and bfloat16", () => {
    const t = f32([4], [1, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 65520]);
    const h = applyTransform({ op: "cast", to: "float16", allowLossy: true }, t);
    const hv = new DataView(h.data.buffer);
    expect([0, 1, 2, 3].map((i) => hv.getUint16(i * 2, true))).toEqual([0x3c00, 0x3c00, 0x3c02, 0x7c00]);
    const b = applyTransform(
      { op: "cast", to: "bfloat16", allowLossy: true },
      f32([3], [1, 1 + 2 ** -8, 1 + 3 * 2 ** -8]),
    );
    const bv = new DataView(b.data.buffer);
    expect([0, 1, 2].map((i) => bv.getUint16(i * 2, true))).toEqual([0x3f80, 0x3f80, 0x3f82]);
  });
  it("float32 → float64 → float32 is exact", () => {
    fc.assert(
      fc.property(fc.array(fc.float({ noNaN: true }), { maxLength: 20 }), (xs) => {
        const t = f32([xs.length], xs);
        const back = applyTransform(
          { op: "cast", to: "float32", allowLossy: true },
          applyTransform({ op: "cast", to: "float64" }, t),
        );
        expect(back.data).toEqual(t.data);
      }),
    );
  });
});

describe("permuteBlocks", () => {
  it("reorders LSTM gate blocks i, j, f, o into i, f, c, o", () => {
    // One row, 4 gates of 2 units: [i i j j f f o o]
    const t = f32([1, 8], [1, 1, 2, 2, 3, 3, 4, 4]);
    expect(
      values(applyTransform({ op: "permuteBlocks", axis: 1, blocks: 4, order: [0, 2, 1, 3] }, t)),
    ).toEqual([1, 1, 3, 3, 2, 2, 4, 4]);
  });
  it("the inverse order restores the tensor", () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 5 })
          .chain((b) =>
            fc.tuple(
              fc.constant(b),
              fc.shuffledSubarray([...Array(b).keys()], { minLength: b, maxLength: b }),
            ),
          ),
        fc.integer({ min: 1, max: 3 }),
        ([blocks, order], rows) => {
          const t = f32([rows, blocks * 3]);
          const inv = order.map((_, i) => order.indexOf(i));
          const back = applyTransform(
            { op: "permuteBlocks", axis: 1, blocks, order: inv },
            applyTransform({ op: "permuteBlocks", axis: 1, blocks, order }, t),
          );
          expect(values(back)).toEqual(values(t));
        },
      ),
    );
  });
  it("refuses a non-permutation and uneven blocks", () => {
    expect(() =>
      planTransform(
        { op: "permuteBlocks", axis: 1, blocks: 4, order: [0, 1, 1, 3] },
        { dtype: F32, shape: [2, 8] },
      ),
    ).toThrow(/not a permutation/);
    expect(() =>
      planTransform(
        { op: "permuteBlocks", axis: 1, blocks: 3, order: [0, 1, 2] },
        { dtype: F32, shape: [2, 8] },
      ),
    ).toThrow(/equal blocks/);
  });
});

describe("add", () => {
  it("adds to every element, or to one block along an axis (TF1 forget_bias)", () => {
    expect(values(applyTransform({ op: "add", value: 1 }, f32([3], [0, 1.5, -2])))).toEqual([1, 2.5, -1]);
    // Keras gate order i, f, c, o: the forget gate is block 1 of 4.
    expect(
      values(
        applyTransform(
          { op: "add", value: 1, axis: 0, blocks: 4, block: 1 },
          f32([8], [0, 0, 0, 0, 0, 0, 0, 0]),
        ),
      ),
    ).toEqual([0, 0, 1, 1, 0, 0, 0, 0]);
    expect(
      values(applyTransform({ op: "add", value: 10, axis: 1, blocks: 2, block: 0 }, f32([2, 4]))),
    ).toEqual([10, 11, 2, 3, 14, 15, 6, 7]);
  });
  it("refuses integers and incomplete block selections", () => {
    expect(() =>
      planTransform({ op: "add", value: 1 }, { dtype: dtypeFromName("int32"), shape: [2] }),
    ).toThrow(/floating-point/);
    expect(() => planTransform({ op: "add", value: 1, block: 1 }, { dtype: F32, shape: [8] })).toThrow(
      /needs "axis", "blocks" and "block"/,
    );
  });
});
