/**
 * Snappy (raw format, no framing) as table blocks use it (`tensorflow/core/lib/io/table.cc`,
 * `kSnappyCompression`): the native `snappy` package when its binary loads, else the pure
 * JavaScript `snappyjs` (see `io/native.ts`). Both decompress every valid stream to the same
 * bytes. Compressed output is not specified by the format: a table written through the fallback
 * may differ byte-wise from one written natively (both read back the same).
 *
 * @module
 */
import { createRequire } from "node:module";
import type * as SnappyJs from "snappyjs";
import { loadNative, type NativeImplementation, nativeImplementation } from "./native.js";

/** The JavaScript fallback, loaded only when the native binary is not. */
let fallback: typeof SnappyJs | undefined;
function snappyjs(): typeof SnappyJs {
  fallback ??= createRequire(import.meta.url)("snappyjs") as typeof SnappyJs;
  return fallback;
}

interface NativeSnappy {
  compressSync(data: Uint8Array): Buffer;
  uncompressSync(data: Uint8Array, options: { asBuffer: true }): Buffer | string;
}

const NATIVE = "snappy";

/** Which Snappy implementation runs: `native` true for the `snappy` package's binary. */
export function snappyImplementation(): NativeImplementation {
  return nativeImplementation(NATIVE, "snappyjs");
}

/**
 * Decompresses a raw Snappy stream of at most `maxLength` bytes.
 * @throws Error for an invalid stream (the caller wraps it with file and offset)
 */
export function snappyUncompress(data: Uint8Array, maxLength: number): Uint8Array {
  const native = loadNative<NativeSnappy>(NATIVE);
  if (native !== undefined) return native.uncompressSync(data, { asBuffer: true }) as Buffer;
  return snappyjs().uncompress(data, maxLength);
}

/** Compresses `data` as a raw Snappy stream. */
export function snappyCompress(data: Uint8Array): Uint8Array {
  const native = loadNative<NativeSnappy>(NATIVE);
  return native !== undefined ? native.compressSync(data) : snappyjs().compress(data);
}
