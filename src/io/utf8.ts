/**
 * UTF-8 decoding of the many short byte strings a checkpoint index holds (keys, names). Node's
 * `TextDecoder` costs ~10 µs per call on short inputs (ICU); almost every key is ASCII, which is
 * decoded here through Buffer's latin1 path (identical for bytes < 0x80) at a fraction of that.
 *
 * @module
 */

const strict = new TextDecoder("utf-8", { fatal: true });
const lenient = new TextDecoder("utf-8");

/** Up to this many bytes, ASCII is decoded with `String.fromCharCode` (well under the argument limit). */
const SHORT_ASCII_BYTES = 256;

function isAscii(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if ((bytes[i] as number) >= 0x80) return false;
  return true;
}

/**
 * The bytes as a string of one character per byte (latin1), read through a view (no copy): the
 * long-ASCII path of {@link decodeUtf8}, and a map key for a byte string (distinct bytes give
 * distinct strings, whatever their encoding).
 */
export function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}

/**
 * Decodes UTF-8 bytes to a string.
 * @param fatal  true: throw on invalid UTF-8 (as `TextDecoder` with `fatal`); false: replace with U+FFFD
 * @throws TypeError for invalid UTF-8 when `fatal`
 */
export function decodeUtf8(bytes: Uint8Array, fatal = true): string {
  if (isAscii(bytes)) {
    // Short keys (most checkpoint keys): one flat string from the bytes, no Buffer object per key.
    if (bytes.length <= SHORT_ASCII_BYTES)
      return String.fromCharCode.apply(null, bytes as unknown as number[]);
    return latin1(bytes);
  }
  return (fatal ? strict : lenient).decode(bytes);
}

/**
 * Compares two well-formed strings in the order of their UTF-8 bytes (a checkpoint table's key
 * order, `Buffer.compare` of the encodings) without encoding them; JavaScript's UTF-16
 * comparison differs from it only between a surrogate pair and a code unit U+E000–U+FFFF.
 */
export function compareUtf8Order(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      x = x < 0xe000 ? x + 0x2000 : x - 0x800;
      y = y < 0xe000 ? y + 0x2000 : y - 0x800;
    }
    return x - y;
  }
  return a.length - b.length;
}
