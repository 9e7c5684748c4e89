// Small checkpoints built in a temp dir for corruption and round-trip tests.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { BundleWriter } from "../../src/bundle/writer.js";
import { dtypeFromName } from "../../src/dtypes.js";
import { type BundleEntryProto, encodeBundleEntry, encodeBundleHeader } from "../../src/proto/index.js";
import { compareBytes } from "../../src/table/keys.js";
import { concatBytes, TableWriter } from "../../src/table/writer.js";

export const F32 = dtypeFromName("float32");

export function floats(...v: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(v).buffer);
}

/** Writes a bundle at `prefix` holding `a` = [1, 2] and `b` = 3.0 (float32), `s` = ["hello"]. */
export async function smallBundle(prefix: string): Promise<void> {
  const w = await BundleWriter.create(prefix, { force: true, sync: false });
  await w.add("a", F32, [2], floats(1, 2));
  await w.add("b", F32, [], floats(3));
  await w.addStrings("s", dtypeFromName("string"), [1], [new TextEncoder().encode("hello")]);
  await w.finish();
}

/** An entry proto with defaults filled in. */
export function entry(e: Partial<BundleEntryProto> & { dims?: number[] }): BundleEntryProto {
  return {
    dtype: e.dtype ?? 1,
    shape: { dims: e.dims ?? [], unknownRank: false },
    shardId: e.shardId ?? 0,
    offset: e.offset ?? 0,
    size: e.size ?? 4,
    crc32c: e.crc32c ?? 0,
    slices: e.slices ?? [],
  };
}

/** Writes `prefix.index` with a header for `numShards` and the given raw entries (any order). */
export function craftIndex(
  prefix: string,
  entries: Array<[string | Uint8Array, Uint8Array]>,
  numShards = 1,
  header = true,
): void {
  mkdirSync(dirname(prefix), { recursive: true });
  const enc = new TextEncoder();
  const all = entries.map(
    ([k, v]) => [typeof k === "string" ? enc.encode(k) : k, v] as [Uint8Array, Uint8Array],
  );
  if (header)
    all.push([
      new Uint8Array(0),
      encodeBundleHeader({
        numShards,
        endianness: "little",
        version: { producer: 1, minConsumer: 0, badConsumers: [] },
      }),
    ]);
  all.sort((a, b) => compareBytes(a[0], b[0]));
  const t = new TableWriter();
  for (const [k, v] of all) t.add(k, v);
  writeFileSync(`${prefix}.index`, concatBytes(t.finish()));
}

export { encodeBundleEntry };
