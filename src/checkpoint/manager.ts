/**
 * Numbering and recording saves into a directory as `tf.train.CheckpointManager` does
 * (`tensorflow/python/checkpoint/checkpoint_management.py`: `CheckpointManager.save`,
 * `_record_state`, `__init__`'s recovery of `all_model_checkpoint_paths` and their timestamps).
 *
 * A manager names its saves `<directory>/ckpt-N` and, after each one, rewrites the directory's
 * `checkpoint` state file: `model_checkpoint_path` is the new save, `all_model_checkpoint_paths`
 * the managed saves oldest first (a path saved again moves to the end), each with its
 * `all_model_checkpoint_timestamps` entry (seconds since the epoch), and
 * `last_preserved_timestamp` kept from the file (or the first save's time minus one second, as a
 * new manager sets it). tfckpt never deletes a checkpoint: it records as a manager with
 * `max_to_keep=None` does, keeping every path; a later `CheckpointManager(max_to_keep=k)` in the
 * directory takes over every recorded save whose timestamp is after `last_preserved_timestamp`
 * and sweeps the oldest beyond `k` at its first `save()`.
 *
 * @module
 */
import { readdirSync, statSync } from "node:fs";
import { lstat, readFile } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, relative } from "node:path";
import { CorruptCheckpointError, LimitExceededError } from "../errors.js";
import { checkOutputPaths, writeTextFileAtomic } from "../io/atomic.js";
import { OutputLock } from "../io/lock.js";
import { writeError } from "../io/write-error.js";
import { MAX_STATE_FILE_BYTES } from "../limits.js";
import {
  type CheckpointState,
  checkpointStatePath,
  formatCheckpointState,
  parseCheckpointState,
} from "./state.js";

/** `CheckpointManager`'s default `checkpoint_name`. */
export const MANAGED_CHECKPOINT_NAME = "ckpt";

/** Suffix of the lock that serialises read-modify-write updates of a state file. */
const STATE_UPDATE_LOCK_SUFFIX = ".tfckpt-update-lock";

/** True when `output` names a directory: it ends in a path separator or is an existing directory. */
export function isDirectoryOutput(output: string): boolean {
  if (output.endsWith("/") || output.endsWith("\\")) return true;
  try {
    return statSync(output).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The prefix of the next save a `CheckpointManager` would make in `dir`: `<dir>/ckpt-N` with N one
 * past the highest `ckpt-N` there (restoring the latest save and saving again continues its
 * `save_counter`). A directory that does not exist yet, or holds none, gives `ckpt-1`.
 */
export function nextManagedPrefix(dir: string, name = MANAGED_CHECKPOINT_NAME): string {
  const re = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}-(\\d+)(?:\\.index)?$`);
  let n = 0;
  const see = (f: string) => {
    const m = re.exec(f);
    if (m !== null) n = Math.max(n, Number(m[1]));
  };
  try {
    for (const f of readdirSync(dir)) see(f);
  } catch {
    // a directory that does not exist yet
  }
  return join(dir, `${name}-${n + 1}`);
}

/**
 * The prefix to save into after `taken` (a `<dir>/ckpt-N` found taken by another writer): the
 * next managed prefix of `dir` ({@link nextManagedPrefix}), but at least `ckpt-(N+1)` — another
 * writer may have linked its data files and not yet its index, which names no `ckpt-N` to
 * number past.
 */
export function managedPrefixAfter(dir: string, taken: string, name = MANAGED_CHECKPOINT_NAME): string {
  const next = nextManagedPrefix(dir, name);
  return join(dir, `${name}-${Math.max(prefixNumber(next) ?? 0, (prefixNumber(taken) ?? 0) + 1)}`);
}

/** N of a prefix ending in `-N` (`ckpt-3` → 3), as TF numbers saves; undefined for any other prefix. */
export function prefixNumber(prefix: string): number | undefined {
  const m = /-(\d+)$/.exec(prefix);
  return m === null ? undefined : Number(m[1]);
}

/** Path of `p` as the state file of `dir` stores it: relative to `dir` when inside it (save_relative_paths=True). */
function stored(dir: string, p: string): string {
  const rel = relative(dir, isAbsolute(p) ? p : join(dir, p));
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel) ? rel : p;
}

/** Reads the state file at `file`, or undefined when there is none. */
async function readState(file: string): Promise<CheckpointState | undefined> {
  let size: number;
  try {
    const st = await lstat(file);
    if (!st.isFile())
      throw new CorruptCheckpointError(
        "the checkpoint state file is not a regular file; refusing to update it",
        {
          file,
        },
      );
    size = st.size;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  if (size > MAX_STATE_FILE_BYTES)
    throw new LimitExceededError(`checkpoint state file of ${size} bytes`, { file });
  return parseCheckpointState(await readFile(file, "utf8"), file);
}

/**
 * Checks, before anything is written, that {@link recordManagedSave} can update the state file
 * beside `prefix`: it is not a symbolic link or a directory, its directory is writable, and an
 * existing file parses as a CheckpointState (unless `force`, which replaces an unreadable one).
 * @throws as {@link recordManagedSave}, and UsageError for a symbolic link
 */
export async function checkManagedState(prefix: string, options: { force?: boolean } = {}): Promise<void> {
  const file = checkpointStatePath(prefix);
  await checkOutputPaths([file], { force: true });
  if (!options.force) await readState(file);
}

/** Options of {@link recordManagedSave}. */
export interface RecordSaveOptions {
  /** The save's time in seconds since the epoch (default: now), as `time.time()`. */
  readonly now?: number;
  /** Replace a state file that cannot be read as a CheckpointState instead of failing. */
  readonly force?: boolean;
}

/**
 * Records the save at `prefix` in its directory's `checkpoint` state file as
 * `CheckpointManager._record_state` does after a save (see the module comment), keeping every
 * save recorded before. The read-modify-write is serialised with other tfckpt writers by a lock
 * file beside the state file (`checkpoint.tfckpt-update-lock`); the file is replaced atomically.
 * @returns the state file's path
 * @throws CorruptCheckpointError when the existing state file cannot be parsed (without `force`);
 *         LimitExceededError for an oversized one; OutputLockedError; WriteError
 */
export async function recordManagedSave(prefix: string, options: RecordSaveOptions = {}): Promise<string> {
  const file = checkpointStatePath(prefix);
  const dir = dirname(prefix);
  const now = options.now ?? Date.now() / 1000;
  let lock: OutputLock;
  try {
    lock = await OutputLock.acquire(`${file}${STATE_UPDATE_LOCK_SUFFIX}`);
  } catch (e) {
    throw writeError(e, file);
  }
  try {
    let old: CheckpointState | undefined;
    try {
      old = await readState(file);
    } catch (e) {
      if (!options.force) throw e;
      old = undefined;
    }
    const lastPreserved = old?.lastPreservedTimestamp ?? (old === undefined ? now - 1 : 0);
    // A manager recovering a state without timestamps gives every path last_preserved_timestamp.
    const oldPaths = old?.allModelCheckpointPaths ?? [];
    const oldTimes =
      old !== undefined && old.allModelCheckpointTimestamps.length === oldPaths.length
        ? old.allModelCheckpointTimestamps
        : oldPaths.map(() => lastPreserved);
    const managed = new Map<string, number>();
    oldPaths.forEach((p, i) => {
      managed.set(stored(dir, p), Math.min(oldTimes[i] as number, now));
    });
    const mine = basename(prefix);
    managed.delete(mine);
    managed.set(mine, now);
    const text = formatCheckpointState({
      modelCheckpointPath: mine,
      allModelCheckpointPaths: [...managed.keys()],
      allModelCheckpointTimestamps: [...managed.values()],
      lastPreservedTimestamp: lastPreserved,
    });
    await writeTextFileAtomic(file, text, { force: true });
  } finally {
    await lock.release();
  }
  return file;
}
