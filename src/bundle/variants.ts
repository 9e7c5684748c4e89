/**
 * `DT_VARIANT` tensor bytes in a bundle, kept opaque. Mirrors `tensorflow/core/util/tensor_bundle/tensor_bundle.cc`
 * (`WriteVariantTensor`, `ReadVariantTensor`). Per element:
 *
 *     varint64 L · L bytes of a serialized `VariantTensorDataProto` · fixed32 masked checksum
 *
 * One running CRC32C, from 0 for the tensor, is extended with L as an 8-byte little-endian
 * uint64 (not its varint bytes), then the L bytes; the element's stored checksum is that CRC
 * masked, and its 4 stored bytes then extend the CRC too. The entry's `crc32c` is the final CRC
 * masked, so it is not a CRC32C of the stored bytes.
 *
 * tfckpt never decodes the protos (their meaning belongs to the op that wrote them, e.g. a
 * `tf.data` iterator): it checks the framing and checksums and copies the bytes as they are.
 *
 * @module
 */
import { ChecksumMismatchError, CorruptCheckpointError, type ErrorLocation } from "../errors.js";
import { crc32c, maskCrc } from "../io/crc32c.js";
import { Cursor } from "../io/cursor.js";

function uint64le(n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
  return b;
}

/**
 * Checks the framing and every checksum of the `count` elements of a variant tensor.
 * @param bytes     the entry's `size` stored bytes
 * @param base      absolute offset of `bytes[0]` in its data file
 * @param storedCrc the entry's masked `crc32c`
 * @returns one view into `bytes` per element: its serialized `VariantTensorDataProto`
 * @throws CorruptCheckpointError when the elements overrun the entry or do not fill it exactly;
 *         ChecksumMismatchError for an element checksum or the entry checksum
 */
export function decodeVariantTensor(
  bytes: Uint8Array,
  count: number,
  base: number,
  storedCrc: number,
  loc: ErrorLocation,
): Uint8Array[] {
  const c = new Cursor(bytes, base, loc);
  if (count * 5 > bytes.length) {
    throw c.error(`variant tensor of ${count} elements cannot fit in ${bytes.length} bytes`, 0);
  }
  const out: Uint8Array[] = new Array(count);
  let crc = 0;
  for (let i = 0; i < count; i++) {
    const len = c.varint64();
    crc = crc32c(uint64le(len), crc);
    const elem = c.take(len, `variant element ${i}`);
    crc = crc32c(elem, crc);
    const checksumAt = c.pos;
    const checksumBytes = c.take(4, `variant element ${i} checksum`);
    const stored = new Cursor(checksumBytes).fixed32();
    if (stored !== maskCrc(crc)) {
      throw new ChecksumMismatchError(`variant element ${i}`, stored, maskCrc(crc), {
        ...loc,
        offset: base + checksumAt,
      });
    }
    crc = crc32c(checksumBytes, crc);
    out[i] = elem;
  }
  if (c.remaining !== 0) {
    throw new CorruptCheckpointError(
      `variant elements end ${c.remaining} bytes before the end of the entry`,
      { ...loc, offset: base + c.pos },
    );
  }
  if (maskCrc(crc) !== storedCrc) {
    throw new ChecksumMismatchError("variant tensor", storedCrc, maskCrc(crc), { ...loc, offset: base });
  }
  return out;
}

/**
 * The `type_name` (field 1) of a serialized `VariantTensorDataProto`, e.g. `tensorflow::Iterator`,
 * for display; undefined when the element does not start with it or it is not UTF-8.
 */
export function variantTypeName(elem: Uint8Array): string | undefined {
  if (elem[0] !== 0x0a) return undefined;
  try {
    const c = new Cursor(elem, 0, {}, 1);
    const len = c.varint32();
    return new TextDecoder("utf-8", { fatal: true }).decode(c.take(len));
  } catch {
    return undefined;
  }
}
