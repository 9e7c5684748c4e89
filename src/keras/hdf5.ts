/**
 * HDF5 through h5wasm (the HDF5 C library compiled to WebAssembly; host files through Emscripten's
 * NODERAWFS), loaded lazily: only the Keras features pay for it. This module is the one place that
 * talks to h5wasm; it exposes HDF5 as Keras 3's saving library uses it through h5py
 * (`keras/src/saving/saving_lib.py`, `H5IOStore`): groups with string attributes, and datasets of
 * fixed-size numbers stored little-endian.
 *
 * @module
 */
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { type DTypeInfo, dtypeFromName } from "../dtypes.js";
import { CorruptCheckpointError, NotFoundError, TfckptError, UnsupportedError } from "../errors.js";
import type { H5Entry } from "../reader.js";

type H5Wasm = typeof import("h5wasm/node");
type H5Module = Awaited<H5Wasm["ready"]>;
type Metadata = ReturnType<H5Module["get_dataset_metadata"]>;

let loading: Promise<{ h5: H5Wasm; M: H5Module }> | undefined;

/** Loads h5wasm once (its WebAssembly module is compiled on first use, ~100 ms). */
async function h5wasm(): Promise<{ h5: H5Wasm; M: H5Module }> {
  loading ??= (async () => {
    const h5 = await import("h5wasm/node");
    const M = await h5.ready;
    return { h5, M };
  })();
  return loading;
}

/** The HDF5 file signature (`H5Fsuper.c`: `\x89HDF\r\n\x1a\n`). */
const SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * True when `path` holds an HDF5 superblock signature at offset 0 or at 512, 1024, 2048, …
 * (where HDF5 searches for it, `H5FD_locate_signature`). Checked before h5wasm opens a file:
 * HDF5 reports a bad file only on stderr, and h5wasm returns a negative id instead of throwing.
 */
export function hasHdf5Signature(path: string): boolean {
  const size = statSync(path).size;
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.alloc(8);
    for (let off = 0; off + 8 <= size; off = off === 0 ? 512 : off * 2) {
      if (readSync(fd, buf, 0, 8, off) === 8 && SIGNATURE.every((b, i) => buf[i] === b)) return true;
    }
    return false;
  } finally {
    closeSync(fd);
  }
}

/** HDF5 type classes (`H5Tpublic.h`, `H5T_class_t`). */
const H5T_INTEGER = 0;
const H5T_FLOAT = 1;
const H5T_STRING = 3;
const H5T_OPAQUE = 5;
const H5T_ENUM = 8;

/**
 * The TF dtype of an HDF5 dataset as h5py and Keras store NumPy arrays: IEEE floats of 2/4/8
 * bytes, integers of 1/2/4/8 bytes, NumPy bool as h5py's 1-byte enum, and bfloat16 as a 2-byte
 * opaque type with a `dtype="bfloat16"` attribute (`H5IOStore.__setitem__`).
 * @throws UnsupportedError for any other type (strings, compounds, references, …)
 */
function dtypeOf(md: Metadata, attrs: Record<string, string>, path: string, file: string): DTypeInfo {
  const t = md.type;
  const s = md.size;
  if (t === H5T_FLOAT && (s === 2 || s === 4 || s === 8))
    return dtypeFromName(s === 2 ? "float16" : s === 4 ? "float32" : "float64");
  if (t === H5T_INTEGER && (s === 1 || s === 2 || s === 4 || s === 8))
    return dtypeFromName(`${md.signed ? "int" : "uint"}${s * 8}`);
  if (t === H5T_ENUM && s === 1) return dtypeFromName("bool");
  if (t === H5T_OPAQUE && s === 2 && attrs.dtype === "bfloat16") return dtypeFromName("bfloat16");
  throw new UnsupportedError(`HDF5 dataset of type class ${t} and ${s}-byte elements is not a Keras weight`, {
    file,
    key: path,
  });
}

/**
 * An HDF5 file opened for reading. Paths are relative to the root, without a leading `/`.
 */
export class H5Reader {
  readonly path: string;
  readonly #M: H5Module;
  readonly #file: InstanceType<H5Wasm["File"]>;
  #closed = false;

  private constructor(path: string, M: H5Module, file: InstanceType<H5Wasm["File"]>) {
    this.path = path;
    this.#M = M;
    this.#file = file;
  }

  /**
   * Opens `path` read-only.
   * @throws NotFoundError for a missing file; CorruptCheckpointError when it is not HDF5 or HDF5
   *         cannot open it
   */
  static async open(path: string): Promise<H5Reader> {
    let sig: boolean;
    try {
      sig = hasHdf5Signature(path);
    } catch {
      throw new NotFoundError(`no such file`, { file: path });
    }
    if (!sig) throw new CorruptCheckpointError("not an HDF5 file (no superblock signature)", { file: path });
    const { h5, M } = await h5wasm();
    const f = new h5.File(path, "r");
    if (f.file_id < 0n) throw new CorruptCheckpointError("HDF5 could not open the file", { file: path });
    return new H5Reader(path, M, f);
  }

  #attrs(path: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const name of this.#M.get_attribute_names(this.#file.file_id, `/${path}`)) {
      const md = this.#M.get_attribute_metadata(this.#file.file_id, `/${path}`, name);
      if (md.type !== H5T_STRING) continue;
      const obj = path === "" ? this.#file : this.#file.get(path);
      const v = obj !== null && "attrs" in obj ? obj.attrs[name]?.value : undefined;
      if (typeof v === "string") out[name] = v;
    }
    return out;
  }

  /**
   * Every group and dataset below the root, in HDF5's name order (h5py's iteration order), and
   * the root's own attributes under path `""`.
   * @throws CorruptCheckpointError when HDF5 cannot walk the file; UnsupportedError for a dataset
   *         whose type is not a Keras weight's
   */
  entries(): H5Entry[] {
    const M = this.#M;
    const id = this.#file.file_id;
    const out: H5Entry[] = [{ kind: "group", path: "", attrs: this.#guard("", () => this.#attrs("")) }];
    const names = this.#guard("", () => M.get_names(id, "/", true));
    for (const p of names) {
      const type = this.#guard(p, () => M.get_type(id, `/${p}`));
      const attrs = this.#guard(p, () => this.#attrs(p));
      if (type === M.H5O_TYPE_GROUP) out.push({ kind: "group", path: p, attrs });
      else if (type === M.H5O_TYPE_DATASET) {
        const md = this.#guard(p, () => M.get_dataset_metadata(id, `/${p}`));
        out.push({
          kind: "dataset",
          path: p,
          dtype: dtypeOf(md, attrs, p, this.path),
          shape: md.shape ?? [],
          attrs,
        });
      }
    }
    return out;
  }

  /**
   * Reads `count` rows from row `start` of a dataset (the whole dataset without them) as raw
   * little-endian bytes, row-major.
   * @throws CorruptCheckpointError when HDF5 fails to read it
   */
  read(path: string, shape: readonly number[], itemSize: number, start?: number, count?: number): Uint8Array {
    const M = this.#M;
    const rows = shape.length === 0 ? 1 : (shape[0] as number);
    const rowElems = shape.slice(1).reduce((a, b) => a * b, 1);
    const from = start ?? 0;
    const n = count ?? rows - from;
    const bytes = n * rowElems * itemSize;
    const md = this.#guard(path, () => M.get_dataset_metadata(this.#file.file_id, `/${path}`));
    if (bytes === 0) return new Uint8Array(0);
    const ptr = M._malloc(bytes);
    if (ptr === 0)
      throw new CorruptCheckpointError(`cannot allocate ${bytes} bytes in HDF5's heap`, { key: path });
    try {
      const sel = start === undefined || shape.length === 0;
      const status = this.#guard(path, () =>
        M.get_dataset_data(
          this.#file.file_id,
          `/${path}`,
          sel ? null : [BigInt(n), ...shape.slice(1).map(BigInt)],
          sel ? null : [BigInt(from), ...shape.slice(1).map(() => 0n)],
          sel ? null : shape.map(() => 1n),
          BigInt(ptr),
        ),
      );
      if (status < 0)
        throw new CorruptCheckpointError("HDF5 could not read the dataset", { file: this.path, key: path });
      const out = M.HEAPU8.slice(ptr, ptr + bytes);
      // Opaque (bfloat16) and enum (bool) types have no byte order of their own: never swapped.
      const ordered = md.type === H5T_INTEGER || md.type === H5T_FLOAT;
      if (ordered && !md.littleEndian && itemSize > 1) swapInPlace(out, itemSize);
      return out;
    } finally {
      M._free(ptr);
    }
  }

  #guard<T>(key: string, f: () => T): T {
    try {
      return f();
    } catch (e) {
      if (e instanceof TfckptError) throw e;
      throw new CorruptCheckpointError(`HDF5: ${e instanceof Error ? e.message : String(e)}`, {
        file: this.path,
        key,
      });
    }
  }

  /** Closes the file (idempotent). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#file.close();
  }
}

function swapInPlace(b: Uint8Array, unit: number): void {
  for (let i = 0; i + unit <= b.length; i += unit) b.subarray(i, i + unit).reverse();
}

const WRITABLE = new Set([
  "float32",
  "float64",
  "int8",
  "int16",
  "int32",
  "int64",
  "uint8",
  "uint16",
  "uint32",
  "uint64",
]);

/**
 * True for the dtypes h5wasm 0.10 can create datasets of (its `create_h5_datatype_from_metadata`:
 * 4- and 8-byte IEEE floats and 1/2/4/8-byte integers; not float16, bfloat16 or bool).
 */
export function writableDtype(d: DTypeInfo): boolean {
  return WRITABLE.has(d.name);
}

/**
 * An HDF5 file being written (a new file; the caller renames it into place).
 */
export class H5Writer {
  readonly path: string;
  readonly #M: H5Module;
  readonly #file: InstanceType<H5Wasm["File"]>;
  #closed = false;

  private constructor(path: string, M: H5Module, file: InstanceType<H5Wasm["File"]>) {
    this.path = path;
    this.#M = M;
    this.#file = file;
  }

  /** Creates (truncates) `path`. @throws CorruptCheckpointError when HDF5 cannot create it */
  static async create(path: string): Promise<H5Writer> {
    const { h5, M } = await h5wasm();
    // h5py opens files with libver ("earliest", latest); so does this writer (h5wasm defaults to v108).
    const f = new h5.File(path, "w", { libver: ["earliest", "v114"] });
    if (f.file_id < 0n) throw new CorruptCheckpointError("HDF5 could not create the file", { file: path });
    return new H5Writer(path, M, f);
  }

  /** Creates the group at `path` (its parent must exist). */
  group(path: string): void {
    this.#check(path, this.#M.create_group(this.#file.file_id, `/${path}`, false));
  }

  /** Sets a scalar variable-length UTF-8 string attribute, as h5py stores a Python `str`. */
  attr(path: string, name: string, value: string): void {
    const obj = path === "" ? this.#file : this.#file.get(path);
    if (obj === null || !("create_attribute" in obj))
      throw new CorruptCheckpointError("no object to set an attribute on", { file: this.path, key: path });
    obj.create_attribute(name, value);
  }

  #metadata(dtype: DTypeInfo, path: string): { type: number; size: number; signed: boolean } {
    if (!writableDtype(dtype) || dtype.itemSize === undefined)
      throw new UnsupportedError(`h5wasm cannot write ${dtype.name} datasets`, {
        file: this.path,
        key: path,
      });
    return {
      type: dtype.kind === "float" ? H5T_FLOAT : H5T_INTEGER,
      size: dtype.itemSize,
      signed: dtype.kind === "int",
    };
  }

  #withHeap<T>(bytes: Uint8Array, f: (ptr: bigint) => T): T {
    const M = this.#M;
    const ptr = M._malloc(Math.max(1, bytes.length));
    if (ptr === 0)
      throw new CorruptCheckpointError(`cannot allocate ${bytes.length} bytes in HDF5's heap`, {
        file: this.path,
      });
    try {
      M.HEAPU8.set(bytes, ptr);
      return f(BigInt(ptr));
    } finally {
      M._free(ptr);
    }
  }

  #create(
    path: string,
    dtype: DTypeInfo,
    shape: readonly number[],
    maxshape: readonly number[],
    chunks: readonly number[] | null,
    data: Uint8Array,
  ): void {
    const md = this.#metadata(dtype, path);
    const status = this.#withHeap(data, (ptr) =>
      this.#M.create_dataset(this.#file.file_id, `/${path}`, ptr, {
        ...md,
        vlen: false,
        littleEndian: true,
        total_size: shape.reduce((a, b) => a * b, 1),
        shape: shape.map(BigInt),
        maxshape: maxshape.map(BigInt),
        chunks: chunks === null ? null : chunks.map(BigInt),
        compression: 0,
        compression_opts: [],
        track_order: false,
      } as unknown as Parameters<H5Module["create_dataset"]>[3]),
    );
    this.#check(path, status);
  }

  /** Creates a contiguous dataset holding `data` (little-endian, row-major), as h5py does. */
  dataset(path: string, dtype: DTypeInfo, shape: readonly number[], data: Uint8Array): void {
    this.#create(path, dtype, shape, shape, null, data);
  }

  /**
   * Creates a chunked dataset of `shape` (rank ≥ 1) that starts with zero rows; fill it with
   * {@link appendRows}. h5wasm creates a dataset only with all its data, so a tensor too large to
   * hold at once is stored chunked (`chunkRows` rows a chunk) and grown row slab by row slab.
   */
  chunkedDataset(path: string, dtype: DTypeInfo, shape: readonly number[], chunkRows: number): void {
    const start = [0, ...shape.slice(1)];
    this.#create(path, dtype, start, shape, [Math.max(1, chunkRows), ...shape.slice(1)], new Uint8Array(0));
  }

  /** Appends `rows` rows (`data`, row-major) to a chunked dataset that holds `have` rows. */
  appendRows(path: string, shape: readonly number[], have: number, rows: number, data: Uint8Array): void {
    const M = this.#M;
    const id = this.#file.file_id;
    const rest = shape.slice(1).map(BigInt);
    this.#check(path, M.resize_dataset(id, `/${path}`, [BigInt(have + rows), ...rest]));
    const status = this.#withHeap(data, (ptr) =>
      M.set_dataset_data(
        id,
        `/${path}`,
        [BigInt(rows), ...rest],
        [BigInt(have), ...rest.map(() => 0n)],
        shape.map(() => 1n),
        ptr,
      ),
    );
    this.#check(path, status);
  }

  #check(path: string, status: number): void {
    if (status < 0) throw new CorruptCheckpointError("HDF5 failed to write", { file: this.path, key: path });
  }

  /** Flushes and closes the file (idempotent). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#file.close();
  }
}
