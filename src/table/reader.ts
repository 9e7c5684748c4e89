/**
 * Lazy table reader: footer → index block → only the data blocks asked for. Every block's masked
 * CRC32C is verified; Snappy blocks are decompressed. Mirrors `tensorflow/core/lib/io/table.cc`
 * (`Table::Open`, `BlockReader`, `InternalGet`) and `format.cc` (`ReadBlock`).
 *
 * @module
 */
import { ChecksumMismatchError, CorruptCheckpointError, LimitExceededError } from "../errors.js";
import type { ByteSource } from "../io/byte-source.js";
import { crc32c, maskCrc } from "../io/crc32c.js";
import { Cursor } from "../io/cursor.js";
import { snappyUncompress } from "../io/snappy.js";
import { MAX_BLOCK_BYTES, MAX_SNAPPY_EXPANSION } from "../limits.js";
import { type BlockEntry, parseBlock } from "./block.js";
import {
  BLOCK_TRAILER_LENGTH,
  type BlockHandle,
  COMPRESSION_NONE,
  COMPRESSION_SNAPPY,
  decodeBlockHandle,
  decodeFooter,
  FOOTER_LENGTH,
} from "./format.js";
import { compareBytes, printableKey } from "./keys.js";

/** One index entry: a separator key ≥ every key of its block, and the block's handle. */
export interface IndexEntry {
  readonly separator: Uint8Array;
  readonly handle: BlockHandle;
}

/** Counts of what a reader did, for I/O-budget tests and `--verify` reports. */
export interface TableStats {
  blocksRead: number;
  bytesRead: number;
  compressedBlocks: number;
}

/** A table opened for reading. */
export class TableReader {
  readonly source: ByteSource;
  readonly index: readonly IndexEntry[];
  readonly stats: TableStats = { blocksRead: 0, bytesRead: 0, compressedBlocks: 0 };
  readonly #dataEnd: number;

  private constructor(source: ByteSource, index: IndexEntry[], dataEnd: number) {
    this.source = source;
    this.index = index;
    this.#dataEnd = dataEnd;
  }

  /**
   * Reads the footer and the index block of `source`.
   * @throws CorruptCheckpointError "file is too short to be an sstable", bad magic, bad handles,
   *         a bad index block; ChecksumMismatchError for the index block's CRC.
   */
  static async open(source: ByteSource): Promise<TableReader> {
    const file = source.name;
    if (source.byteLength < FOOTER_LENGTH) {
      throw new CorruptCheckpointError(`file is too short to be an sstable (${source.byteLength} bytes)`, {
        file,
        offset: 0,
      });
    }
    const footerAt = source.byteLength - FOOTER_LENGTH;
    const footer = decodeFooter(await source.read(footerAt, FOOTER_LENGTH), footerAt, file);
    const reader = new TableReader(source, [], footerAt);
    const indexBytes = await reader.readBlock(footer.index, "index block");
    const index: IndexEntry[] = parseBlock(indexBytes, footer.index.offset, { file }).map((e) => ({
      separator: e.key,
      handle: decodeBlockHandle(new Cursor(e.value, footer.index.offset, { file, key: printableKey(e.key) })),
    }));
    for (let i = 1; i < index.length; i++) {
      if (compareBytes((index[i - 1] as IndexEntry).separator, (index[i] as IndexEntry).separator) >= 0) {
        throw new CorruptCheckpointError("index block keys are not in increasing order", {
          file,
          offset: footer.index.offset,
        });
      }
    }
    (reader as { index: readonly IndexEntry[] }).index = index;
    return reader;
  }

  /**
   * Reads, verifies and (if needed) decompresses one block.
   * @returns the uncompressed block contents, without trailer
   * @throws CorruptCheckpointError "bad block handle", "bad block type", "corrupted compressed
   *         block contents"; ChecksumMismatchError "block checksum mismatch"; LimitExceededError.
   */
  async readBlock(handle: BlockHandle, what = "data block"): Promise<Uint8Array> {
    const file = this.source.name;
    if (handle.offset + handle.size + BLOCK_TRAILER_LENGTH > this.#dataEnd) {
      throw new CorruptCheckpointError(
        `bad block handle: ${what} of ${handle.size} bytes at ${handle.offset} passes the footer at ${this.#dataEnd}`,
        { file, offset: handle.offset },
      );
    }
    if (handle.size > MAX_BLOCK_BYTES) {
      throw new LimitExceededError(`${what} of ${handle.size} bytes exceeds MAX_BLOCK_BYTES`, {
        file,
        offset: handle.offset,
      });
    }
    const raw = await this.source.read(handle.offset, handle.size + BLOCK_TRAILER_LENGTH);
    this.stats.blocksRead++;
    this.stats.bytesRead += raw.length;
    const type = raw[handle.size] as number;
    const c = new Cursor(raw, handle.offset, { file });
    c.pos = handle.size + 1;
    const stored = c.fixed32();
    const actual = maskCrc(crc32c(raw.subarray(0, handle.size + 1)));
    if (stored !== actual) {
      throw new ChecksumMismatchError(`block checksum mismatch in ${what}`, stored, actual, {
        file,
        offset: handle.offset,
      });
    }
    const contents = raw.subarray(0, handle.size);
    if (type === COMPRESSION_NONE) return contents;
    if (type === COMPRESSION_SNAPPY) {
      this.stats.compressedBlocks++;
      return uncompressBlock(contents, file, handle.offset, what);
    }
    throw new CorruptCheckpointError(`bad block type ${type} in ${what}`, {
      file,
      offset: handle.offset + handle.size,
    });
  }

  /**
   * Every entry of the table in key order, one data block at a time (the index is already in
   * memory). Yielding whole blocks keeps per-entry overhead out of 100 000-key listings.
   * @throws CorruptCheckpointError when keys are not strictly increasing (binary search would
   *         then be meaningless), or any block error of {@link readBlock}.
   */
  async *blocks(): AsyncGenerator<{ readonly offset: number; readonly entries: readonly BlockEntry[] }> {
    let prev: Uint8Array | undefined;
    for (const { handle } of this.index) {
      const contents = await this.readBlock(handle);
      const entries = parseBlock(contents, handle.offset, { file: this.source.name });
      for (const e of entries) {
        if (prev !== undefined && compareBytes(prev, e.key) >= 0) {
          throw new CorruptCheckpointError("table keys are not in strictly increasing order", {
            file: this.source.name,
            key: printableKey(e.key),
            offset: handle.offset,
          });
        }
        prev = e.key;
      }
      yield { offset: handle.offset, entries };
    }
  }

  /** Every entry of the table in key order (see {@link blocks}). */
  async *entries(): AsyncGenerator<BlockEntry & { readonly blockOffset: number }> {
    for await (const block of this.blocks()) {
      for (const e of block.entries) yield { ...e, blockOffset: block.offset };
    }
  }

  /**
   * The value stored under `key`, or undefined. Reads one data block at most; the last block read
   * stays parsed, so looking up keys that sit together (a V1 tensor's slices) parses each block
   * once and finds each key by binary search — O(log n) per lookup, not a block parse.
   */
  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    let lo = 0;
    let hi = this.index.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareBytes((this.index[mid] as IndexEntry).separator, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    const entry = this.index[lo];
    if (entry === undefined) return undefined;
    if (this.#lastBlock?.offset !== entry.handle.offset) {
      const contents = await this.readBlock(entry.handle);
      this.#lastBlock = {
        offset: entry.handle.offset,
        entries: parseBlock(contents, entry.handle.offset, { file: this.source.name }),
      };
    }
    const entries = this.#lastBlock.entries;
    let a = 0;
    let b = entries.length;
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (compareBytes((entries[mid] as BlockEntry).key, key) < 0) a = mid + 1;
      else b = mid;
    }
    const found = entries[a];
    return found !== undefined && compareBytes(found.key, key) === 0 ? found.value : undefined;
  }

  #lastBlock: { readonly offset: number; readonly entries: readonly BlockEntry[] } | undefined;
}

function uncompressBlock(contents: Uint8Array, file: string, offset: number, what: string): Uint8Array {
  let declared: number;
  try {
    declared = new Cursor(contents, offset, { file }).varint32();
  } catch (e) {
    throw new CorruptCheckpointError(
      `corrupted compressed block contents in ${what}: bad length`,
      { file, offset },
      { cause: e },
    );
  }
  const cap = Math.min(MAX_BLOCK_BYTES, contents.length * MAX_SNAPPY_EXPANSION + 64);
  if (declared > cap) {
    throw new CorruptCheckpointError(
      `corrupted compressed block contents in ${what}: claims ${declared} bytes from ${contents.length} compressed`,
      { file, offset },
    );
  }
  let out: Uint8Array;
  try {
    out = snappyUncompress(contents, declared);
  } catch (e) {
    const m = e instanceof Error ? e.message : String(e);
    throw new CorruptCheckpointError(
      `corrupted compressed block contents in ${what}: ${m}`,
      { file, offset },
      { cause: e },
    );
  }
  if (out.length !== declared) {
    throw new CorruptCheckpointError(
      `corrupted compressed block contents in ${what}: decompressed ${out.length} bytes, header says ${declared}`,
      { file, offset },
    );
  }
  return out;
}
