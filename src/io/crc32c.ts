/**
 * CRC-32C (Castagnoli) and TensorFlow's masking, over the hardware-accelerated `@node-rs/crc32`,
 * or, when its binary does not load, the pure JavaScript `@aws-crypto/crc32c` (see `io/native.ts`;
 * same values, slower).
 *
 * Mirrors `tensorflow/core/lib/hash/crc32c.h` (now `xla/tsl/lib/hash/crc32c.h`): `Value`, `Extend`,
 * `Mask`, `Unmask`. Every CRC stored in a checkpoint (table block trailers, bundle entries, string
 * length checksums) is masked.
 *
 * @module
 */
import { createRequire } from "node:module";
import type { Crc32c } from "@aws-crypto/crc32c";
import { loadNative, type NativeImplementation, nativeImplementation } from "./native.js";

const MASK_DELTA = 0xa282ead8;
const NATIVE = "@node-rs/crc32";

interface NativeCrc32 {
  crc32c(data: Uint8Array, initial?: number): number;
}

let JsCrc32c: typeof Crc32c | undefined;

/**
 * The JavaScript fallback, continuing from `crc`: `Crc32c` keeps the running register (the CRC
 * with its final XOR undone) in `checksum`, which has no setter, so it is seeded directly. The
 * version is pinned and a test checks it against the native results.
 */
function jsCrc32c(data: Uint8Array, crc: number): number {
  // Loaded only when the native binary is not (it and its helpers cost a short run ~20 ms).
  JsCrc32c ??= (createRequire(import.meta.url)("@aws-crypto/crc32c") as { Crc32c: typeof Crc32c }).Crc32c;
  const h = new JsCrc32c();
  (h as unknown as { checksum: number }).checksum = (crc ^ 0xffffffff) >>> 0;
  return h.update(data).digest();
}

/** CRC-32C of `data`, continuing from `crc` (the CRC of the preceding bytes; 0 to start). */
export function crc32c(data: Uint8Array, crc = 0): number {
  const native = loadNative<NativeCrc32>(NATIVE);
  return (native !== undefined ? native.crc32c(data, crc) : jsCrc32c(data, crc)) >>> 0;
}

/** Which CRC-32C implementation runs: `native` true for `@node-rs/crc32`'s binary. */
export function crc32cImplementation(): NativeImplementation {
  return nativeImplementation(NATIVE, "@aws-crypto/crc32c");
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
