/**
 * `rewrite`: re-encode any checkpoint tfckpt reads as a V2 bundle with the same keys, tensors and
 * data order: re-shard, repair an index, normalise, turn V1 into V2. With default options a
 * TF-written bundle is reproduced byte for byte (`.index` and data files).
 *
 * @module
 */

import { basename, join } from "node:path";
import { BundleWriter } from "./bundle/writer.js";
import { isDirectoryOutput } from "./checkpoint/manager.js";
import { openCheckpoint } from "./checkpoint/open.js";
import { checkpointStatePath, withStateNotUpdated, writeCheckpointState } from "./checkpoint/state.js";
import { UnsupportedError, UsageError } from "./errors.js";
import { checkOutputPaths } from "./io/atomic.js";
import { snappyImplementation } from "./io/snappy.js";
import type { CheckpointFormat, CheckpointReader, ProgressFn, StoredLayout } from "./reader.js";
import { fixedByteSize, sliceExtents } from "./tensor.js";

/** Options of {@link rewriteCheckpoint}. */
export interface RewriteOptions {
  /** Number of data shards to write; default: the source's (1 for V1 sources). */
  readonly shards?: number;
  /** Start a new shard before a tensor that would take a shard past this many bytes. */
  readonly maxShardBytes?: number;
  /**
   * Write partitioned tensors (V2 slices, or V1 slices of a V1 source) as one whole tensor each
   * instead of slices. Default false: slices are kept as slices.
   */
  readonly mergeSlices?: boolean;
  /** Replace an existing checkpoint (and, with `writeState`, state file) at the destination. Default false. */
  readonly force?: boolean;
  /**
   * Also write the destination directory's `checkpoint` state file naming the new checkpoint, as
   * `Checkpoint.save` does (this checkpoint only). Its path is checked before anything is written.
   */
  readonly writeState?: boolean;
  /** Called with bytes written so far and the total. */
  readonly onProgress?: ProgressFn;
}

/** What {@link rewriteCheckpoint} wrote. */
export interface RewriteResult {
  readonly source: string;
  readonly sourceFormat: CheckpointFormat;
  /** The prefix written: `dst`, or `dst/<source's name>` when `dst` is a directory. */
  readonly destination: string;
  /** The state file written (`writeState`), else null. */
  readonly stateFile: string | null;
  readonly shards: number;
  /** Entries with data written (tensors and slices). */
  readonly tensors: number;
  /** Tensor bytes written. */
  readonly bytes: number;
  readonly notes: readonly string[];
}

interface Item {
  readonly size: number;
  readonly sourceShard: number;
  readonly write: (w: BundleWriter, shard: number) => Promise<void>;
}

/** Assigns each item (in order) a shard: as the source had them, by count, or by size cap. */
function planShards(
  items: readonly Item[],
  options: RewriteOptions,
  sourceShards: number,
): { shardOf: number[]; numShards: number } {
  if (options.shards !== undefined && options.maxShardBytes !== undefined) {
    throw new UsageError("give either a number of shards or a maximum shard size, not both");
  }
  if (options.maxShardBytes !== undefined) {
    if (!(options.maxShardBytes > 0)) throw new UsageError("maximum shard size must be positive");
    const shardOf: number[] = [];
    let shard = 0;
    let used = 0;
    for (const it of items) {
      if (used > 0 && used + it.size > options.maxShardBytes) {
        shard++;
        used = 0;
      }
      shardOf.push(shard);
      used += it.size;
    }
    return { shardOf, numShards: shard + 1 };
  }
  if (options.shards !== undefined) {
    const n = options.shards;
    if (!Number.isInteger(n) || n < 1)
      throw new UsageError(`number of shards must be a positive integer, got ${n}`);
    const total = items.reduce((a, it) => a + it.size, 0);
    let done = 0;
    const shardOf = items.map((it) => {
      const s = Math.min(n - 1, total === 0 ? 0 : Math.floor((done * n) / total));
      done += it.size;
      return s;
    });
    return { shardOf, numShards: n };
  }
  return { shardOf: items.map((it) => it.sourceShard), numShards: sourceShards };
}

/**
 * The name a checkpoint keeps when rewritten into a directory: the base name of its prefix, without
 * a V1 shard pattern (`-?????-of-NNNNN`) or a Keras file extension; `ckpt` when nothing is left.
 */
export function checkpointBaseName(sourcePath: string): string {
  const name = basename(sourcePath)
    .replace(/-\?{5}-of-\d{5,}$/, "")
    .replace(/(\.weights)?\.(h5|hdf5|keras)$/i, "");
  return name === "" || name.startsWith(".") ? `ckpt${name}` : name;
}

/**
 * What rewriting a V2 bundle writes, entry by entry in stored order: fixed-size entries and slices
 * streamed, strings re-encoded with TF's CRC recipe, variants copied; a big-endian bundle's tensors
 * byte-swapped (and its slices merged). Appends a note to `notes` when it swaps.
 * @throws UnsupportedError for resource or unknown dtypes
 */
function bundleItems(
  reader: CheckpointReader,
  layout: StoredLayout,
  options: RewriteOptions,
  notes: string[],
): Item[] {
  const items: Item[] = [];
  const merged = new Set<string>();
  // A big-endian bundle is rewritten little-endian: values go through readTensor, which swaps.
  const bigEndian = layout.endianness === "big";
  if (bigEndian)
    notes.push("big-endian source: tensors byte-swapped to little-endian; partitioned tensors merged");
  for (const e of layout.entries()) {
    const sourceShard = e.shard;
    if (e.slice !== undefined) {
      const { fullName, slice } = e.slice;
      const full = reader.get(fullName);
      if (full === undefined) continue;
      if (options.mergeSlices || bigEndian) {
        if (merged.has(fullName)) continue;
        merged.add(fullName);
        items.push({
          size: full.bytes,
          sourceShard,
          write: async (w, shard) => {
            await w.addTensor(fullName, await reader.readTensor(fullName), { shard });
          },
        });
      } else {
        items.push({
          size: e.size,
          sourceShard,
          write: async (w, shard) => {
            if (e.dtype.kind !== "string") {
              await w.addSlice(fullName, full.shape, slice, e.dtype, e.stream(), { shard });
              return;
            }
            // A string slice is re-encoded so its CRC follows TF's string recipe.
            const t = await e.read();
            if (t.kind === "string")
              await w.addStringSlice(fullName, full.shape, slice, t.dtype, t.strings, { shard });
          },
        });
      }
    } else if (e.dtype.kind === "string" || e.dtype.kind === "variant") {
      // Strings are re-encoded (same bytes, TF's CRC); variants are copied as they are.
      items.push({
        size: e.size,
        sourceShard,
        write: async (w, shard) => w.addTensor(e.key, await e.read(), { shard }),
      });
    } else if (e.dtype.kind === "resource" || e.dtype.kind === "unknown") {
      throw new UnsupportedError(`${e.dtype.name} tensors cannot be rewritten`, {
        file: reader.path,
        key: e.key,
      });
    } else {
      items.push({
        size: e.size,
        sourceShard,
        write: bigEndian
          ? async (w, shard) => {
              const t = await reader.readTensor(e.key);
              if (t.kind === "fixed") await w.add(e.key, t.dtype, t.shape, t.data, { shard });
            }
          : (w, shard) => w.add(e.key, e.dtype, e.shape, e.stream(), { shard }),
      });
    }
  }
  return items;
}

/**
 * What rewriting a V1 file (or a Keras weights file) writes: a V1 partitioned variable stays
 * partitioned, each V1 slice one V2 slice, unless `mergeSlices`; every other tensor whole.
 */
function tensorSliceItems(reader: CheckpointReader, options: RewriteOptions): Item[] {
  const items: Item[] = [];
  for (const v of reader.list()) {
    // A V1 partitioned variable stays partitioned (each V1 slice a V2 slice) unless merging is asked.
    const readSlice = reader.readSlice?.bind(reader);
    if (v.slices !== undefined && !options.mergeSlices && readSlice !== undefined) {
      const full = v;
      full.slices?.forEach((slice, i) => {
        const { lengths } = sliceExtents(slice, full.shape);
        items.push({
          size: fixedByteSize(full.dtype, lengths) ?? 0,
          sourceShard: 0,
          write: async (w, shard) => {
            const t = await readSlice(full.name, i);
            if (t.kind === "fixed")
              await w.addSlice(full.name, full.shape, slice, t.dtype, t.data, { shard });
            else if (t.kind === "string")
              await w.addStringSlice(full.name, full.shape, slice, t.dtype, t.strings, { shard });
          },
        });
      });
      continue;
    }
    items.push({
      size: v.bytes,
      sourceShard: 0,
      write: async (w, shard) => {
        await w.addTensor(v.name, await reader.readTensor(v.name), { shard });
      },
    });
  }
  return items;
}

/**
 * Re-encodes the checkpoint at `src` as a V2 bundle at prefix `dst`. A `dst` that is a directory
 * (ends in `/` or exists as one) gets the source's name in it ({@link checkpointBaseName}:
 * `out/` + `model.ckpt-1000` → `out/model.ckpt-1000`), never the hidden `out/.index`.
 * @throws OutputExistsError without `force`; any reader error of the source (nothing is left at
 *         `dst` when the rewrite fails)
 */
export async function rewriteCheckpoint(
  src: string,
  dstArg: string,
  options: RewriteOptions = {},
): Promise<RewriteResult> {
  const reader = await openCheckpoint(src);
  try {
    const dst = isDirectoryOutput(dstArg) ? join(dstArg, checkpointBaseName(reader.path)) : dstArg;
    if (options.writeState)
      await checkOutputPaths([checkpointStatePath(dst)], { force: options.force ?? false });
    const notes = [...reader.notes];
    const layout = reader.storedLayout?.();
    const items =
      layout !== undefined ? bundleItems(reader, layout, options, notes) : tensorSliceItems(reader, options);
    const { shardOf, numShards } = planShards(items, options, layout !== undefined ? reader.shards : 1);
    const indexSnappy = layout?.indexSnappy() ?? false;
    if (indexSnappy && !snappyImplementation().native)
      notes.push(
        "index blocks compressed with snappyjs (JavaScript; the native snappy module did not load): the .index may differ byte-wise from a native or TensorFlow write, and reads back the same",
      );
    const writer = await BundleWriter.create(dst, {
      numShards,
      force: options.force ?? false,
      ...(layout !== undefined
        ? {
            version: layout.version,
            indexCompression: indexSnappy ? "snappy" : "none",
          }
        : {}),
    });
    const total = items.reduce((a, it) => a + it.size, 0);
    let done = 0;
    try {
      for (const [i, it] of items.entries()) {
        await it.write(writer, shardOf[i] as number);
        done += it.size;
        options.onProgress?.(done, total);
      }
      await writer.finish();
    } catch (e) {
      await writer.abort();
      throw options.writeState ? withStateNotUpdated(e, dst) : e;
    }
    const stateFile = options.writeState
      ? await writeCheckpointState(dst, { force: options.force ?? false })
      : null;
    return {
      source: reader.path,
      sourceFormat: reader.format,
      destination: dst,
      stateFile,
      shards: numShards,
      tensors: items.length,
      bytes: done,
      notes,
    };
  } finally {
    await reader.close();
  }
}
