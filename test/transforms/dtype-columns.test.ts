// The dtype table's columns agree with each other: every dtype `cast` converts can be read and
// written, a write then a read gives the value back, and transforms refuse what has no writer.
import { describe, expect, it } from "vitest";
import { DTYPES, dtypeFromName } from "../../src/dtypes.js";
import { planTransform, TransformError } from "../../src/transforms/index.js";

describe("dtype table columns", () => {
  it("gives a reader and a writer to exactly the dtypes with a cast class", () => {
    for (const d of DTYPES.values()) {
      expect(d.write !== undefined, d.name).toBe(d.cast !== undefined);
      if (d.cast !== undefined) expect(d.read, d.name).toBeDefined();
    }
  });

  it("reads back what it writes", () => {
    for (const d of DTYPES.values()) {
      if (d.write === undefined || d.read === undefined) continue;
      const view = new DataView(new ArrayBuffer(2 * (d.itemSize as number)));
      d.write(view, 1, 1);
      expect(Number(d.read(view, 1)), d.name).toBe(1);
    }
  });

  it("refuses to scale a float dtype it cannot write", () => {
    const input = { dtype: dtypeFromName("float8_e5m2"), shape: [2] };
    expect(() => planTransform({ op: "scale", value: 2 }, input)).toThrow(TransformError);
    expect(() =>
      planTransform({ op: "scale", value: 2 }, { ...input, dtype: dtypeFromName("bfloat16") }),
    ).not.toThrow();
  });
});
