/**
 * The stored-layout capability of a V2 bundle reader (`CheckpointReader.storedLayout`): its
 * header's version and endianness, its index compression, and its entries with data of their
 * own, each able to stream its stored bytes or read its values. `rewrite` reproduces a bundle
 * from it byte for byte, as `tensorflow/core/util/tensor_bundle/tensor_bundle.cc` laid it out.
 *
 * @module
 */
import type { StoredEntry, StoredLayout } from "../reader.js";
import type { BundleReader } from "./reader.js";

/** The stored layout of the bundle `r` reads. */
export function storedLayoutOf(r: BundleReader): StoredLayout {
  return {
    version: r.header.version,
    endianness: r.header.endianness,
    indexSnappy: () => r.indexStats.compressedBlocks > 0,
    entries: () =>
      r.storedEntries().map(
        (e): StoredEntry => ({
          key: e.key,
          dtype: e.dtype,
          shape: e.shape,
          shard: e.proto.shardId,
          size: e.proto.size,
          slice: e.slice,
          stream: () => r.streamEntry(e),
          read: () => r.readStored(e),
        }),
      ),
  };
}
