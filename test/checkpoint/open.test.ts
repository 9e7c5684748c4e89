// Opening real TF fixtures through every path form TF accepts, and reading values the fixtures'
// PROVENANCE.txt records (read there by an independent decoder).
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openCheckpoint } from "../../src/checkpoint/open.js";
import { resolveCheckpoint } from "../../src/checkpoint/resolve.js";
import { expectedCheckpoints, hasDataShards, TF_FIXTURES } from "../helpers/fixtures.js";

const fx = (...p: string[]) => join(TF_FIXTURES, ...p);

describe("openCheckpoint on every real fixture (V1 and V2)", () => {
  for (const c of expectedCheckpoints()) {
    it(`${c.fixture}: ${c.file.split("/").slice(-1)[0]}`, async () => {
      const r = await openCheckpoint(c.file);
      try {
        expect(r.format).toBe(c.format);
        expect(r.objectBased).toBe(c.objectBased);
        expect(r.list().map((v) => ({ name: v.name, dtype: v.dtype.name, shape: [...v.shape] }))).toEqual(
          c.variables,
        );
        if (c.format === "v1" || hasDataShards(c.file)) expect((await r.verify()).failures).toEqual([]);
      } finally {
        await r.close();
      }
    });
  }
});

describe("path resolution", () => {
  it("follows a directory's checkpoint state file (relative path)", () => {
    const r = resolveCheckpoint(fx("tfx-estimator-ckpt", "Format-Serving"));
    expect(r.path).toBe(fx("tfx-estimator-ckpt", "Format-Serving", "model.ckpt-1000"));
    expect(r.format).toBe("v2");
  });

  it("redirects a SavedModel directory to variables/variables", () => {
    const r = resolveCheckpoint(fx("rust-regression-model-tf1", "regression-model"));
    expect(r.path).toBe(fx("rust-regression-model-tf1", "regression-model", "variables", "variables"));
    expect(r.notes.join()).toMatch(/SavedModel/);
  });

  it("accepts a .data- shard path and says so", () => {
    const r = resolveCheckpoint(fx("spinwars-keras-saveweights-2shards", "model.data-00001-of-00002"));
    expect(r.path).toBe(fx("spinwars-keras-saveweights-2shards", "model"));
    expect(r.notes.join()).toMatch(/data shard/);
  });

  it("falls back to the file beside a state file written with another machine's absolute path", () => {
    const dir = fx("serving-bad-half-plus-two-v1", "bad_half_plus_two", "00000123");
    const r = resolveCheckpoint(dir);
    expect(r.format).toBe("v1");
    expect(r.files).toEqual([join(dir, "export")]);
    expect(r.notes.join()).toMatch(/\/tmp\/bad_half_plus_two\/00000123\/export.*outside this directory/);
  });

  it("finds a sharded V1 set in a directory without a state file", () => {
    const dir = fx("serving-sessionbundle-v1", "half_plus_two", "00000123");
    const r = resolveCheckpoint(dir);
    expect(r.format).toBe("v1");
    expect(r.path).toBe(join(dir, "export-?????-of-00001"));
    expect(r.files).toEqual([join(dir, "export-00000-of-00001")]);
  });

  it("reports a missing checkpoint with a hint about the suffix", () => {
    expect(() => resolveCheckpoint(fx("spinwars-keras-saveweights-1shard", "mode"))).toThrow(
      /checkpoint suffix/,
    );
  });
});

describe("values match the fixtures' PROVENANCE", () => {
  const scalar = async (path: string, name: string) => {
    const r = await openCheckpoint(path);
    try {
      const t = await r.readTensor(name);
      if (t.kind !== "fixed") throw new Error("expected numbers");
      return t;
    } finally {
      await r.close();
    }
  };

  it("V1 single file: Variable = 0.5, Variable_1 = 2.0", async () => {
    const dir = fx("serving-bad-half-plus-two-v1", "bad_half_plus_two", "00000123");
    expect(new DataView((await scalar(dir, "Variable")).data.buffer).getFloat32(0, true)).toBe(0.5);
    expect(new DataView((await scalar(dir, "Variable_1")).data.buffer).getFloat32(0, true)).toBe(2);
  });

  it("V1 sharded: a = 0.5, b = 2.0", async () => {
    const dir = fx("serving-sessionbundle-v1", "half_plus_two", "00000123");
    expect(new DataView((await scalar(dir, "a")).data.buffer).getFloat32(0, true)).toBe(0.5);
    expect(new DataView((await scalar(dir, "b")).data.buffer).getFloat32(0, true)).toBe(2);
  });

  it("V2 two shards: optimizer/iter = 165467 (int64), d4/bias = 0.11724788695573807", async () => {
    const dir = fx("spinwars-keras-saveweights-2shards");
    const iter = await scalar(dir, "optimizer/iter/.ATTRIBUTES/VARIABLE_VALUE");
    expect(iter.dtype.name).toBe("int64");
    expect(new DataView(iter.data.buffer, iter.data.byteOffset).getBigInt64(0, true)).toBe(165467n);
    const b = await scalar(dir, "d4/bias/.ATTRIBUTES/VARIABLE_VALUE");
    expect(new DataView(b.data.buffer, b.data.byteOffset).getFloat32(0, true)).toBe(
      Math.fround(0.11724788695573807),
    );
  });
});
