// Types for snappyjs (raw Snappy block format), which ships none.
declare module "snappyjs" {
  /** Decompresses a raw Snappy block; throws when the result would exceed `maxLength` bytes. */
  export function uncompress(compressed: Uint8Array, maxLength?: number): Uint8Array;
  /** Compresses to a raw Snappy block. */
  export function compress(uncompressed: Uint8Array): Uint8Array;
  const snappy: { uncompress: typeof uncompress; compress: typeof compress };
  export default snappy;
}
