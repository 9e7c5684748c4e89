#!/usr/bin/env node
// The tfckpt executable.
import module from "node:module";

// Node.js ≥ 22.1 keeps the compiled code of the modules below on disk between runs (a short run
// spends much of its time compiling them); Node.js 20 has no such cache, and this does nothing.
(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();
// Imported after the cache is on, so they can use it.
const { processIO } = await import("./io.js");
const { runCli } = await import("./parser.js");

// A closed pipe (`tfckpt inspect … | head`) ends the run quietly, as other Unix tools do.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw e;
});
process.exitCode = await runCli(process.argv.slice(2), processIO);
