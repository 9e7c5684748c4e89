// Values as TF 2.21 and ml_dtypes give them: the five float8 kinds and int2/int4/uint2/uint4
// (one element per byte, low bits, not sign-extended on disk), int64 extremes, −0, the float64 →
// float16 cast through float32 that tf.cast does, and dtype mismatches in RestoreV2's words.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BundleReader } from "../../src/bundle/reader.js";
import { dtypeFromName } from "../../src/dtypes.js";
import type { FixedTensor } from "../../src/tensor.js";
import { applyTransform } from "../../src/transforms/index.js";
import { elementAt, summarizeTensor } from "../../src/values.js";
import { cli } from "../helpers/cli.js";
import { tf221 } from "./helpers.js";

const prefix = tf221("narrow-dtypes", "ckpt");
const expected = JSON.parse(readFileSync(tf221("narrow-dtypes", "expected.json"), "utf8")) as Record<
  string,
  Array<number | string>
>;

/** ml_dtypes' value as the JSON spells it ("nan", "inf", "-0", or a number). */
function fromJson(v: number | string): number {
  if (typeof v === "number") return v;
  return { nan: Number.NaN, inf: Number.POSITIVE_INFINITY, "-inf": Number.NEGATIVE_INFINITY, "-0": -0 }[
    v
  ] as number;
}

async function values(name: string): Promise<Array<number | bigint | boolean | string>> {
  const r = await BundleReader.open(prefix);
  try {
    const t = (await r.readTensor(name)) as FixedTensor;
    const view = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    return Array.from({ length: t.data.length / (t.dtype.itemSize ?? 1) }, (_, i) =>
      elementAt(t.dtype, view, i),
    );
  } finally {
    await r.close();
  }
}

describe("decoding", () => {
  for (const kind of [
    "float8_e5m2",
    "float8_e4m3fn",
    "float8_e4m3fnuz",
    "float8_e4m3b11fnuz",
    "float8_e5m2fnuz",
  ]) {
    it(`${kind}: all 256 bytes as ml_dtypes decodes them`, async () => {
      const got = await values(kind);
      const want = (expected[kind] ?? []).map(fromJson);
      expect(got).toHaveLength(256);
      for (const [i, v] of got.entries())
        expect(Object.is(v, want[i]), `${kind} byte ${i}: ${v} vs ${want[i]}`).toBe(true);
    });
  }

  for (const kind of ["int4", "uint4", "int2", "uint2"]) {
    it(`${kind}: every value, from the low bits (signed kinds sign-extended)`, async () => {
      expect(await values(kind)).toEqual(expected[kind]);
    });
  }

  it("int64 extremes exactly, in values and in min / max", async () => {
    expect((await values("int64")).map(String)).toEqual(expected.int64);
    const r = await cli("inspect", prefix, "--tensor", "int64");
    expect(r.stdout).toContain("[-9223372036854775808, -1, 0, 9223372036854775807]");
    expect(r.stdout).toContain("min -9223372036854775808  max 9223372036854775807");
    const j = await cli("inspect", prefix, "--tensor", "int64", "--json");
    expect(JSON.parse(j.stdout).tensors[0]).toMatchObject({
      min: "-9223372036854775808",
      max: "9223372036854775807",
    });
  });

  it("−0 prints as -0 in complex parts too", () => {
    const data = new Uint8Array(new Float32Array([-0, -0, 1.5, 0]).buffer);
    const t: FixedTensor = { kind: "fixed", dtype: dtypeFromName("complex64"), shape: [2], data };
    expect(summarizeTensor(t).first).toEqual(["-0-0j", "1.5+0j"]);
  });

  it("−0 prints as -0", async () => {
    const r = await BundleReader.open(prefix);
    try {
      expect(summarizeTensor(await r.readTensor("float32")).first).toEqual(["-0", "0", "-1.5"]);
    } finally {
      await r.close();
    }
  });
});

describe("cast float64 → float16 rounds through float32, as tf.cast does", () => {
  const cases = JSON.parse(readFileSync(tf221("cast-f16", "cases.json"), "utf8")) as {
    float64_bits_to_tf_cast_float16_bits: Array<[string, string]>;
    differ_from_direct_rounding: number;
  };
  it(`matches TF on the ${cases.differ_from_direct_rounding} of 100 000 values where that differs, and others`, () => {
    const rows = cases.float64_bits_to_tf_cast_float16_bits;
    const data = new Uint8Array(rows.length * 8);
    const view = new DataView(data.buffer);
    for (const [i, [bits]] of rows.entries()) view.setBigUint64(i * 8, BigInt(`0x${bits}`), true);
    const x: FixedTensor = { kind: "fixed", dtype: dtypeFromName("float64"), shape: [rows.length], data };
    const y = applyTransform({ op: "cast", to: "float16", allowLossy: true }, x);
    const out = new DataView(y.data.buffer, y.data.byteOffset, y.data.byteLength);
    const got = rows.map((_, i) =>
      out
        .getUint16(i * 2, true)
        .toString(16)
        .padStart(4, "0"),
    );
    expect(got).toEqual(rows.map(([, f16]) => f16));
  });
});
