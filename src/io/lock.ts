/**
 * The lock file that serialises commits to one output: `<prefix>.tfckpt-lock` beside a bundle,
 * `<file>.tfckpt-lock` beside a single output file. Created exclusively (`open(…, "wx")`), it
 * holds the owner's process id, host name and a random token, and is removed when the commit
 * ends. A lock whose process is gone (same host, `kill(pid, 0)` fails with ESRCH) is taken over,
 * so a writer killed mid-commit never blocks the next one. TensorFlow itself has no such lock
 * (its `BundleWriter` renames over whatever is there); this is tfckpt's own guarantee.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { link, open, readFile, rename, stat, unlink } from "node:fs/promises";
import { hostname } from "node:os";
import { OutputLockedError } from "../errors.js";
import { writeError } from "./write-error.js";

/** Suffix of the lock file beside an output. */
export const LOCK_SUFFIX = ".tfckpt-lock";

/** How long (ms) a commit waits for another process's lock before failing. */
export const DEFAULT_LOCK_WAIT_MS = 30_000;

/** A lock file whose content cannot be read as ours is stale after this long (ms): a writer writes its pid right after creating it. */
const UNREADABLE_LOCK_STALE_MS = 5_000;

interface Holder {
  readonly pid: number;
  readonly host: string;
}

function parseHolder(text: string): Holder | undefined {
  try {
    const v = JSON.parse(text) as { pid?: unknown; host?: unknown };
    if (typeof v.pid === "number" && Number.isSafeInteger(v.pid) && v.pid > 0 && typeof v.host === "string")
      return { pid: v.pid, host: v.host };
  } catch {
    // not ours, or half written
  }
  return undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== "ESRCH";
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A held output lock. Create with {@link OutputLock.acquire}; always {@link OutputLock.release}. */
export class OutputLock {
  readonly path: string;
  readonly #body: string;

  private constructor(path: string, body: string) {
    this.path = path;
    this.#body = body;
  }

  /**
   * Takes the lock file `path`, waiting up to `waitMs` while a live process holds it (polling
   * every 10–40 ms) and taking over one whose process is dead.
   * @throws OutputLockedError naming the holder's pid when the wait runs out; a TfckptError for
   *         an fs error (e.g. EACCES) naming `path`
   */
  static async acquire(path: string, waitMs = DEFAULT_LOCK_WAIT_MS): Promise<OutputLock> {
    const token = randomBytes(8).toString("hex");
    const body = JSON.stringify({ pid: process.pid, host: hostname(), token });
    const t0 = Date.now();
    for (;;) {
      try {
        const h = await open(path, "wx");
        try {
          await h.writeFile(body);
        } finally {
          await h.close();
        }
        return new OutputLock(path, body);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw writeError(e, path);
      }
      let text: string;
      let age: number;
      try {
        text = await readFile(path, "utf8");
        age = Date.now() - (await stat(path)).mtimeMs;
      } catch {
        continue; // released meanwhile: try again at once
      }
      const holder = parseHolder(text);
      const stale =
        holder === undefined
          ? age > UNREADABLE_LOCK_STALE_MS
          : holder.host === hostname() && !alive(holder.pid);
      if (stale) {
        await takeOver(path, text, token);
        continue;
      }
      const waited = Date.now() - t0;
      if (waited >= waitMs) throw new OutputLockedError(path, holder?.pid, waited);
      await sleep(Math.min(10 + Math.random() * 30, Math.max(1, waitMs - waited)));
    }
  }

  /** Removes the lock file if it is still this lock's (never another process's). */
  async release(): Promise<void> {
    try {
      if ((await readFile(this.path, "utf8")) === this.#body) await unlink(this.path);
    } catch {
      // already gone
    }
  }
}

/**
 * Removes the stale lock whose content was `text`. It is first moved aside, so that when another
 * process took it over meanwhile (the content differs) its fresh lock is put back, not deleted.
 */
async function takeOver(path: string, text: string, token: string): Promise<void> {
  const aside = `${path}-stale-${token}`;
  try {
    await rename(path, aside);
  } catch {
    return; // gone already
  }
  try {
    if ((await readFile(aside, "utf8")) !== text) await link(aside, path).catch(() => undefined);
  } finally {
    await unlink(aside).catch(() => undefined);
  }
}
