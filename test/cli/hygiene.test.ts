// CLI hygiene (hostile issue items 16, 18, 22): hostile names cannot reach the terminal or the
// JUnit XML raw; --version is tfckpt's own; -h is help; GitHub annotations escape properties.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BundleWriter } from "../../src/bundle/writer.js";
import { escapeControlCharacters } from "../../src/cli/terminal.js";
import { dtypeFromName } from "../../src/dtypes.js";
import { cli } from "../helpers/cli.js";
import { REPO } from "../helpers/fixtures.js";

const work = mkdtempSync(join(tmpdir(), "tfckpt-hygiene-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const ESC_NAME = "evil\u001b]0;pwned\u0007\u009b2J/kernel";

async function hostileCheckpoint(): Promise<string> {
  const prefix = join(work, "hostile");
  const w = await BundleWriter.create(prefix, { sync: false, force: true });
  await w.add(ESC_NAME, dtypeFromName("float32"), [1], new Uint8Array(4));
  await w.finish();
  return prefix;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters is the point
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

describe("control characters from names", () => {
  it("inspect (table and JSON) shows them escaped; the JSON still parses to the real name", async () => {
    const ckpt = await hostileCheckpoint();
    const table = await cli("inspect", ckpt);
    expect(table.code).toBe(0);
    expect(table.stdout).not.toMatch(RAW_CONTROL);
    expect(table.stdout).toContain("evil\\u001b]0;pwned\\u0007\\u009b2J/kernel");
    const json = await cli("inspect", ckpt, "--json");
    expect(json.stdout).not.toMatch(RAW_CONTROL);
    const doc = JSON.parse(json.stdout) as { variables: { name: string }[] };
    expect(doc.variables.map((v) => v.name)).toContain(ESC_NAME);
  });

  it("JUnit XML holds no control character", async () => {
    const ckpt = await hostileCheckpoint();
    const r = await cli("validate", ckpt, "--format", "junit");
    expect(r.stdout).toContain("<testsuites");
    expect(r.stdout).not.toMatch(RAW_CONTROL);
  });

  it("escapeControlCharacters keeps tab and newline", () => {
    expect(escapeControlCharacters("a\tb\nc\rd\u001b")).toBe("a\tb\nc\\u000dd\\u001b");
  });
});

describe("first hour", () => {
  it("--version prints tfckpt's own version, and -h is help", async () => {
    const v = await cli("--version");
    expect(v.stdout.trim()).toBe("0.1.0");
    const h = await cli("-h");
    expect(h.stdout).toContain("tfckpt <command>");
  });

  it("GitHub annotations escape ':' and ',' in properties", async () => {
    const ckpt = join(work, "a:b,c", "x");
    const w = await BundleWriter.create(ckpt, { sync: false, force: true });
    await w.add("v", dtypeFromName("float32"), [1], new Uint8Array(4));
    await w.finish();
    const target = join(REPO, "fixtures", "tf-2.21", "keras3-models", "functional-1");
    const r = await cli("validate", ckpt, "--against", target, "--format", "github");
    const error = r.stdout.split("\n").find((l) => l.startsWith("::error title="));
    expect(error).toBeDefined();
    expect(error).toContain("a%3Ab%2Cc");
  });
});
