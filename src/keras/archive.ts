/**
 * The `.keras` archive: a ZIP holding `metadata.json`, `config.json` and `model.weights.h5`
 * (plus `assets/…` for layers with assets), entries stored uncompressed, as Keras 3's
 * `saving_lib._save_model_to_fileobj` writes them. Read and written in streams through fflate, so
 * no archive is ever held in memory whole.
 *
 * @module
 */
import { mkdtempSync, rmSync } from "node:fs";
import { open } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type * as Fflate from "fflate";
import { CorruptCheckpointError, LimitExceededError, NotFoundError } from "../errors.js";
import type { PendingFile } from "../io/atomic.js";
import { fsError } from "../io/byte-source.js";

/** fflate, loaded on first use: only `.keras` archives need it, not every run that imports this. */
let fflateModule: typeof Fflate | undefined;
function fflate(): typeof Fflate {
  fflateModule ??= createRequire(import.meta.url)("fflate") as typeof Fflate;
  return fflateModule;
}

/** Name of the weights file inside a `.keras` archive (`saving_lib._VARS_FNAME_H5`). */
export const KERAS_WEIGHTS_ENTRY = "model.weights.h5";
/** Name of the model config inside a `.keras` archive (`saving_lib._CONFIG_FILENAME`). */
export const KERAS_CONFIG_ENTRY = "config.json";
/** Name of the metadata inside a `.keras` archive (`saving_lib._METADATA_FILENAME`). */
export const KERAS_METADATA_ENTRY = "metadata.json";

/** Largest small entry (config, metadata, an asset) read into memory: 256 MiB. */
const MAX_SMALL_ENTRY_BYTES = 256 << 20;
const READ_CHUNK = 1 << 20;
/** Signature of a ZIP local file header, `PK\x03\x04` (APPNOTE.TXT 4.3.7). */
const ZIP_LOCAL_HEADER = 0x04034b50;

/** A `.keras` archive unpacked: the weights as a temporary file, the other entries in memory. */
export interface UnpackedArchive {
  /** The extracted `model.weights.h5` (inside {@link dir}). */
  readonly weightsPath: string;
  /** Every other entry, in archive order (`metadata.json`, `config.json`, assets). */
  readonly entries: ReadonlyArray<{ readonly name: string; readonly data: Uint8Array }>;
  /** The temporary directory; remove it with {@link removeUnpacked}. */
  readonly dir: string;
}

/**
 * Unpacks the `.keras` archive at `path`: `model.weights.h5` streamed to a temporary file, other
 * entries read into memory.
 * @throws NotFoundError for a missing file or an archive without `model.weights.h5`;
 *         CorruptCheckpointError for a bad ZIP; LimitExceededError for an oversized small entry
 */
export async function unpackKerasArchive(path: string): Promise<UnpackedArchive> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, "r");
  } catch (e) {
    throw fsError(e, path);
  }
  const dir = mkdtempSync(join(tmpdir(), "tfckpt-keras-"));
  const weightsPath = join(dir, KERAS_WEIGHTS_ENTRY);
  const entries: Array<{ name: string; data: Uint8Array }> = [];
  let out: Awaited<ReturnType<typeof open>> | undefined;
  try {
    out = await open(weightsPath, "wx");
    const pending: Uint8Array[] = [];
    const state: UnzipState = { failure: undefined, sawWeights: false };
    const unzip = entryUnzipper(path, pending, entries, state);
    const buf = Buffer.alloc(READ_CHUNK);
    let pos = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, READ_CHUNK, pos);
      if (pos === 0 && !(bytesRead >= 4 && buf.readUInt32LE(0) === ZIP_LOCAL_HEADER))
        throw new CorruptCheckpointError("not a ZIP archive (a .keras file is one)", {
          file: path,
          offset: 0,
        });
      pos += bytesRead;
      try {
        unzip.push(buf.subarray(0, bytesRead), bytesRead === 0);
      } catch (e) {
        throw new CorruptCheckpointError(`bad ZIP archive: ${e instanceof Error ? e.message : String(e)}`, {
          file: path,
          offset: pos,
        });
      }
      if (state.failure !== undefined) throw state.failure;
      while (pending.length > 0) await out.write(pending.shift() as Uint8Array);
      if (bytesRead === 0) break;
    }
    await out.close();
    out = undefined;
    if (!state.sawWeights)
      throw new NotFoundError(`the archive holds no ${KERAS_WEIGHTS_ENTRY} (not a Keras 3 .keras file?)`, {
        file: path,
      });
    return { weightsPath, entries, dir };
  } catch (e) {
    await out?.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw e;
  } finally {
    await fh.close();
  }
}

/** What {@link entryUnzipper} found so far: its first error, and whether the weights entry was seen. */
interface UnzipState {
  failure: Error | undefined;
  sawWeights: boolean;
}

/**
 * A streaming unzipper for the archive at `path`: the weights entry's chunks go to `pending` (to be
 * written out), every other entry whole to `entries`; the first error is kept in `state`.
 */
function entryUnzipper(
  path: string,
  pending: Uint8Array[],
  entries: Array<{ name: string; data: Uint8Array }>,
  state: UnzipState,
): Fflate.Unzip {
  const { Unzip, UnzipInflate, UnzipPassThrough } = fflate();
  const unzip = new Unzip((file) => {
    const isWeights = file.name === KERAS_WEIGHTS_ENTRY;
    if (isWeights) state.sawWeights = true;
    const parts: Uint8Array[] = [];
    let size = 0;
    file.ondata = (err, data, final) => {
      if (err !== null) {
        state.failure ??= new CorruptCheckpointError(`bad ZIP entry ${file.name}: ${err.message}`, {
          file: path,
        });
        return;
      }
      if (isWeights) pending.push(data);
      else {
        size += data.length;
        if (size > MAX_SMALL_ENTRY_BYTES) {
          state.failure ??= new LimitExceededError(
            `archive entry ${file.name} exceeds ${MAX_SMALL_ENTRY_BYTES} bytes`,
            {
              file: path,
            },
          );
          return;
        }
        parts.push(data);
        if (final) entries.push({ name: file.name, data: Buffer.concat(parts) });
      }
    };
    file.start();
  });
  unzip.register(UnzipPassThrough);
  unzip.register(UnzipInflate);
  return unzip;
}

/** Removes what {@link unpackKerasArchive} extracted. */
export function removeUnpacked(u: UnpackedArchive): void {
  rmSync(u.dir, { recursive: true, force: true });
}

/**
 * Writes a `.keras` archive into `out`: `entries` in order (not the weights), then `model.weights.h5`
 * streamed from `weightsPath`, every entry stored uncompressed as Keras writes them.
 * @throws file-system errors as TfckptError
 */
export async function writeKerasArchive(
  out: PendingFile,
  entries: ReadonlyArray<{ readonly name: string; readonly data: Uint8Array }>,
  weightsPath: string,
): Promise<void> {
  const { Zip, ZipPassThrough } = fflate();
  const queue: Uint8Array[] = [];
  let failure: Error | undefined;
  const zip = new Zip((err, data) => {
    if (err !== null) failure ??= err;
    else queue.push(data);
  });
  const drain = async () => {
    if (failure !== undefined) throw failure;
    while (queue.length > 0) await out.write(queue.shift() as Uint8Array);
  };
  const mtime = new Date();
  for (const e of entries) {
    const f = new ZipPassThrough(e.name);
    f.mtime = mtime;
    zip.add(f);
    f.push(e.data, true);
    await drain();
  }
  const w = new ZipPassThrough(KERAS_WEIGHTS_ENTRY);
  w.mtime = mtime;
  zip.add(w);
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(weightsPath, "r");
  } catch (e) {
    throw fsError(e, weightsPath);
  }
  try {
    const buf = Buffer.alloc(READ_CHUNK);
    let pos = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, READ_CHUNK, pos);
      pos += bytesRead;
      // fflate keeps no reference to a pushed chunk once ondata returned; copy to be safe.
      w.push(Uint8Array.prototype.slice.call(buf, 0, bytesRead), bytesRead === 0);
      await drain();
      if (bytesRead === 0) break;
    }
  } finally {
    await fh.close();
  }
  zip.end();
  await drain();
}
