/**
 * `tfckpt doctor`: which tfckpt, Node.js and codec implementations run here — the native CRC-32C
 * and Snappy modules, or their JavaScript fallbacks when a binary did not load (see
 * `io/native.ts`).
 *
 * @module
 */
import type { Argv } from "yargs";
import type { NativeImplementation } from "../../io/native.js";
import { defineCommand } from "../command.js";
import { EXIT_OK } from "../exit.js";
import type { CliIO } from "../io.js";

/** The `doctor` command (no options). */
export function doctorCommand(version: string) {
  return defineCommand({
    command: "doctor",
    describe: "Show the tfckpt and Node.js versions and which CRC-32C and Snappy implementations run",
    builder: (y: Argv) => y,
    handler: async (_args, io: CliIO) => {
      const [{ crc32cImplementation }, { snappyImplementation }] = await Promise.all([
        import("../../io/crc32c.js"),
        import("../../io/snappy.js"),
      ]);
      const line = (what: string, impl: NativeImplementation) =>
        `${what}: ${impl.name}${impl.native ? "" : ` — fallback, native module not loaded${impl.why !== undefined ? `: ${impl.why}` : ""}`}\n`;
      io.stdout(`tfckpt ${version} on Node.js ${process.version} (${process.platform}-${process.arch})\n`);
      io.stdout(line("crc32c", crc32cImplementation()));
      const snappy = snappyImplementation();
      io.stdout(line("snappy", snappy));
      if (!snappy.native)
        io.stdout(
          "note: snappyjs decompresses exactly; blocks it compresses (rewrite of a bundle with Snappy index blocks) may differ byte-wise from a native or TensorFlow write\n",
        );
      return EXIT_OK;
    },
  });
}
