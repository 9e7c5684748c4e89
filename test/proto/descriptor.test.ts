// Generated protobuf code is never edited by hand: regenerating it from protos/ changes nothing.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { expect, it } from "vitest";
import { REPO } from "../helpers/fixtures.js";

it("src/proto/generated/descriptor.ts is up to date with protos/", () => {
  const run = () =>
    execFileSync(process.execPath, [join(REPO, "protos", "generate.mjs"), "--check"], { stdio: "pipe" });
  expect(run).not.toThrow();
});
