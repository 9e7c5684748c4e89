/**
 * Write failures in words: the errno of a failed open, write, fsync, link, rename or mkdir as a
 * {@link WriteError} naming the file.
 *
 * @module
 */
import { TfckptError, WriteError } from "../errors.js";

/** Plain words for the errno codes of a failed write. */
const WRITE_ERRNO: Readonly<Record<string, string>> = {
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  ENOSPC: "no space left on device",
  EDQUOT: "disk quota exceeded",
  EFBIG: "file too large",
  ENOTDIR: "a parent of this path is not a directory",
  EISDIR: "is a directory",
  ENAMETOOLONG: "file name too long",
  EIO: "input/output error",
};

/**
 * Maps a Node.js fs error of a write (open, write, fsync, link, rename, mkdir) to a
 * {@link WriteError} naming `path`; TfckptErrors pass through.
 */
export function writeError(e: unknown, path: string): TfckptError {
  if (e instanceof TfckptError) return e;
  return new WriteError(`cannot write: ${writeFailureWords(e)}`, path, { cause: e });
}

/** What went wrong in a failed write, in plain words for a known errno, else the error's message. */
export function writeFailureWords(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code ?? "";
  return WRITE_ERRNO[code] ?? (e instanceof Error ? e.message : String(e));
}
