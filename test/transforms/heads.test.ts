// scale, splitHeads and mergeHeads: the transforms the model families added (issue 14).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { dtypeFromName } from "../../src/dtypes.js";
import type { FixedTensor } from "../../src/tensor.js";
import { applyTransform, planTransform, TransformError } from "../../src/transforms/index.js";

const F32 = dtypeFromName("float32");
function f32(shape: number[]): FixedTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return {
    kind: "fixed",
    dtype: F32,
    shape,
    data: new Uint8Array(new Float32Array(Array.from({ length: n }, (_, i) => i)).buffer),
  };
}
const values = (t: FixedTensor) => [...new Float32Array(t.data.slice().buffer)];

describe("scale", () => {
  it("multiplies every element (Keras 3 SGD momentum = −lr × TF1 accumulator)", () => {
    expect(values(applyTransform({ op: "scale", value: -0.5 }, f32([2, 2])))).toEqual([-0, -0.5, -1, -1.5]);
  });
  it("refuses integers", () => {
    expect(() =>
      planTransform({ op: "scale", value: 2 }, { dtype: dtypeFromName("int64"), shape: [] }),
    ).toThrow(TransformError);
  });
});

describe("splitHeads / mergeHeads", () => {
  it("split an attention kernel [d, h·k] into EinsumDense's [d, h, k], bias [h·k] into [h, k], output [h·k, d] into [h, k, d]", () => {
    expect(
      planTransform({ op: "splitHeads", axis: 1, heads: 4 }, { dtype: F32, shape: [8, 12] }).shape,
    ).toEqual([8, 4, 3]);
    expect(
      planTransform({ op: "splitHeads", axis: -1, heads: 4 }, { dtype: F32, shape: [12] }).shape,
    ).toEqual([4, 3]);
    expect(
      planTransform({ op: "splitHeads", axis: 0, heads: 4 }, { dtype: F32, shape: [12, 8] }).shape,
    ).toEqual([4, 3, 8]);
    expect(() => planTransform({ op: "splitHeads", axis: 0, heads: 5 }, { dtype: F32, shape: [12] })).toThrow(
      /does not split into 5 heads/,
    );
    expect(() => planTransform({ op: "mergeHeads", axis: 1 }, { dtype: F32, shape: [4, 3] })).toThrow(
      /no next axis/,
    );
  });
  it("are row-major reshapes: bytes unchanged, and mergeHeads undoes splitHeads at any rank", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 0, maxLength: 3 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 3 }),
        fc.nat(3),
        (dims, heads, size, at) => {
          const a = Math.min(at, dims.length);
          const shape = [...dims.slice(0, a), heads * size, ...dims.slice(a)];
          const x = f32(shape);
          const s = applyTransform({ op: "splitHeads", axis: a, heads }, x);
          expect(s.shape).toEqual([...dims.slice(0, a), heads, size, ...dims.slice(a)]);
          expect(values(s)).toEqual(values(x));
          expect(applyTransform({ op: "mergeHeads", axis: a }, s).shape).toEqual(shape);
        },
      ),
    );
  });
});
