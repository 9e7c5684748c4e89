/**
 * Plain-text rendering helpers for the CLI: aligned tables, byte counts, shapes.
 *
 * @module
 */

/** `[24, 128]` → `[24,128]`; scalars `[]`. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(",")}]`;
}

/** Bytes with binary units: `512 B`, `12.0 KiB`, `1.50 GiB`. */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}

/** Left-aligned columns separated by two spaces; columns listed in `right` are right-aligned. */
export function table(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  right: ReadonlySet<number> = new Set(),
): string {
  // A loop, not Math.max(...rows): a spread of 10⁶ rows overflows the stack.
  const widths = header.map((h, i) => rows.reduce((w, r) => Math.max(w, (r[i] ?? "").length), h.length));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (right.has(i) ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number)))
      .join("  ")
      .trimEnd();
  const lines = rows.map(line);
  lines.unshift(line(header));
  return `${lines.join("\n")}\n`;
}
