/**
 * Reuse of the large byte buffers a migration allocates once per tensor: the bytes a reader reads
 * and the output of a transform. A fresh multi-MiB buffer costs its pages' first-touch faults (and
 * zero-fill for `new Uint8Array`) on every tensor; one given back after its last use (the reader's
 * bytes once transformed, a transform's output once written: `PendingFile`'s owned writes) serves
 * the next tensor of the same byte size instead. Only buffers of at least {@link POOLED_BYTES} are
 * pooled, at most {@link POOL_BYTES} in all, oldest dropped first.
 *
 * The rule that keeps this safe: {@link giveBack} accepts only the very `Uint8Array` objects
 * {@link takeBuffer} returned (not views of them), and its caller guarantees nothing reads or
 * writes that buffer, or a view of it, afterwards.
 *
 * @module
 */

/** Smallest buffer pooled (1 MiB): below it allocation costs little. */
export const POOLED_BYTES = 1 << 20;
/** Most bytes kept for reuse at once (64 MiB). */
export const POOL_BYTES = 64 << 20;

/** Buffers handed out by {@link takeBuffer} and not yet given back. */
const out = new WeakSet<Uint8Array>();
/** Free buffers by byte length, oldest first; {@link order} holds every free one, oldest first. */
const free = new Map<number, Uint8Array[]>();
const order: Uint8Array[] = [];
let freeBytes = 0;

/**
 * A buffer of exactly `bytes` bytes whose contents are undefined (the caller overwrites every
 * byte): a pooled one of that size when there is one, else a new unpooled, uninitialised one.
 */
export function takeBuffer(bytes: number): Uint8Array {
  if (bytes < POOLED_BYTES) return new Uint8Array(bytes);
  const list = free.get(bytes);
  let b = list?.pop();
  if (b !== undefined) {
    order.splice(order.indexOf(b), 1);
    freeBytes -= bytes;
  } else {
    b = new Uint8Array(Buffer.allocUnsafeSlow(bytes).buffer, 0, bytes);
  }
  out.add(b);
  return b;
}

/**
 * Returns `b` to the pool if {@link takeBuffer} handed it out (anything else is ignored). The
 * caller must not touch `b`, or any view of its memory, after this.
 */
export function giveBack(b: Uint8Array): void {
  if (!out.delete(b)) return;
  const bytes = b.byteLength;
  if (bytes > POOL_BYTES) return;
  while (freeBytes + bytes > POOL_BYTES) {
    const old = order.shift() as Uint8Array;
    const list = free.get(old.byteLength) as Uint8Array[];
    list.splice(list.indexOf(old), 1);
    freeBytes -= old.byteLength;
  }
  let list = free.get(bytes);
  if (list === undefined) {
    list = [];
    free.set(bytes, list);
  }
  list.push(b);
  order.push(b);
  freeBytes += bytes;
}

/** Bytes held for reuse (for tests and `tfckpt doctor`-style reports). */
export function pooledBytes(): number {
  return freeBytes;
}
