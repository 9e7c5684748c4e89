// ReadAhead, the double-buffered reads behind the bundle reader's tensor stream and CRC walk:
// windows come from the read started ahead when it matches, a jump drops it, nothing is read
// past `end`, and two buffers serve every window.
import { describe, expect, it } from "vitest";
import { TruncatedFileError } from "../../src/errors.js";
import { MemorySource } from "../../src/io/byte-source.js";
import { ReadAhead } from "../../src/io/read-ahead.js";
import { CountingSource } from "../helpers/counting-source.js";

/** A source of bytes 0..n-1 (mod 256) that records each read as [offset, length]. */
function source(n: number) {
  const s = new CountingSource(new MemorySource(Uint8Array.from({ length: n }, (_, i) => i % 256)));
  return { s, reads: s.ranges };
}

describe("ReadAhead", () => {
  it("reads sequential windows once each, one ahead, never past end", async () => {
    const { s, reads } = source(100);
    const taken: number[] = [];
    const ra = new ReadAhead(s, 90, 40, (n) => {
      taken.push(n);
      return new Uint8Array(n + 8); // a longer pooled buffer: only its first 40 bytes are used
    });
    const a = await ra.window(10);
    expect([a.length, a[0]]).toEqual([40, 10]);
    expect(reads).toEqual([
      [10, 40],
      [50, 40],
    ]);
    const b = await ra.window(50);
    expect([b.length, b[0]]).toEqual([40, 50]);
    expect(reads).toEqual([
      [10, 40],
      [50, 40],
    ]); // 90 is the end: no read ahead
    expect((await ra.close()).length).toBe(2);
    expect(taken).toEqual([40, 40]);
  });

  it("a jump drops the read ahead and starts at the new offset", async () => {
    const { s, reads } = source(100);
    const ra = new ReadAhead(s, 100, 30);
    await ra.window(0);
    const c = await ra.window(75);
    expect([c.length, c[0]]).toEqual([25, 75]);
    expect(reads).toEqual([
      [0, 30],
      [30, 30],
      [75, 25],
    ]);
    await ra.close();
  });

  it("one window takes one buffer; a failed read surfaces and close still ends cleanly", async () => {
    const { s } = source(10);
    const ra = new ReadAhead(s, 10, 64);
    expect((await ra.window(0)).length).toBe(10);
    expect((await ra.close()).length).toBe(1);
    const bad = new ReadAhead(s, 20, 64);
    await expect(bad.window(0)).rejects.toThrow(/passes the end/);
    await bad.close();
  });

  it("a read ahead that fails while the consumer is elsewhere is no unhandled rejection", async () => {
    const { s } = source(100);
    // The second window's read (at 40) rejects, as a pread would with EIO or a file that shrank.
    const failing = Object.assign(Object.create(s) as CountingSource, {
      readInto: (offset: number, into: Uint8Array) =>
        offset === 40
          ? Promise.reject(new TruncatedFileError("file shrank", { file: s.name, offset }))
          : s.readInto(offset, into),
    });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      const ra = new ReadAhead(failing, 100, 40);
      expect((await ra.window(0)).length).toBe(40); // starts the read at 40, which fails
      // The consumer awaits something else for a while (a write, a hash) before the next window.
      await new Promise((resolve) => setTimeout(resolve, 20));
      await expect(ra.window(40)).rejects.toThrow(TruncatedFileError);
      await ra.close();
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });
});
