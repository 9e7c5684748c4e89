// The TF test tier's bridge to real TensorFlow: runs test/tf/oracle.py in the pinned .venv-tf
// (made by test/tf/prepare.sh) and locates the corpus TensorFlow wrote.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Tensor } from "../../src/tensor.js";
import { REPO } from "../helpers/fixtures.js";

const run = promisify(execFile);

/** The Python of the TF tier's virtual environment. */
export const PYTHON = join(REPO, ".venv-tf", "bin", "python");
/** The committed corpus written by TF 2.21 (fixtures/tf-2.21/generate.py). */
export const CORPUS = join(REPO, "fixtures", "tf-2.21");
/** The large cases, written at test time by test/tf/prepare.sh (not committed). */
export const LARGE_CORPUS = join(REPO, ".tf-corpus");

/** One checkpoint of the corpus: case name, path as TF takes it, and its format. */
export interface CorpusCheckpoint {
  readonly case: string;
  readonly path: string;
  readonly format: "v1" | "v2";
}

/** Every checkpoint of a corpus folder, as each case's case.json lists them. Throws if empty. */
export function corpusCheckpoints(root: string = CORPUS): CorpusCheckpoint[] {
  if (!existsSync(root)) throw new Error(`TF corpus not found at ${root} (run test/tf/prepare.sh)`);
  const out: CorpusCheckpoint[] = [];
  for (const c of readdirSync(root).sort()) {
    const meta = join(root, c, "case.json");
    if (!existsSync(meta)) continue;
    const doc = JSON.parse(readFileSync(meta, "utf8")) as {
      checkpoints: { path: string; format: "v1" | "v2" }[];
    };
    for (const k of doc.checkpoints) out.push({ case: c, path: join(root, c, k.path), format: k.format });
  }
  if (out.length === 0) throw new Error(`no checkpoints in ${root}`);
  return out;
}

/**
 * Asks TensorFlow: runs oracle.py (or another script of test/tf) with `request`, returns its
 * `result`. Throws with TF's stderr when the oracle fails (the tier never skips).
 */
export async function oracle<T>(request: object, script = "oracle.py"): Promise<T> {
  if (!existsSync(PYTHON))
    throw new Error(`${PYTHON} is missing: run test/tf/prepare.sh (npm run test:tf does)`);
  const dir = mkdtempSync(join(tmpdir(), "tfckpt-oracle-"));
  try {
    const req = join(dir, "request.json");
    const res = join(dir, "result.json");
    writeFileSync(req, JSON.stringify(request));
    try {
      await run(PYTHON, [join(REPO, "test", "tf", script), req, res], {
        env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: "2", CUDA_VISIBLE_DEVICES: "" },
        maxBuffer: 64 << 20,
        timeout: 600_000,
      });
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new Error(`${script} failed: ${err.message}\n${(err.stderr ?? "").slice(-4000)}`);
    }
    return (JSON.parse(readFileSync(res, "utf8")) as { result: T }).result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** SHA-256 of a tensor's bytes, as oracle.py's `digest` computes it. */
export function tensorDigest(t: Tensor): string {
  const h = createHash("sha256");
  if (t.kind === "fixed") h.update(t.data);
  else {
    const len = Buffer.alloc(8);
    for (const s of t.strings) {
      len.writeBigUInt64LE(BigInt(s.length));
      h.update(len);
      h.update(s);
    }
  }
  return h.digest("hex");
}

/** A tally of agreements and disagreements of one differential check. */
export class Tally {
  agreements = 0;
  readonly disagreements: string[] = [];
  constructor(readonly what: string) {}
  /** Counts one comparison; `detail` describes a disagreement. */
  check(ok: boolean, detail: () => string): void {
    if (ok) this.agreements++;
    else this.disagreements.push(detail());
  }
  /** One line for the log: what, agreements, disagreements. */
  summary(): string {
    return `${this.what}: ${this.agreements} agree, ${this.disagreements.length} disagree`;
  }
}
