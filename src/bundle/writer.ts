/**
 * Tensor bundle (checkpoint V2) writer, byte-for-byte with TF's `BundleWriter`
 * (`tensorflow/core/util/tensor_bundle/tensor_bundle.cc`: `Add`, `AddSlice`, `Finish`,
 * `WriteStringTensor`, `PadAlignment`) and, for several shards, with the index `MergeBundles`
 * writes: tensor bytes are appended to their shard in the order they are added, each entry's
 * masked CRC32C is computed while writing, and the sorted `.index` (header entry first) is
 * written last. All files are atomic (see {@link AtomicOutput}).
 *
 * @module
 */
import type { DTypeInfo } from "../dtypes.js";
import { UsageError } from "../errors.js";
import { AtomicOutput, type LinkedFile, type LinkMethod, type PendingFile } from "../io/atomic.js";
import { crc32c, maskCrc } from "../io/crc32c.js";
import { LOCK_SUFFIX } from "../io/lock.js";
import { latin1 } from "../io/utf8.js";
import { MAX_SHARDS } from "../limits.js";
import {
  type BundleEntryProto,
  encodeBundleEntry,
  encodeBundleHeader,
  type TensorSliceProto,
  type VersionDef,
} from "../proto/index.js";
import { encodeSliceKey } from "../slices/slice-key.js";
import { compareBytes } from "../table/keys.js";
import { TableWriter } from "../table/writer.js";
import { fixedByteSize, numElements, type Tensor } from "../tensor.js";
import { dataFilename, metaFilename } from "./naming.js";
import { encodeStringTensor } from "./strings.js";
import { decodeVariantTensor } from "./variants.js";

/** Options of {@link BundleWriter.create}. */
export interface BundleWriterOptions {
  /** Number of data shards (files `.data-0000i-of-N`). Default 1. */
  readonly numShards?: number;
  /** Pad each tensor to a multiple of this many bytes (`BundleWriter::Options.data_alignment`). Default 1. */
  readonly dataAlignment?: number;
  /** Replace an existing checkpoint at the prefix. Default false. */
  readonly force?: boolean;
  /** Header version. Default `{producer: 1, minConsumer: 0}` as TF writes. */
  readonly version?: VersionDef;
  /** fsync files before renaming them into place. Default true. */
  readonly sync?: boolean;
  /**
   * Compression of the `.index` table blocks. Default `none`, as `BundleWriter` writes; some
   * TF releases' merged indexes are Snappy-compressed (seen in a TF 1.14 SavedModel).
   */
  readonly indexCompression?: "none" | "snappy";
  /**
   * How long (ms) `finish` waits for another process committing to the same prefix (its lock
   * file `<prefix>.tfckpt-lock`) before failing with OutputLockedError. Default 30 000.
   */
  readonly lockWaitMs?: number;
  /**
   * Output shards that are existing files, linked instead of written (see
   * `AtomicOutput.adopt`: a reflink where the file system has them, else a hard link): shard
   * `shard` of the output is the file `source`, and {@link BundleWriter.addLinked} adds entries
   * pointing into it. Nothing can be appended to a linked shard.
   */
  readonly linked?: ReadonlyArray<{ readonly shard: number; readonly source: string }>;
  /**
   * Output shards that start as a copy of an existing file made by the kernel (see
   * `AtomicOutput.openCopy`; the bytes do not pass through this process): {@link
   * BundleWriter.addLinked} adds entries pointing into the copied bytes, and further tensors are
   * appended after them. For a source shard whose every byte the output reuses unchanged.
   * `onStart` is called as soon as the kernel's copy is under way.
   */
  readonly copied?: ReadonlyArray<{
    readonly shard: number;
    readonly source: string;
    readonly onStart?: () => void;
  }>;
  /**
   * Awaited in {@link BundleWriter.finish} before the index is written; a rejection aborts the
   * output (e.g. the CRC check of bytes a linked or copied shard holds, run meanwhile).
   */
  readonly beforeCommit?: () => Promise<void>;
}

/** One linked shard of a finished {@link BundleWriter}: how it was linked and how much of it is used. */
export interface LinkedShardUsage {
  /** Output shard id. */
  readonly shard: number;
  /** The output file and the file it is linked to. */
  readonly path: string;
  readonly source: string;
  readonly method: LinkMethod;
  /** File size, and the bytes that index entries point at; the rest is unused. */
  readonly bytes: number;
  readonly usedBytes: number;
}

/**
 * Where one entry of a {@link BundleWriter} points, as its `.index` records it (`BundleEntryProto`
 * `shard_id`, `offset`, `size` in bytes, masked `crc32c`). A partitioned tensor's full-name entry
 * has no bytes of its own (`size` 0, `crc32c` 0; its slices are entries of their own).
 */
export interface WrittenEntry {
  readonly shard: number;
  readonly offset: number;
  readonly size: number;
  readonly crc32c: number;
}

/** Where to put one tensor. */
export interface AddOptions {
  /** Data shard (0-based). Default 0. */
  readonly shard?: number;
  /**
   * The masked CRC32C of exactly the bytes `data` holds or yields, when the caller knows it: the
   * stored CRC of a tensor copied unchanged from another bundle. The writer then skips its own CRC
   * pass (one pass per byte). For streamed data the producer must verify that CRC before it
   * yields its last chunk and throw otherwise (as `BundleReader.streamWhole` does), so a wrong
   * CRC aborts the output instead of being written. Ignored by `addStrings` and `addOpaque`.
   */
  readonly crc32c?: number;
  /**
   * The caller hands `data` (a `Uint8Array`) over and never changes it again: the writer may
   * write it behind the caller's next steps (see `PendingFile.write`), so that reading and
   * transforming the next tensor overlaps this one's write. Ignored for streamed data.
   */
  readonly owned?: boolean;
  /**
   * With `owned`: the caller will never read or change `data` (nor a view of it) again, so a
   * buffer it took from `io/buffer-pool` goes back to the pool once written, for the next tensor.
   */
  readonly recycle?: boolean;
}

const utf8 = new TextEncoder();

/**
 * Checks one shard of {@link BundleWriterOptions.linked} or `copied`: an output shard id
 * (0 ≤ `shard` < `numShards`) that no shard in `taken` already holds.
 * @throws UsageError naming `what` and the shard
 */
function checkSourceShard(
  what: "linked" | "copied",
  shard: number,
  numShards: number,
  taken: ReadonlyArray<ReadonlyMap<number, unknown>>,
): void {
  if (!Number.isInteger(shard) || shard < 0 || shard >= numShards || taken.some((m) => m.has(shard)))
    throw new UsageError(`${what} shard ${shard} out of range or given twice (${numShards} shards)`);
}

/** Writes one bundle. Call {@link finish} to commit, {@link abort} to leave nothing behind. */
export class BundleWriter {
  readonly prefix: string;
  readonly numShards: number;
  readonly #out: AtomicOutput;
  readonly #shards: Array<PendingFile | undefined>;
  /** Linked shards by output shard id, with the bytes used in each. */
  readonly #linked: Map<number, { file: LinkedFile; used: number }>;
  /** Copied shards by output shard id, with the bytes copied (entries may point into those). */
  readonly #copied: Map<number, { file: PendingFile; bytes: number }>;
  /** `shard:offset:size` of every linked range with an entry (two entries may share one). */
  readonly #linkedRanges = new Set<string>();
  readonly #alignment: number;
  readonly #version: VersionDef;
  readonly #indexCompression: "none" | "snappy";
  readonly #beforeCommit: (() => Promise<void>) | undefined;
  readonly #entries = new Map<string, { key: Uint8Array; proto: BundleEntryProto }>();

  private constructor(
    prefix: string,
    out: AtomicOutput,
    shards: Array<PendingFile | undefined>,
    linked: Map<number, { file: LinkedFile; used: number }>,
    copied: Map<number, { file: PendingFile; bytes: number }>,
    options: BundleWriterOptions,
  ) {
    this.#copied = copied;
    this.prefix = prefix;
    this.numShards = shards.length;
    this.#out = out;
    this.#shards = shards;
    this.#linked = linked;
    this.#alignment = options.dataAlignment ?? 1;
    this.#version = options.version ?? { producer: 1, minConsumer: 0, badConsumers: [] };
    this.#indexCompression = options.indexCompression ?? "none";
    this.#beforeCommit = options.beforeCommit;
  }

  /**
   * Starts a bundle at `prefix`; data shard files are created under temporary names.
   * @throws OutputExistsError when `prefix.index` or a data file exists and `force` is off
   */
  static async create(prefix: string, options: BundleWriterOptions = {}): Promise<BundleWriter> {
    const n = options.numShards ?? 1;
    if (!Number.isInteger(n) || n < 1 || n > MAX_SHARDS)
      throw new UsageError(`number of shards must be 1..${MAX_SHARDS}, got ${n}`);
    const finals = [metaFilename(prefix)];
    for (let i = 0; i < n; i++) finals.push(dataFilename(prefix, i, n));
    const out = await AtomicOutput.create(finals, {
      force: options.force ?? false,
      sync: options.sync ?? true,
      lockPath: `${prefix}${LOCK_SUFFIX}`,
      ...(options.lockWaitMs !== undefined ? { lockWaitMs: options.lockWaitMs } : {}),
    });
    try {
      const linked = new Map<number, { file: LinkedFile; used: number }>();
      for (const l of options.linked ?? []) {
        checkSourceShard("linked", l.shard, n, [linked]);
        linked.set(l.shard, { file: await out.adopt(dataFilename(prefix, l.shard, n), l.source), used: 0 });
      }
      const copied = new Map<number, { file: PendingFile; bytes: number }>();
      for (const c of options.copied ?? []) {
        checkSourceShard("copied", c.shard, n, [linked, copied]);
        const file = await out.openCopy(dataFilename(prefix, c.shard, n), c.source, c.onStart);
        copied.set(c.shard, { file, bytes: file.position });
      }
      const shards: Array<PendingFile | undefined> = [];
      for (let i = 0; i < n; i++)
        shards.push(
          linked.has(i) ? undefined : (copied.get(i)?.file ?? (await out.open(dataFilename(prefix, i, n)))),
        );
      return new BundleWriter(prefix, out, shards, linked, copied, options);
    } catch (e) {
      await out.abort();
      throw e;
    }
  }

  /**
   * Checks that `key` is neither taken nor the header's (empty) key; returns its key in
   * `#entries` (the bytes as latin1).
   * @throws UsageError naming `label`
   */
  #claim(key: Uint8Array, label: string): string {
    const k = latin1(key);
    if (this.#entries.has(k)) throw new UsageError(`duplicate checkpoint key ${JSON.stringify(label)}`);
    if (key.length === 0) throw new UsageError("the empty key is reserved for the bundle header");
    return k;
  }

  #shard(options: AddOptions): { file: PendingFile; id: number } {
    const id = options.shard ?? 0;
    if (this.#linked.has(id)) throw new UsageError(`shard ${id} is linked: nothing can be appended to it`);
    const file = this.#shards[id];
    if (file === undefined) throw new UsageError(`shard ${id} out of range (${this.numShards} shards)`);
    return { file, id };
  }

  async #append(
    key: Uint8Array,
    label: string,
    dtype: DTypeInfo,
    shape: readonly number[],
    data: Uint8Array | AsyncIterable<Uint8Array>,
    options: AddOptions,
    precomputedCrc?: number,
  ): Promise<void> {
    const k = this.#claim(key, label);
    const { file, id } = this.#shard(options);
    const offset = file.position;
    let crc = 0;
    if (data instanceof Uint8Array) {
      if (precomputedCrc === undefined) crc = crc32c(data);
      await file.write(data, options.owned === true, options.recycle === true);
    } else if (precomputedCrc !== undefined) {
      for await (const chunk of data) await file.write(chunk);
    } else {
      for await (const chunk of data) {
        crc = crc32c(chunk, crc);
        await file.write(chunk);
      }
    }
    const size = file.position - offset;
    const expected = fixedByteSize(dtype, shape);
    if (expected !== undefined && expected !== size) {
      throw new UsageError(
        `${label}: ${size} bytes written, ${dtype.name}[${shape.join(", ")}] needs ${expected}`,
      );
    }
    const proto: BundleEntryProto = {
      dtype: dtype.enumValue,
      shape: { dims: [...shape], unknownRank: false },
      shardId: id,
      offset,
      size,
      crc32c: precomputedCrc ?? maskCrc(crc),
      slices: [],
    };
    this.#entries.set(k, { key, proto });
    if (this.#alignment > 1) {
      const pad = (this.#alignment - (file.position % this.#alignment)) % this.#alignment;
      if (pad > 0) await file.write(new Uint8Array(pad), true);
    }
  }

  /**
   * Adds a fixed-size tensor: `data` holds elements × itemSize little-endian bytes (or yields
   * them in chunks, so a large tensor is never held in memory).
   * @throws UsageError for a duplicate name or a byte count that disagrees with the shape
   */
  async add(
    name: string,
    dtype: DTypeInfo,
    shape: readonly number[],
    data: Uint8Array | AsyncIterable<Uint8Array>,
    options: AddOptions = {},
  ): Promise<void> {
    if (dtype.itemSize === undefined)
      throw new UsageError(`${name}: use addStrings or addOpaque for ${dtype.name} tensors`);
    await this.#append(utf8.encode(name), name, dtype, shape, data, options, options.crc32c);
  }

  /** Adds a `string` tensor (one byte string per element, row-major). */
  async addStrings(
    name: string,
    dtype: DTypeInfo,
    shape: readonly number[],
    strings: readonly Uint8Array[],
    options: AddOptions = {},
  ) {
    if (strings.length !== numElements(shape))
      throw new UsageError(`${name}: ${strings.length} strings for shape [${shape.join(", ")}]`);
    const { bytes, crc32c: crc } = encodeStringTensor(strings);
    await this.#append(utf8.encode(name), name, dtype, shape, bytes, options, crc);
  }

  /**
   * Adds a `variant` tensor as it is: `bytes` and the masked `crc` exactly as another bundle
   * stored them (the `WriteVariantTensor` framing is inside the bytes, and its CRC is not a CRC of
   * the bytes, so both are copied). The framing and checksums are checked first.
   * @throws UsageError for a non-variant dtype or a duplicate name; ChecksumMismatchError or
   *         CorruptCheckpointError when `bytes` and `crc` do not hold `shape`'s elements
   */
  async addOpaque(
    name: string,
    dtype: DTypeInfo,
    shape: readonly number[],
    bytes: Uint8Array,
    crc: number,
    options: AddOptions = {},
  ): Promise<void> {
    if (dtype.kind !== "variant") throw new UsageError(`${name}: addOpaque is for variant tensors only`);
    decodeVariantTensor(bytes, numElements(shape), 0, crc, { key: name });
    await this.#append(utf8.encode(name), name, dtype, shape, bytes, options, crc);
  }

  /** Adds any whole tensor read by a reader: {@link add}, {@link addStrings} or {@link addOpaque} by kind. */
  async addTensor(name: string, t: Tensor, options: AddOptions = {}): Promise<void> {
    if (t.kind === "fixed") await this.add(name, t.dtype, t.shape, t.data, options);
    else if (t.kind === "string") await this.addStrings(name, t.dtype, t.shape, t.strings, options);
    else await this.addOpaque(name, t.dtype, t.shape, t.bytes, t.crc32c, options);
  }

  /**
   * Adds an entry for bytes already in a linked or copied shard (see
   * {@link BundleWriterOptions.linked}, {@link BundleWriterOptions.copied}):
   * `size` bytes at `offset` of output shard `shard`, whose masked CRC32C is `crc32c` (the source
   * entry's stored CRC; the bytes are not read). Any dtype whose bytes are position-independent
   * (fixed-size, string, variant) may be linked: the entry is the source entry's, renamed.
   * @throws UsageError for a shard that is not linked, a range past its end, a duplicate name, or
   *         a size that disagrees with a fixed-size dtype and shape
   */
  async addLinked(
    name: string,
    dtype: DTypeInfo,
    shape: readonly number[],
    at: { readonly shard: number; readonly offset: number; readonly size: number; readonly crc32c: number },
  ): Promise<void> {
    const key = utf8.encode(name);
    const k = this.#claim(key, name);
    const l = this.#linked.get(at.shard);
    const c = this.#copied.get(at.shard);
    const limit = l?.file.byteLength ?? c?.bytes;
    if (limit === undefined) throw new UsageError(`${name}: shard ${at.shard} is neither linked nor copied`);
    if (
      !Number.isSafeInteger(at.offset) ||
      !Number.isSafeInteger(at.size) ||
      at.offset < 0 ||
      at.size < 0 ||
      at.offset + at.size > limit
    )
      throw new UsageError(
        `${name}: ${at.size} bytes at offset ${at.offset} pass the end of the linked or copied bytes of shard ${at.shard} (${limit} bytes)`,
      );
    const expected = fixedByteSize(dtype, shape);
    if (expected !== undefined && expected !== at.size)
      throw new UsageError(
        `${name}: ${at.size} bytes linked, ${dtype.name}[${shape.join(", ")}] needs ${expected}`,
      );
    const range = `${at.shard}:${at.offset}:${at.size}`;
    if (l !== undefined && !this.#linkedRanges.has(range)) l.used += at.size;
    this.#linkedRanges.add(range);
    this.#entries.set(k, {
      key,
      proto: {
        dtype: dtype.enumValue,
        shape: { dims: [...shape], unknownRank: false },
        shardId: at.shard,
        offset: at.offset,
        size: at.size,
        crc32c: at.crc32c,
        slices: [],
      },
    });
  }

  /**
   * The entry added under checkpoint key `name` (UTF-8, as {@link add} encodes it), or `undefined`
   * when none was: what the `.index` holds for it once {@link finish} has committed, so a caller
   * need not read its own output back for the CRCs.
   */
  entry(name: string): WrittenEntry | undefined {
    const e = this.#entries.get(latin1(utf8.encode(name)));
    if (e === undefined) return undefined;
    const { shardId, offset, size, crc32c } = e.proto;
    return { shard: shardId, offset, size, crc32c };
  }

  /** The linked shards and the bytes of each that entries use (see {@link BundleWriterOptions.linked}). */
  linkedShards(): LinkedShardUsage[] {
    return [...this.#linked].map(([shard, { file, used }]) => ({
      shard,
      path: file.finalPath,
      source: file.sourcePath,
      method: file.method,
      bytes: file.byteLength,
      usedBytes: used,
    }));
  }

  /**
   * Adds one slice of a fixed-size partitioned tensor (`BundleWriter::AddSlice`): the slice's
   * bytes under its encoded slice key, and `slice` appended to the full-name entry (dtype, full
   * shape, slices). A slice covering the whole tensor is added as an ordinary tensor, as TF does.
   * @throws UsageError for a string dtype (use {@link addStringSlice}), a duplicate slice, or
   *         slices that disagree on dtype or full shape
   */
  async addSlice(
    fullName: string,
    fullShape: readonly number[],
    slice: TensorSliceProto,
    dtype: DTypeInfo,
    data: Uint8Array | AsyncIterable<Uint8Array>,
    options: AddOptions = {},
  ): Promise<void> {
    if (dtype.itemSize === undefined)
      throw new UsageError(`${fullName}: use addStringSlice for ${dtype.name} slices`);
    await this.#addSliceWith(fullName, fullShape, slice, dtype, options, {
      whole: () => this.add(fullName, dtype, fullShape, data, options),
      slice: (key, label, lengths) => this.#append(key, label, dtype, lengths, data, options),
    });
  }

  /**
   * Adds one slice of a partitioned `string` tensor: `strings` (the slice's elements, row-major)
   * stored as `WriteStringTensor` stores any string tensor, with the same checksum recipe (a
   * CRC over the lengths as uint32/uint64, the length checksum and the bytes; not a CRC of the
   * stored bytes), as `BundleWriter::AddSlice` does through `Add`.
   * @throws UsageError as {@link addSlice}, or when the string count disagrees with the slice
   */
  async addStringSlice(
    fullName: string,
    fullShape: readonly number[],
    slice: TensorSliceProto,
    dtype: DTypeInfo,
    strings: readonly Uint8Array[],
    options: AddOptions = {},
  ): Promise<void> {
    await this.#addSliceWith(fullName, fullShape, slice, dtype, options, {
      whole: () => this.addStrings(fullName, dtype, fullShape, strings, options),
      slice: async (key, label, lengths) => {
        if (strings.length !== numElements(lengths))
          throw new UsageError(`${label}: ${strings.length} strings for shape [${lengths.join(", ")}]`);
        const { bytes, crc32c: crc } = encodeStringTensor(strings);
        await this.#append(key, label, dtype, lengths, bytes, options, crc);
      },
    });
  }

  async #addSliceWith(
    fullName: string,
    fullShape: readonly number[],
    slice: TensorSliceProto,
    dtype: DTypeInfo,
    options: AddOptions,
    write: {
      whole: () => Promise<void>;
      slice: (key: Uint8Array, label: string, lengths: number[]) => Promise<void>;
    },
  ): Promise<void> {
    const lengths = slice.map((e, i) => (e.length < 0 ? (fullShape[i] as number) - e.start : e.length));
    if (slice.every((e, i) => e.start === 0 && (e.length < 0 || e.length === fullShape[i]))) {
      await write.whole();
      return;
    }
    const fullKey = utf8.encode(fullName);
    const k = latin1(fullKey);
    const existing = this.#entries.get(k);
    if (existing !== undefined && existing.proto.slices.length === 0) {
      throw new UsageError(`duplicate checkpoint key ${JSON.stringify(fullName)}`);
    }
    if (
      existing !== undefined &&
      (existing.proto.dtype !== dtype.enumValue || existing.proto.shape.dims.join() !== fullShape.join())
    ) {
      throw new UsageError(`${fullName}: slices disagree on dtype or full shape`);
    }
    await write.slice(encodeSliceKey(fullName, slice), `${fullName} slice`, lengths);
    // The full entry names the first shard holding one of its slices, as MergeV2Checkpoints
    // leaves it (each per-shard bundle's full entry takes its shard's id; the first one merged wins).
    const { id } = this.#shard(options);
    const proto: BundleEntryProto =
      existing === undefined
        ? {
            dtype: dtype.enumValue,
            shape: { dims: [...fullShape], unknownRank: false },
            shardId: id,
            offset: 0,
            size: 0,
            crc32c: 0,
            slices: [],
          }
        : { ...existing.proto, shardId: Math.min(existing.proto.shardId, id) };
    proto.slices.push(slice);
    this.#entries.set(k, { key: fullKey, proto });
  }

  /**
   * Writes the `.index` (header + every entry in bytewise key order) and renames all files into
   * place, the index last. On failure nothing is left at the final paths that was not there.
   */
  async finish(): Promise<void> {
    try {
      await this.#beforeCommit?.();
      const table = new TableWriter({ compression: this.#indexCompression });
      table.add(
        new Uint8Array(0),
        encodeBundleHeader({ numShards: this.numShards, endianness: "little", version: this.#version }),
      );
      const sorted = [...this.#entries.values()].sort((a, b) => compareBytes(a.key, b.key));
      for (const e of sorted) table.add(e.key, encodeBundleEntry(e.proto));
      const index = await this.#out.open(metaFilename(this.prefix));
      // Fresh blocks, handed over: staged into large writes rather than one write per block.
      for (const chunk of table.finish()) await index.write(chunk, true);
      await this.#out.commit([metaFilename(this.prefix)]);
    } catch (e) {
      await this.#out.abort();
      throw e;
    }
  }

  /** Discards everything written. */
  async abort(): Promise<void> {
    await this.#out.abort();
  }
}
