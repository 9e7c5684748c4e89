/**
 * Table (LevelDB SSTable) framing: block handles, the 48-byte footer, the 5-byte block trailer.
 * Mirrors `tensorflow/core/lib/io/format.h` / `format.cc` (`BlockHandle`, `Footer`, `ReadBlock`).
 *
 * @module
 */

import { CorruptCheckpointError } from "../errors.js";
import { ByteWriter, Cursor } from "../io/cursor.js";

/** `Footer::kEncodedLength`: two ≤20-byte handles padded to 40 bytes, then the 8-byte magic. */
export const FOOTER_LENGTH = 48;
/** `kBlockTrailerSize`: 1 compression-type byte + 4-byte masked CRC32C. */
export const BLOCK_TRAILER_LENGTH = 5;
/** Low and high 32-bit words of `kTableMagicNumber` 0xdb4775248b80fb57, stored little-endian. */
export const MAGIC_LO = 0x8b80fb57;
export const MAGIC_HI = 0xdb477524;

/** Block compression types stored in the trailer (`table_options.h`, `CompressionType`). */
export const COMPRESSION_NONE = 0;
export const COMPRESSION_SNAPPY = 1;

/** Where a block is: `offset` and `size` in bytes, `size` excluding the 5-byte trailer. */
export interface BlockHandle {
  readonly offset: number;
  readonly size: number;
}

/** Reads a `BlockHandle` (two varint64s) at the cursor. @throws CorruptCheckpointError */
export function decodeBlockHandle(c: Cursor): BlockHandle {
  const offset = c.varint64();
  const size = c.varint64();
  return { offset, size };
}

/** Appends a `BlockHandle` (two varint64s). */
export function encodeBlockHandle(w: ByteWriter, h: BlockHandle): void {
  w.varint(h.offset).varint(h.size);
}

/** The two handles of a table footer. */
export interface Footer {
  readonly metaindex: BlockHandle;
  readonly index: BlockHandle;
}

/**
 * Decodes the last 48 bytes of a table.
 * @param bytes  exactly {@link FOOTER_LENGTH} bytes
 * @param base   absolute file offset of `bytes[0]`
 * @throws CorruptCheckpointError "not an sstable (bad magic number)" or "bad block handle"
 */
export function decodeFooter(bytes: Uint8Array, base: number, file: string): Footer {
  const c = new Cursor(bytes, base, { file });
  c.pos = 40;
  const lo = c.fixed32();
  const hi = c.fixed32();
  if (lo !== MAGIC_LO || hi !== MAGIC_HI) {
    throw new CorruptCheckpointError("not an sstable (bad magic number)", { file, offset: base + 40 });
  }
  const h = new Cursor(bytes, base, { file }, 0, 40);
  try {
    return { metaindex: decodeBlockHandle(h), index: decodeBlockHandle(h) };
  } catch (e) {
    throw new CorruptCheckpointError("bad block handle in footer", { file, offset: base }, { cause: e });
  }
}

/** Encodes a footer: both handles, zero padding to 40 bytes, the magic. */
export function encodeFooter(f: Footer): Uint8Array {
  const w = new ByteWriter(FOOTER_LENGTH);
  encodeBlockHandle(w, f.metaindex);
  encodeBlockHandle(w, f.index);
  while (w.length < 40) w.u8(0);
  w.fixed32(MAGIC_LO).fixed32(MAGIC_HI);
  return w.finish();
}
