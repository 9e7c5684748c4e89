// validate, judged by TensorFlow: 31 cases written by TF (missing, extra, renamed, reshaped,
// retyped objects and slots, empty checkpoints, no save_counter, Keras 3 models and optimizers,
// lookup tables, shared variables). For each, TF restores the saved checkpoint into the target
// program and runs its three assertions; `tfckpt validate SAVED --against TEMPLATE` must give the
// same pass/fail for each and a message of the same kind.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, test } from "vitest";
import { validateCheckpoint } from "../../src/validate.js";
import { REPO } from "../helpers/fixtures.js";
import { PYTHON, Tally } from "./helpers.js";

interface TfVerdict {
  passed: boolean;
  message?: string;
  error?: string;
}
interface Case {
  saved: string;
  template: string;
  tf: { restore_error?: string } & Record<string, TfVerdict>;
}

const work = mkdtempSync(join(tmpdir(), "tfckpt-tf-validate-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The kind of an assertion message: what failed, and the count or first name TF gives. */
function kind(message: string | null | undefined): string {
  if (message === null || message === undefined) return "none";
  const found = /^Found (\d+) Python objects that were not bound/.exec(message);
  if (found) return `unbound objects: ${found[1]}`;
  const unresolved = /^Unresolved object in checkpoint /.exec(message);
  if (unresolved) return "unresolved checkpoint values";
  if (message.startsWith("Unused attributes")) return "unused attributes";
  if (message.startsWith("Nothing except the root object matched")) return "nothing matched";
  if (message.startsWith("Nothing to load")) return "nothing to load";
  return `other: ${message.slice(0, 60)}`;
}

const ASSERTIONS = [
  ["assert_consumed", "assertConsumed"],
  ["assert_existing_objects_matched", "assertExistingObjectsMatched"],
  ["assert_nontrivial_match", "assertNontrivialMatch"],
] as const;

describe("validate: tfckpt gives TensorFlow's verdicts", () => {
  test("31 TF-written cases: three assertions each, and restore errors", async () => {
    await promisify(execFile)(PYTHON, [join(REPO, "test", "tf", "validate_cases.py"), work], {
      env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: "2" },
      maxBuffer: 64 << 20,
    });
    const doc = JSON.parse(readFileSync(join(work, "verdicts.json"), "utf8")) as {
      cases: Record<string, Case>;
    };
    const verdicts = new Tally("assertion verdicts (pass/fail and message kind)");
    const restores = new Tally("restore errors (TF raises at restore: tfckpt fails with the reason)");
    for (const [name, c] of Object.entries(doc.cases)) {
      let r: Awaited<ReturnType<typeof validateCheckpoint>>;
      try {
        r = await validateCheckpoint(c.saved, { against: c.template });
      } catch (e) {
        verdicts.check(false, () => `${name}: tfckpt threw: ${(e as Error).message}`);
        continue;
      }
      if (c.tf.restore_error !== undefined) {
        const why = /shape|dtype/i.exec(c.tf.restore_error)?.[0].toLowerCase() ?? "?";
        restores.check(
          !r.passed && r.failures.some((f) => f.toLowerCase().includes(why)),
          () =>
            `${name}: TF raised "${c.tf.restore_error}"; tfckpt ${r.passed ? "passed" : `failed: ${r.failures.join("; ")}`}`,
        );
        continue;
      }
      for (const [tfName, ours] of ASSERTIONS) {
        const want = c.tf[tfName] as TfVerdict;
        const got = r.verdicts?.[ours];
        verdicts.check(
          got !== undefined &&
            got.passed === want.passed &&
            kind(got.message) === kind(want.message ?? want.error),
          () =>
            `${name} ${tfName}: TF ${want.passed ? "passed" : `failed (${kind(want.message ?? want.error)})`}, tfckpt ${got === undefined ? "gave no verdict" : got.passed ? "passed" : `failed (${kind(got.message)})`}`,
        );
      }
    }
    console.log(
      `validate, ${Object.keys(doc.cases).length} cases:\n  ${verdicts.summary()}\n  ${restores.summary()}`,
    );
    expect(verdicts.agreements + restores.agreements).toBeGreaterThan(50);
    expect([...verdicts.disagreements, ...restores.disagreements]).toEqual([]);
  });
});
