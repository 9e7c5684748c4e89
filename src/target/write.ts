/**
 * Writes an object-based (TF2) checkpoint: every attribute of a target graph from a caller-given
 * tensor source, then the serialized object graph under `_CHECKPOINTABLE_OBJECT_GRAPH`, in the
 * order TF's saver writes them (attributes by node id, graph last; `checkpoint.py`
 * `TrackableSaver._gather_serialized_tensors`). With the attributes' own values this reproduces a
 * TF-written single-shard checkpoint byte for byte.
 *
 * @module
 */
import {
  BundleWriter,
  type BundleWriterOptions,
  type LinkedShardUsage,
  type WrittenEntry,
} from "../bundle/writer.js";
import { type DTypeInfo, dtypeFromName } from "../dtypes.js";
import { UsageError } from "../errors.js";
import { encodeObjectGraph } from "../proto/index.js";
import { OBJECT_GRAPH_PROTO_KEY } from "../reader.js";
import { fixedByteSize, type Tensor } from "../tensor.js";
import type { TargetAttribute, TargetGraph } from "./target.js";

/**
 * The value of one attribute: fixed-size little-endian bytes (possibly streamed), strings, a
 * `variant` tensor's stored bytes and masked CRC (copied as they are), or, for a multi-tensor
 * attribute, one value per part in the order of {@link TargetAttribute.tensors}.
 */
export type AttributeValue =
  | {
      readonly kind: "fixed";
      readonly data: Uint8Array | AsyncIterable<Uint8Array>;
      /** The bytes' masked CRC32C when known (see `AddOptions.crc32c`): no second CRC pass. */
      readonly crc32c?: number;
      /** `data` is handed over, never changed again (see `AddOptions.owned`): written behind. */
      readonly owned?: boolean;
      /** `data` is never read again either: its pooled buffer is reused (see `AddOptions.recycle`). */
      readonly recycle?: boolean;
    }
  | {
      /**
       * Bytes already in a linked output shard (see `BundleWriterOptions.linked`): `size` bytes at
       * `offset` of output shard `shard`, with their stored masked CRC32C; nothing is copied.
       */
      readonly kind: "linked";
      readonly shard: number;
      readonly offset: number;
      readonly size: number;
      readonly crc32c: number;
    }
  | { readonly kind: "string"; readonly strings: readonly Uint8Array[] }
  | { readonly kind: "opaque"; readonly bytes: Uint8Array; readonly crc32c: number }
  | { readonly kind: "parts"; readonly parts: readonly AttributeValue[] };

/** A tensor a reader returned, as an attribute value. */
export function attributeValue(t: Tensor): AttributeValue {
  if (t.kind === "fixed") return { kind: "fixed", data: t.data };
  if (t.kind === "string") return { kind: "string", strings: t.strings };
  return { kind: "opaque", bytes: t.bytes, crc32c: t.crc32c };
}

async function addValue(
  writer: BundleWriter,
  key: string,
  dtype: DTypeInfo,
  shape: readonly number[],
  v: AttributeValue,
  shard: number,
): Promise<void> {
  if (v.kind === "string") await writer.addStrings(key, dtype, shape, v.strings, { shard });
  else if (v.kind === "opaque") await writer.addOpaque(key, dtype, shape, v.bytes, v.crc32c, { shard });
  else if (v.kind === "fixed")
    await writer.add(key, dtype, shape, v.data, {
      shard,
      ...(v.crc32c !== undefined ? { crc32c: v.crc32c } : {}),
      ...(v.owned === true ? { owned: true } : {}),
      ...(v.recycle === true ? { recycle: true } : {}),
    });
  else if (v.kind === "linked") await writer.addLinked(key, dtype, shape, v);
  else throw new UsageError(`${key}: a multi-tensor value for a single-tensor attribute`);
}

/**
 * Attributes at most this large (32 MiB, the write-behind bound) have the next one's value read
 * ahead: two such values in memory at once, never two large ones.
 */
const PREFETCH_BYTES = 32 << 20;

/** Whether `a`'s value is small enough to be read while its neighbour is written. */
function prefetchable(a: TargetAttribute): boolean {
  let bytes = 0;
  for (const t of a.tensors ?? [a]) {
    const n = fixedByteSize(t.dtype, t.shape);
    if (n === undefined) return false; // strings: no size known before they are read
    bytes += n;
  }
  return bytes <= PREFETCH_BYTES;
}

/** Options of {@link writeObjectCheckpoint}. */
export interface ObjectCheckpointOptions extends BundleWriterOptions {
  /** Shard for each attribute (default: all in shard 0, the graph in shard 0). */
  readonly shardOf?: (a: TargetAttribute) => number;
  /** Called after each attribute with the number written so far and the total. */
  readonly onProgress?: (done: number, total: number) => void;
  /**
   * Ask for the next attribute's value while this one is written (both at most 32 MiB): then
   * `valueFor(a[i+1])` may run before value i is written, so values must not share buffers.
   */
  readonly readAhead?: boolean;
  /** Shard of the serialized object graph (default 0; must not be a linked shard). */
  readonly graphShard?: number;
}

/** What {@link writeObjectCheckpoint} wrote. */
export interface WrittenCheckpoint {
  /** The linked shards' usage (empty unless `options.linked`). */
  readonly linked: LinkedShardUsage[];
  /**
   * The `.index` entry of each single-tensor attribute by checkpoint key (shard, byte offset,
   * byte size, masked CRC32C); a multi-tensor attribute's parts are under `checkpointKey + suffix`.
   */
  readonly entries: ReadonlyMap<string, WrittenEntry>;
}

/**
 * Writes the checkpoint at `prefix`. `valueFor` is called once per attribute, in write order; a
 * multi-tensor attribute's parts are written under `checkpointKey + suffix`.
 * On any failure nothing is left at `prefix`. Returns the linked shards' usage and every
 * attribute tensor's index entry, as the committed `.index` holds them (no need to read it back).
 * @throws OutputExistsError without `force`; UsageError when a value disagrees with its dtype/shape;
 *         LinkUnsupportedError when `options.linked` shards cannot be linked
 */
export async function writeObjectCheckpoint(
  prefix: string,
  target: TargetGraph,
  valueFor: (a: TargetAttribute) => Promise<AttributeValue>,
  options: ObjectCheckpointOptions = {},
): Promise<WrittenCheckpoint> {
  const writer = await BundleWriter.create(prefix, options);
  const attrs = target.attributes;
  // The next small attribute's value is asked for while this one is written, so that reading
  // (and transforming) it overlaps the write; a rejection is held until its turn comes.
  const ask = (i: number): Promise<AttributeValue> | undefined => {
    const a = attrs[i];
    if (a === undefined || a.checkpointKey === OBJECT_GRAPH_PROTO_KEY) return undefined;
    const p = valueFor(a);
    p.catch(() => undefined);
    return p;
  };
  let next: Promise<AttributeValue> | undefined;
  try {
    let done = 0;
    next = ask(0);
    for (const [i, a] of attrs.entries()) {
      if (a.checkpointKey === OBJECT_GRAPH_PROTO_KEY)
        throw new UsageError(`attribute key ${OBJECT_GRAPH_PROTO_KEY} is reserved`);
      const v = await (next ?? valueFor(a));
      const following = attrs[i + 1];
      next =
        options.readAhead === true && following !== undefined && prefetchable(a) && prefetchable(following)
          ? ask(i + 1)
          : undefined;
      const shard = options.shardOf?.(a) ?? 0;
      if (a.tensors === undefined) await addValue(writer, a.checkpointKey, a.dtype, a.shape, v, shard);
      else {
        if (v.kind !== "parts" || v.parts.length !== a.tensors.length)
          throw new UsageError(
            `${a.checkpointKey}: ${a.tensors.length} tensors expected for a multi-tensor attribute`,
          );
        for (const [i, p] of a.tensors.entries())
          await addValue(
            writer,
            a.checkpointKey + p.suffix,
            p.dtype,
            p.shape,
            v.parts[i] as AttributeValue,
            shard,
          );
      }
      options.onProgress?.(++done, target.attributes.length);
    }
    await writer.addStrings(
      OBJECT_GRAPH_PROTO_KEY,
      dtypeFromName("string"),
      [],
      [target.encoded ?? encodeObjectGraph(target.graph)],
      { shard: options.graphShard ?? 0 },
    );
    await writer.finish();
    const entries = new Map<string, WrittenEntry>();
    const record = (k: string) => {
      const e = writer.entry(k);
      if (e !== undefined) entries.set(k, e);
    };
    for (const a of target.attributes) {
      if (a.tensors === undefined)
        record(a.checkpointKey); // no array per attribute
      else for (const p of a.tensors) record(a.checkpointKey + p.suffix);
    }
    return { linked: writer.linkedShards(), entries };
  } catch (e) {
    await next?.catch(() => undefined); // a value asked for ahead ends before its source closes
    await writer.abort();
    throw e;
  }
}
