// Locating the real TensorFlow-written fixtures committed in fixtures/real (see fixtures/real/README.md).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** The real TF checkpoints, copied byte for byte into the repository so a fresh clone tests alone. */
export const TF_FIXTURES = join(REPO, "fixtures", "real");

/** One checkpoint listed in a fixture's expected-variables.json. */
export interface ExpectedCheckpoint {
  readonly fixture: string;
  /** Path of the listed file (`.index` for V2, the table file for V1). */
  readonly file: string;
  readonly format: "v1" | "v2";
  readonly objectBased: boolean;
  readonly variables: ReadonlyArray<{ name: string; dtype: string; shape: number[] }>;
}

/**
 * Every checkpoint of every fixture folder, in folder order. Throws (so the test file fails, never
 * skips) if the folder is missing or lists no checkpoint.
 */
export function expectedCheckpoints(): ExpectedCheckpoint[] {
  if (!existsSync(TF_FIXTURES)) throw new Error(`real TF fixtures not found at ${TF_FIXTURES}`);
  const out: ExpectedCheckpoint[] = [];
  for (const fixture of readdirSync(TF_FIXTURES).sort()) {
    const f = join(TF_FIXTURES, fixture, "expected-variables.json");
    if (!existsSync(f)) continue;
    const doc = JSON.parse(readFileSync(f, "utf8")) as { checkpoints: Omit<ExpectedCheckpoint, "fixture">[] };
    for (const c of doc.checkpoints) out.push({ ...c, fixture, file: join(TF_FIXTURES, fixture, c.file) });
  }
  if (out.length === 0) throw new Error(`no expected-variables.json with checkpoints under ${TF_FIXTURES}`);
  return out;
}

/** The checkpoint prefix of a V2 `.index` path. */
export function prefixOf(indexFile: string): string {
  return indexFile.replace(/\.index$/, "");
}

/**
 * Fixture folders whose V2 checkpoints ship their `.index` only (the original repository kept no
 * data shard). test/fixtures/real.test.ts fails if any other checkpoint lacks its shards.
 */
export const INDEX_ONLY_FIXTURES: ReadonlySet<string> = new Set(["guesslang-2020-estimator-indexonly"]);

/** True when a data shard of a V2 checkpoint is present (one fixture ships its index only). */
export function hasDataShards(indexFile: string): boolean {
  const dir = dirname(indexFile);
  const base = prefixOf(indexFile).slice(dir.length + 1);
  return readdirSync(dir).some((f) => f.startsWith(`${base}.data-`));
}
