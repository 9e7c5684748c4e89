/**
 * Bundle file names. Mirrors `tensorflow/core/util/tensor_bundle/naming.cc` (`MetaFilename`,
 * `DataFilename`): `<prefix>.index` and `<prefix>.data-%05d-of-%05d`.
 *
 * @module
 */

/** `<prefix>.index`. */
export function metaFilename(prefix: string): string {
  return `${prefix}.index`;
}

/** `<prefix>.data-SSSSS-of-NNNNN` (shard id and count zero-padded to at least five digits). */
export function dataFilename(prefix: string, shardId: number, numShards: number): string {
  return `${prefix}.data-${String(shardId).padStart(5, "0")}-of-${String(numShards).padStart(5, "0")}`;
}

/** Matches a data shard file name, capturing the prefix, shard id and shard count. */
export const DATA_FILE_RE = /^(.*)\.data-(\d{5,})-of-(\d{5,})$/;
