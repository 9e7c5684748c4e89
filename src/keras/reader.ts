/**
 * Reads Keras 3 weights files, `.weights.h5` and the weights inside `.keras` archives, through the
 * same {@link CheckpointReader} contract as TF checkpoints. Every HDF5 dataset is a variable named
 * by its path (`layers/dense/vars/0`, `optimizer/vars/2`), as Keras 3's `H5IOStore` lays them out
 * (`keras/src/saving/saving_lib.py`: `_save_state` makes `<inner path>/vars` per saveable and
 * `save_own_variables` stores its variables as datasets `0`, `1`, … in variable order).
 *
 * @module
 */
import { extname } from "node:path";
import { LimitExceededError, NotFoundError, UnsupportedError } from "../errors.js";
import { MAX_MATERIALIZED_TENSOR_BYTES } from "../limits.js";
import {
  type H5Entry,
  type KerasLayout,
  type ProgressFn,
  toFailure,
  type VariableInfo,
  type VerifyFailure,
  type VerifyResult,
} from "../reader.js";
import { type FixedTensor, fixedByteSize, numElements } from "../tensor.js";
import { removeUnpacked, type UnpackedArchive, unpackKerasArchive } from "./archive.js";
import { H5Reader } from "./hdf5.js";

/** True when `path` names a Keras weights file by its extension (`.h5`, `.hdf5`, `.keras`). */
export function isKerasPath(path: string): boolean {
  const e = extname(path).toLowerCase();
  return e === ".h5" || e === ".hdf5" || e === ".keras";
}

type DatasetEntry = Extract<H5Entry, { kind: "dataset" }>;

/** A Keras weights file opened for reading. */
export class KerasWeightsReader {
  readonly format = "keras-h5" as const;
  readonly path: string;
  readonly files: readonly string[];
  readonly shards = 1;
  readonly objectBased = false;
  readonly layout: KerasLayout;
  readonly #h5: H5Reader;
  readonly #unpacked: UnpackedArchive | undefined;
  readonly #vars: Map<string, { entry: DatasetEntry; info: VariableInfo }>;
  readonly #list: VariableInfo[];

  private constructor(
    path: string,
    h5: H5Reader,
    layout: KerasLayout,
    unpacked: UnpackedArchive | undefined,
  ) {
    this.path = path;
    this.files = [path];
    this.#h5 = h5;
    this.layout = layout;
    this.#unpacked = unpacked;
    this.#vars = new Map();
    for (const e of layout.entries) {
      if (e.kind !== "dataset") continue;
      const info: VariableInfo = {
        name: e.path,
        dtype: e.dtype,
        shape: e.shape,
        bytes: fixedByteSize(e.dtype, e.shape, { file: path, key: e.path }) ?? 0,
        slices: undefined,
      };
      this.#vars.set(e.path, { entry: e, info });
    }
    const enc = new TextEncoder();
    this.#list = [...this.#vars.values()]
      .map((v) => v.info)
      .sort((a, b) => Buffer.compare(enc.encode(a.name), enc.encode(b.name)));
  }

  /**
   * Opens a `.weights.h5` (any HDF5 file of numeric datasets) or a `.keras` archive (its
   * `model.weights.h5` is extracted to a temporary directory, removed on {@link close}).
   * @throws NotFoundError; CorruptCheckpointError for a file HDF5 or ZIP cannot read;
   *         UnsupportedError for a dataset of a type Keras never writes (strings, compounds)
   */
  static async open(path: string): Promise<KerasWeightsReader> {
    const isArchive = extname(path).toLowerCase() === ".keras";
    const unpacked = isArchive ? await unpackKerasArchive(path) : undefined;
    try {
      const h5 = await H5Reader.open(unpacked?.weightsPath ?? path);
      try {
        const entries = h5.entries();
        const layout: KerasLayout = {
          entries,
          ...(unpacked !== undefined ? { archive: unpacked.entries } : {}),
        };
        return new KerasWeightsReader(path, h5, layout, unpacked);
      } catch (e) {
        h5.close();
        throw e;
      }
    } catch (e) {
      if (unpacked !== undefined) removeUnpacked(unpacked);
      throw e;
    }
  }

  /** Every dataset as a variable, in bytewise path order. */
  list(): readonly VariableInfo[] {
    return this.#list;
  }

  get(name: string): VariableInfo | undefined {
    return this.#vars.get(name)?.info;
  }

  #entry(name: string): DatasetEntry {
    const v = this.#vars.get(name);
    if (v === undefined)
      throw new NotFoundError(`no dataset ${JSON.stringify(name)}`, { file: this.path, key: name });
    return v.entry;
  }

  /**
   * Reads one whole dataset as a little-endian row-major tensor.
   * @throws NotFoundError; LimitExceededError above {@link MAX_MATERIALIZED_TENSOR_BYTES};
   *         CorruptCheckpointError when HDF5 cannot read it
   */
  async readTensor(name: string): Promise<FixedTensor> {
    const e = this.#entry(name);
    const loc = { file: this.path, key: name };
    const bytes = fixedByteSize(e.dtype, e.shape, loc) ?? 0;
    if (bytes > MAX_MATERIALIZED_TENSOR_BYTES)
      throw new LimitExceededError(`tensor of ${bytes} bytes exceeds ${MAX_MATERIALIZED_TENSOR_BYTES}`, loc);
    if (e.dtype.itemSize === undefined) throw new UnsupportedError(`${e.dtype.name} dataset`, loc);
    return {
      kind: "fixed",
      dtype: e.dtype,
      shape: e.shape,
      data: this.#h5.read(name, e.shape, e.dtype.itemSize),
    };
  }

  /** The {@link CheckpointReader.streamWhole} capability: a whole dataset as {@link streamRows}. */
  streamWhole(name: string): AsyncGenerator<Uint8Array> {
    return this.streamRows(name);
  }

  /**
   * Streams one dataset in row slabs of about `chunkBytes` bytes (whole rows; one slab for a
   * scalar), so that a tensor larger than memory can be copied.
   * @throws as {@link readTensor}, per slab
   */
  async *streamRows(name: string, chunkBytes = 16 << 20): AsyncGenerator<Uint8Array> {
    const e = this.#entry(name);
    const item = e.dtype.itemSize as number;
    if (e.shape.length === 0) {
      yield this.#h5.read(name, e.shape, item);
      return;
    }
    const rows = e.shape[0] as number;
    const rowBytes = numElements(e.shape.slice(1)) * item;
    const step = Math.max(1, Math.floor(chunkBytes / Math.max(1, rowBytes)));
    for (let r = 0; r < rows; r += step)
      yield this.#h5.read(name, e.shape, item, r, Math.min(step, rows - r));
  }

  /**
   * Reads every dataset (HDF5 keeps no checksums in Keras files: a read that succeeds is the
   * check). Never throws for bad data.
   */
  async verify(onProgress?: ProgressFn): Promise<VerifyResult> {
    const failures: VerifyFailure[] = [];
    const total = this.#list.reduce((a, v) => a + v.bytes, 0);
    let done = 0;
    let checked = 0;
    let tensors = 0;
    for (const v of this.#list) {
      try {
        for await (const part of this.streamRows(v.name)) {
          done += part.length;
          onProgress?.(done, total);
        }
        checked += v.bytes;
        tensors++;
      } catch (e) {
        failures.push(toFailure(e, v.name));
      }
    }
    return { tensorsChecked: tensors, bytesChecked: checked, failures };
  }

  /** The {@link CheckpointReader.kerasLayout} capability: {@link layout}. */
  kerasLayout(): KerasLayout {
    return this.layout;
  }

  /** Keras weights files have no object graph. */
  async objectGraph(): Promise<undefined> {
    return undefined;
  }

  async close(): Promise<void> {
    this.#h5.close();
    if (this.#unpacked !== undefined) removeUnpacked(this.#unpacked);
  }
}
