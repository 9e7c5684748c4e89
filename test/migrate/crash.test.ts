// Crash safety: a migrate process killed with SIGKILL at random points leaves the destination
// holding either the previous complete checkpoint or the new complete one (or none) — never a
// torn one. Runs the built CLI (rebuilt here) as a child process.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { BundleWriter } from "../../src/bundle/writer.js";
import { openCheckpoint } from "../../src/checkpoint/open.js";
import { dtypeFromName } from "../../src/dtypes.js";
import { migrate } from "../../src/migrate.js";
import type { FixedTensor } from "../../src/tensor.js";
import { REPO } from "../helpers/fixtures.js";

const work = mkdtempSync(join(tmpdir(), "tfckpt-crash-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const CLI = join(REPO, "dist", "src", "cli", "main.js");
const N = 400;
const SHAPE: [number, number] = [128, 128];
const src = join(work, "src", "model.ckpt");
const graph = join(work, "graph.json");
const mapFromSource = join(work, "map.json");
const mapConstant = join(work, "const.json");
const dst = join(work, "out", "ckpt-1");

beforeAll(async () => {
  // The same build npm ci runs (tsc, then the bin made executable).
  execFileSync("npm", ["run", "build"], { cwd: REPO, stdio: "pipe" });
  // The bin runs on its own, as `npx tfckpt` in the README runs it.
  expect(execFileSync(CLI, ["--version"], { encoding: "utf8" }).trim()).toBe("0.1.0");
  const w = await BundleWriter.create(src, { sync: false });
  const data = new Float32Array(SHAPE[0] * SHAPE[1]);
  for (let i = 0; i < N; i++) {
    data.fill(i + 1);
    await w.add(`layer_${i}/kernel`, dtypeFromName("float32"), SHAPE, new Uint8Array(data.buffer));
  }
  await w.finish();
  writeFileSync(
    graph,
    JSON.stringify({
      model: Object.fromEntries(
        Array.from({ length: N }, (_, i) => [`layer_${i}`, { kernel: { dtype: "float32", shape: SHAPE } }]),
      ),
    }),
  );
  writeFileSync(mapFromSource, JSON.stringify({ assignments: [{ from: "/", to: "model/" }] }));
  writeFileSync(
    mapConstant,
    JSON.stringify({
      assignments: Array.from({ length: N }, (_, i) => ({ value: -1, to: `model/layer_${i}/kernel` })),
      ignore: ["*"],
    }),
  );
}, 120_000);

/** "old" when every tensor is -1, "new" when layer_i is i+1 everywhere, "none" without a checkpoint. */
async function state(): Promise<"old" | "new" | "none" | "torn"> {
  if (!readdirSync(join(work, "out")).includes("ckpt-1.index")) return "none";
  try {
    const c = await openCheckpoint(dst);
    const v = await c.verify();
    if (v.failures.length > 0) return "torn";
    let old = true;
    let fresh = true;
    for (let i = 0; i < N; i++) {
      const t = (await c.readTensor(`model/layer_${i}/kernel/.ATTRIBUTES/VARIABLE_VALUE`)) as FixedTensor;
      const x = new Float32Array(t.data.slice().buffer);
      if (!x.every((y) => y === -1)) old = false;
      if (!x.every((y) => y === i + 1)) fresh = false;
    }
    await c.close();
    return old ? "old" : fresh ? "new" : "torn";
  } catch {
    return "torn";
  }
}

function runChild(
  mapping = mapFromSource,
  force = true,
): { child: ReturnType<typeof spawn>; done: Promise<number | null> } {
  const child = spawn(
    process.execPath,
    [
      CLI,
      "migrate",
      "--source",
      src,
      "--target",
      graph,
      "--mapping",
      mapping,
      "--output",
      dst,
      ...(force ? ["--force"] : []),
      "--no-state",
    ],
    { stdio: "ignore" },
  );
  return { child, done: new Promise((r) => child.on("exit", (code) => r(code))) };
}

/** When to kill: after a delay, or as soon as the output directory shows a given stage. */
type Trigger =
  | { readonly after: number }
  | { readonly when: (files: readonly string[]) => boolean; readonly label: string };

const TRIGGERS: readonly Trigger[] = [
  {
    when: (f) => f.some((x) => x.startsWith("ckpt-1.data-") && x.includes(".tfckpt-tmp-")),
    label: "data being written",
  },
  { when: (f) => f.some((x) => x.startsWith("ckpt-1.index.tfckpt-tmp-")), label: "index being written" },
  { when: (f) => !f.includes("ckpt-1.index"), label: "old index removed" },
  {
    when: (f) => f.includes("ckpt-1.index") && !f.some((x) => x.includes(".tfckpt-tmp-")) && f.length > 0,
    label: "renamed",
  },
];

it("SIGKILL at random points and at every commit stage never leaves a torn checkpoint", async () => {
  // How long a whole run takes here, to spread the timed kills over it.
  const t0 = Date.now();
  await runChild().done;
  const full = Date.now() - t0;
  expect(await state()).toBe("new");
  const seen = new Map<string, number>();
  const rounds: Trigger[] = [
    ...Array.from({ length: 8 }, (_, k) => ({ after: Math.round((full * (k + 0.5)) / 8) })),
    ...TRIGGERS,
    ...TRIGGERS,
  ];
  for (const [round, trigger] of rounds.entries()) {
    // The previous complete checkpoint: every value -1.
    await migrate({
      source: src,
      target: graph,
      mapping: mapConstant,
      output: dst,
      force: true,
      writeState: false,
    });
    expect(await state()).toBe("old");
    const { child, done } = runChild();
    let exited = false;
    void done.then(() => {
      exited = true;
    });
    if ("after" in trigger) {
      await new Promise((r) => setTimeout(r, trigger.after));
    } else {
      // Poll the directory; the "renamed" stage must first see the old index go.
      let armed = trigger.label !== "renamed";
      while (!exited) {
        const files = readdirSync(join(work, "out"));
        if (!files.includes("ckpt-1.index")) armed = true;
        if (armed && trigger.when(files)) break;
        await new Promise((r) => setImmediate(r));
      }
    }
    child.kill("SIGKILL");
    await done;
    const s = await state();
    seen.set(s, (seen.get(s) ?? 0) + 1);
    expect(s, `round ${round} (${"after" in trigger ? `${trigger.after} ms` : trigger.label})`).not.toBe(
      "torn",
    );
  }
  console.log(`crash safety: ${[...seen].map(([k, v]) => `${v} ${k}`).join(", ")}`);
  // Kills landed before the commit (old) and during or after it (none / new).
  expect(seen.get("old") ?? 0).toBeGreaterThan(0);
  expect((seen.get("new") ?? 0) + (seen.get("none") ?? 0)).toBeGreaterThan(0);
}, 240_000);

// The in-process race (deterministic) is in test/bundle/concurrent.test.ts; this runs the real CLI.
it("two migrate processes to one output: without --force one wins whole, with --force both commit in turn", async () => {
  for (let round = 0; round < 2; round++) {
    rmSync(join(work, "out"), { recursive: true, force: true });
    // "new" and "old" runs started together, as two shells would.
    const runs = [runChild(mapFromSource, false), runChild(mapConstant, false)];
    const codes = await Promise.all(runs.map((r) => r.done));
    expect(
      codes.filter((c) => c === 0),
      `round ${round}: exit codes ${codes.join(", ")}`,
    ).toHaveLength(1);
    expect(await state()).toBe(codes[0] === 0 ? "new" : "old");
    expect(readdirSync(join(work, "out")).sort()).toEqual(["ckpt-1.data-00000-of-00001", "ckpt-1.index"]);
  }
  for (let round = 0; round < 2; round++) {
    const runs = [runChild(mapFromSource, true), runChild(mapConstant, true)];
    expect(await Promise.all(runs.map((r) => r.done))).toEqual([0, 0]);
    expect(["new", "old"]).toContain(await state());
    expect(readdirSync(join(work, "out")).sort()).toEqual(["ckpt-1.data-00000-of-00001", "ckpt-1.index"]);
  }
}, 240_000);
