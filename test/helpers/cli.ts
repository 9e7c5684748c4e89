// Runs the CLI in-process with captured output.
import type { CliIO } from "../../src/cli/io.js";
import { runCli } from "../../src/cli/parser.js";

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function cli(...argv: string[]): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const io: CliIO = {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    interactive: false,
  };
  const code = await runCli(argv, io);
  return { code, stdout, stderr };
}
