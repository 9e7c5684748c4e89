// shortestDecimal, the one shortest-digits search behind inspect's element display
// (formatElement) and draft-mapping's template values: per dtype through its rounding column,
// and every float16 / bfloat16 result stores the same value through the cast writer.
import { describe, expect, it } from "vitest";
import { dtypeFromName } from "../../src/dtypes.js";
import { formatElement, shortestDecimal } from "../../src/values.js";

const f32 = dtypeFromName("float32");
const f16 = dtypeFromName("float16");
const f64 = dtypeFromName("float64");

describe("shortestDecimal", () => {
  it("float32: the shortest decimal that rounds to the same float32", () => {
    expect(shortestDecimal(f32, Math.fround(0.05))).toBe(0.05);
    expect(shortestDecimal(f32, Math.fround(0.977))).toBe(0.977);
    expect(shortestDecimal(f32, 0.05)).toBe(0.05); // a float64 value: what float32 would store
    expect(formatElement(f32, Math.fround(0.977))).toBe("0.977");
  });

  it("float16: its own rounding, from a float16 or a wider value", () => {
    const x = dtypeFromName("float16").round?.(0.1) as number;
    expect(x).not.toBe(0.1);
    expect(shortestDecimal(f16, x)).toBe(0.1);
    expect(shortestDecimal(f16, Math.fround(0.1))).toBe(0.1);
    expect(formatElement(f16, x)).toBe("0.1");
  });

  it("float64, non-finite and -0", () => {
    expect(shortestDecimal(f64, 0.1 + 0.2)).toBe(0.1 + 0.2);
    expect(shortestDecimal(f32, Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY);
    expect(shortestDecimal(f32, Number.NaN)).toBeNaN();
    expect(shortestDecimal(f32, -0)).toBe(0);
    expect(formatElement(f32, -0)).toBe("-0");
  });

  it.each(["float16", "bfloat16"])(
    "every finite %s value: the result stores it through the cast writer",
    (name) => {
      const d = dtypeFromName(name);
      const read = d.read as NonNullable<typeof d.read>;
      const write = d.write as NonNullable<typeof d.write>;
      const view = new DataView(new ArrayBuffer(2));
      let bad = 0;
      for (let bits = 0; bits < 0x10000; bits++) {
        view.setUint16(0, bits, true);
        const v = read(view, 0) as number;
        if (!Number.isFinite(v)) continue;
        write(view, 0, shortestDecimal(d, v));
        if (read(view, 0) !== v) bad++;
      }
      expect(bad).toBe(0);
    },
  );
});
