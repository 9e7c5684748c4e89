// A ByteSource wrapper that records every read, for tests of what an operation reads
// (test/bundle/reads.test.ts) and of the read-ahead (test/io/read-ahead.test.ts).
import type { ByteSource } from "../../src/io/byte-source.js";

/**
 * A {@link ByteSource} that passes every read to `inner` and records it: the number of reads,
 * the bytes read, and each read's `[offset, length]` (for tests and measurements of what an
 * operation reads).
 */
export class CountingSource implements ByteSource {
  readonly name: string;
  readonly byteLength: number;
  readonly inner: ByteSource;
  /** Every read so far as `[offset, length]`, in the order they were issued. */
  readonly ranges: Array<readonly [number, number]> = [];
  /** Bytes read so far. */
  bytes = 0;

  constructor(inner: ByteSource) {
    this.inner = inner;
    this.name = inner.name;
    this.byteLength = inner.byteLength;
  }

  /** Number of reads so far. */
  get reads(): number {
    return this.ranges.length;
  }

  read(offset: number, length: number): Promise<Uint8Array> {
    this.ranges.push([offset, length]);
    this.bytes += length;
    return this.inner.read(offset, length);
  }

  readInto(offset: number, into: Uint8Array): Promise<Uint8Array> {
    this.ranges.push([offset, into.length]);
    this.bytes += into.length;
    return this.inner.readInto(offset, into);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
