/**
 * `DT_STRING` tensor bytes in a bundle. Mirrors `tensorflow/core/util/tensor_bundle/tensor_bundle.cc`
 * (`WriteStringTensor`, `ReadStringTensor`):
 *
 *     varint64 len(s0) … varint64 len(s[n-1]) · fixed32 masked length checksum · s0 bytes … s[n-1] bytes
 *
 * The running CRC covers each length as a 4-byte little-endian uint32 (8-byte uint64 above
 * 0xFFFFFFFF), then the 4 stored checksum bytes, then every string's bytes; the entry stores it masked.
 *
 * @module
 */
import { ChecksumMismatchError, CorruptCheckpointError, type ErrorLocation } from "../errors.js";
import { crc32c, maskCrc, unmaskCrc } from "../io/crc32c.js";
import { ByteWriter, Cursor } from "../io/cursor.js";

function lengthBytes(len: number): Uint8Array {
  if (len <= 0xffffffff) {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, len, true);
    return b;
  }
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(len), true);
  return b;
}

/** Encodes `n` strings; returns the bytes to store and the masked CRC for the entry. */
export function encodeStringTensor(strings: readonly Uint8Array[]): { bytes: Uint8Array; crc32c: number } {
  const w = new ByteWriter(16 + strings.reduce((a, s) => a + s.length + 2, 0));
  let crc = 0;
  for (const s of strings) {
    w.varint(s.length);
    crc = crc32c(lengthBytes(s.length), crc);
  }
  const checksum = new ByteWriter(4).fixed32(maskCrc(crc)).finish();
  w.bytes(checksum);
  crc = crc32c(checksum, crc);
  for (const s of strings) {
    w.bytes(s);
    crc = crc32c(s, crc);
  }
  return { bytes: w.finish(), crc32c: maskCrc(crc) };
}

/**
 * Decodes and verifies `count` strings from the exact bytes of one entry.
 * @param bytes     the entry's `size` bytes
 * @param base      absolute offset of `bytes[0]` in its data file
 * @param storedCrc the entry's masked `crc32c`
 * @returns views into `bytes`, one per element
 * @throws CorruptCheckpointError when lengths overrun the entry or do not fill it exactly;
 *         ChecksumMismatchError for the length checksum or the entry checksum
 */
export function decodeStringTensor(
  bytes: Uint8Array,
  count: number,
  base: number,
  storedCrc: number,
  loc: ErrorLocation,
): Uint8Array[] {
  const c = new Cursor(bytes, base, loc);
  if (count + 4 > bytes.length) {
    throw c.error(`string tensor of ${count} elements cannot fit in ${bytes.length} bytes`, 0);
  }
  const lengths: number[] = new Array(count);
  let crc = 0;
  let total = 0;
  for (let i = 0; i < count; i++) {
    const len = c.varint64();
    total += len;
    if (total > bytes.length) {
      throw new CorruptCheckpointError(
        `string lengths longer than the entry (${total} > ${bytes.length} bytes)`,
        { ...loc, offset: base + c.pos },
      );
    }
    lengths[i] = len;
    crc = crc32c(lengthBytes(len), crc);
  }
  const checksumAt = c.pos;
  const checksumBytes = c.take(4, "string length checksum");
  const storedLen = new Cursor(checksumBytes).fixed32();
  if (unmaskCrc(storedLen) !== crc) {
    throw new ChecksumMismatchError("string length checksum", storedLen, maskCrc(crc), {
      ...loc,
      offset: base + checksumAt,
    });
  }
  crc = crc32c(checksumBytes, crc);
  if (c.remaining !== total) {
    throw new CorruptCheckpointError(
      `string bytes (${total}) do not fill the entry (${c.remaining} bytes after the lengths)`,
      { ...loc, offset: base + c.pos },
    );
  }
  const out: Uint8Array[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const s = c.take(lengths[i] as number);
    crc = crc32c(s, crc);
    out[i] = s;
  }
  if (maskCrc(crc) !== storedCrc) {
    throw new ChecksumMismatchError("string tensor", storedCrc, maskCrc(crc), { ...loc, offset: base });
  }
  return out;
}

/**
 * The entry checksum of a `DT_VARIANT` tensor's stored bytes (`tensor_bundle.cc`
 * `WriteVariantTensor`): per element `varint64 len · serialized VariantTensorDataProto · fixed32
 * masked running CRC`; the running CRC covers each length as an 8-byte little-endian uint64, the
 * serialized bytes and then the 4 checksum bytes themselves. tfckpt does not interpret variant values; this lets a
 * copy of them be checked and re-checksummed.
 * @param bytes the entry's `size` bytes
 * @param count the number of elements (from the entry's shape)
 * @param base  absolute offset of `bytes[0]` in its data file (for errors)
 * @returns the masked CRC the entry must store
 * @throws CorruptCheckpointError when the elements overrun the bytes or do not fill them exactly,
 *         or an element's own checksum is wrong
 */
export function variantTensorCrc(
  bytes: Uint8Array,
  count: number,
  base = 0,
  loc: ErrorLocation = {},
): number {
  const c = new Cursor(bytes, base, loc);
  let crc = 0;
  const len = new Uint8Array(8);
  for (let i = 0; i < count; i++) {
    const n = c.varint64();
    if (n > c.remaining - 4) throw c.error(`variant element ${i} of ${n} bytes overruns the entry`);
    new DataView(len.buffer).setBigUint64(0, BigInt(n), true);
    crc = crc32c(len, crc);
    const data = c.take(n, "variant element");
    crc = crc32c(data, crc);
    const at = c.pos;
    const sum = c.fixed32();
    if (sum !== maskCrc(crc)) throw c.error(`variant element ${i}: its checksum does not match`, at);
    crc = crc32c(bytes.subarray(at, at + 4), crc);
  }
  if (c.remaining !== 0) throw c.error(`${c.remaining} bytes after the last of ${count} variant elements`);
  return maskCrc(crc);
}
