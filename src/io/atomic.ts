/**
 * Atomic multi-file output: every file is written under a temporary name beside its final path
 * and renamed into place only when all are complete, in the order given (a bundle's `.index`
 * last, so a half-renamed set never has an index that names missing data). Existing outputs are
 * never replaced without `force`. Like TF's `BundleWriter` (`<name>.tempstate<random>`, renamed
 * in `Finish`), `tensorflow/core/util/tensor_bundle/tensor_bundle.cc`.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { existsSync, lstatSync } from "node:fs";
import { type FileHandle, mkdir, open, rename, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import { OutputExistsError, TfckptError, UsageError } from "../errors.js";
import { fsError } from "./byte-source.js";

/** An output file being written: a temporary handle and the bytes written so far. */
export class PendingFile {
  readonly finalPath: string;
  readonly tempPath: string;
  readonly #handle: FileHandle;
  /** Bytes written so far (the next write's offset). */
  position = 0;

  constructor(finalPath: string, tempPath: string, handle: FileHandle) {
    this.finalPath = finalPath;
    this.tempPath = tempPath;
    this.#handle = handle;
  }

  /** Appends `bytes`. */
  async write(bytes: Uint8Array): Promise<void> {
    let done = 0;
    while (done < bytes.length) {
      const { bytesWritten } = await this.#handle.write(
        bytes,
        done,
        bytes.length - done,
        this.position + done,
      );
      done += bytesWritten;
    }
    this.position += bytes.length;
  }

  /** Flushes to disk and closes. */
  async close(sync: boolean): Promise<void> {
    if (sync) await this.#handle.sync();
    await this.#handle.close();
  }

  async discard(): Promise<void> {
    try {
      await this.#handle.close();
    } catch {
      // already closed
    }
    await unlink(this.tempPath).catch(() => undefined);
  }
}

/** Options of {@link AtomicOutput.create}. */
export interface AtomicOutputOptions {
  /** Replace existing outputs. Default false. */
  readonly force?: boolean;
  /** fsync each file before renaming (default true). */
  readonly sync?: boolean;
}

/** A set of output files committed together. */
export class AtomicOutput {
  readonly #files: PendingFile[] = [];
  readonly #force: boolean;
  readonly #sync: boolean;
  readonly #token = randomBytes(6).toString("hex");
  #done = false;

  private constructor(options: AtomicOutputOptions) {
    this.#force = options.force ?? false;
    this.#sync = options.sync ?? true;
  }

  /**
   * Checks that none of `finalPaths` exists (unless `force`), and that none is a symlink
   * (an output never follows a link), then creates parent directories.
   * @throws OutputExistsError; UsageError for a symlinked output path
   */
  static async create(
    finalPaths: readonly string[],
    options: AtomicOutputOptions = {},
  ): Promise<AtomicOutput> {
    for (const p of finalPaths) {
      let isLink = false;
      try {
        isLink = lstatSync(p).isSymbolicLink();
      } catch {
        // does not exist
      }
      if (isLink) throw new UsageError(`output ${p} is a symbolic link; refusing to write through it`);
      if (existsSync(p) && !options.force) throw new OutputExistsError(p);
    }
    for (const d of new Set(finalPaths.map((p) => dirname(p)))) {
      try {
        await mkdir(d, { recursive: true });
      } catch (e) {
        throw fsError(e, d);
      }
    }
    return new AtomicOutput(options);
  }

  /** Opens the temporary file for `finalPath`. */
  async open(finalPath: string): Promise<PendingFile> {
    if (this.#done) throw new UsageError("output already committed or aborted");
    const tempPath = `${finalPath}.tfckpt-tmp-${this.#token}`;
    let handle: FileHandle;
    try {
      handle = await open(tempPath, "wx");
    } catch (e) {
      throw fsError(e, tempPath);
    }
    const f = new PendingFile(finalPath, tempPath, handle);
    this.#files.push(f);
    return f;
  }

  /**
   * Closes every file and renames them into place in the order they were opened, except that
   * files listed in `last` are renamed after all others, in that order (and, when they exist,
   * removed before the others are renamed: a process killed mid-commit leaves no index over
   * mismatched data).
   * @throws OutputExistsError when an output appeared meanwhile and `force` is off
   */
  async commit(last: readonly string[] = []): Promise<void> {
    if (this.#done) throw new UsageError("output already committed or aborted");
    try {
      for (const f of this.#files) await f.close(this.#sync);
      const order = [
        ...this.#files.filter((f) => !last.includes(f.finalPath)),
        ...last
          .map((p) => this.#files.find((f) => f.finalPath === p))
          .filter((f): f is PendingFile => f !== undefined),
      ];
      if (!this.#force) {
        for (const f of order) if (existsSync(f.finalPath)) throw new OutputExistsError(f.finalPath);
      }
      // Replacing a checkpoint: remove the old index first, so that between the renames below
      // there is either no checkpoint or a complete one, never an old index over new data.
      for (const p of last) await unlink(p).catch(() => undefined);
      for (const f of order) await rename(f.tempPath, f.finalPath);
      this.#done = true;
    } catch (e) {
      await this.abort();
      throw e instanceof TfckptError ? e : fsError(e, this.#files[0]?.finalPath ?? "");
    }
  }

  /** Removes every temporary file; final paths are left as they were. */
  async abort(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    for (const f of this.#files) await f.discard();
  }
}

/**
 * Writes one text file atomically (temporary name, then rename); an existing file is replaced
 * only with `force`.
 * @throws OutputExistsError
 */
export async function writeTextFileAtomic(
  path: string,
  text: string,
  options: AtomicOutputOptions = {},
): Promise<void> {
  const out = await AtomicOutput.create([path], options);
  try {
    const f = await out.open(path);
    await f.write(new TextEncoder().encode(text));
    await out.commit();
  } catch (e) {
    await out.abort();
    throw e;
  }
}
