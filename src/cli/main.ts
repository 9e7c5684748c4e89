#!/usr/bin/env node
// The tfckpt executable.
import { processIO } from "./io.js";
import { runCli } from "./parser.js";

// A closed pipe (`tfckpt inspect … | head`) ends the run quietly, as other Unix tools do.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw e;
});
process.exitCode = await runCli(process.argv.slice(2), processIO);
