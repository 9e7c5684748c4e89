// migrate --link, judged by TensorFlow: each TF1 V2 checkpoint of the corpus (one and three data
// shards, and the large many-variables case) is migrated with --link onto a tf.Module tree TF
// built from its names. The output's index points into hard links of the source shards, renamed
// into the output's numbering, at the source offsets (not starting at 0: ignored slots sit
// between), plus one new shard; TF restores it, its assertions pass, every value is the source's.
// Where test/tf/xfs-mount.sh could make a file system with reflinks (a loop-mounted XFS), the
// linked shards are reflinks instead: extents shared with the source, bytes independent of it.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { BundleReader } from "../../src/bundle/reader.js";
import { cli } from "../helpers/cli.js";
import { CORPUS, corpusCheckpoints, LARGE_CORPUS, moduleTemplates, oracle, Tally } from "./helpers.js";

interface Restored {
  assertions?: Record<string, string>;
  values?: Record<string, string>;
  error?: string;
}

const work = mkdtempSync(join(tmpdir(), "tfckpt-tf-link-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A copy of a V2 checkpoint's files in `dir` (links then stay within the work directory). */
function copyCheckpoint(prefix: string, dir: string): string {
  mkdirSync(dir, { recursive: true });
  const base = basename(prefix);
  for (const f of readdirSync(dirname(prefix)))
    if (f === `${base}.index` || f.startsWith(`${base}.data-`))
      copyFileSync(join(dirname(prefix), f), join(dir, f));
  return join(dir, base);
}

describe("migrate --link: TensorFlow restores outputs whose shards are links of the source's", () => {
  test("TF1 V2 checkpoints onto tf.Module trees: assertions pass, values bitwise equal", async () => {
    const srcs = [...corpusCheckpoints(CORPUS), ...corpusCheckpoints(LARGE_CORPUS)]
      .filter((c) => c.format === "v2" && (c.case.startsWith("tf1-") || c.case === "many-variables"))
      .map((c, i) => copyCheckpoint(c.path, join(work, String(i), "src")));
    const jobs = await moduleTemplates(srcs, work);
    const ran = new Tally("migrate --link runs");
    const linked = new Tally("outputs whose shards share the source's inodes");
    let maxShards = 0;
    const outputs: typeof jobs = [];
    for (const j of jobs) {
      const map = join(j.dir, "map.json");
      writeFileSync(map, JSON.stringify({ assignments: [{ from: "/", to: "model/" }], ignore: j.ignore }));
      const out = join(j.dir, "out", "ckpt-1");
      const r = await cli(
        "migrate",
        "--source",
        j.src,
        "--target",
        join(j.dir, "template", "ckpt-1"),
        "--mapping",
        map,
        "--output",
        out,
        "--link",
      );
      ran.check(r.code === 0, () => `${j.src}: migrate --link exited ${r.code}: ${r.stderr.slice(0, 400)}`);
      if (r.code !== 0) continue;
      outputs.push(j);
      const reader = await BundleReader.open(out);
      const n = reader.header.numShards;
      await reader.close();
      maxShards = Math.max(maxShards, n);
      const inodes = readdirSync(join(j.dir, "src"))
        .filter((f) => f.includes(".data-"))
        .map((f) => statSync(join(j.dir, "src", f)).ino);
      const shared = Array.from({ length: n - 1 }, (_, i) =>
        statSync(`${out}.data-${String(i).padStart(5, "0")}-of-${String(n).padStart(5, "0")}`),
      ).every((st) => inodes.includes(st.ino));
      linked.check(shared && n >= 2, () => `${j.src}: ${n} shards, linked ones not the source's inodes`);
    }
    const restored = await oracle<Record<string, Restored>>({
      op: "module_restore",
      jobs: outputs.map((j) => ({ checkpoint: join(j.dir, "out", "ckpt-1"), keys: j.keys })),
    });
    const assertions = new Tally("TF assertions on the output");
    const values = new Tally("variables restored with the source's bytes");
    for (const j of outputs) {
      const got = restored[join(j.dir, "out", "ckpt-1")];
      if (got?.error !== undefined || got === undefined) {
        assertions.check(false, () => `${j.src}: TF could not restore: ${got?.error}`);
        continue;
      }
      for (const [name, outcome] of Object.entries(got.assertions ?? {}))
        assertions.check(outcome === "passed", () => `${j.src}: ${name} ${outcome}`);
      for (const [name, want] of Object.entries(j.keys))
        values.check(got.values?.[name] === want.sha256, () => `${j.src} ${name}: restored value differs`);
    }
    const tallies = [ran, linked, assertions, values];
    console.log(
      `migrate --link, ${srcs.length} TF1 sources:\n  ${tallies.map((t) => t.summary()).join("\n  ")}`,
    );
    // tf1-sharded3: three linked shards and the new one.
    expect(maxShards).toBeGreaterThanOrEqual(4);
    expect(values.agreements).toBeGreaterThan(1000);
    expect(tallies.flatMap((t) => t.disagreements)).toEqual([]);
  });
});

/**
 * The directory with reflinks test/tf/xfs-mount.sh (run by prepare.sh) recorded: a loop-mounted
 * XFS where the machine allows it. Undefined when it found none.
 */
function reflinkDir(): string | undefined {
  const record = join(LARGE_CORPUS, "reflink-dir");
  if (!existsSync(record)) return undefined;
  const dir = readFileSync(record, "utf8").trim();
  if (!existsSync(dir)) throw new Error(`${record} names ${dir}, which is gone: rerun test/tf/prepare.sh`);
  return dir;
}

/** Physical extents of a file as FIEMAP reports them (`filefrag -v`): "physical start..end" each. */
function physicalExtents(file: string): string[] {
  const out = execFileSync("filefrag", ["-v", file], { encoding: "utf8" });
  return out
    .split("\n")
    .map((l) => /^\s*\d+:\s+\d+\.\.\s*\d+:\s+(\d+)\.\.\s*(\d+):/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => `${m[1]}..${m[2]}`);
}

const sha256 = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

describe("migrate --link on a file system with reflinks (a loop-mounted XFS where the machine allows)", () => {
  // With reflinks: the output's shards share the source's extents yet are files of their own
  // (writing the source afterwards leaves them as they were). Without (the plain temp directory):
  // hard links, the same inode, so the same write shows through. TF restores the output either way.
  const dir = reflinkDir();
  const method = dir === undefined ? "hardlink" : "reflink";
  test(`the linked shards are ${method === "reflink" ? "reflinks" : "hard links"}; TF restores the output`, async () => {
    const base = mkdtempSync(join(dir ?? tmpdir(), "tfckpt-tf-reflink-"));
    try {
      const tf1 = corpusCheckpoints(CORPUS).find((c) => c.case === "tf1-sharded3");
      if (tf1 === undefined) throw new Error("tf1-sharded3 is missing from the corpus");
      const src = copyCheckpoint(tf1.path, join(base, "0", "src"));
      const [job] = await moduleTemplates([src], base);
      if (job === undefined) throw new Error("no template made");
      const map = join(job.dir, "map.json");
      writeFileSync(map, JSON.stringify({ assignments: [{ from: "/", to: "model/" }], ignore: job.ignore }));
      const out = join(job.dir, "out", "ckpt-1");
      const report = join(job.dir, "report.json");
      const r = await cli(
        "migrate",
        ...["--source", src, "--target", join(job.dir, "template", "ckpt-1"), "--mapping", map],
        ...["--output", out, "--link", "--report", report],
      );
      expect(r.code, r.stderr).toBe(0);
      const linked = (
        JSON.parse(readFileSync(report, "utf8")) as {
          output: { linked?: { path: string; source: string; method: string }[] };
        }
      ).output.linked;
      expect(linked?.length).toBe(3);
      // The summary names the method: "reflinked <output shard> to <source shard>: …".
      expect(`${r.stdout}${r.stderr}`).toContain(method === "reflink" ? "reflinked" : "hard-linked");
      for (const l of linked ?? []) {
        expect(l.method).toBe(method);
        const same = statSync(l.path).ino === statSync(l.source).ino;
        expect(same).toBe(method === "hardlink");
        // A reflink shares the source's extents (FIEMAP's physical offsets are the source's).
        if (method === "reflink") expect(physicalExtents(l.path)).toEqual(physicalExtents(l.source));
      }
      const restored = await oracle<Record<string, Restored>>({
        op: "module_restore",
        jobs: [{ checkpoint: out, keys: job.keys }],
      });
      const got = restored[out];
      expect(got?.error).toBeUndefined();
      for (const [name, outcome] of Object.entries(got?.assertions ?? {}))
        expect(outcome, name).toBe("passed");
      expect(Object.keys(job.keys).length).toBeGreaterThan(0);
      for (const [name, want] of Object.entries(job.keys))
        expect(got?.values?.[name], name).toBe(want.sha256);
      // Write over the source's shards in place: a reflinked output keeps its bytes, a hard-linked
      // one is the same file and changes with it.
      for (const l of linked ?? []) {
        const before = sha256(l.path);
        const fd = openSync(l.source, "r+");
        try {
          writeSync(fd, Buffer.alloc(statSync(l.source).size, 0xa5), 0, undefined, 0);
        } finally {
          closeSync(fd);
        }
        expect(sha256(l.path) === before).toBe(method === "reflink");
      }
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});
