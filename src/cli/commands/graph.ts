/**
 * `tfckpt graph PATH`: the object graph of a TF2 checkpoint (or of a JSON graph document) as the
 * full JSON form (`--json`, lossless: commit it so CI needs no TensorFlow), as the authoring form
 * (`--authoring`: nested by local name, `$ref` for an object's other edges) or as a tree (`--tree`).
 *
 * @module
 */
import type { Argv } from "yargs";
import { defineCommand } from "../command.js";
import type { CliIO } from "../io.js";

/** The `graph` command. */
export const graphCommand = defineCommand({
  command: "graph <path>",
  describe: "Dump the object graph of a TF2 checkpoint (or graph JSON) as full-form JSON or a tree",
  builder: (y: Argv) =>
    y
      .positional("path", {
        type: "string",
        demandOption: true,
        describe:
          "object-based checkpoint, a .json graph (full or authoring form), or Keras 3 weights (.weights.h5, .keras: their HDF5 layout)",
      })
      .option("json", { type: "boolean", describe: "print the full JSON form (the default)" })
      .option("tree", { type: "boolean", describe: "print an indented tree instead" })
      .option("authoring", {
        type: "boolean",
        describe: "print the authoring JSON form (objects nested by name, $ref for a second edge)",
      })
      .conflicts("json", ["tree", "authoring"])
      .conflicts("tree", "authoring"),
  handler: async (args, io: CliIO) => {
    // Loaded on use, as every command's implementation: a run loads only its own modules.
    const [{ renderTree }, keras, { loadTarget }, json] = await Promise.all([
      import("../../graph/object-graph.js"),
      import("../../target/keras.js"),
      import("../../target/load.js"),
      import("../../target/target.js"),
    ]);
    const { target, template, notes } = await loadTarget(args.path);
    await template?.close();
    for (const n of notes) io.stderr(`note: ${n}\n`);
    if (target.keras !== undefined) {
      // Keras 3 weights have no object graph: their HDF5 layout is what a template gives.
      if (args.tree === true) io.stdout(`${keras.renderKerasTree(target.keras).join("\n")}\n`);
      else io.stdout(`${JSON.stringify(keras.kerasLayoutToJson(target.keras), null, 2)}\n`);
      return 0;
    }
    if (args.tree === true) io.stdout(`${renderTree(target.graph).join("\n")}\n`);
    else if (args.authoring === true)
      io.stdout(`${JSON.stringify(json.targetToAuthoringJson(target), null, 2)}\n`);
    else io.stdout(`${JSON.stringify(json.targetToFullJson(target), null, 2)}\n`);
    return 0;
  },
});
