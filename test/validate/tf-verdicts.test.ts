// validate's three verdicts against what real TensorFlow 2.21 said, case by case
// (fixtures/tf-2.21/save-counter/expected-verdicts.json, written by make_save_counter.py there):
// checkpoints written by Checkpoint.write() (no save_counter) and save(), restored into several
// tf.train.Checkpoint programs with restore() (which always creates save_counter) and read().
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type RestoreMethod, validateCheckpoint } from "../../src/validate.js";
import { cli } from "../helpers/cli.js";
import { REPO } from "../helpers/fixtures.js";

const dir = join(REPO, "fixtures", "tf-2.21", "save-counter");
const work = mkdtempSync(join(tmpdir(), "tfckpt-tf-verdicts-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Case {
  checkpoint: string;
  program: string[];
  method: RestoreMethod;
  verdicts: Record<
    "assert_consumed" | "assert_existing_objects_matched" | "assert_nontrivial_match",
    string | null
  >;
}
const expected = JSON.parse(readFileSync(join(dir, "expected-verdicts.json"), "utf8")) as {
  tensorflow: string;
  cases: Case[];
};

/** The program as an authoring-form graph: a float32 scalar at each object path. */
function programGraph(paths: readonly string[]): string {
  const doc: Record<string, unknown> = {};
  for (const p of paths) {
    const parts = p.split("/");
    let node = doc;
    for (const part of parts.slice(0, -1)) {
      node[part] ??= {};
      node = node[part] as Record<string, unknown>;
    }
    node[parts[parts.length - 1] as string] = { dtype: "float32", shape: [] };
  }
  const f = join(work, `${paths.join("+").replaceAll("/", ".") || "empty"}.json`);
  writeFileSync(f, JSON.stringify(doc));
  return f;
}

/**
 * TF's message with its Python reprs replaced by the names tfckpt gives: each variable of the
 * fixture is named by its object path, so `<tf.Variable 'm/x:0' …>` is `'(root).m.x'`; the
 * Checkpoint object is `(root)`. Lists are sorted: TF prints an identity set, in no fixed order.
 */
function normalize(m: string): string {
  const named = m
    .replace(/<tf\.Variable '([^']+):0'[^>]*>/g, (_, n: string) => `'(root).${n.replaceAll("/", ".")}'`)
    .replace(/<tensorflow\.python\.checkpoint\.checkpoint\.Checkpoint object at 0x[0-9a-f]+>/, "(root)");
  return named.replace(/\[([^\]]*)\]$/, (_, items: string) => `[${items.split(", ").sort().join(", ")}]`);
}

describe(`validate gives TensorFlow ${expected.tensorflow}'s verdicts`, () => {
  it("covers restore and read, with and without save_counter", () => {
    expect(expected.cases.length).toBe(40);
    expect(new Set(expected.cases.map((c) => c.checkpoint))).toEqual(
      new Set(["write-v", "save-v-1", "write-vw", "write-my"]),
    );
  });
  for (const c of expected.cases) {
    it(`${c.method}: ${c.checkpoint} into Checkpoint(${c.program.join(", ")})`, async () => {
      const r = await validateCheckpoint(join(dir, c.checkpoint), {
        against: programGraph(c.program),
        restoreWith: c.method,
        expectPartial: true,
      });
      expect(r.integrity.failures).toEqual([]);
      const got = r.verdicts;
      expect(got).not.toBeNull();
      const pairs = [
        [c.verdicts.assert_consumed, got?.assertConsumed],
        [c.verdicts.assert_existing_objects_matched, got?.assertExistingObjectsMatched],
        [c.verdicts.assert_nontrivial_match, got?.assertNontrivialMatch],
      ] as const;
      for (const [tf, ours] of pairs) {
        expect(ours?.passed).toBe(tf === null);
        if (tf !== null) expect(normalize(ours?.message ?? "")).toBe(normalize(tf));
      }
    });
  }

  it("the CLI defaults to restore and takes --restore-with read", async () => {
    const ckpt = join(dir, "write-v");
    const against = programGraph(["v"]);
    const restore = await cli("validate", ckpt, "--against", against);
    expect(restore.code).toBe(1);
    expect(restore.stdout).toContain("['(root).save_counter']");
    expect(restore.stderr).toContain("note: the target has no save_counter");
    const read = await cli("validate", ckpt, "--against", against, "--restore-with", "read");
    expect(read.code).toBe(0);
  });
});
