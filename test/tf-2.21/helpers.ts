// The TensorFlow 2.21-written fixtures of fixtures/tf-2.21 (each folder's GENERATED.md gives the
// exact Python that wrote it) and a scratch directory per test file.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { REPO } from "../helpers/fixtures.js";

/** Path of `file` inside `fixtures/tf-2.21/<kase>/`. */
export function tf221(kase: string, file: string): string {
  return join(REPO, "fixtures", "tf-2.21", kase, file);
}

/** A fresh temporary directory removed after the test file. */
export function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), "tfckpt-tf221-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
