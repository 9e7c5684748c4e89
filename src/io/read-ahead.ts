/**
 * Double-buffered sequential reads of a {@link ByteSource}: the next window is read while the
 * caller uses this one, through two buffers reused in turn (no allocation per window). Serves the
 * bundle reader's tensor stream (one tensor's byte range, in chunks) and its CRC walk over a
 * shard (large windows, front to back).
 *
 * @module
 */
import type { ByteSource } from "./byte-source.js";

/**
 * Reads of `source` up to byte `end` in windows of at most `windowBytes`, through two alternating
 * buffers of `windowBytes` bytes each, taken from `take` on first use (a buffer longer than
 * `windowBytes` is fine; only its first `windowBytes` bytes are used). {@link window} returns the
 * bytes at an offset and starts reading the window that follows it into the other buffer, unless
 * that would start at or past `end`: nothing is read past `end`. A window is valid until the next
 * {@link window} call. Call {@link close} when done, also after an error or an early stop.
 */
export class ReadAhead {
  readonly #source: ByteSource;
  readonly #end: number;
  readonly #windowBytes: number;
  readonly #take: (bytes: number) => Uint8Array;
  readonly #bufs: Uint8Array[] = [];
  #ahead: { readonly at: number; readonly read: Promise<Uint8Array> } | undefined;
  #flip = 0;

  constructor(
    source: ByteSource,
    end: number,
    windowBytes: number,
    take: (bytes: number) => Uint8Array = (n) => new Uint8Array(n),
  ) {
    this.#source = source;
    this.#end = end;
    this.#windowBytes = windowBytes;
    this.#take = take;
  }

  /**
   * The `min(windowBytes, end - at)` bytes at byte `at`: the read already under way when it
   * starts at `at`, else a new one (the read under way is awaited and dropped: its buffer is
   * about to be reused).
   * @throws TruncatedFileError and the source's other read errors
   */
  async window(at: number): Promise<Uint8Array> {
    let next = this.#ahead;
    this.#ahead = undefined;
    if (next?.at !== at) {
      await next?.read.catch(() => undefined);
      next = this.#fill(at);
    }
    const bytes = await next.read;
    if (at + bytes.length < this.#end) this.#ahead = this.#fill(at + bytes.length);
    return bytes;
  }

  /** Waits for a read still in flight (its error is dropped); returns the buffers taken. */
  async close(): Promise<Uint8Array[]> {
    await this.#ahead?.read.catch(() => undefined);
    this.#ahead = undefined;
    return this.#bufs;
  }

  #fill(at: number): { at: number; read: Promise<Uint8Array> } {
    const i = this.#flip++ % 2;
    let buf = this.#bufs[i];
    if (buf === undefined) {
      buf = this.#take(this.#windowBytes);
      this.#bufs[i] = buf;
    }
    const len = Math.min(this.#windowBytes, this.#end - at);
    const read = this.#source.readInto(at, buf.subarray(0, len));
    // The read may fail while the consumer awaits something else; mark it handled so Node does not
    // report an unhandled rejection (and exit). The consumer still awaits `read` and gets its error.
    read.catch(() => undefined);
    return { at, read };
  }
}
