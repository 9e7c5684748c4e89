/**
 * CRC-32C (Castagnoli) and TensorFlow's masking, over the hardware-accelerated `@node-rs/crc32`.
 *
 * Mirrors `tensorflow/core/lib/hash/crc32c.h` (now `xla/tsl/lib/hash/crc32c.h`): `Value`, `Extend`,
 * `Mask`, `Unmask`. Every CRC stored in a checkpoint (table block trailers, bundle entries, string
 * length checksums) is masked.
 *
 * @module
 */
import { crc32c as nativeCrc32c } from "@node-rs/crc32";

const MASK_DELTA = 0xa282ead8;

/** CRC-32C of `data`, continuing from `crc` (the CRC of the preceding bytes; 0 to start). */
export function crc32c(data: Uint8Array, crc = 0): number {
  return nativeCrc32c(data, crc) >>> 0;
}

/** TF's `crc32c::Mask`: rotate right by 15 bits and add 0xa282ead8 (mod 2^32). */
export function maskCrc(crc: number): number {
  const c = crc >>> 0;
  return ((((c >>> 15) | (c << 17)) >>> 0) + MASK_DELTA) >>> 0;
}

/** TF's `crc32c::Unmask`, the inverse of {@link maskCrc}. */
export function unmaskCrc(masked: number): number {
  const rot = ((masked >>> 0) - MASK_DELTA) >>> 0;
  return ((rot >>> 17) | (rot << 15)) >>> 0;
}
