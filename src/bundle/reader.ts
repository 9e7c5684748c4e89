/**
 * Tensor bundle (checkpoint V2) reader. Mirrors `tensorflow/core/util/tensor_bundle/tensor_bundle.cc`
 * (`BundleReader`: constructor, `GetBundleEntryProto`, `GetValue`, `GetSliceValue`,
 * `ReadStringTensor`) and `tensorflow/c/checkpoint_reader.cc` (`BuildV2VarMaps`: slice keys hidden,
 * a partitioned tensor listed once with its full shape).
 *
 * Only the `.index` file is read when opening; tensor bytes are read as exact byte ranges of their
 * data shard, on demand, and every tensor's masked CRC32C is verified before its bytes are used.
 *
 * @module
 */

import { type DTypeInfo, dtypeOfEntry, isFixedSize } from "../dtypes.js";
import {
  ChecksumMismatchError,
  CorruptCheckpointError,
  LimitExceededError,
  NotFoundError,
  TfckptError,
  UnsupportedError,
} from "../errors.js";
import { type ObjectGraph, readObjectGraph } from "../graph/object-graph.js";
import { type ByteSource, openFileSource, type SourceOpener } from "../io/byte-source.js";
import { crc32c, maskCrc } from "../io/crc32c.js";
import { ReadAhead } from "../io/read-ahead.js";
import { decodeUtf8 } from "../io/utf8.js";
import { MAX_MATERIALIZED_TENSOR_BYTES, MAX_SHARDS, MAX_SLICES_PER_TENSOR } from "../limits.js";
import {
  type BundleEntryProto,
  type BundleHeaderProto,
  decodeBundleEntry,
  decodeBundleHeader,
  type TensorSliceProto,
} from "../proto/index.js";
import {
  type CheckpointReader,
  OBJECT_GRAPH_PROTO_KEY,
  type ProgressFn,
  type StoredLayout,
  type StoredTensor,
  toFailure,
  type VariableInfo,
  type VerifyFailure,
  type VerifyResult,
} from "../reader.js";
import { decodeSliceKey, encodeSliceKey } from "../slices/slice-key.js";
import { printableKey } from "../table/keys.js";
import { TableReader } from "../table/reader.js";
import { BlockScanner } from "../table/scan.js";
import {
  copySliceInto,
  copyStringSliceInto,
  findTilingProblem,
  fixedByteSize,
  formatSlice,
  numElements,
  type SliceExtents,
  sliceExtents,
  swapBytesInPlace,
  type Tensor,
} from "../tensor.js";
import { EntryTable, PlainEntryDecoder } from "./entries.js";
import { dataFilename, metaFilename } from "./naming.js";
import { storedLayoutOf } from "./stored-layout.js";
import { decodeStringTensor } from "./strings.js";
import { decodeVariantTensor } from "./variants.js";

/** Reader's consumer version (`kTensorBundleVersion`). */
const CONSUMER_VERSION = 1;
/** Bytes per read when streaming a tensor. */
const STREAM_CHUNK_BYTES = 8 * 1024 * 1024;

/** One index entry with its decoded dtype and where it was found in the `.index` file. */
export interface BundleEntry {
  /** Tensor name, or for a slice entry the printable form of the encoded slice key. */
  readonly key: string;
  readonly proto: BundleEntryProto;
  readonly dtype: DTypeInfo;
  readonly shape: readonly number[];
  /** Offset of the index block that holds this entry (for errors). */
  readonly indexOffset: number;
  /** For a slice entry: the partitioned tensor's name and this slice. */
  readonly slice?: { readonly fullName: string; readonly slice: TensorSliceProto };
}

/** One stored slice of a partitioned tensor: its extents in the full tensor and its entry. */
interface SlicePiece {
  readonly slice: TensorSliceProto;
  readonly ext: { starts: number[]; lengths: number[] };
  readonly entry: BundleEntry;
}

/** A data byte range to read: which file, where, how much, and the masked CRC to expect. */
interface DataRange {
  readonly key: string;
  readonly entry: BundleEntry;
}

/** An open V2 checkpoint. Create with {@link BundleReader.open}. */
export class BundleReader implements CheckpointReader {
  readonly format = "v2" as const;
  readonly path: string;
  readonly header: BundleHeaderProto;
  readonly objectBased: boolean;
  readonly #index: ByteSource;
  readonly #table: TableReader;
  /** The named entries (every key but the header and slice keys), as columns. */
  readonly #named: EntryTable;
  /** Slice entries by hex of their encoded key. */
  readonly #sliceEntries: Map<string, BundleEntry>;
  /** Built on the first {@link list}. */
  #list: VariableInfo[] | undefined;
  /** Stored bytes of each partitioned tensor's slices (the size shown for a partitioned string). */
  #sliceBytes: Map<string, number> | undefined;
  /** Entries handed out by {@link entry}, so one name gives one object. */
  readonly #entryCache = new Map<number, BundleEntry>();
  readonly #shards = new Map<number, Promise<ByteSource>>();
  /** Opens the data shards (the same {@link SourceOpener} that opened the index). */
  readonly #openSource: SourceOpener;
  /** Read buffers of finished streams, reused by the next (at most 4). */
  readonly #bufferPool: Uint8Array[] = [];
  /** The data shards' file names, by shard id (built on the first {@link storedTensor}). */
  #dataFiles: string[] | undefined;
  #graph: Promise<ObjectGraph> | undefined;
  /**
   * The object graph's tensor once {@link verify} has read it, kept until {@link objectGraph}
   * decodes it, so that validating (verify, then the graph) reads its bytes once.
   */
  #graphTensor: Promise<Tensor> | undefined;

  private constructor(
    prefix: string,
    index: ByteSource,
    table: TableReader,
    header: BundleHeaderProto,
    named: EntryTable,
    sliceEntries: Map<string, BundleEntry>,
    openSource: SourceOpener,
  ) {
    this.#openSource = openSource;
    this.path = prefix;
    this.#index = index;
    this.#table = table;
    this.header = header;
    this.#named = named;
    this.#sliceEntries = sliceEntries;
    this.objectBased = named.find(OBJECT_GRAPH_PROTO_KEY) >= 0;
  }

  /**
   * Opens the bundle at `prefix` (reads `prefix.index` only) and validates every entry: dtype,
   * shape, size against shape × dtype, shard id, slices. Entries are kept as columns
   * (`entries.ts`); a {@link BundleEntry} is built when asked for.
   * @param prefix  checkpoint prefix, e.g. `/ckpts/model.ckpt-1000`
   * @param indexSource  the `.index` bytes (default: `openSource` of `prefix.index`)
   * @param openSource  opens the `.index` and, on first use, each data shard (default: files read
   *        with `pread`); tests pass one that counts what each operation reads
   * @throws NotFoundError when `prefix.index` is missing; CorruptCheckpointError for a bad table,
   *         header or entry; UnsupportedError for an unknown dtype or a too-new format version
   */
  static async open(
    prefix: string,
    indexSource?: ByteSource,
    openSource: SourceOpener = openFileSource,
  ): Promise<BundleReader> {
    const file = metaFilename(prefix);
    const source = indexSource ?? (await openSource(file));
    try {
      const table = await TableReader.open(source);
      const { header, named, sliceEntries } = await readIndex(table, file);
      return new BundleReader(prefix, source, table, header, named, sliceEntries, openSource);
    } catch (e) {
      await source.close();
      throw e;
    }
  }

  get shards(): number {
    return this.header.numShards;
  }

  get files(): string[] {
    const out = [metaFilename(this.path)];
    for (let i = 0; i < this.header.numShards; i++)
      out.push(dataFilename(this.path, i, this.header.numShards));
    return out;
  }

  /** Table-level counters (blocks and bytes read from the `.index`). */
  get indexStats(): TableReader["stats"] {
    return this.#table.stats;
  }

  list(): readonly VariableInfo[] {
    if (this.#list === undefined) {
      const named = this.#named;
      const list = new Array<VariableInfo>(named.length);
      const sliceBytes = () => this.#partitionedBytes();
      for (let i = 0; i < list.length; i++) list[i] = named.info(i, sliceBytes);
      this.#list = list;
    }
    return this.#list;
  }

  get(name: string): VariableInfo | undefined {
    const i = this.#named.find(name);
    return i < 0 ? undefined : this.#named.info(i, () => this.#partitionedBytes());
  }

  #partitionedBytes(): Map<string, number> {
    if (this.#sliceBytes === undefined) {
      this.#sliceBytes = new Map<string, number>();
      for (const e of this.#sliceEntries.values()) {
        const full = e.slice?.fullName ?? "";
        this.#sliceBytes.set(full, (this.#sliceBytes.get(full) ?? 0) + e.proto.size);
      }
    }
    return this.#sliceBytes;
  }

  /** The raw index entry for `name` (undefined if absent); the same object for the same name. */
  entry(name: string): BundleEntry | undefined {
    const i = this.#named.find(name);
    return i < 0 ? undefined : this.#entryAt(i);
  }

  #entryAt(i: number): BundleEntry {
    let e = this.#entryCache.get(i);
    if (e === undefined) {
      e = this.#named.entry(i);
      this.#entryCache.set(i, e);
    }
    return e;
  }

  /**
   * The entry of `name` when the tensor is stored whole, as one byte range of one shard (not
   * partitioned), in a little-endian bundle, with a dtype other than `resource` or an unknown one:
   * its bytes and masked CRC32C can then be reused as they are — the CRC that
   * {@link streamWhole} verifies, or the range a linked output shard points into.
   */
  storedWhole(name: string): BundleEntry | undefined {
    const e = this.entry(name);
    if (e === undefined || e.proto.slices.length > 0 || this.header.endianness !== "little") return undefined;
    if (e.dtype.kind === "resource" || e.dtype.kind === "unknown") return undefined;
    return e;
  }

  /**
   * The {@link CheckpointReader.storedTensor} capability: {@link storedWhole} with its data file,
   * in the contract's terms.
   */
  storedTensor(name: string): StoredTensor | undefined {
    const e = this.storedWhole(name);
    if (e === undefined) return undefined;
    const p = e.proto;
    this.#dataFiles ??= this.files.slice(1);
    const file = this.#dataFiles[p.shardId] as string;
    return {
      key: name,
      dtype: e.dtype,
      shape: e.shape,
      shard: p.shardId,
      file,
      offset: p.offset,
      size: p.size,
      crc32c: p.crc32c,
    };
  }

  /**
   * The {@link CheckpointReader.checkStored} capability: {@link checkEntries} of the entries of
   * `tensors` (from {@link storedTensor}).
   * @throws NotFoundError for a tensor not stored whole here; as {@link checkEntries}
   */
  async checkStored(tensors: readonly StoredTensor[]): Promise<void> {
    const entries = tensors.map((t) => {
      const e = this.storedWhole(t.key);
      if (e === undefined)
        throw new NotFoundError("no tensor stored whole by this name", {
          file: metaFilename(this.path),
          key: t.key,
        });
      return e;
    });
    await this.checkEntries([...new Set(entries)]); // one entry object per name: each checked once
  }

  /** The stored-layout capability ({@link CheckpointReader.storedLayout}). */
  storedLayout(): StoredLayout {
    return storedLayoutOf(this);
  }

  /**
   * Every entry that has data of its own (ordinary tensors and the slices of partitioned ones;
   * not the full-name entries of partitioned tensors), in data order: by shard, then offset.
   */
  storedEntries(): BundleEntry[] {
    const all: BundleEntry[] = [];
    const named = this.#named;
    for (let i = 0; i < named.length; i++)
      if (!named.partitioned(i)) all.push(this.#entryCache.get(i) ?? named.entry(i));
    for (const e of this.#sliceEntries.values()) all.push(e); // no spread: 10⁵+ entries overflow the stack
    return all.sort((a, b) => a.proto.shardId - b.proto.shardId || a.proto.offset - b.proto.offset);
  }

  /**
   * Streams the stored bytes of one entry from {@link storedEntries} in chunks of at most
   * `chunkBytes`; for fixed-size dtypes the CRC is verified after the last chunk (the final
   * `next()` throws ChecksumMismatchError). String entries are not checked here.
   */
  streamEntry(entry: BundleEntry, chunkBytes = STREAM_CHUNK_BYTES): AsyncGenerator<Uint8Array> {
    return this.#stream({ key: entry.key, entry }, chunkBytes);
  }

  /**
   * Verifies the stored bytes of `entries` (from {@link storedEntries}, in any shards) against
   * their masked CRC32C, as `BundleReader::GetValue` checks each tensor it reads, reading each
   * shard that holds some of them front to back in large sequential reads (32 MiB; the next read
   * runs while this one is checked) rather than one read per tensor. String and variant entries
   * are checked by decoding.
   * @throws ChecksumMismatchError naming the first bad entry; CorruptCheckpointError,
   *         TruncatedFileError, NotFoundError
   */
  async checkEntries(entries: readonly BundleEntry[], windowBytes = 32 << 20): Promise<void> {
    const fixed: BundleEntry[] = [];
    for (const e of entries) {
      if (e.dtype.kind === "string" || e.dtype.kind === "variant") await this.readStored(e);
      else fixed.push(e);
    }
    fixed.sort((a, b) => a.proto.shardId - b.proto.shardId || a.proto.offset - b.proto.offset);
    for (let i = 0; i < fixed.length; ) {
      const shardId = (fixed[i] as BundleEntry).proto.shardId;
      let j = i + 1;
      while (j < fixed.length && (fixed[j] as BundleEntry).proto.shardId === shardId) j++;
      await this.#checkShardEntries(fixed.slice(i, j), windowBytes);
      i = j;
    }
  }

  /** {@link checkEntries} of fixed-size `entries` of one shard, sorted by offset. */
  async #checkShardEntries(fixed: readonly BundleEntry[], windowBytes: number): Promise<void> {
    const source = await this.#checkedShard({
      key: (fixed[0] as BundleEntry).key,
      entry: fixed[0] as BundleEntry,
    });
    // Large windows front to back; the next one is read while this one is checked.
    const ahead = new ReadAhead(source, source.byteLength, Math.min(windowBytes, source.byteLength));
    let win: { at: number; bytes: Uint8Array } = { at: 0, bytes: new Uint8Array(0) };
    try {
      for (const e of fixed) {
        await this.#checkedShard({ key: e.key, entry: e });
        let crc = 0;
        const end = e.proto.offset + e.proto.size;
        for (let p = e.proto.offset; p < end; ) {
          if (p < win.at || p >= win.at + win.bytes.length) win = { at: p, bytes: await ahead.window(p) };
          const view = win.bytes.subarray(p - win.at, Math.min(win.bytes.length, end - win.at));
          crc = crc32c(view, crc);
          p += view.length;
        }
        if (maskCrc(crc) !== e.proto.crc32c)
          throw this.#crcMismatch({ key: e.key, entry: e }, maskCrc(crc), source.name);
      }
    } finally {
      await ahead.close();
    }
  }

  /** Path and length of data shard `shardId`, opening it on first use. @throws NotFoundError */
  async shard(shardId: number): Promise<ByteSource> {
    let p = this.#shards.get(shardId);
    if (p === undefined) {
      const name = dataFilename(this.path, shardId, this.header.numShards);
      p = this.#openSource(name).catch((e: unknown) => {
        if (e instanceof NotFoundError) throw new NotFoundError("missing data shard", { file: name });
        throw e;
      });
      this.#shards.set(shardId, p);
    }
    return p;
  }

  async readTensor(name: string): Promise<Tensor> {
    const entry = this.entry(name);
    if (entry === undefined)
      throw new NotFoundError(`key ${name} not found in checkpoint`, { file: metaFilename(this.path) });
    if (entry.proto.slices.length > 0) return this.#readPartitioned(entry);
    return this.readStored(entry);
  }

  /**
   * Reads and verifies the values of one entry that has data of its own (see
   * {@link storedEntries}): a whole tensor, or one slice of a partitioned tensor with the slice's
   * shape. Mirrors `BundleReader::GetValue` (`ReadStringTensor` for strings).
   * Variant tensors come back opaque (stored bytes and CRC, checked as `ReadVariantTensor` does).
   * @throws UnsupportedError for resource tensors and big-endian strings or variants;
   *         ChecksumMismatchError, CorruptCheckpointError, LimitExceededError
   */
  async readStored(entry: BundleEntry): Promise<Tensor> {
    const { dtype, shape, key } = entry;
    if (dtype.kind === "resource") {
      throw new UnsupportedError(`${dtype.name} tensors are not supported`, {
        file: metaFilename(this.path),
        key,
      });
    }
    if (dtype.kind === "unknown") throw unknownDtype(dtype, metaFilename(this.path), key);
    if (dtype.kind === "string" || dtype.kind === "variant") {
      if (this.header.endianness === "big") {
        throw new UnsupportedError(
          dtype.kind === "string"
            ? "big-endian string tensors are not supported (their length checksums are byte-swapped)"
            : "big-endian variant tensors are not supported (TF: byte swapping is unimplemented for them)",
          { file: metaFilename(this.path), key },
        );
      }
      if (dtype.kind === "variant") {
        const { bytes, source } = await this.#readRange({ key, entry });
        const elements = decodeVariantTensor(
          bytes,
          numElements(shape),
          entry.proto.offset,
          entry.proto.crc32c,
          { file: source.name, key },
        );
        return { kind: "opaque", dtype, shape, bytes, crc32c: entry.proto.crc32c, elements };
      }
      const { bytes, source } = await this.#readRange({ key, entry });
      return {
        kind: "string",
        dtype,
        shape,
        strings: decodeStringTensor(bytes, numElements(shape), entry.proto.offset, entry.proto.crc32c, {
          file: source.name,
          key,
        }),
      };
    }
    const { bytes } = await this.#readRange({ key, entry }, true);
    return { kind: "fixed", dtype, shape, data: bytes };
  }

  /**
   * Streams the little-endian bytes of a whole fixed-size tensor without materialising it, when
   * the layout allows: a tensor stored whole, or one partitioned along its first axis only (the
   * usual embedding partitioning), whose slices are then read in row order. Returns undefined
   * for other layouts (read those with {@link readTensor}). CRCs are verified as each piece ends.
   */
  streamWhole(name: string, chunkBytes = STREAM_CHUNK_BYTES): AsyncGenerator<Uint8Array> | undefined {
    const entry = this.entry(name);
    if (entry === undefined || entry.dtype.itemSize === undefined || this.header.endianness !== "little")
      return undefined;
    if (entry.proto.slices.length === 0) return this.#stream({ key: name, entry }, chunkBytes);
    const shape = entry.shape;
    let pieces: SlicePiece[];
    try {
      pieces = this.#pieces(entry);
    } catch {
      return undefined; // let readTensor report a bad layout
    }
    // Row slices only (whole in every other dimension): the tensor is their concatenation in row order.
    const rowsOnly = pieces.every(
      (p) =>
        p.ext.starts.slice(1).every((x) => x === 0) &&
        p.ext.lengths.slice(1).every((l, i) => l === shape[i + 1]),
    );
    if (!rowsOnly || shape.length === 0) return undefined;
    pieces.sort((a, b) => (a.ext.starts[0] as number) - (b.ext.starts[0] as number));
    return this.#streamPieces(
      pieces.map((p) => ({ key: `${name} [slice ${formatSlice(p.slice)}]`, entry: p.entry })),
      chunkBytes,
    );
  }

  async *#streamPieces(ranges: readonly DataRange[], chunkBytes: number): AsyncGenerator<Uint8Array> {
    for (const r of ranges) yield* this.#stream(r, chunkBytes);
  }

  /** A reusable read buffer of `bytes` bytes (from the pool, else new). */
  #takeBuffer(bytes: number): Uint8Array {
    if (bytes === 0) return new Uint8Array(0);
    const i = this.#bufferPool.findIndex((b) => b.length >= bytes);
    if (i < 0) return new Uint8Array(bytes);
    const [b] = this.#bufferPool.splice(i, 1);
    return b as Uint8Array;
  }

  async *#stream(range: DataRange, chunkBytes: number): AsyncGenerator<Uint8Array> {
    const { entry } = range;
    const source = await this.#checkedShard(range);
    let crc = 0;
    const end = entry.proto.offset + entry.proto.size;
    // Two buffers from a per-reader pool, alternating: the next chunk is read while the consumer
    // writes this one (a chunk is valid until the next is asked for), and no tensor allocates its own.
    const ahead = new ReadAhead(source, end, Math.min(chunkBytes, entry.proto.size), (n) =>
      this.#takeBuffer(n),
    );
    try {
      for (let at = entry.proto.offset; at < end; ) {
        const chunk = await ahead.window(at);
        at += chunk.length;
        crc = crc32c(chunk, crc);
        yield chunk;
      }
    } finally {
      // A read still in flight (the consumer stopped early) must end before its buffer is reused.
      const bufs = await ahead.close();
      // Keep the 4 largest: tiny tensors' buffers must not crowd out the chunk-sized ones.
      for (const b of bufs) if (b.length > 0) this.#bufferPool.push(b);
      this.#bufferPool.sort((a, b) => b.length - a.length).splice(4);
    }
    // Strings and variants store a CRC over lengths as integers, not over the stored bytes:
    // checked by decodeStringTensor / decodeVariantTensor.
    if (
      entry.dtype.kind !== "string" &&
      entry.dtype.kind !== "variant" &&
      maskCrc(crc) !== entry.proto.crc32c
    ) {
      throw this.#crcMismatch(range, maskCrc(crc), source.name);
    }
  }

  /** The error for `range`'s stored bytes in data file `file` whose masked CRC32C is `actual`. */
  #crcMismatch(range: DataRange, actual: number, file: string): ChecksumMismatchError {
    const { proto } = range.entry;
    return new ChecksumMismatchError(
      `TensorBundle at ${this.path} shard ${proto.shardId} (${proto.size} bytes)`,
      proto.crc32c,
      actual,
      { file, key: range.key, offset: proto.offset },
    );
  }

  async #checkedShard(range: DataRange): Promise<ByteSource> {
    const { entry, key } = range;
    let source: ByteSource;
    try {
      source = await this.shard(entry.proto.shardId);
    } catch (e) {
      throw e instanceof TfckptError ? e.withLocation({ key }) : e;
    }
    if (entry.proto.offset + entry.proto.size > source.byteLength) {
      throw new CorruptCheckpointError(
        `entry of ${entry.proto.size} bytes at offset ${entry.proto.offset} passes the end of its shard (${source.byteLength} bytes)`,
        { file: source.name, key, offset: entry.proto.offset },
      );
    }
    return source;
  }

  async #readRange(range: DataRange, verifyCrc = false): Promise<{ bytes: Uint8Array; source: ByteSource }> {
    const { entry, key } = range;
    const source = await this.#checkedShard(range);
    if (entry.proto.size > MAX_MATERIALIZED_TENSOR_BYTES) {
      throw new LimitExceededError(
        `tensor of ${entry.proto.size} bytes exceeds MAX_MATERIALIZED_TENSOR_BYTES; stream it instead`,
        { file: source.name, key, offset: entry.proto.offset },
      );
    }
    const bytes = await source.read(entry.proto.offset, entry.proto.size);
    if (verifyCrc) {
      const actual = maskCrc(crc32c(bytes));
      if (actual !== entry.proto.crc32c) {
        throw this.#crcMismatch(range, actual, source.name);
      }
      if (this.header.endianness === "big") swapBytesInPlace(bytes, entry.dtype.swapUnit);
    }
    return { bytes, source };
  }

  /**
   * The stored slices of a partitioned tensor, each with its extents and entry, checked: every
   * slice has an entry of the right dtype and shape, and together they tile the tensor exactly.
   * @throws CorruptCheckpointError naming the tensor
   */
  #pieces(full: BundleEntry): SlicePiece[] {
    const { dtype, shape, key: name } = full;
    const loc = { file: metaFilename(this.path), key: name };
    const pieces = full.proto.slices.map((slice) => {
      const ext = sliceExtents(slice, shape, loc);
      const entry = this.#sliceEntries.get(Buffer.from(encodeSliceKey(name, slice)).toString("hex"));
      if (entry === undefined) {
        throw new CorruptCheckpointError(
          `missing entry for slice ${formatSlice(slice)} of partitioned tensor`,
          loc,
        );
      }
      if (entry.dtype !== dtype || entry.shape.join() !== ext.lengths.join()) {
        throw new CorruptCheckpointError(
          `slice ${formatSlice(slice)} holds ${entry.dtype.name}[${entry.shape.join(", ")}], expected ${dtype.name}[${ext.lengths.join(", ")}]`,
          loc,
        );
      }
      return { ext, entry, slice };
    });
    checkCoverage(pieces, shape, loc);
    return pieces;
  }

  /**
   * Reassembles a partitioned tensor from its stored slices. Strings are reassembled element by
   * element; TF's own `GetSliceValue` refuses that ("Dtype string not supported") and can only
   * return a string slice exactly as stored, which {@link readStored} does.
   */
  async #readPartitioned(full: BundleEntry): Promise<Tensor> {
    const { dtype, shape, key: name } = full;
    const file = metaFilename(this.path);
    if (dtype.kind === "unknown") throw unknownDtype(dtype, file, name);
    if (dtype.kind === "variant" || dtype.kind === "resource") {
      throw new UnsupportedError(`partitioned ${dtype.name} tensors are not supported`, { file, key: name });
    }
    const pieces = this.#pieces(full);
    if (!isFixedSize(dtype)) {
      const total = pieces.reduce((a, p) => a + p.entry.proto.size, 0);
      if (total > MAX_MATERIALIZED_TENSOR_BYTES) {
        throw new LimitExceededError(
          `partitioned tensor of ${total} bytes exceeds MAX_MATERIALIZED_TENSOR_BYTES`,
          { file, key: name },
        );
      }
      const strings = new Array<Uint8Array>(numElements(shape));
      for (const p of pieces) {
        const t = await this.readStored(p.entry);
        if (t.kind === "string") copyStringSliceInto(strings, shape, p.ext.starts, p.ext.lengths, t.strings);
      }
      return { kind: "string", dtype, shape, strings };
    }
    const total = fixedByteSize(dtype, shape, { file, key: name }) as number;
    if (total > MAX_MATERIALIZED_TENSOR_BYTES) {
      throw new LimitExceededError(
        `partitioned tensor of ${total} bytes exceeds MAX_MATERIALIZED_TENSOR_BYTES`,
        { file, key: name },
      );
    }
    const data = new Uint8Array(total);
    for (const p of pieces) {
      const { bytes } = await this.#readRange(
        { key: `${name} [slice ${formatSlice(p.slice)}]`, entry: p.entry },
        true,
      );
      copySliceInto(data, shape, p.ext.starts, p.ext.lengths, bytes, dtype.itemSize);
    }
    return { kind: "fixed", dtype, shape, data };
  }

  async verify(onProgress?: ProgressFn): Promise<VerifyResult> {
    const failures: VerifyFailure[] = [];
    const ranges: DataRange[] = [];
    const named = this.#named;
    for (let i = 0; i < named.length; i++) {
      const entry = this.#entryCache.get(i) ?? named.entry(i);
      if (entry.proto.slices.length > 0) {
        try {
          this.#pieces(entry);
        } catch (e) {
          failures.push(toFailure(e, entry.key));
        }
      } else if (entry.dtype.kind !== "resource") {
        ranges.push({ key: entry.key, entry });
      }
    }
    for (const entry of this.#sliceEntries.values()) ranges.push({ key: entry.key, entry });
    const totalBytes = ranges.reduce((a, r) => a + r.entry.proto.size, 0);
    let done = 0;
    let okTensors = 0;
    let okBytes = 0;
    for (const range of ranges) {
      try {
        if (range.entry.dtype.kind === "variant") {
          await this.readStored(range.entry);
        } else if (range.key === OBJECT_GRAPH_PROTO_KEY && this.header.endianness === "little") {
          this.#graphTensor ??= this.readStored(range.entry);
          await this.#graphTensor;
        } else if (range.entry.dtype.kind === "string") {
          const { bytes, source } = await this.#readRange(range);
          decodeStringTensor(
            bytes,
            numElements(range.entry.shape),
            range.entry.proto.offset,
            range.entry.proto.crc32c,
            {
              file: source.name,
              key: range.key,
            },
          );
        } else {
          for await (const _ of this.#stream(range, STREAM_CHUNK_BYTES)) {
            // bytes are checked by the stream
          }
        }
        okTensors++;
        okBytes += range.entry.proto.size;
      } catch (e) {
        failures.push(toFailure(e, range.key));
      }
      done += range.entry.proto.size;
      onProgress?.(done, totalBytes);
    }
    return { tensorsChecked: okTensors, bytesChecked: okBytes, failures };
  }

  objectGraph(): Promise<ObjectGraph | undefined> {
    if (!this.objectBased) return Promise.resolve(undefined);
    if (this.#graph !== undefined) return this.#graph;
    const stored = this.#graphTensor; // read by verify: decoded once below, the bytes need not stay
    this.#graphTensor = undefined;
    this.#graph = readObjectGraph((key) => stored ?? this.readTensor(key), metaFilename(this.path));
    return this.#graph;
  }

  async close(): Promise<void> {
    await this.#index.close();
    for (const p of this.#shards.values()) {
      try {
        await (await p).close();
      } catch {
        // a shard that failed to open has nothing to close
      }
    }
    this.#shards.clear();
  }
}

/** The error for reading the values of a tensor whose dtype enum value tfckpt does not know. */
function unknownDtype(dtype: DTypeInfo, file: string, key: string): UnsupportedError {
  return new UnsupportedError(
    `dtype enum value ${dtype.enumValue} is unknown to tfckpt (a newer TensorFlow's dtype?): the tensor is listed but its values cannot be read`,
    { file, key },
  );
}

/** What {@link BundleReader.open} reads from the index: header, named entries, slice entries. */
interface BundleIndex {
  readonly header: BundleHeaderProto;
  readonly named: EntryTable;
  readonly sliceEntries: Map<string, BundleEntry>;
}

/**
 * Reads and checks every entry of the index table, one block at a time, into columns.
 * @throws CorruptCheckpointError, UnsupportedError, LimitExceededError naming file, key, offset
 */
async function readIndex(table: TableReader, file: string): Promise<BundleIndex> {
  let header: BundleHeaderProto | undefined;
  const named = new EntryTable();
  const sliceEntries = new Map<string, BundleEntry>();
  const scanner = new BlockScanner();
  const plain = new PlainEntryDecoder();
  for (const { handle } of table.index) {
    const offset = handle.offset;
    const block = await table.readBlock(handle);
    const n = scanner.scan(block, offset, file);
    const blockNo = named.blockOffsets.push(offset) - 1;
    for (let i = 0; i < n; i++) {
      const ks = scanner.keyStart[i] as number;
      const ke = ks + (scanner.keyLength[i] as number);
      const vs = scanner.valueStart[i] as number;
      const ve = vs + (scanner.valueLength[i] as number);
      if (header === undefined) {
        if (ke !== ks) {
          throw new CorruptCheckpointError(
            "unable to read file: failed to seek to header entry (first key is not the empty key)",
            { file, offset },
          );
        }
        header = checkHeader(
          decodeBundleHeader(block.subarray(vs, ve), { file, key: "", offset }),
          file,
          offset,
        );
      } else if (ke > ks && scanner.keys[ks] === 0) {
        const [hex, entry] = sliceEntry(
          scanner.keys.subarray(ks, ke),
          block.subarray(vs, ve),
          header,
          file,
          offset,
        );
        sliceEntries.set(hex, entry);
      } else {
        const name = keyName(scanner.keys, ks, ke, file, offset);
        if (!plain.decode(block, vs, ve) || !named.addPlain(name, plain, blockNo, header))
          named.addEntry(makeEntry(name, block.subarray(vs, ve), header, file, offset), blockNo);
      }
    }
  }
  if (header === undefined) {
    throw new CorruptCheckpointError("unable to read file: failed to seek to header entry (empty table)", {
      file,
    });
  }
  return { header, named, sliceEntries };
}

/** A tensor name from its key bytes `keys[start, end)`. @throws CorruptCheckpointError when not UTF-8 */
function keyName(keys: Buffer, start: number, end: number, file: string, offset: number): string {
  let ascii = true;
  for (let i = start; ascii && i < end; i++) ascii = (keys[i] as number) < 0x80;
  if (ascii) return keys.toString("latin1", start, end);
  try {
    return decodeUtf8(keys.subarray(start, end));
  } catch {
    throw new CorruptCheckpointError("tensor name is not UTF-8", {
      file,
      key: printableKey(keys.subarray(start, end)),
      offset,
    });
  }
}

/** A slice entry (its key starts with 0x00) and the hex of its key. */
function sliceEntry(
  rawKey: Uint8Array,
  value: Uint8Array,
  header: BundleHeaderProto,
  file: string,
  offset: number,
): [string, BundleEntry] {
  const printable = printableKey(rawKey);
  const { name, slice } = decodeSliceKey(rawKey, { file, key: printable, offset });
  const entry = makeEntry(`${name} [slice ${formatSlice(slice)}]`, value, header, file, offset);
  return [Buffer.from(rawKey).toString("hex"), { ...entry, slice: { fullName: name, slice } }];
}

function checkHeader(h: BundleHeaderProto, file: string, offset: number): BundleHeaderProto {
  if (h.numShards < 1 || h.numShards > MAX_SHARDS) {
    throw new CorruptCheckpointError(`bundle header has num_shards ${h.numShards}`, {
      file,
      key: "",
      offset,
    });
  }
  if (h.version.minConsumer > CONSUMER_VERSION || h.version.badConsumers.includes(CONSUMER_VERSION)) {
    throw new UnsupportedError(
      `bundle needs a newer reader (producer ${h.version.producer}, min_consumer ${h.version.minConsumer}); it was produced by a newer version of TensorFlow with format changes`,
      { file, key: "", offset },
    );
  }
  return h;
}

function makeEntry(
  key: string,
  value: Uint8Array,
  header: BundleHeaderProto,
  file: string,
  offset: number,
): BundleEntry {
  const loc = { file, key, offset };
  const proto = decodeBundleEntry(value, loc);
  const dtype = dtypeOfEntry(proto.dtype, loc);
  if (proto.shape.unknownRank) throw new CorruptCheckpointError("invalid tensor shape: unknown rank", loc);
  const shape = proto.shape.dims;
  const elements = numElements(shape, loc);
  if (proto.slices.length > 0) {
    if (proto.slices.length > MAX_SLICES_PER_TENSOR) {
      throw new LimitExceededError(
        `${proto.slices.length} slices exceed MAX_SLICES_PER_TENSOR (${MAX_SLICES_PER_TENSOR})`,
        loc,
      );
    }
    for (const s of proto.slices) sliceExtents(s, shape, loc);
    return { key, proto, dtype, shape, indexOffset: offset };
  }
  if (proto.shardId < 0 || proto.shardId >= header.numShards) {
    throw new CorruptCheckpointError(`entry refers to shard ${proto.shardId} of ${header.numShards}`, loc);
  }
  const expected = fixedByteSize(dtype, shape, loc);
  if (expected !== undefined && expected !== proto.size) {
    throw new CorruptCheckpointError(
      `invalid size in bundle entry: stored size ${proto.size}; expected size ${expected} (${dtype.name}[${shape.join(", ")}])`,
      loc,
    );
  }
  if (dtype.kind === "string" && proto.size < elements + 4) {
    throw new CorruptCheckpointError(
      `invalid size in bundle entry: stored size ${proto.size}; a string tensor of ${elements} elements needs at least ${elements + 4}`,
      loc,
    );
  }
  return { key, proto, dtype, shape, indexOffset: offset };
}

/**
 * Checks that slices tile the tensor exactly (no shared element, no gap); see
 * {@link findTilingProblem} for the cost.
 * @throws CorruptCheckpointError naming the tensor and, for an overlap, both slices
 */
function checkCoverage(
  pieces: ReadonlyArray<{ ext: SliceExtents; slice: TensorSliceProto }>,
  shape: readonly number[],
  loc: { file?: string; key: string },
): void {
  const problem = findTilingProblem(
    pieces.map((p) => p.ext),
    shape,
    loc,
  );
  if (problem === undefined) return;
  if (problem.kind === "overlap") {
    const a = formatSlice((pieces[problem.a] as { slice: TensorSliceProto }).slice);
    const b = formatSlice((pieces[problem.b] as { slice: TensorSliceProto }).slice);
    throw new CorruptCheckpointError(`partitioned tensor has overlapping slices: ${b} overlaps ${a}`, loc);
  }
  throw new CorruptCheckpointError(
    `does not have sufficient slices for partitioned tensor: slices cover ${problem.covered} of ${problem.total} elements`,
    loc,
  );
}
