// A command that fails writes and replaces nothing: every output path (checkpoint, state file,
// report, drafted map) is checked for existence (without --force), for a directory in its place
// and for a usable parent directory before the first byte is written; directories an aborted
// output created are removed again.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cli } from "../helpers/cli.js";
import { REPO } from "../helpers/fixtures.js";

const work = mkdtempSync(join(tmpdir(), "tfckpt-nopartial-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const src = join(REPO, "fixtures", "tf1-mlp");
const graph = join(REPO, "mappings", "examples", "tf1-mlp.graph.json");
const mapping = join(REPO, "mappings", "examples", "tf1-mlp.mapping.json");

/** Every file under `dir` with its bytes (hex). */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        out[`${rel}${e.name}/`] = "";
        walk(p, `${rel}${e.name}/`);
      } else out[rel + e.name] = readFileSync(p).toString("hex");
    }
  };
  walk(dir, "");
  return out;
}

const migrateArgs = (out: string, ...more: string[]) => [
  "migrate",
  "--source",
  src,
  "--target",
  graph,
  "--mapping",
  mapping,
  "--output",
  out,
  ...more,
];

describe("a failing command leaves its outputs as they were", () => {
  it("migrate: an existing --report without --force fails before the checkpoint is written", async () => {
    const dir = join(work, "report-exists");
    mkdirSync(dir);
    writeFileSync(join(dir, "report.json"), "old report\n");
    const before = snapshot(dir);
    const r = await cli(...migrateArgs(join(dir, "ckpt-1"), "--report", join(dir, "report.json")));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/OutputExistsError.*report\.json/);
    expect(snapshot(dir)).toEqual(before);
  });

  it("migrate: a --report whose parent is a file fails before the checkpoint is written", async () => {
    const dir = join(work, "report-parent");
    mkdirSync(dir);
    writeFileSync(join(dir, "notadir"), "x");
    const before = snapshot(dir);
    const r = await cli(...migrateArgs(join(dir, "ckpt-1"), "--report", join(dir, "notadir", "r.json")));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/notadir/);
    expect(snapshot(dir)).toEqual(before);
  });

  it("migrate: a directory where the report goes fails before the checkpoint is written, even with --force", async () => {
    const dir = join(work, "report-dir");
    mkdirSync(join(dir, "report.json"), { recursive: true });
    const before = snapshot(dir);
    const r = await cli(...migrateArgs(join(dir, "ckpt-1"), "--report", join(dir, "report.json"), "--force"));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is a directory/);
    expect(snapshot(dir)).toEqual(before);
  });

  it("migrate: a mapping error writes nothing, and creates no output directory", async () => {
    const dir = join(work, "bad-map");
    mkdirSync(dir);
    const bad = join(dir, "map.json");
    writeFileSync(bad, JSON.stringify({ assignments: [{ from: "dense/", to: 3 }] }));
    const before = snapshot(dir);
    const r = await cli(
      "migrate",
      "--source",
      src,
      "--target",
      graph,
      "--mapping",
      bad,
      "--output",
      join(dir, "new", "ckpt-1"),
      "--report",
      join(dir, "report.json"),
    );
    expect(r.code).toBe(2);
    expect(snapshot(dir)).toEqual(before);
  });

  it("migrate: a source that fails mid-write leaves no new output directory behind", async () => {
    const dir = join(work, "bad-source");
    mkdirSync(join(dir, "src"), { recursive: true });
    for (const f of readdirSync(src)) writeFileSync(join(dir, "src", f), readFileSync(join(src, f)));
    const data = join(dir, "src", "model.ckpt-1000.data-00000-of-00001");
    const bytes = readFileSync(data);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 1; // the last tensor's CRC fails
    writeFileSync(data, bytes);
    const before = snapshot(dir);
    const r = await cli(
      "migrate",
      "--source",
      join(dir, "src"),
      "--target",
      graph,
      "--mapping",
      mapping,
      "--output",
      join(dir, "out", "deeper", "ckpt-1"),
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/checksum/);
    expect(snapshot(dir)).toEqual(before);
  });

  it("rewrite --update-state: an existing state file without --force fails before the bundle is written", async () => {
    const dir = join(work, "rewrite-state");
    mkdirSync(dir);
    writeFileSync(join(dir, "checkpoint"), 'model_checkpoint_path: "other"\n');
    const before = snapshot(dir);
    const r = await cli("rewrite", src, join(dir, "copy"), "--update-state");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/OutputExistsError.*checkpoint/);
    expect(snapshot(dir)).toEqual(before);
  });

  it("draft-mapping: an existing --output without --force is refused and kept", async () => {
    const dir = join(work, "draft");
    mkdirSync(dir);
    writeFileSync(join(dir, "map.json"), "{}\n");
    const before = snapshot(dir);
    const r = await cli(
      "draft-mapping",
      "--source",
      src,
      "--target",
      graph,
      "--output",
      join(dir, "map.json"),
    );
    expect(r.code).toBe(2);
    expect(snapshot(dir)).toEqual(before);
    expect(existsSync(join(dir, "map.json"))).toBe(true);
  });
});
