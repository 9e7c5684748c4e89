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
import { constants, existsSync } from "node:fs";
import {
  access,
  copyFile,
  type FileHandle,
  link,
  lstat,
  mkdir,
  open,
  rename,
  rmdir,
  stat,
  unlink,
} from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { OutputExistsError, TfckptError, UnsupportedError, UsageError, WriteError } from "../errors.js";
import { giveBack } from "./buffer-pool.js";
import { DEFAULT_LOCK_WAIT_MS, LOCK_SUFFIX, OutputLock } from "./lock.js";
import { writeError, writeFailureWords } from "./write-error.js";

export { writeError };

/** One file of an {@link AtomicOutput}: where it goes and the temporary name it has until then. */
export interface OutputFile {
  readonly finalPath: string;
  readonly tempPath: string;
  /** Flushes (when `sync`) and closes. @throws WriteError */
  close(sync: boolean): Promise<void>;
  /** Closes and removes the temporary file. */
  discard(): Promise<void>;
}

/** How {@link AtomicOutput.adopt} made an existing file part of an output. */
export type LinkMethod = "reflink" | "hardlink";

/** Thrown by {@link AtomicOutput.adopt} when the file system can neither reflink nor hard-link. */
export class LinkUnsupportedError extends UnsupportedError {}

/**
 * An existing file made part of an output without copying its bytes: a reflink (a copy-on-write
 * clone, independent of the source from then on) or, where the file system has none, a hard
 * link (the same inode as the source: changing one file in place changes the other; TensorFlow
 * never modifies a data shard in place, it writes new files and renames them).
 */
export class LinkedFile implements OutputFile {
  readonly finalPath: string;
  readonly tempPath: string;
  /** The file it was made from. */
  readonly sourcePath: string;
  readonly method: LinkMethod;
  /** Its size in bytes. */
  readonly byteLength: number;

  constructor(
    finalPath: string,
    tempPath: string,
    sourcePath: string,
    method: LinkMethod,
    byteLength: number,
  ) {
    this.finalPath = finalPath;
    this.tempPath = tempPath;
    this.sourcePath = sourcePath;
    this.method = method;
    this.byteLength = byteLength;
  }

  async close(sync: boolean): Promise<void> {
    if (!sync || this.method === "hardlink") return; // a hard link adds no data to flush
    try {
      const h = await open(this.tempPath, "r");
      try {
        await h.sync();
      } finally {
        await h.close();
      }
    } catch (e) {
      throw writeError(e, this.finalPath);
    }
  }

  async discard(): Promise<void> {
    await unlink(this.tempPath).catch(() => undefined);
  }
}

/**
 * Bytes of owned writes (see {@link PendingFile.write}) a {@link PendingFile} may have queued or in
 * flight at once: the bound on the memory write-behind holds (32 MiB).
 */
export const WRITE_BEHIND_BYTES = 32 << 20;

/**
 * Owned writes of at most this many bytes (64 KiB) are copied into a staging buffer of
 * {@link STAGE_BYTES} and written with their neighbours in one write: 10⁵ small tensors are a
 * few hundred writes, not 10⁵ (each one a hand-off to libuv's thread pool).
 */
export const STAGED_WRITE_BYTES = 64 << 10;
/** The staging buffer of small writes (1 MiB). */
const STAGE_BYTES = 1 << 20;

/**
 * Every this many bytes (128 MiB) written through {@link PendingFile.write}, a `datasync` starts
 * in the background (one at a time), so that the disk writes back while the process reads and
 * transforms the next tensors instead of all at the final flush.
 */
export const WRITE_BACK_BYTES = 128 << 20;

/** An output file being written: a temporary handle and the bytes written so far. */
export class PendingFile implements OutputFile {
  readonly finalPath: string;
  readonly tempPath: string;
  readonly #handle: FileHandle;
  /** Bytes written or queued so far (the next write's offset). */
  position = 0;
  /** Owned writes queued or in flight, oldest first (each starts when the one before it ends). */
  readonly #behind: Array<{ readonly done: Promise<void>; readonly bytes: number }> = [];
  #behindBytes = 0;
  /** The first failure of a queued write, thrown by every later call. */
  #failure: unknown;
  /** A `datasync` started early (see {@link startSync}), awaited before the final flush. */
  #early: Promise<void> | undefined;
  /** Small writes not yet handed to the queue: the `#staged` bytes just before `position`. */
  #stage: Uint8Array | undefined;
  #staged = 0;
  /** Bytes written since the last background write-back started (see {@link WRITE_BACK_BYTES}). */
  #unsynced = 0;
  /** The background write-back in flight, if any. */
  #writeBack: Promise<void> | undefined;

  constructor(finalPath: string, tempPath: string, handle: FileHandle) {
    this.finalPath = finalPath;
    this.tempPath = tempPath;
    this.#handle = handle;
  }

  /**
   * Appends `bytes`. With `owned` (the caller hands `bytes` over and never changes them again)
   * the write is queued behind earlier ones and this returns at once while at most
   * {@link WRITE_BEHIND_BYTES} are queued (else once enough of the queue is written), so the
   * caller prepares the next bytes while these are written; queued writes run one at a time, in
   * order; with `recycle` as well (the caller will never read or change `bytes` again, nor any
   * view of them), a buffer from `io/buffer-pool` goes back to the pool once written; owned
   * writes of at most {@link STAGED_WRITE_BYTES} are copied and written with their
   * neighbours. A write that is not owned is written before this returns (its bytes may be
   * reused then, and its errors are its own). All is written after {@link flush} or {@link close}.
   * @throws WriteError naming the final path (e.g. "no space left on device"), from this write
   *         or an earlier queued one
   */
  async write(bytes: Uint8Array, owned = false, recycle = false): Promise<void> {
    this.#throwIfFailed();
    if (owned && bytes.length <= STAGED_WRITE_BYTES) {
      if (this.#staged + bytes.length > STAGE_BYTES) await this.#flushStage();
      this.#stage ??= new Uint8Array(STAGE_BYTES);
      this.#stage.set(bytes, this.#staged);
      this.#staged += bytes.length;
      this.position += bytes.length;
      return;
    }
    await this.#flushStage();
    const at = this.position;
    this.position += bytes.length;
    if (!owned) await this.#writeAt(bytes, at);
    else if (bytes.length > WRITE_BEHIND_BYTES)
      await this.#writeAt(bytes, at).finally(() => recycle && giveBack(bytes));
    else await this.#queue(bytes, at, recycle);
  }

  /** Hands the staged small writes to the queue (the buffer goes with them). */
  async #flushStage(): Promise<void> {
    if (this.#stage === undefined || this.#staged === 0) return;
    const run = this.#stage.subarray(0, this.#staged);
    const at = this.position - this.#staged;
    this.#stage = undefined;
    this.#staged = 0;
    await this.#queue(run, at);
  }

  /** Queues an owned write of `bytes` at `at`, first waiting while the queue is full. */
  async #queue(bytes: Uint8Array, at: number, recycle = false): Promise<void> {
    while (this.#behindBytes + bytes.length > WRITE_BEHIND_BYTES && this.#behind.length > 0)
      await (this.#behind[0] as { done: Promise<void> }).done;
    this.#throwIfFailed();
    const before = this.#behind.at(-1)?.done ?? Promise.resolve();
    const entry = {
      bytes: bytes.length,
      done: before
        .then(() => (this.#failure === undefined ? this.#writeAt(bytes, at) : undefined))
        .catch((e: unknown) => {
          this.#failure ??= e;
        })
        .finally(() => {
          this.#behind.shift();
          this.#behindBytes -= bytes.length;
          if (recycle) giveBack(bytes); // nothing reads it after its write: it serves the next tensor
        }),
    };
    this.#behind.push(entry);
    this.#behindBytes += bytes.length;
  }

  /** Writes everything staged or queued and waits for it. @throws WriteError of a failed one */
  async flush(): Promise<void> {
    this.#throwIfFailed();
    await this.#flushStage();
    const last = this.#behind.at(-1);
    if (last !== undefined) await last.done;
    this.#throwIfFailed();
  }

  /**
   * Starts flushing what is written so far to disk (`fdatasync`) without waiting: for a file the
   * kernel has just filled (see {@link AtomicOutput.openCopy}), so its write-back overlaps what
   * the process does next; {@link close} still flushes everything at the end.
   */
  startSync(): void {
    this.#early ??= this.#datasync();
  }

  /**
   * An `fdatasync` whose error is kept (thrown by the next write or {@link close}): a write-back
   * error is reported once per file (Linux ≥ 4.13) and the failed pages may be marked clean, so a
   * later fsync could succeed over lost data.
   */
  #datasync(): Promise<void> {
    return this.#handle.datasync().catch((e: unknown) => {
      this.#failure ??= e;
    });
  }

  #throwIfFailed(): void {
    if (this.#failure !== undefined) throw writeError(this.#failure, this.finalPath);
  }

  async #writeAt(bytes: Uint8Array, at: number): Promise<void> {
    let done = 0;
    try {
      while (done < bytes.length) {
        const { bytesWritten } = await this.#handle.write(bytes, done, bytes.length - done, at + done);
        done += bytesWritten;
      }
    } catch (e) {
      throw writeError(e, this.finalPath);
    }
    this.#unsynced += done;
    if (this.#unsynced >= WRITE_BACK_BYTES && this.#writeBack === undefined) {
      this.#unsynced = 0;
      this.#writeBack = this.#datasync().finally(() => {
        this.#writeBack = undefined;
      });
    }
  }

  /**
   * Writes what is queued, flushes to disk and closes.
   * @throws WriteError naming the final path (a full disk may show only here)
   */
  async close(sync: boolean): Promise<void> {
    await this.flush();
    try {
      await this.#early;
      await this.#writeBack;
      if (this.#failure !== undefined) throw this.#failure;
      if (sync) await this.#handle.sync();
      await this.#handle.close();
    } catch (e) {
      throw writeError(e, this.finalPath);
    }
  }

  async discard(): Promise<void> {
    this.#stage = undefined;
    this.#staged = 0;
    await this.#behind.at(-1)?.done; // never rejects: no write may still run on a closed handle
    await this.#early;
    await this.#writeBack;
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
  readonly #files: OutputFile[] = [];
  readonly #force: boolean;
  readonly #sync: boolean;
  readonly #token = randomBytes(6).toString("hex");
  readonly #lockPath: string;
  readonly #lockWaitMs: number;
  /** Directories this output created: [the deepest, the first one created], to remove on abort. */
  readonly #createdDirs: Array<[string, string]>;
  #done = false;

  private constructor(options: AtomicOutputOptions, lockPath: string, createdDirs: Array<[string, string]>) {
    this.#force = options.force ?? false;
    this.#sync = options.sync ?? true;
    this.#lockPath = lockPath;
    this.#lockWaitMs = options.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS;
    this.#createdDirs = createdDirs;
  }

  /**
   * Checks every one of `finalPaths` with {@link checkOutputPaths}, then creates their parent
   * directories (removed again by {@link AtomicOutput.abort} when this output created them).
   * @throws OutputExistsError; UsageError for a symlinked output path; WriteError
   */
  static async create(
    finalPaths: readonly string[],
    options: AtomicOutputOptions = {},
  ): Promise<AtomicOutput> {
    await checkOutputPaths(finalPaths, { force: options.force ?? false });
    const created: Array<[string, string]> = [];
    try {
      for (const d of new Set(finalPaths.map((p) => dirname(p)))) {
        try {
          const first = await mkdir(d, { recursive: true });
          if (first !== undefined) created.push([resolve(d), resolve(first)]);
        } catch (e) {
          throw writeError(e, d);
        }
      }
    } catch (e) {
      await removeCreatedDirs(created);
      throw e;
    }
    return new AtomicOutput(
      options,
      options.lockPath ?? `${finalPaths[0] ?? "output"}${LOCK_SUFFIX}`,
      created,
    );
  }

  /** Opens the temporary file for `finalPath`. */
  async open(finalPath: string): Promise<PendingFile> {
    if (this.#done) throw new UsageError("output already committed or aborted");
    const tempPath = `${finalPath}.tfckpt-tmp-${this.#token}`;
    let handle: FileHandle;
    try {
      handle = await open(tempPath, "wx");
    } catch (e) {
      throw writeError(e, finalPath);
    }
    const f = new PendingFile(finalPath, tempPath, handle);
    this.#files.push(f);
    return f;
  }

  /**
   * Opens the temporary file for `finalPath` as a copy of `sourcePath` made by the kernel
   * (`copyFile`: a reflink where the file system has them, else `copy_file_range`; the bytes
   * never pass through this process), positioned at its end for further writes. With `sync`,
   * its flush to disk starts at once (see {@link PendingFile.startSync}). `onStart` is called
   * as soon as the copy is under way (e.g. to check the source's CRCs meanwhile).
   * @throws WriteError
   */
  async openCopy(finalPath: string, sourcePath: string, onStart?: () => void): Promise<PendingFile> {
    if (this.#done) throw new UsageError("output already committed or aborted");
    const tempPath = `${finalPath}.tfckpt-tmp-${this.#token}`;
    let handle: FileHandle;
    try {
      const copying = copyFile(sourcePath, tempPath, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
      onStart?.();
      await copying;
      handle = await open(tempPath, "r+");
    } catch (e) {
      await unlink(tempPath).catch(() => undefined);
      throw writeError(e, finalPath);
    }
    const f = new PendingFile(finalPath, tempPath, handle);
    this.#files.push(f);
    try {
      f.position = (await handle.stat()).size;
    } catch (e) {
      throw writeError(e, finalPath);
    }
    if (this.#sync) f.startSync(); // its write-back overlaps the rest of the output
    return f;
  }

  /**
   * Makes the existing file `sourcePath` the temporary file for `finalPath` without copying its
   * bytes: a reflink (`copyFile` with `COPYFILE_FICLONE_FORCE`; btrfs, XFS, …) where the file
   * system has them, else a hard link. It is then committed like any other file.
   * @throws LinkUnsupportedError when neither works (another file system, FAT, …); WriteError
   */
  async adopt(finalPath: string, sourcePath: string): Promise<LinkedFile> {
    if (this.#done) throw new UsageError("output already committed or aborted");
    const tempPath = `${finalPath}.tfckpt-tmp-${this.#token}`;
    let method: LinkMethod = "reflink";
    try {
      await copyFile(sourcePath, tempPath, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE_FORCE);
    } catch {
      await unlink(tempPath).catch(() => undefined); // whatever a failed clone left
      method = "hardlink";
      try {
        await link(sourcePath, tempPath);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code ?? "";
        if (NO_HARD_LINKS.has(code) || code === "EMLINK")
          throw new LinkUnsupportedError(
            `cannot link ${sourcePath} to the output: neither a reflink nor a hard link works here (${code})`,
            { file: finalPath },
          );
        throw writeError(e, finalPath);
      }
    }
    let byteLength: number;
    try {
      byteLength = (await stat(tempPath)).size;
    } catch (e) {
      await unlink(tempPath).catch(() => undefined);
      throw writeError(e, finalPath);
    }
    const f = new LinkedFile(finalPath, tempPath, sourcePath, method, byteLength);
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
      // Closed (and flushed to disk) at once: their fsyncs overlap and the file system may
      // commit them in one journal transaction; the first failure in file order is thrown.
      const closed = await Promise.allSettled(this.#files.map((f) => f.close(this.#sync)));
      for (const r of closed) if (r.status === "rejected") throw r.reason;
      const order = [
        ...this.#files.filter((f) => !last.includes(f.finalPath)),
        ...last
          .map((p) => this.#files.find((f) => f.finalPath === p))
          .filter((f): f is OutputFile => f !== undefined),
      ];
      const lock = await OutputLock.acquire(this.#lockPath, this.#lockWaitMs);
      try {
        if (this.#force) {
          // Replacing a checkpoint: remove the old index first, so that between the renames below
          // there is either no checkpoint or a complete one, never an old index over new data.
          for (const p of last) await unlink(p).catch(() => undefined);
          for (const f of order) await rename(f.tempPath, f.finalPath);
          // rename() does nothing when both names are already links to one inode (a linked shard
          // over the same linked shard): drop the temporary name then.
          for (const f of order) await unlink(f.tempPath).catch(() => undefined);
        } else {
          await linkAll(order);
        }
      } finally {
        await lock.release();
      }
      this.#done = true;
      if (this.#sync) await syncDirectories(order.map((f) => dirname(f.finalPath)));
    } catch (e) {
      await this.abort();
      throw e instanceof TfckptError ? e : writeError(e, this.#files[0]?.finalPath ?? "");
    }
  }

  /**
   * Removes every temporary file and the directories this output created (when still empty);
   * final paths are left as they were.
   */
  async abort(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    for (const f of this.#files) await f.discard();
    await removeCreatedDirs(this.#createdDirs);
  }
}

/** Errors of `fsync` on a directory that mean "not supported here", not "not durable". */
const DIR_SYNC_UNSUPPORTED = new Set([
  "EINVAL",
  "ENOTSUP",
  "EOPNOTSUPP",
  "EISDIR",
  "EBADF",
  "EPERM",
  "EACCES",
]);

/**
 * Flushes each distinct directory of `dirs` to disk (`fsync` on the directory), so that names
 * created or replaced by renames and links survive a power cut as the files' bytes do (POSIX
 * leaves a rename's durability to the directory's fsync; TensorFlow's own savers do not do this).
 * File systems that cannot fsync a directory are passed over. Called once the renames or links
 * have put an output in place, so a failure here does not undo it: the output is committed and
 * complete, only its directory entries may not survive a power cut.
 * @throws WriteError with `committed` set, naming the directory, saying that the output is in
 *         place (committed) but its directory entries may not be durable, when the directory
 *         cannot be opened or its fsync fails (EIO, ENOSPC, …)
 */
export async function syncDirectories(dirs: readonly string[]): Promise<void> {
  for (const dir of new Set(dirs)) {
    let h: FileHandle | undefined;
    try {
      h = await open(dir, "r");
      await h.sync();
    } catch (e) {
      if (!DIR_SYNC_UNSUPPORTED.has((e as NodeJS.ErrnoException).code ?? ""))
        throw new WriteError(
          `output committed (its files are in place), but their directory entries may not be durable: cannot fsync the directory: ${writeFailureWords(e)}`,
          dir,
          { cause: e, committed: true },
        );
    } finally {
      await h?.close().catch(() => undefined);
    }
  }
}

/**
 * Checks, before anything is written, that each of `paths` may be created or (with `force`)
 * replaced: it is not a symbolic link (an output never follows a link) nor a directory, it does
 * not exist unless `force`, and its nearest existing ancestor is a directory this process may
 * write into (`access(W_OK | X_OK)`; note that root passes this check on any writable mount).
 * @throws OutputExistsError; UsageError for a symbolic link; WriteError for a directory in the
 *         way, a parent that is a file, no permission or a read-only file system
 */
export async function checkOutputPaths(
  paths: readonly string[],
  options: { force?: boolean } = {},
): Promise<void> {
  // Every path and every distinct parent directory is checked at once (each check is a
  // thread-pool round trip; one after another they cost milliseconds each on a loaded machine);
  // the first failure in the order of `paths` is the one thrown.
  const dirs = new Map<string, Promise<void>>();
  const dirChecked = (d: string): Promise<void> => {
    let c = dirs.get(d);
    if (c === undefined) {
      c = checkAncestor(d);
      c.catch(() => undefined); // thrown through the path that needs it
      dirs.set(d, c);
    }
    return c;
  };
  const results = await Promise.allSettled(
    paths.map(async (p) => {
      const ancestor = dirChecked(dirname(resolve(p)));
      await checkOutputPath(p, options.force ?? false);
      await ancestor;
    }),
  );
  for (const r of results) if (r.status === "rejected") throw r.reason;
}

/** One output path of {@link checkOutputPaths}: not a symbolic link, directory, or (without `force`) existing. */
async function checkOutputPath(p: string, force: boolean): Promise<void> {
  let st: Awaited<ReturnType<typeof lstat>> | undefined;
  try {
    st = await lstat(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOTDIR") throw writeError(e, p);
    if (code !== "ENOENT") throw writeError(e, p);
  }
  if (st !== undefined) {
    if (st.isSymbolicLink())
      throw new UsageError(`output ${p} is a symbolic link; refusing to write through it`);
    if (st.isDirectory()) throw new WriteError("cannot write: is a directory", p);
    if (!force) throw new OutputExistsError(p);
  }
}

/** The nearest existing ancestor of (or) `start` must be a directory we may create entries in. */
async function checkAncestor(start: string): Promise<void> {
  let dir = start;
  for (;;) {
    let ds: Awaited<ReturnType<typeof stat>> | undefined;
    try {
      ds = await stat(dir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== "ENOENT") throw writeError(e, dir);
    }
    if (ds !== undefined) {
      if (!ds.isDirectory()) throw new WriteError("cannot write: not a directory", dir);
      try {
        await access(dir, constants.W_OK | constants.X_OK);
      } catch (e) {
        throw writeError(e, dir);
      }
      return;
    }
    const up = dirname(dir);
    if (up === dir) return;
    dir = up;
  }
}

/** Removes, deepest first, the directories from each `[deepest, first created]` pair while empty. */
async function removeCreatedDirs(created: ReadonlyArray<readonly [string, string]>): Promise<void> {
  for (const [deepest, first] of created) {
    let d = deepest;
    for (;;) {
      try {
        await rmdir(d);
      } catch {
        break; // not empty (another output lives there) or already gone
      }
      if (d === first) break;
      const up = dirname(d);
      if (up === d) break;
      d = up;
    }
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
async function linkAll(files: readonly OutputFile[]): Promise<void> {
  const linked: OutputFile[] = [];
  const renamed = new Set<OutputFile>();
  try {
    for (const f of files) {
      try {
        await link(f.tempPath, f.finalPath);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code ?? "";
        if (code === "EEXIST") throw new OutputExistsError(f.finalPath);
        if (!NO_HARD_LINKS.has(code)) throw writeError(e, f.finalPath);
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
