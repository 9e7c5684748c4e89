/**
 * Table blocks: prefix-compressed entries followed by a restart array. Mirrors
 * `tensorflow/core/lib/io/block.cc` (`Block`, `Block::Iter`) and `block_builder.cc` (`BlockBuilder`).
 *
 * @module
 */

import { type ErrorLocation, LimitExceededError } from "../errors.js";
import { ByteWriter, Cursor } from "../io/cursor.js";
import { MAX_KEY_BYTES_FLOOR, MAX_KEY_EXPANSION } from "../limits.js";

/** One key/value pair of a block. `key` is a fresh copy; `value` is a view into the block. */
export interface BlockEntry {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

/**
 * Decodes every entry of an (uncompressed) block.
 * @param contents  the block bytes without trailer
 * @param base      absolute file offset of `contents[0]` (for errors; for a decompressed block,
 *                  the offset of the compressed block)
 * @throws CorruptCheckpointError "bad block contents" (restart array) or "bad entry in block";
 *         LimitExceededError when the decoded keys would pass {@link MAX_KEY_EXPANSION} × the block
 *         size (+ {@link MAX_KEY_BYTES_FLOOR}): a prefix chain built to cost quadratic memory
 */
export function parseBlock(contents: Uint8Array, base: number, loc: ErrorLocation): BlockEntry[] {
  const c = new Cursor(contents, base, loc);
  if (contents.length < 4)
    throw c.error(`bad block contents: ${contents.length} bytes is too short for a restart count`);
  c.pos = contents.length - 4;
  const numRestarts = c.fixed32();
  const maxRestarts = Math.floor((contents.length - 4) / 4);
  if (numRestarts > maxRestarts) {
    throw c.error(
      `bad block contents: ${numRestarts} restarts cannot fit in ${contents.length} bytes`,
      contents.length - 4,
    );
  }
  const restartOffset = contents.length - 4 * (numRestarts + 1);
  const entries: BlockEntry[] = [];
  const e = new Cursor(contents, base, loc, 0, restartOffset);
  let prev = new Uint8Array(0);
  const keyBudget = MAX_KEY_EXPANSION * contents.length + MAX_KEY_BYTES_FLOOR;
  let keyBytes = 0;
  while (e.remaining > 0) {
    const at = e.pos;
    const shared = e.varint32();
    const nonShared = e.varint32();
    const valueLength = e.varint32();
    if (shared > prev.length || nonShared + valueLength > e.remaining) {
      throw e.error(
        `bad entry in block: shared ${shared} / key suffix ${nonShared} / value ${valueLength} bytes overrun the entry`,
        at,
      );
    }
    keyBytes += shared + nonShared;
    if (keyBytes > keyBudget) {
      throw new LimitExceededError(
        `block of ${contents.length} bytes decodes to more than ${keyBudget} bytes of keys (MAX_KEY_EXPANSION): refusing a prefix-compression chain`,
        { ...loc, offset: base + at },
      );
    }
    const key = new Uint8Array(shared + nonShared);
    key.set(prev.subarray(0, shared));
    key.set(e.take(nonShared), shared);
    const value = e.take(valueLength);
    entries.push({ key, value });
    prev = key;
  }
  return entries;
}

/** Builds one block (`BlockBuilder`): every `restartInterval`-th entry stores its whole key. */
export class BlockBuilder {
  readonly #restartInterval: number;
  readonly #buf = new ByteWriter(4096);
  #restarts: number[] = [0];
  #counter = 0;
  #last: Uint8Array = new Uint8Array(0);

  constructor(restartInterval: number) {
    this.#restartInterval = restartInterval;
  }

  /** True when no entry has been added since the last reset. */
  get empty(): boolean {
    return this.#buf.length === 0;
  }

  /** `BlockBuilder::CurrentSizeEstimate`: entry bytes + restart array + count (bytes). */
  get sizeEstimate(): number {
    return this.#buf.length + this.#restarts.length * 4 + 4;
  }

  /** Appends an entry; `key` must sort after the previous one (checked by the table builder). */
  add(key: Uint8Array, value: Uint8Array): void {
    let shared = 0;
    if (this.#counter < this.#restartInterval) {
      const n = Math.min(this.#last.length, key.length);
      while (shared < n && this.#last[shared] === key[shared]) shared++;
    } else {
      this.#restarts.push(this.#buf.length);
      this.#counter = 0;
    }
    this.#buf
      .varint(shared)
      .varint(key.length - shared)
      .varint(value.length);
    this.#buf.bytes(key.subarray(shared)).bytes(value);
    this.#last = key;
    this.#counter++;
  }

  /** The finished block bytes (entries + restart array + count). */
  finish(): Uint8Array {
    for (const r of this.#restarts) this.#buf.fixed32(r);
    this.#buf.fixed32(this.#restarts.length);
    return this.#buf.finish();
  }

  reset(): void {
    this.#buf.reset();
    this.#restarts = [0];
    this.#counter = 0;
    this.#last = new Uint8Array(0);
  }
}
