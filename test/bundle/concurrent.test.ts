// Concurrent writers to one output: without force exactly one commit wins (an existing final name
// makes the commit fail, atomically), and force writers are serialised by a lock file beside
// the prefix, whose holder the error names; a lock left by a dead process is taken over.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BundleWriter } from "../../src/bundle/writer.js";
import { openCheckpoint } from "../../src/checkpoint/open.js";
import { OutputExistsError, OutputLockedError } from "../../src/errors.js";
import { writeTextFileAtomic } from "../../src/io/atomic.js";
import type { FixedTensor } from "../../src/tensor.js";
import { F32, floats } from "../helpers/build.js";
import { f32s } from "../helpers/values.js";

const work = mkdtempSync(join(tmpdir(), "tfckpt-concurrent-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function writer(prefix: string, v: number, force: boolean, lockWaitMs?: number) {
  const w = await BundleWriter.create(prefix, {
    force,
    sync: false,
    numShards: 2,
    ...(lockWaitMs !== undefined ? { lockWaitMs } : {}),
  });
  await w.add("a", F32, [2], floats(v, v), { shard: 0 });
  await w.add("b", F32, [1], floats(v), { shard: 1 });
  return w;
}

async function values(prefix: string): Promise<number[]> {
  const c = await openCheckpoint(prefix);
  try {
    expect((await c.verify()).failures).toEqual([]);
    return [
      ...f32s(((await c.readTensor("a")) as FixedTensor).data),
      ...f32s(((await c.readTensor("b")) as FixedTensor).data),
    ];
  } finally {
    await c.close();
  }
}

describe("two writers committing to one prefix at once", () => {
  it("without force, exactly one commit succeeds and the checkpoint is entirely its own", async () => {
    for (let round = 0; round < 5; round++) {
      const prefix = join(work, `plain-${round}`, "ckpt");
      const [a, b] = [await writer(prefix, 1, false), await writer(prefix, 2, false)];
      const results = await Promise.allSettled([a.finish(), b.finish()]);
      const won = results.flatMap((r, i) => (r.status === "fulfilled" ? [i] : []));
      expect(won).toHaveLength(1);
      const lost = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
      expect(lost.reason).toBeInstanceOf(OutputExistsError);
      const v = won[0] === 0 ? 1 : 2;
      expect(await values(prefix)).toEqual([v, v, v]);
      expect(readdirSync(join(work, `plain-${round}`)).sort()).toEqual([
        "ckpt.data-00000-of-00002",
        "ckpt.data-00001-of-00002",
        "ckpt.index",
      ]);
    }
  });

  it("with force, both commit one after the other and the checkpoint is one run's", async () => {
    for (let round = 0; round < 5; round++) {
      const prefix = join(work, `force-${round}`, "ckpt");
      const [a, b] = [await writer(prefix, 1, true), await writer(prefix, 2, true)];
      await Promise.all([a.finish(), b.finish()]);
      const v = await values(prefix);
      expect([
        [1, 1, 1],
        [2, 2, 2],
      ]).toContainEqual(v);
      expect(readdirSync(join(work, `force-${round}`)).filter((f) => f.includes("tfckpt"))).toEqual([]);
    }
  });

  it("a live process's lock makes a force commit wait, then fail naming its pid", async () => {
    const prefix = join(work, "locked", "ckpt");
    const w = await writer(prefix, 1, true, 300);
    // A live process that is not us holds the lock.
    const sleeper = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" });
    try {
      writeFileSync(
        `${prefix}.tfckpt-lock`,
        JSON.stringify({ pid: sleeper.pid, host: (await import("node:os")).hostname() }),
      );
      const e = await w.finish().catch((x: unknown) => x);
      expect(e).toBeInstanceOf(OutputLockedError);
      expect((e as Error).message).toContain(`process ${sleeper.pid}`);
      expect((e as OutputLockedError).file).toBe(`${prefix}.tfckpt-lock`);
      // Nothing committed, no temporary file left; the other process's lock is untouched.
      expect(readdirSync(join(work, "locked"))).toEqual(["ckpt.tfckpt-lock"]);
    } finally {
      sleeper.kill("SIGKILL");
    }
  });

  it("a lock left by a dead process is taken over and removed at the end", async () => {
    const prefix = join(work, "stale", "ckpt");
    const w = await writer(prefix, 3, true);
    const dead = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
    await new Promise((r) => dead.on("exit", r));
    writeFileSync(
      `${prefix}.tfckpt-lock`,
      JSON.stringify({ pid: dead.pid, host: (await import("node:os")).hostname() }),
    );
    await w.finish();
    expect(await values(prefix)).toEqual([3, 3, 3]);
    expect(readdirSync(join(work, "stale")).sort()).toEqual([
      "ckpt.data-00000-of-00002",
      "ckpt.data-00001-of-00002",
      "ckpt.index",
    ]);
  });

  it("single-file outputs (reports, state files, drafted maps): one of two plain writers wins", async () => {
    const dir = join(work, "text");
    mkdirSync(dir);
    const file = join(dir, "report.json");
    const results = await Promise.allSettled([
      writeTextFileAtomic(file, "one"),
      writeTextFileAtomic(file, "two"),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const winner = results[0]?.status === "fulfilled" ? "one" : "two";
    expect(readFileSync(file, "utf8")).toBe(winner);
    expect(readdirSync(dir)).toEqual(["report.json"]);
  });
});
