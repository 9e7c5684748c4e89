/**
 * Output hygiene for text that may carry names from a hostile checkpoint: control characters
 * (C0 but tab and newline, DEL, C1) are shown as `\u00XX` so they cannot move the cursor, rewrite
 * the screen or inject terminal escape sequences. `\u00XX` is also a valid JSON escape of the same
 * character, so JSON output stays valid and means the same.
 *
 * @module
 */
import type { CliIO } from "./io.js";

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/** `text` with every control character but `\t` and `\n` written as `\u00XX`. */
export function escapeControlCharacters(text: string): string {
  return text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** An IO whose stdout and stderr escape control characters (see {@link escapeControlCharacters}). */
export function safeIO(io: CliIO): CliIO {
  return {
    stdout: (t) => io.stdout(escapeControlCharacters(t)),
    stderr: (t) => io.stderr(escapeControlCharacters(t)),
    interactive: io.interactive,
  };
}
