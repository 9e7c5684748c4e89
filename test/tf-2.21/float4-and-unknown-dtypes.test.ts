// dtype 33 (float4_e2m1fn), saved by TF 2.21 one element per byte, and dtypes tfckpt does not know:
// a checkpoint holding one still opens and lists; only that tensor's values are refused.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BundleReader } from "../../src/bundle/reader.js";
import { BundleWriter } from "../../src/bundle/writer.js";
import { type DTypeInfo, dtypeFromName } from "../../src/dtypes.js";
import { UnsupportedError } from "../../src/errors.js";
import { rewriteCheckpoint } from "../../src/rewrite.js";
import { summarizeTensor } from "../../src/values.js";
import { cli } from "../helpers/cli.js";
import { scratch, tf221 } from "./helpers.js";

const work = scratch();

describe("float4_e2m1fn (DT_FLOAT4_E2M1FN = 33)", () => {
  it("lists, reads and decodes TF's tensor", async () => {
    const r = await BundleReader.open(tf221("float4", "ckpt"));
    try {
      expect(r.get("f4")).toMatchObject({
        dtype: { name: "float4_e2m1fn", enumValue: 33 },
        shape: [10],
        bytes: 10,
      });
      const t = await r.readTensor("f4");
      expect(summarizeTensor(t, Infinity).first).toEqual([
        "0",
        "0.5",
        "1",
        "1.5",
        "2",
        "3",
        "4",
        "6",
        "-0",
        "-6",
      ]);
      expect((await r.verify()).failures).toEqual([]);
    } finally {
      await r.close();
    }
  });
});

describe("an unknown dtype enum value", () => {
  const prefix = join(work, "unknown", "ckpt");
  const future: DTypeInfo = {
    enumValue: 40,
    name: "future",
    protoName: "DT_FUTURE",
    itemSize: 1,
    kind: "float",
    swapUnit: 1,
  };

  it("is listed; its values are refused with a typed error naming the key; the rest reads", async () => {
    const w = await BundleWriter.create(prefix);
    await w.add("a_future", future, [2], new Uint8Array([1, 2]));
    await w.add("b_ok", dtypeFromName("float32"), [], new Uint8Array(new Float32Array([2.5]).buffer));
    await w.finish();
    const r = await BundleReader.open(prefix);
    try {
      expect(r.list().map((v) => `${v.name}:${v.dtype.name}`)).toEqual([
        "a_future:unknown_40",
        "b_ok:float32",
      ]);
      const err = await r.readTensor("a_future").catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnsupportedError);
      expect((err as UnsupportedError).key).toBe("a_future");
      expect((err as Error).message).toContain("dtype enum value 40");
      expect(summarizeTensor(await r.readTensor("b_ok")).first).toEqual(["2.5"]);
      // TF checksums the stored bytes of every dtype but string and variant, so --verify still checks it.
      expect((await r.verify()).failures).toEqual([]);
    } finally {
      await r.close();
    }
    const listed = await cli("inspect", prefix);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/a_future\s+unknown_40\s+\[2\]/);
    await expect(rewriteCheckpoint(prefix, join(work, "out", "ckpt"))).rejects.toThrow(UnsupportedError);
  });
});
