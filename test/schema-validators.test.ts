// The JSON-schema validators are ajv's standalone code generated from mappings/: regenerating
// them from the schemas changes nothing, so a schema edit without `node mappings/generate.mjs`
// fails here instead of validating against the old schema.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { expect, it } from "vitest";
import { REPO } from "./helpers/fixtures.js";

it("src/schema-validators.generated.ts is up to date with mappings/*.schema.json", () => {
  const run = () =>
    execFileSync(process.execPath, [join(REPO, "mappings", "generate.mjs"), "--check"], { stdio: "pipe" });
  expect(run).not.toThrow();
});
