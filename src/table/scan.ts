/**
 * Allocation-free walk over table blocks, for readers that visit every entry of a large table (a
 * 10⁶-key `.index`): where {@link parseBlock} returns one key copy, one value view and one
 * object per entry, {@link BlockScanner} fills reused arrays of positions. Same format and the
 * same errors as `parseBlock` and `TableReader.blocks` (`tensorflow/core/lib/io/block.cc`,
 * `Block::Iter`): any block the fast walk finds doubtful is handed to `parseBlock`, which throws
 * the canonical error (or, if it accepts the block, its entries are used).
 *
 * @module
 */
import { CorruptCheckpointError } from "../errors.js";
import { MAX_KEY_BYTES_FLOOR, MAX_KEY_EXPANSION } from "../limits.js";
import { parseBlock } from "./block.js";
import { printableKey } from "./keys.js";

/**
 * Scans the blocks of one table in key order. After {@link scan}, entry `i` of the block
 * (0 ≤ i < the returned count) has its full key in `keys[keyStart[i], keyStart[i] + keyLength[i])`
 * and its value in `block[valueStart[i], valueStart[i] + valueLength[i])` (positions in bytes).
 */
export class BlockScanner {
  /** Full keys of the last scanned block, back to back. */
  keys: Buffer = Buffer.alloc(4096);
  keyStart = new Uint32Array(256);
  keyLength = new Uint32Array(256);
  valueStart = new Uint32Array(256);
  valueLength = new Uint32Array(256);
  /** The last key of the previous block (keys must increase across blocks too). */
  #prev: Uint8Array | undefined;
  /** The first entry of the last fast walk whose key does not follow the one before it, or -1. */
  #disorder = -1;

  /**
   * Walks one uncompressed block (without trailer).
   * @param base  file offset of the block (for errors)
   * @returns the number of entries
   * @throws CorruptCheckpointError / LimitExceededError exactly as `parseBlock`, then
   *         "table keys are not in strictly increasing order" as `TableReader.blocks`
   */
  scan(block: Uint8Array, base: number, file: string): number {
    const n = this.#fast(block);
    if (n < 0) return this.#slow(block, base, file);
    const disorder = this.#disorder;
    if (disorder >= 0) {
      throw new CorruptCheckpointError("table keys are not in strictly increasing order", {
        file,
        key: printableKey(this.#key(disorder)),
        offset: base,
      });
    }
    if (n > 0) this.#prev = new Uint8Array(this.#key(n - 1)); // a copy: Buffer#slice is a view
    return n;
  }

  #key(i: number): Uint8Array {
    const s = this.keyStart[i] as number;
    return this.keys.subarray(s, s + (this.keyLength[i] as number));
  }

  /** Index of the first entry whose key does not follow the one before it, or -1. */
  #firstDisorder(n: number): number {
    for (let i = 0; i < n; i++) {
      const prev = i === 0 ? this.#prev : this.#key(i - 1);
      if (prev !== undefined && Buffer.compare(prev, this.#key(i)) >= 0) return i;
    }
    return -1;
  }

  /** The walk; -1 when anything is doubtful (then {@link #slow} decides). */
  #fast(b: Uint8Array): number {
    if (b.length < 4) return -1;
    const numRestarts =
      (b[b.length - 4] as number) |
      ((b[b.length - 3] as number) << 8) |
      ((b[b.length - 2] as number) << 16) |
      ((b[b.length - 1] as number) << 24);
    if (numRestarts < 0 || numRestarts > Math.floor((b.length - 4) / 4)) return -1;
    const end = b.length - 4 * (numRestarts + 1);
    const budget = MAX_KEY_EXPANSION * b.length + MAX_KEY_BYTES_FLOOR;
    let p = 0;
    let n = 0;
    let keyAt = 0;
    let prevStart = 0;
    let prevLength = 0;
    this.#disorder = -1;
    while (p < end) {
      let shared = 0;
      let nonShared = 0;
      let valueLength = 0;
      for (let f = 0; f < 3; f++) {
        let v = 0;
        for (let shift = 0; ; shift += 7) {
          if (p >= end || shift > 21) return -1; // short varints only; others go to parseBlock
          const byte = b[p++] as number;
          v += (byte & 0x7f) * 2 ** shift;
          if (byte < 0x80) break;
        }
        if (f === 0) shared = v;
        else if (f === 1) nonShared = v;
        else valueLength = v;
      }
      if (shared > prevLength || nonShared + valueLength > end - p) return -1;
      if (keyAt + shared + nonShared > budget) return -1;
      if (n === this.keyStart.length) this.#grow();
      if (keyAt + shared + nonShared > this.keys.length) {
        const k = Buffer.alloc(Math.max(2 * this.keys.length, keyAt + shared + nonShared));
        this.keys.copy(k, 0, 0, keyAt);
        this.keys = k;
      }
      this.keys.copyWithin(keyAt, prevStart, prevStart + shared);
      this.keys.set(b.subarray(p, p + nonShared), keyAt + shared);
      p += nonShared;
      if (this.#disorder < 0 && !this.#follows(n, prevStart, prevLength, keyAt, shared, nonShared))
        this.#disorder = n;
      this.keyStart[n] = keyAt;
      this.keyLength[n] = shared + nonShared;
      this.valueStart[n] = p;
      this.valueLength[n] = valueLength;
      p += valueLength;
      prevStart = keyAt;
      prevLength = shared + nonShared;
      keyAt += prevLength;
      n++;
    }
    return n;
  }

  /**
   * Whether the key at `keyAt` (`shared` bytes taken from the key before it, then `nonShared`
   * of its own) sorts after the key before it: in this block at `prevStart`, else the last key
   * of the previous block.
   */
  #follows(
    n: number,
    prevStart: number,
    prevLength: number,
    keyAt: number,
    shared: number,
    nonShared: number,
  ): boolean {
    const k = this.keys;
    if (n === 0) {
      const prev = this.#prev;
      if (prev === undefined) return true;
      return Buffer.compare(prev, k.subarray(keyAt, keyAt + nonShared)) < 0;
    }
    const a = prevLength - shared;
    const m = Math.min(a, nonShared);
    for (let i = 0; i < m; i++) {
      const d = (k[prevStart + shared + i] as number) - (k[keyAt + shared + i] as number);
      if (d !== 0) return d < 0;
    }
    return a < nonShared;
  }

  /** A doubtful block: `parseBlock` throws its error, or its entries are copied in. */
  #slow(block: Uint8Array, base: number, file: string): number {
    const entries = parseBlock(block, base, { file });
    let keyAt = 0;
    const keyBytes = entries.reduce((a, e) => a + e.key.length, 0);
    if (keyBytes > this.keys.length) this.keys = Buffer.alloc(keyBytes);
    while (this.keyStart.length < entries.length) this.#grow();
    entries.forEach((e, i) => {
      this.keys.set(e.key, keyAt);
      this.keyStart[i] = keyAt;
      this.keyLength[i] = e.key.length;
      this.valueStart[i] = e.value.byteOffset - block.byteOffset;
      this.valueLength[i] = e.value.length;
      keyAt += e.key.length;
    });
    const disorder = this.#firstDisorder(entries.length);
    if (disorder >= 0) {
      throw new CorruptCheckpointError("table keys are not in strictly increasing order", {
        file,
        key: printableKey(this.#key(disorder)),
        offset: base,
      });
    }
    if (entries.length > 0) this.#prev = new Uint8Array(this.#key(entries.length - 1)); // a copy: Buffer#slice is a view
    return entries.length;
  }

  #grow(): void {
    const grow = (a: Uint32Array) => {
      const b = new Uint32Array(a.length * 2);
      b.set(a);
      return b;
    };
    this.keyStart = grow(this.keyStart);
    this.keyLength = grow(this.keyLength);
    this.valueStart = grow(this.valueStart);
    this.valueLength = grow(this.valueLength);
  }
}
