// PendingFile's write-behind: owned writes are queued (bounded, in order, one at a time) while the
// caller goes on; small owned writes are copied and written together; a failed queued write fails
// the next call and the close; discard waits for them.
import type { FileHandle } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { WriteError } from "../../src/errors.js";
import {
  PendingFile,
  STAGED_WRITE_BYTES,
  WRITE_BACK_BYTES,
  WRITE_BEHIND_BYTES,
} from "../../src/io/atomic.js";
import { POOLED_BYTES, pooledBytes, takeBuffer } from "../../src/io/buffer-pool.js";

/** A FileHandle stand-in: each write waits for `release()`, records its range, may fail. */
function fakeHandle(failAt?: number) {
  const file = new Uint8Array(4 * WRITE_BEHIND_BYTES);
  const log: string[] = [];
  let running = 0;
  let maxRunning = 0;
  const waiting: Array<() => void> = [];
  const handle = {
    async write(buf: Uint8Array, off: number, len: number, pos: number) {
      running++;
      maxRunning = Math.max(maxRunning, running);
      log.push(`write ${pos}+${len}`);
      await new Promise<void>((r) => waiting.push(r));
      running--;
      if (pos === failAt) throw Object.assign(new Error("no space left on device"), { code: "ENOSPC" });
      file.set(buf.subarray(off, off + len), pos);
      return { bytesWritten: len, buffer: buf };
    },
    async sync() {
      log.push("sync");
    },
    async datasync() {
      log.push("datasync");
    },
    async close() {
      log.push("close");
    },
  };
  const release = async () => {
    for (let i = 0; i < 50 && waiting.length === 0; i++) await new Promise((r) => setImmediate(r));
    waiting.shift()?.();
  };
  return { handle: handle as unknown as FileHandle, file, log, release, maxRunning: () => maxRunning };
}

const bytes = (n: number, v: number) => new Uint8Array(n).fill(v);
/** The smallest write that is not staged. */
const B = STAGED_WRITE_BYTES + 1;

describe("PendingFile write-behind", () => {
  it("an owned write returns before it is written; the file ends up in order", async () => {
    const h = fakeHandle();
    const f = new PendingFile("/nowhere/out", "/nowhere/out.tmp", h.handle);
    await f.write(bytes(B, 1), true);
    await f.write(bytes(B, 2), true);
    expect(f.position).toBe(2 * B);
    expect(h.log).toEqual([`write 0+${B}`]); // the first is under way, the second waits for it
    const closing = f.close(true);
    await h.release();
    await h.release();
    await closing;
    expect(h.log).toEqual([`write 0+${B}`, `write ${B}+${B}`, "sync", "close"]);
    expect(h.maxRunning()).toBe(1);
    expect([h.file[0], h.file[B - 1], h.file[B], h.file[2 * B - 1], h.file[2 * B]]).toEqual([1, 1, 2, 2, 0]);
  });

  it("at most WRITE_BEHIND_BYTES are queued: the next owned write waits for the oldest", async () => {
    const h = fakeHandle();
    const f = new PendingFile("/nowhere/out", "/nowhere/out.tmp", h.handle);
    const half = WRITE_BEHIND_BYTES / 2;
    await f.write(bytes(half, 1), true);
    await f.write(bytes(half, 2), true);
    let third = false;
    const p = f.write(bytes(B, 3), true).then(() => {
      third = true;
    });
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(third).toBe(false); // the queue is full
    await h.release(); // the first half is written
    await p;
    expect(third).toBe(true);
    const closing = f.close(false);
    await h.release();
    await h.release();
    await closing;
    expect(h.file[0]).toBe(1);
    expect(h.file[half]).toBe(2);
    expect(h.file[2 * half]).toBe(3);
  });

  it("a write that is not owned is written before it returns", async () => {
    const h = fakeHandle();
    const f = new PendingFile("/nowhere/out", "/nowhere/out.tmp", h.handle);
    let done = false;
    const p = f.write(bytes(B, 7)).then(() => {
      done = true;
    });
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(done).toBe(false);
    await h.release();
    await p;
    expect(done).toBe(true);
  });

  it("a failed queued write fails the next write and the close, naming the final path", async () => {
    const h = fakeHandle(B);
    const f = new PendingFile("/nowhere/out", "/nowhere/out.tmp", h.handle);
    await f.write(bytes(B, 1), true);
    await f.write(bytes(B, 2), true); // fails once run
    await f.write(bytes(B, 3), true); // never written: a write after a failure is skipped
    await h.release();
    await h.release();
    await expect(f.close(true)).rejects.toThrow(WriteError);
    await expect(f.write(bytes(1, 4), true)).rejects.toThrow(/nowhere\/out/);
    expect(h.log).toEqual([`write 0+${B}`, `write ${B}+${B}`]);
  });

  it("discard waits for queued writes before closing the handle", async () => {
    const h = fakeHandle();
    const f = new PendingFile("/nowhere/out", "/nowhere/out.tmp", h.handle);
    await f.write(bytes(B, 1), true);
    await f.write(bytes(4, 9), true); // staged, never written
    const discarding = f.discard();
    await h.release();
    await discarding;
    expect(h.log).toEqual([`write 0+${B}`, "close"]);
  });

  it("small owned writes are copied and written together, in order", async () => {
    const h = fakeHandle();
    const f = new PendingFile("/nowhere/out", "/nowhere/out.tmp", h.handle);
    const buf = bytes(16, 0);
    for (let i = 0; i < 1000; i++) {
      buf.fill(i % 251);
      await f.write(buf, true); // copied: the buffer may even be refilled
    }
    expect(f.position).toBe(16_000);
    expect(h.log).toEqual([]); // nothing written yet
    const big = f.write(bytes(B, 255)); // a large write first hands the small ones on, in order
    await h.release();
    await h.release();
    await big;
    await f.close(false);
    expect(h.log).toEqual(["write 0+16000", `write 16000+${B}`, "close"]);
    expect(h.file[0]).toBe(0);
    expect(h.file[16 * 999]).toBe(999 % 251);
    expect(h.file[16_000]).toBe(255);
  });

  it("starts one background datasync per WRITE_BACK_BYTES written, and close waits for it before its sync", async () => {
    const h = fakeHandle();
    const f = new PendingFile("/nowhere/out", "/nowhere/out.tmp", h.handle);
    const chunk = WRITE_BACK_BYTES / 4;
    for (let i = 0; i < 3; i++) {
      const w = f.write(bytes(chunk, i)); // not owned: written before it returns
      await h.release();
      await w;
    }
    expect(h.log.filter((l) => l === "datasync")).toEqual([]); // 3/4 of the threshold
    const w = f.write(bytes(chunk, 3));
    await h.release();
    await w;
    expect(h.log.at(-1)).toBe("datasync");
    await f.close(true);
    expect(h.log.slice(-3)).toEqual(["datasync", "sync", "close"]);
  });

  it("a failed background datasync is thrown by close, not hidden by the final sync", async () => {
    const h = fakeHandle();
    let failed = false;
    (h.handle as unknown as { datasync: () => Promise<void> }).datasync = async () => {
      failed = true;
      throw Object.assign(new Error("input/output error"), { code: "EIO" });
    };
    const f = new PendingFile("/nowhere/out", "/nowhere/out.tmp", h.handle);
    const w = f.write(bytes(WRITE_BACK_BYTES, 1));
    await h.release();
    await w;
    await expect(f.close(true)).rejects.toBeInstanceOf(WriteError);
    expect(failed).toBe(true);
    expect(h.log).not.toContain("sync");
  });

  it("gives a pooled buffer back once written only with recycle, never for owned alone", async () => {
    const h = fakeHandle();
    const f = new PendingFile("/nowhere/out", "/nowhere/out.tmp", h.handle);
    const kept = takeBuffer(2 * POOLED_BYTES + 64);
    const recycled = takeBuffer(2 * POOLED_BYTES + 64);
    const before = pooledBytes();
    await f.write(kept, true);
    await f.write(recycled, true, true);
    const closing = f.close(true);
    await h.release();
    await h.release();
    await closing;
    expect(pooledBytes()).toBe(before + recycled.byteLength);
    expect(takeBuffer(2 * POOLED_BYTES + 64)).toBe(recycled);
    expect(takeBuffer(2 * POOLED_BYTES + 64)).not.toBe(kept);
  });
});
