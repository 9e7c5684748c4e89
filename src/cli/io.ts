/**
 * What a CLI command may touch: output streams and whether stderr is a terminal. Tests pass a
 * capturing implementation.
 *
 * @module
 */

import { createRequire } from "node:module";
import type { SingleBar } from "cli-progress";
import type { ProgressFn, ProgressUnit } from "../reader.js";
import { formatBytes } from "./format.js";

/** Output of one CLI run. */
export interface CliIO {
  /** Writes to stdout (results only: tables, JSON). */
  stdout(text: string): void;
  /** Writes to stderr (notes, summaries, progress, errors). */
  stderr(text: string): void;
  /** True when stderr is an interactive terminal (progress bars are shown only then). */
  readonly interactive: boolean;
}

/** The process's own streams. */
export const processIO: CliIO = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  interactive: process.stderr.isTTY === true,
};

/**
 * `value` in a progress bar: bytes in binary units (`12.0 MiB`), tensors as a count; the total
 * carries the unit word for counts (`3/40 tensors`).
 */
export function formatProgressValue(value: number, unit: ProgressUnit, which: "value" | "total"): string {
  if (unit === "bytes") return formatBytes(value);
  return which === "total" ? `${value} tensor${value === 1 ? "" : "s"}` : String(value);
}

/**
 * A progress callback that draws a bar on stderr for interactive runs, plus a `stop()` to call
 * when the work ends. Non-interactive runs get a no-op. Amounts are shown in `unit` unless the
 * callback is told another (a V1 verify counts tensors).
 */
export function progressBar(
  io: CliIO,
  label: string,
  unit: ProgressUnit = "bytes",
): { onProgress: ProgressFn; stop: () => void } {
  if (!io.interactive) return { onProgress: () => undefined, stop: () => undefined };
  let shown: ProgressUnit = unit;
  // Loaded only when a bar is drawn (an interactive run): it and its dependencies are ~20 modules.
  const { SingleBar: Bar } = createRequire(import.meta.url)("cli-progress") as {
    SingleBar: typeof SingleBar;
  };
  const bar = new Bar({
    format: `${label} [{bar}] {percentage}% | {value}/{total} | ETA {eta_formatted}`,
    stream: process.stderr,
    hideCursor: true,
    clearOnComplete: true,
    formatValue: (v: number, _o: unknown, type: string) =>
      type === "value" || type === "total" ? formatProgressValue(v, shown, type) : String(v),
  });
  let started = false;
  return {
    onProgress: (done, total, u) => {
      if (!started) {
        shown = u ?? unit;
        bar.start(total, 0);
        started = true;
      }
      bar.update(done);
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}
