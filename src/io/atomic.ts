/**
 * Atomic multi-file output: every file is written under a temporary name beside its final path
 * and put into place only when all are complete, in the order given (a bundle's `.index` last, so
 * a half-committed set never has an index that names missing data). Like TF's `BundleWriter`
 * (`<name>.tempstate<random>`, renamed in `Finish`), `tensorflow/core/util/tensor_bundle/tensor_bundle.cc`.
 *
 * Concurrent writers: every commit holds the lock file beside the output (see {@link OutputLock}),
 * so commits to one output never interleave. Without `force` each final name is created by
 * hard-linking the temporary file to it, which fails when the name exists, so of two writers
 * exactly one commits and the other removes what it linked; nothing is ever replaced. With
 * `force` the old index is removed first and the files renamed over the old ones, in turn.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { existsSync, lstatSync } from "node:fs";
import { type FileHandle, link, mkdir, open, rename, stat, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import { OutputExistsError, TfckptError, UsageError } from "../errors.js";
import { fsError } from "./byte-source.js";
import { DEFAULT_LOCK_WAIT_MS, LOCK_SUFFIX, OutputLock } from "./lock.js";

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
  /** The lock file serialising commits (default: the first output path + `.tfckpt-lock`). */
  readonly lockPath?: string;
  /** How long (ms) a commit waits for another process's lock (default 30 000). */
  readonly lockWaitMs?: number;
}

/** A set of output files committed together. */
export class AtomicOutput {
  readonly #files: PendingFile[] = [];
  readonly #force: boolean;
  readonly #sync: boolean;
  readonly #token = randomBytes(6).toString("hex");
  readonly #lockPath: string;
  readonly #lockWaitMs: number;
  #done = false;

  private constructor(options: AtomicOutputOptions, lockPath: string) {
    this.#force = options.force ?? false;
    this.#sync = options.sync ?? true;
    this.#lockPath = lockPath;
    this.#lockWaitMs = options.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS;
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
    return new AtomicOutput(options, options.lockPath ?? `${finalPaths[0] ?? "output"}${LOCK_SUFFIX}`);
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
   * Closes every file and puts them into place in the order they were opened, except that files
   * listed in `last` come after all others, in that order. Holds the output's lock file meanwhile.
   * Without `force`, each final name is created by a hard link (atomic; fails if the name
   * exists), and on failure the names already linked are removed again. With `force`, files in
   * `last` are removed first when they exist (a process killed mid-commit leaves no index over
   * mismatched data), then each file is renamed over its final name.
   * @throws OutputExistsError when an output appeared meanwhile and `force` is off (nothing of
   *         this output is left behind); OutputLockedError when another process holds the lock
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
      const lock = await OutputLock.acquire(this.#lockPath, this.#lockWaitMs);
      try {
        if (this.#force) {
          // Replacing a checkpoint: remove the old index first, so that between the renames below
          // there is either no checkpoint or a complete one, never an old index over new data.
          for (const p of last) await unlink(p).catch(() => undefined);
          for (const f of order) await rename(f.tempPath, f.finalPath);
        } else {
          await linkAll(order);
        }
      } finally {
        await lock.release();
      }
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

/** File-system errors of `link` that mean "no hard links here" (FAT, some network mounts). */
const NO_HARD_LINKS = new Set(["EPERM", "ENOTSUP", "EOPNOTSUPP", "EXDEV", "ENOSYS"]);

/**
 * Creates each final name of `files` (in order) as a hard link to its temporary file, then
 * removes the temporary names. When a final name exists, the names linked so far are removed
 * (only if they are still this writer's files) and OutputExistsError is thrown. Where hard links
 * are not supported, falls back to check-then-rename (the caller holds the output lock).
 */
async function linkAll(files: readonly PendingFile[]): Promise<void> {
  const linked: PendingFile[] = [];
  const renamed = new Set<PendingFile>();
  try {
    for (const f of files) {
      try {
        await link(f.tempPath, f.finalPath);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code ?? "";
        if (code === "EEXIST") throw new OutputExistsError(f.finalPath);
        if (!NO_HARD_LINKS.has(code)) throw fsError(e, f.finalPath);
        if (existsSync(f.finalPath)) throw new OutputExistsError(f.finalPath);
        await rename(f.tempPath, f.finalPath);
        renamed.add(f);
      }
      linked.push(f);
    }
  } catch (e) {
    for (const f of linked.reverse()) {
      if (renamed.has(f)) {
        await unlink(f.finalPath).catch(() => undefined); // created under the lock a moment ago
        continue;
      }
      try {
        const [a, b] = await Promise.all([stat(f.tempPath), stat(f.finalPath)]);
        if (a.ino === b.ino && a.dev === b.dev) await unlink(f.finalPath);
      } catch {
        // already gone: leave the final name alone
      }
    }
    throw e;
  }
  for (const f of files) await unlink(f.tempPath).catch(() => undefined);
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
