/**
 * The one reading interface every checkpoint format implements (V2 bundles, V1 tensor-slice
 * files), as TensorFlow's `CheckpointReader` does (`tensorflow/c/checkpoint_reader.cc`).
 *
 * @module
 */
import type { DTypeInfo } from "./dtypes.js";
import { TfckptError } from "./errors.js";
import type { ObjectGraph } from "./graph/object-graph.js";
import type { TensorSliceProto, VersionDef } from "./proto/index.js";
import type { Tensor } from "./tensor.js";

/** One variable (checkpoint key) as `tf.train.list_variables` shows it, plus storage details. */
export interface VariableInfo {
  /** Checkpoint key, e.g. `dense/kernel` or `model/layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE`. */
  readonly name: string;
  readonly dtype: DTypeInfo;
  /** Full shape (elements per dimension); `[]` for a scalar. */
  readonly shape: readonly number[];
  /**
   * Bytes of the tensor: for fixed-size dtypes elements × itemSize; for strings and variants the
   * stored size from the index (V2; summed over the slices of a partitioned one), or 0 (V1 and
   * Keras, whose string sizes are not known without reading the values).
   */
  readonly bytes: number;
  /** The stored slices of a partitioned variable; undefined for an ordinary one. */
  readonly slices: readonly TensorSliceProto[] | undefined;
}

/** One problem found by {@link CheckpointReader.verify}. */
export interface VerifyFailure {
  readonly key: string | undefined;
  readonly file: string | undefined;
  readonly offset: number | undefined;
  readonly code: string;
  readonly message: string;
}

/** Result of a full integrity pass. */
export interface VerifyResult {
  /** Tensors read and found good. */
  readonly tensorsChecked: number;
  /** Bytes of the tensors found good (V2: tensor bytes; V1: table values). */
  readonly bytesChecked: number;
  readonly failures: readonly VerifyFailure[];
}

/** What a progress count counts. */
export type ProgressUnit = "bytes" | "tensors";

/**
 * Progress callback: amount done and total of the current pass, in `unit` (bytes when not
 * given; a V1 verify counts tensors).
 */
export type ProgressFn = (done: number, total: number, unit?: ProgressUnit) => void;

/**
 * What a reader reads: `v2` (tensor bundle), `v1` (tensor slices), or `keras-h5` (a Keras 3
 * `.weights.h5`, or the weights of a `.keras` archive; see `src/keras/`).
 */
export type CheckpointFormat = "v1" | "v2" | "keras-h5";

/** A checkpoint opened for reading. */
export interface CheckpointReader {
  readonly format: CheckpointFormat;
  /** The checkpoint prefix (V2) or V1 file pattern. */
  readonly path: string;
  /** Files the checkpoint consists of (index first for V2). */
  readonly files: readonly string[];
  /** Number of data shards (V2) or V1 files. */
  readonly shards: number;
  /** True when the checkpoint holds a `_CHECKPOINTABLE_OBJECT_GRAPH` entry. */
  readonly objectBased: boolean;
  /** Every variable, in bytewise key order (`tf.train.list_variables` order). */
  list(): readonly VariableInfo[];
  /** The variable named `name`, or undefined. */
  get(name: string): VariableInfo | undefined;
  /**
   * Reads and verifies one whole tensor (partitioned ones reassembled).
   * @throws NotFoundError for an unknown name; CorruptCheckpointError, ChecksumMismatchError,
   *         TruncatedFileError, UnsupportedError (resource), LimitExceededError; variant tensors come back opaque
   */
  readTensor(name: string): Promise<Tensor>;
  /**
   * Optional capability: the little-endian bytes of a whole fixed-size tensor as a stream, so a
   * copy never materialises it; undefined when this tensor's layout cannot be streamed (read it
   * with {@link readTensor}). V2 bundles stream a tensor stored whole or partitioned by rows
   * (`src/bundle/reader.ts`); Keras weights stream row slabs (`src/keras/reader.ts`); V1 readers
   * leave it out.
   * @throws as {@link readTensor}, while iterating
   */
  streamWhole?(name: string): AsyncGenerator<Uint8Array> | undefined;
  /**
   * Optional capability: one stored slice of a partitioned variable, with the slice's shape;
   * `index` counts the variable's {@link VariableInfo.slices}. V1 readers have it
   * (`src/v1/reader.ts`), so a rewrite can keep V1 slices as slices.
   * @throws NotFoundError for an unknown name or index; as {@link readTensor}
   */
  readSlice?(name: string, index: number): Promise<Tensor>;
  /**
   * Optional capability: the checkpoint as it is stored, entry by entry, so a rewrite can
   * reproduce it byte for byte. V2 bundles have it (`src/bundle/stored-layout.ts`).
   */
  storedLayout?(): StoredLayout;
  /**
   * Optional capability: where the tensor `name` is stored whole, as one byte range of one data
   * file with its stored masked CRC32C, so a copy can reuse the CRC or point into (link) the
   * source file; undefined when it is not stored so (partitioned, big-endian, a `resource` or
   * unknown dtype, an unknown name). V2 bundles have it (`BundleReader.storedWhole` in
   * `src/bundle/reader.ts`); V1 and Keras readers leave it out.
   */
  storedTensor?(name: string): StoredTensor | undefined;
  /**
   * Optional capability, with {@link storedTensor}: verifies the stored bytes of `tensors` (from
   * {@link storedTensor}, in any of the data files) against their masked CRC32C, reading each
   * data file that holds some of them front to back (`BundleReader.checkEntries`); a tensor listed
   * twice is checked once.
   * @throws ChecksumMismatchError naming the first bad tensor; NotFoundError for a tensor this
   *         reader does not store whole; CorruptCheckpointError, TruncatedFileError
   */
  checkStored?(tensors: readonly StoredTensor[]): Promise<void>;
  /**
   * Optional capability: the structure of a Keras 3 weights file, which a Keras target and writer
   * reproduce. Keras readers have it (`src/keras/reader.ts`).
   */
  kerasLayout?(): KerasLayout;
  /** Reads every byte and checks every checksum; never throws for bad data, reports it. */
  verify(onProgress?: ProgressFn): Promise<VerifyResult>;
  /**
   * The decoded object graph of an object-based checkpoint, else undefined. Readers decode it
   * with `readObjectGraph` (`src/graph/object-graph.ts`), the one decoder.
   * @throws CorruptCheckpointError, LimitExceededError, and what {@link readTensor} throws
   */
  objectGraph(): Promise<ObjectGraph | undefined>;
  /** Closes every open file. */
  close(): Promise<void>;
}

export { OBJECT_GRAPH_PROTO_KEY } from "./graph/keys.js";

/** One entry with data of its own, as a checkpoint stores it: a whole tensor or one slice of a partitioned one. */
export interface StoredEntry {
  /** Tensor name, or for a slice the printable form of its slice key. */
  readonly key: string;
  readonly dtype: DTypeInfo;
  /** The stored shape (a slice's own shape for a slice). */
  readonly shape: readonly number[];
  /** Data shard holding the bytes. */
  readonly shard: number;
  /** Stored bytes. */
  readonly size: number;
  /** For a slice: the partitioned tensor's name and the slice. */
  readonly slice: { readonly fullName: string; readonly slice: TensorSliceProto } | undefined;
  /**
   * The stored bytes as they are, in chunks; a fixed-size entry's CRC is checked after the last
   * chunk (the final `next()` throws ChecksumMismatchError).
   */
  stream(): AsyncGenerator<Uint8Array>;
  /** The entry's values, read and verified (a V2 bundle's `BundleReader::GetValue`). */
  read(): Promise<Tensor>;
}

/** How a checkpoint is stored (the {@link CheckpointReader.storedLayout} capability). */
export interface StoredLayout {
  /** The header's version (`BundleHeaderProto.version`). */
  readonly version: VersionDef;
  readonly endianness: "little" | "big";
  /** Every entry with data of its own, in data order: by shard, then offset. */
  entries(): StoredEntry[];
  /** True when the index blocks read so far were Snappy-compressed (ask after {@link entries}). */
  indexSnappy(): boolean;
}

/**
 * A tensor stored whole, as one byte range of one data file (the {@link CheckpointReader.storedTensor}
 * capability): its bytes and masked CRC32C can be reused as they are. Mirrors the fields of a V2
 * `BundleEntryProto` (`tensorflow/core/protobuf/tensor_bundle.proto`).
 */
export interface StoredTensor {
  /** Tensor name (checkpoint key). */
  readonly key: string;
  readonly dtype: DTypeInfo;
  /** Full shape (elements per dimension); `[]` for a scalar. */
  readonly shape: readonly number[];
  /** Data shard holding the bytes (`shard_id`). */
  readonly shard: number;
  /** Path of that data shard's file. */
  readonly file: string;
  /** Byte offset in {@link file}. */
  readonly offset: number;
  /** Stored bytes. */
  readonly size: number;
  /** The stored masked CRC32C of the bytes (`crc32c`). */
  readonly crc32c: number;
}

/** One HDF5 object below the root, by its path without the leading `/` (`layers/dense/vars/0`). */
export type H5Entry =
  | { readonly kind: "group"; readonly path: string; readonly attrs: Readonly<Record<string, string>> }
  | {
      readonly kind: "dataset";
      readonly path: string;
      readonly dtype: DTypeInfo;
      readonly shape: readonly number[];
      readonly attrs: Readonly<Record<string, string>>;
    };

/**
 * The structure of a Keras weights file: what a writer reproduces from a template (the
 * {@link CheckpointReader.kerasLayout} capability). Mirrors Keras 3's `H5IOStore` layout
 * (`keras/src/saving/saving_lib.py`).
 */
export interface KerasLayout {
  /** Every group (the root as `""`) and dataset with its string attributes, in HDF5 name order. */
  readonly entries: readonly H5Entry[];
  /** For a `.keras` archive: its entries other than the weights (`metadata.json`, `config.json`, assets). */
  readonly archive?: ReadonlyArray<{ readonly name: string; readonly data: Uint8Array }>;
}

/** Turns any error from a tensor read into a {@link VerifyFailure} (the key falls back to `key`). */
export function toFailure(e: unknown, key: string): VerifyFailure {
  if (e instanceof TfckptError) {
    return { key: e.key ?? key, file: e.file, offset: e.offset, code: e.code, message: e.message };
  }
  return {
    key,
    file: undefined,
    offset: undefined,
    code: "internal",
    message: e instanceof Error ? e.message : String(e),
  };
}
