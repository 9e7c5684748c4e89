/**
 * Turns what a user types into a checkpoint, the way TensorFlow resolves it: a prefix
 * (`model.ckpt-1000`), a directory through its `checkpoint` state file (`tf.train.latest_checkpoint`),
 * a path ending in `.index` or `.data-…`, a SavedModel directory (`variables/variables`), or a V1
 * file / sharded V1 file set. Mirrors `tensorflow/python/checkpoint/checkpoint_management.py`
 * (`latest_checkpoint`, `get_checkpoint_state`) and `tensorflow/c/checkpoint_reader.cc` (V2 if
 * `<prefix>.index` exists, else V1).
 *
 * Paths read from a state file never lead outside the directory that holds it, symbolic links
 * resolved (`realpath`): neither the state file nor any file of the checkpoint it names may be a
 * link, or lie under a linked directory, leading out of it. A path the user names is followed.
 *
 * @module
 */
import {
  closeSync,
  constants,
  fstatSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  realpathSync,
  statSync,
} from "node:fs";
import { basename, dirname, isAbsolute, join, relative, resolve as resolvePath } from "node:path";
import { DATA_FILE_RE, metaFilename } from "../bundle/naming.js";
import { LimitExceededError, NotFoundError, UsageError } from "../errors.js";
import { MAX_STATE_FILE_BYTES } from "../limits.js";
import { prefixNumber } from "./manager.js";
import { parseCheckpointState } from "./state.js";

/** A resolved checkpoint: its format, prefix (V2) or files (V1), and what was inferred. */
export interface ResolvedCheckpoint {
  readonly format: "v1" | "v2";
  /** V2: the prefix; V1: the file, or the shard pattern `…-?????-of-NNNNN`. */
  readonly path: string;
  /** V1 only: the table files, in shard order. */
  readonly files: readonly string[];
  /** Human-readable notes on how the input was interpreted (for stderr). */
  readonly notes: readonly string[];
}

const V1_SHARD_RE = /^(.*)-(\d{5,})-of-(\d{5,})$/;
const TABLE_MAGIC = Buffer.from([0x57, 0xfb, 0x80, 0x8b, 0x24, 0x75, 0x47, 0xdb]);

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** The files of the V1 shard set `<base>-NNNNN-of-MMMMM`, or undefined when incomplete. */
function v1ShardSet(base: string, count: string): string[] | undefined {
  const n = Number(count);
  const files: string[] = [];
  for (let i = 0; i < n; i++) {
    const f = `${base}-${String(i).padStart(count.length, "0")}-of-${count}`;
    if (!isFile(f)) return undefined;
    files.push(f);
  }
  return files;
}

/** V2 prefix or V1 files at `p` (a prefix, a V1 file, or a V1 pattern), without directory logic. */
function atPrefix(p: string, notes: string[]): ResolvedCheckpoint | undefined {
  if (isFile(metaFilename(p))) return { format: "v2", path: p, files: [], notes };
  if (isFile(p)) return { format: "v1", path: p, files: [p], notes };
  const pattern = /^(.*)-\?{5}-of-(\d{5,})$/.exec(p);
  if (pattern !== null) {
    const files = v1ShardSet(pattern[1] as string, pattern[2] as string);
    if (files !== undefined) return { format: "v1", path: p, files, notes };
  }
  // `export` where `export-00000-of-00001` … exist (a sharded V1 save named by its base).
  const dir = dirname(p);
  if (isDir(dir)) {
    const base = basename(p);
    for (const f of readdirSync(dir).sort()) {
      const m = V1_SHARD_RE.exec(f);
      if (m !== null && m[1] === base && Number(m[2]) === 0) {
        const files = v1ShardSet(join(dir, base), m[3] as string);
        if (files !== undefined) {
          return { format: "v1", path: `${join(dir, base)}-?????-of-${m[3]}`, files, notes };
        }
      }
    }
  }
  return undefined;
}

/** True when `child` is `parent` or inside it. */
function inside(parent: string, child: string): boolean {
  const rel = relative(resolvePath(parent), resolvePath(child));
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

/** True when `p` exists and, with every symbolic link resolved, is `dir` or inside it. */
function reallyInside(dir: string, p: string): boolean {
  try {
    return inside(realpathSync(dir), realpathSync(p));
  } catch {
    return false;
  }
}

/** The files of a resolved checkpoint: the index and the data shards of its prefix, or the V1 files. */
function filesOf(r: ResolvedCheckpoint): string[] {
  if (r.format === "v1") return [...r.files];
  const dir = dirname(r.path);
  const data = `${basename(r.path)}.data-`;
  return [
    metaFilename(r.path),
    ...readdirSync(dir)
      .filter((f) => f.startsWith(data))
      .map((f) => join(dir, f)),
  ];
}

/** A value read from a state file, quoted for a message: escaped, at most 200 characters. */
function quoted(s: string): string {
  return JSON.stringify(s.length > 200 ? `${s.slice(0, 200)}…` : s);
}

/**
 * `r`, when every one of its files really is inside `dir` (symbolic links resolved); otherwise a
 * UsageError: a path taken from a state file must not reach outside its directory through a link.
 */
function containedIn(dir: string, file: string, stored: string, r: ResolvedCheckpoint): ResolvedCheckpoint {
  const outside = filesOf(r).find((f) => !reallyInside(dir, f));
  if (outside !== undefined)
    throw new UsageError(
      `${file} names ${quoted(stored)}, whose file ${outside} is a symbolic link (or lies under one) leading outside the state file's directory; refusing to follow it: pass the checkpoint prefix explicitly`,
    );
  return r;
}

function fromStateFile(dir: string, notes: string[]): ResolvedCheckpoint {
  const file = join(dir, "checkpoint");
  const st = statSync(file);
  if (!st.isFile())
    throw new NotFoundError("the checkpoint state file is not a regular file (a FIFO, device or directory)", {
      file,
    });
  if (!reallyInside(dir, file))
    throw new UsageError(
      `${file} is a symbolic link leading outside its directory; refusing to read it: pass the checkpoint prefix explicitly`,
    );
  const size = st.size;
  if (size > MAX_STATE_FILE_BYTES)
    throw new LimitExceededError(`checkpoint state file of ${size} bytes`, { file });
  const state = parseCheckpointState(readFileSync(file, "utf8"), file);
  const stored = state.modelCheckpointPath;
  if (stored === "")
    throw new NotFoundError(`invalid checkpoint state loaded from ${dir}: no model_checkpoint_path`, {
      file,
    });
  const joined = isAbsolute(stored) ? stored : join(dir, stored);
  if (inside(dir, joined)) {
    const r = atPrefix(joined, notes);
    if (r !== undefined) {
      containedIn(dir, file, stored, r);
      notes.push(`using ${r.path} (model_checkpoint_path of ${file})`);
      return r;
    }
  }
  // Written on another machine (absolute /tmp/… paths of old TF1 Savers), or pointing outside
  // the directory: use the checkpoint of the same name next to the state file, if it is there.
  const beside = join(dir, basename(stored));
  const r = atPrefix(beside, notes);
  if (r !== undefined) {
    containedIn(dir, file, stored, r);
    notes.push(
      `${file} names ${quoted(stored)}, which is ${inside(dir, joined) ? "missing" : "outside this directory"}; using ${r.path} next to it`,
    );
    return r;
  }
  if (!inside(dir, joined)) {
    throw new UsageError(
      `${file} points outside its directory (${quoted(stored)}); refusing to follow it: pass the checkpoint prefix explicitly`,
    );
  }
  throw new NotFoundError(
    `couldn't match files for checkpoint ${quoted(joined)} (model_checkpoint_path of the state file)`,
    { file },
  );
}

function fromDirectory(dir: string, notes: string[]): ResolvedCheckpoint {
  const savedModel = join(dir, "variables", "variables");
  if (isFile(metaFilename(savedModel))) {
    notes.push(`SavedModel directory: reading its variables at ${savedModel}`);
    return { format: "v2", path: savedModel, files: [], notes };
  }
  if (isFile(join(dir, "checkpoint"))) return fromStateFile(dir, notes);
  // No state file: a lone checkpoint in the directory, or the newest `-N` of several.
  const names = readdirSync(dir).sort();
  const v2 = names.filter((f) => f.endsWith(".index")).map((f) => f.slice(0, -".index".length));
  const v1 = names.filter(
    (f) => !f.includes(".data-") && V1_SHARD_RE.test(f) && Number(V1_SHARD_RE.exec(f)?.[2]) === 0,
  );
  const candidates = [...v2, ...v1.map((f) => (V1_SHARD_RE.exec(f) as RegExpExecArray)[1] as string)];
  const step = (p: string) => prefixNumber(p) ?? Number.NaN;
  let pick: string | undefined;
  if (candidates.length === 1) pick = candidates[0];
  else if (candidates.length > 1 && candidates.every((c) => Number.isFinite(step(c)))) {
    pick = candidates.reduce((a, b) => (step(b) > step(a) ? b : a));
  }
  if (pick === undefined) {
    throw new NotFoundError(
      candidates.length === 0
        ? "couldn't find a 'checkpoint' file or checkpoints in the directory"
        : `several checkpoints and no 'checkpoint' state file; name one of: ${candidates.join(", ")}`,
      { file: dir },
    );
  }
  const r = atPrefix(join(dir, pick), notes) as ResolvedCheckpoint;
  notes.push(`no 'checkpoint' state file in ${dir}; using ${r.path}`);
  return r;
}

/**
 * Resolves `input` to a checkpoint.
 * @throws NotFoundError when nothing there is a checkpoint; UsageError when a state file points
 *         outside its directory
 */
export function resolveCheckpoint(input: string): ResolvedCheckpoint {
  const notes: string[] = [];
  if (input.endsWith(".index") && isFile(input)) {
    const prefix = input.slice(0, -".index".length);
    notes.push(`path ends in .index: using checkpoint prefix ${prefix}`);
    return { format: "v2", path: prefix, files: [], notes };
  }
  const data = DATA_FILE_RE.exec(input);
  if (data !== null && isFile(input) && isFile(metaFilename(data[1] as string))) {
    notes.push(`path is a data shard: using checkpoint prefix ${data[1]}`);
    return { format: "v2", path: data[1] as string, files: [], notes };
  }
  if (isDir(input)) return fromDirectory(input, notes);
  const r = atPrefix(input, notes);
  if (r !== undefined) {
    if (r.format === "v1" && r.files.length === 1 && !looksLikeTable(input)) {
      throw new NotFoundError("not a checkpoint: no .index beside it and not a V1 table file", {
        file: input,
      });
    }
    return r;
  }
  throw new NotFoundError(
    `no checkpoint at this path (looked for ${metaFilename(input)}, a V1 file, a directory). You may be missing the checkpoint suffix (e.g. the '-1' in 'path/to/ckpt-1')`,
    { file: input },
  );
}

/** True when `file` ends with the table magic (reads its last 8 bytes only). */
function looksLikeTable(file: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK); // a FIFO must not block
    if (!fstatSync(fd).isFile()) return false;
    const size = fstatSync(fd).size;
    if (size < 48) return false;
    const buf = Buffer.alloc(8);
    readSync(fd, buf, 0, 8, size - 8);
    return buf.equals(TABLE_MAGIC);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
