/**
 * tfckpt's error hierarchy. Every error a checkpoint, mapping or path can cause is one of these,
 * with a stable `code` and structured fields (file, key, byte offset) so that callers and the CLI
 * can say exactly *where* a problem is. The CLI alone maps them to exit codes.
 *
 * @module
 */

/** Stable machine-readable error codes. */
export type ErrorCode =
  | "corrupt" // bytes that cannot be what TensorFlow wrote (bad magic, bad varint, bad proto, …)
  | "truncated" // a read past the end of a file
  | "checksum" // a masked CRC32C that does not match
  | "not-found" // a file, checkpoint or key that does not exist
  | "unsupported" // a valid feature tfckpt does not handle (resource tensors, big-endian strings and variants, …)
  | "limit" // a declared size beyond one of tfckpt's named caps
  | "usage" // bad arguments or options
  | "output-exists" // an output that would be overwritten without `force`
  | "output-locked" // another live process is committing to the same output
  | "write-failed" // an output that cannot be written (permissions, read-only or full disk, …)
  | "invalid-document"; // a JSON document (mapping, graph) that fails its schema

/** Where in a file an error happened. All fields optional; offsets are absolute byte offsets. */
export interface ErrorLocation {
  /** Path of the file involved. */
  readonly file?: string | undefined;
  /** Checkpoint key (tensor name or encoded slice key, printed readably) involved. */
  readonly key?: string | undefined;
  /** Absolute byte offset in `file` where the problem was found. */
  readonly offset?: number | undefined;
}

function describeLocation(loc: ErrorLocation): string {
  const parts: string[] = [];
  if (loc.file !== undefined) parts.push(`file ${loc.file}`);
  if (loc.key !== undefined) parts.push(`key ${JSON.stringify(loc.key)}`);
  if (loc.offset !== undefined) parts.push(`offset ${loc.offset}`);
  return parts.length === 0 ? "" : ` (${parts.join(", ")})`;
}

/** Base class of every error tfckpt throws on purpose. `message` already includes the location. */
export class TfckptError extends Error {
  override readonly name: string = "TfckptError";
  readonly code: ErrorCode;
  readonly file: string | undefined;
  readonly key: string | undefined;
  readonly offset: number | undefined;
  /** The message without the location suffix. */
  readonly detail: string;

  constructor(code: ErrorCode, detail: string, loc: ErrorLocation = {}, options?: ErrorOptions) {
    super(detail + describeLocation(loc), options);
    this.code = code;
    this.detail = detail;
    this.file = loc.file;
    this.key = loc.key;
    this.offset = loc.offset;
  }

  /** A copy of this error with missing location fields filled from `loc` (existing ones win). */
  withLocation(loc: ErrorLocation): TfckptError {
    const merged: ErrorLocation = {
      file: this.file ?? loc.file,
      key: this.key ?? loc.key,
      offset: this.offset ?? loc.offset,
    };
    const copy = Object.create(Object.getPrototypeOf(this) as object) as TfckptError;
    Object.assign(copy, this, {
      file: merged.file,
      key: merged.key,
      offset: merged.offset,
      message: this.detail + describeLocation(merged),
      stack: this.stack,
    });
    return copy;
  }
}

/** Bytes that are not a valid checkpoint structure (TF reports these as DataLoss). */
export class CorruptCheckpointError extends TfckptError {
  override readonly name: string = "CorruptCheckpointError";
  constructor(detail: string, loc: ErrorLocation = {}, options?: ErrorOptions) {
    super("corrupt", detail, loc, options);
  }
}

/** A read that would pass the end of a file: a truncated or half-copied file. */
export class TruncatedFileError extends TfckptError {
  override readonly name: string = "TruncatedFileError";
  constructor(detail: string, loc: ErrorLocation = {}) {
    super("truncated", detail, loc);
  }
}

/** A stored masked CRC32C that disagrees with the bytes. `expected`/`actual` are masked values. */
export class ChecksumMismatchError extends TfckptError {
  override readonly name: string = "ChecksumMismatchError";
  readonly expected: number;
  readonly actual: number;
  constructor(what: string, expected: number, actual: number, loc: ErrorLocation = {}) {
    super(
      "checksum",
      `${what}: checksum does not match: stored ${hex32(expected)} vs. calculated ${hex32(actual)}`,
      loc,
    );
    this.expected = expected;
    this.actual = actual;
  }
}

/** A checkpoint, file or key that does not exist. */
export class NotFoundError extends TfckptError {
  override readonly name: string = "NotFoundError";
  constructor(detail: string, loc: ErrorLocation = {}) {
    super("not-found", detail, loc);
  }
}

/** A valid TensorFlow feature that tfckpt does not handle. */
export class UnsupportedError extends TfckptError {
  override readonly name: string = "UnsupportedError";
  constructor(detail: string, loc: ErrorLocation = {}) {
    super("unsupported", detail, loc);
  }
}

/** A declared size or count beyond one of tfckpt's named caps (see `limits.ts`). */
export class LimitExceededError extends TfckptError {
  override readonly name: string = "LimitExceededError";
  constructor(detail: string, loc: ErrorLocation = {}) {
    super("limit", detail, loc);
  }
}

/** Bad arguments or options from the caller. */
export class UsageError extends TfckptError {
  override readonly name: string = "UsageError";
  constructor(detail: string) {
    super("usage", detail);
  }
}

/**
 * A checkpoint file that is a FIFO, directory, device or socket (after following symbolic links):
 * refused before it is opened, since reading one may block for ever or never end.
 */
export class NotRegularFileError extends TfckptError {
  override readonly name: string = "NotRegularFileError";
  constructor(kind: string, path: string) {
    super("not-found", `not a regular file (${kind})`, { file: path });
  }
}

/** An output path that exists and would be overwritten without `force`. */
export class OutputExistsError extends TfckptError {
  override readonly name: string = "OutputExistsError";
  constructor(path: string) {
    super("output-exists", "output exists; pass --force (force: true) to overwrite it", { file: path });
  }
}

/**
 * An output that cannot be written: no permission, a read-only file system, a full disk, a
 * directory in its place, a parent that is not a directory. `file` is the path concerned.
 */
export class WriteError extends TfckptError {
  override readonly name: string = "WriteError";
  /**
   * True when the output was committed (its files are in place, complete) and only the
   * durability of its directory entries failed (`syncDirectories` in `src/io/atomic.ts`); what a
   * run writes after the commit (a checkpoint state file) was then not written.
   */
  readonly committed: boolean;
  constructor(detail: string, path: string, options?: ErrorOptions & { readonly committed?: boolean }) {
    super("write-failed", detail, { file: path }, options);
    this.committed = options?.committed ?? false;
  }
}

/**
 * Another live process holds the lock file beside an output (`<prefix>.tfckpt-lock`) for longer
 * than the wait allowed. `file` is the lock file; `holder` its process id, when it could be read.
 */
export class OutputLockedError extends TfckptError {
  override readonly name: string = "OutputLockedError";
  readonly holder: number | undefined;
  constructor(lockPath: string, holder: number | undefined, waitedMs: number) {
    super(
      "output-locked",
      `output is being written by ${holder === undefined ? "another process" : `process ${holder}`} (waited ${waitedMs} ms); if no such process runs, remove the lock file`,
      { file: lockPath },
    );
    this.holder = holder;
  }
}

/** Formats a 32-bit value as `0x` + 8 hex digits. */
export function hex32(v: number): string {
  return `0x${(v >>> 0).toString(16).padStart(8, "0")}`;
}

/** One problem in a JSON document: a JSON path (`$.assignments[2].to`) and a plain sentence. */
export interface DocumentProblem {
  readonly path: string;
  readonly message: string;
}

/** A JSON document (assignment map, object graph) that fails its schema or its semantic checks. */
export class InvalidDocumentError extends TfckptError {
  override readonly name: string = "InvalidDocumentError";
  /** Every problem found (not just the first). */
  readonly problems: readonly DocumentProblem[];
  constructor(what: string, file: string | undefined, problems: readonly DocumentProblem[]) {
    super(
      "invalid-document",
      `invalid ${what}: ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n${problems.map((p) => `  ${p.path}: ${p.message}`).join("\n")}`,
      { file },
    );
    this.problems = problems;
  }
}
