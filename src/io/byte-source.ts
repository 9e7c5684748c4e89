/**
 * All file reads go through a {@link ByteSource}: a length and positional reads. A short read is an
 * error, never zeros.
 *
 * @module
 */
import { constants, type Stats } from "node:fs";
import { type FileHandle, open, stat } from "node:fs/promises";
import { NotFoundError, NotRegularFileError, TfckptError, TruncatedFileError } from "../errors.js";
import { takeBuffer } from "./buffer-pool.js";

/** Random-access bytes with a known length (a file, or memory in tests). */
export interface ByteSource {
  /** Name used in errors (the file path). */
  readonly name: string;
  /** Total length in bytes. */
  readonly byteLength: number;
  /**
   * Reads exactly `length` bytes starting at byte `offset`.
   * @throws TruncatedFileError when `offset + length` passes `byteLength` or the file shrank.
   */
  read(offset: number, length: number): Promise<Uint8Array>;
  /**
   * Reads exactly `into.length` bytes starting at `offset` into `into` (no allocation: for
   * streaming through one reused buffer).
   * @throws TruncatedFileError like {@link read}
   */
  readInto(offset: number, into: Uint8Array): Promise<Uint8Array>;
  /** Releases the underlying handle. Idempotent. */
  close(): Promise<void>;
}

function checkRange(src: ByteSource, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new TruncatedFileError(`invalid read of ${length} bytes`, { file: src.name, offset });
  }
  if (offset + length > src.byteLength) {
    throw new TruncatedFileError(
      `read of ${length} bytes passes the end of the file (${src.byteLength} bytes)`,
      { file: src.name, offset },
    );
  }
}

/**
 * Opens the file at `path` as a {@link ByteSource}: {@link FileSource.open} by default; tests
 * inject one that counts reads (`CountingSource`, `test/helpers/counting-source.ts`) or serves
 * bytes from memory ({@link MemorySource}).
 * @throws NotFoundError when the file does not exist (as {@link FileSource.open})
 */
export type SourceOpener = (path: string) => Promise<ByteSource>;

/** The default {@link SourceOpener}: a {@link FileSource}. */
export const openFileSource: SourceOpener = (path) => FileSource.open(path);

/** A {@link ByteSource} over a file, read with positional `pread`s. */
export class FileSource implements ByteSource {
  readonly name: string;
  readonly byteLength: number;
  #handle: FileHandle | undefined;

  private constructor(name: string, handle: FileHandle, byteLength: number) {
    this.name = name;
    this.#handle = handle;
    this.byteLength = byteLength;
  }

  /**
   * Opens `path` (symbolic links followed) for reading. Anything but a regular file is refused
   * before it is opened — opening a FIFO would block until a writer appears, a device may never
   * end — and the open itself is non-blocking, so a file swapped for a FIFO meanwhile is refused
   * by the `fstat` that follows instead of hanging.
   * @throws NotFoundError when the file does not exist; NotRegularFileError for a FIFO, directory,
   *         device or socket; TfckptError for other I/O failures.
   */
  static async open(path: string): Promise<FileSource> {
    try {
      checkRegular(await stat(path), path);
    } catch (e) {
      throw fsError(e, path);
    }
    let handle: FileHandle;
    try {
      handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch (e) {
      throw fsError(e, path);
    }
    try {
      const st = await handle.stat();
      checkRegular(st, path);
      return new FileSource(path, handle, st.size);
    } catch (e) {
      await handle.close();
      throw fsError(e, path);
    }
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this, offset, length);
    return this.readInto(offset, takeBuffer(length));
  }

  async readInto(offset: number, buf: Uint8Array): Promise<Uint8Array> {
    const length = buf.length;
    checkRange(this, offset, length);
    const handle = this.#handle;
    if (handle === undefined) throw new TfckptError("corrupt", "read after close", { file: this.name });
    let done = 0;
    while (done < length) {
      const { bytesRead } = await handle.read(buf, done, length - done, offset + done);
      if (bytesRead === 0) {
        throw new TruncatedFileError(
          `file ended after ${done} of ${length} bytes (was it truncated while open?)`,
          {
            file: this.name,
            offset: offset + done,
          },
        );
      }
      done += bytesRead;
    }
    return buf;
  }

  async close(): Promise<void> {
    const h = this.#handle;
    this.#handle = undefined;
    await h?.close();
  }
}

/** A {@link ByteSource} over bytes in memory (tests, small embedded files). Reads are views. */
export class MemorySource implements ByteSource {
  readonly name: string;
  readonly byteLength: number;
  readonly #bytes: Uint8Array;
  constructor(bytes: Uint8Array, name = "<memory>") {
    this.#bytes = bytes;
    this.name = name;
    this.byteLength = bytes.length;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this, offset, length);
    return this.#bytes.subarray(offset, offset + length);
  }
  async readInto(offset: number, into: Uint8Array): Promise<Uint8Array> {
    checkRange(this, offset, into.length);
    into.set(this.#bytes.subarray(offset, offset + into.length));
    return into;
  }
  async close(): Promise<void> {}
}

/** What a non-regular file is, in words (for "not a regular file (a FIFO)"). */
function fileKind(st: Stats): string {
  if (st.isDirectory()) return "a directory";
  if (st.isFIFO()) return "a FIFO";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  if (st.isSocket()) return "a socket";
  return "not a file";
}

/** @throws NotRegularFileError unless `st` is a regular file's. */
function checkRegular(st: Stats, path: string): void {
  if (!st.isFile()) throw new NotRegularFileError(fileKind(st), path);
}

/** Maps a Node.js fs error to a {@link TfckptError} naming `path`. */
export function fsError(e: unknown, path: string): TfckptError {
  if (e instanceof TfckptError) return e;
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === "ENOENT") return new NotFoundError("no such file", { file: path });
  if (code === "EISDIR") return new NotFoundError("is a directory, not a file", { file: path });
  const msg = e instanceof Error ? e.message : String(e);
  return new TfckptError("not-found", `cannot read: ${msg}`, { file: path }, { cause: e });
}
