/**
 * Loads a target object graph from what a user names: a JSON file (full or authoring form) or a
 * TF2 checkpoint used as a template.
 *
 * @module
 */
import { openCheckpoint } from "../checkpoint/open.js";
import { isKerasPath } from "../keras/reader.js";
import type { CheckpointReader } from "../reader.js";
import { readJsonFile } from "../schema.js";
import { targetFromKeras } from "./keras.js";
import { type AuthoringOptions, type TargetGraph, targetFromCheckpoint, targetFromJson } from "./target.js";

/** A loaded target; `template` is the open template checkpoint (close it when done), if any. */
export interface LoadedTarget {
  readonly target: TargetGraph;
  readonly template: CheckpointReader | undefined;
  readonly notes: readonly string[];
}

/**
 * Loads `path`: a `.json` file is a graph document; a Keras 3 weights file (`.weights.h5`,
 * `.keras`) is a Keras target (`target/keras.ts`); anything else is opened as a checkpoint and
 * must be object-based.
 * @throws InvalidDocumentError for bad JSON; UsageError for a name-based template; reader errors
 */
export async function loadTarget(path: string, options: AuthoringOptions = {}): Promise<LoadedTarget> {
  if (path.endsWith(".json")) {
    return {
      target: targetFromJson(readJsonFile(path, "object graph"), options, path),
      template: undefined,
      notes: [],
    };
  }
  const reader = await openCheckpoint(path);
  const layout = reader.kerasLayout?.();
  if (layout !== undefined && isKerasPath(path))
    return { target: targetFromKeras({ layout }), template: reader, notes: [] };
  try {
    return { target: await targetFromCheckpoint(reader), template: reader, notes: reader.notes };
  } catch (e) {
    await reader.close();
    throw e;
  }
}
