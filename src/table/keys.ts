/**
 * Byte-string keys: bytewise order (`memcmp`, as TF's `BytewiseComparator`) and readable forms.
 *
 * @module
 */

import { decodeUtf8 } from "../io/utf8.js";

/** Bytewise comparison: negative, zero or positive like `memcmp` then length. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** A key as text when it is printable UTF-8, otherwise as `0x` + hex (for messages). */
export function printableKey(key: Uint8Array): string {
  // Control bytes make it hex anyway (every slice key starts with 0x00): skip the UTF-8 attempt,
  // whose thrown error costs more than the rest of opening an index entry.
  for (let i = 0; i < key.length; i++)
    if ((key[i] as number) < 0x20) return `0x${Buffer.from(key).toString("hex")}`;
  try {
    const s = decodeUtf8(key);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: detecting control characters is the point
    if (!/[\u0000-\u001f]/.test(s)) return s;
  } catch {
    // not UTF-8
  }
  return `0x${Buffer.from(key).toString("hex")}`;
}

/** `FindShortestSeparator`: a short key S with start ≤ S < limit (table_builder.cc, BytewiseComparatorImpl). */
export function shortestSeparator(start: Uint8Array, limit: Uint8Array): Uint8Array {
  const n = Math.min(start.length, limit.length);
  let i = 0;
  while (i < n && start[i] === limit[i]) i++;
  if (i >= n) return start;
  const b = start[i] as number;
  if (b < 0xff && b + 1 < (limit[i] as number)) {
    const s = start.slice(0, i + 1);
    s[i] = b + 1;
    return s;
  }
  return start;
}

/** `FindShortSuccessor`: increment the first byte that is not 0xff and truncate after it. */
export function shortSuccessor(key: Uint8Array): Uint8Array {
  for (let i = 0; i < key.length; i++) {
    const b = key[i] as number;
    if (b !== 0xff) {
      const s = key.slice(0, i + 1);
      s[i] = b + 1;
      return s;
    }
  }
  return key;
}
