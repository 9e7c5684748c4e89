// The buffer pool: only what takeBuffer handed out comes back, views never; sizes are matched
// exactly; the pool keeps at most POOL_BYTES, oldest dropped first.
import { describe, expect, it } from "vitest";
import { giveBack, POOL_BYTES, POOLED_BYTES, pooledBytes, takeBuffer } from "../../src/io/buffer-pool.js";

describe("buffer pool", () => {
  it("serves a given-back buffer to the next take of the same size, and only then", () => {
    const a = takeBuffer(POOLED_BYTES);
    a.fill(7);
    giveBack(a);
    expect(takeBuffer(POOLED_BYTES + 8)).not.toBe(a); // another size: a new buffer
    const b = takeBuffer(POOLED_BYTES);
    expect(b).toBe(a);
    expect(takeBuffer(POOLED_BYTES)).not.toBe(a); // handed out once
    giveBack(b);
    giveBack(b); // twice: the second is ignored
    expect(takeBuffer(POOLED_BYTES)).toBe(a);
    expect(takeBuffer(POOLED_BYTES)).not.toBe(a);
  });

  it("ignores views, foreign buffers and small buffers", () => {
    const before = pooledBytes();
    const a = takeBuffer(2 * POOLED_BYTES);
    giveBack(a.subarray(0, POOLED_BYTES));
    giveBack(a.subarray(0));
    giveBack(new Uint8Array(2 * POOLED_BYTES));
    const small = takeBuffer(1024);
    giveBack(small);
    expect(pooledBytes()).toBe(before);
    expect(takeBuffer(1024)).not.toBe(small);
    giveBack(a);
    expect(pooledBytes()).toBe(before + 2 * POOLED_BYTES);
    expect(takeBuffer(2 * POOLED_BYTES)).toBe(a);
  });

  it("keeps at most POOL_BYTES, dropping the oldest first", () => {
    const size = 8 * POOLED_BYTES + 16; // a size no other test uses
    const n = Math.floor(POOL_BYTES / size) + 2;
    const bufs = Array.from({ length: n }, () => takeBuffer(size));
    for (const b of bufs) giveBack(b);
    expect(pooledBytes()).toBeLessThanOrEqual(POOL_BYTES);
    const back = new Set(Array.from({ length: n }, () => takeBuffer(size)));
    expect(back.has(bufs[0] as Uint8Array)).toBe(false); // the oldest was dropped
    expect(back.has(bufs[n - 1] as Uint8Array)).toBe(true);
  });
});
