/**
 * Targets from Keras 3 weights files: a `.weights.h5` or `.keras` saved from the freshly built
 * model is a template, as a TF2 checkpoint is. Each HDF5 dataset is one target variable whose
 * checkpoint key, object path, full name and pretty name are all its HDF5 path
 * (`layers/dense/vars/0`): Keras 3 stores no variable names, only layer paths and variable
 * indices (`keras/src/saving/saving_lib.py`, `H5IOStore`).
 *
 * @module
 */
import type { KerasWeightsReader } from "../keras/reader.js";
import { VARIABLE_VALUE } from "./keys.js";
import type { TargetAttribute, TargetGraph } from "./target.js";

/**
 * The target of a Keras weights file: its datasets as attributes (HDF5 name order), a flat
 * stand-in object graph (the root with one child per dataset) for the code that walks graphs, and
 * the file's layout in `keras`, which the Keras writer reproduces.
 */
export function targetFromKeras(reader: KerasWeightsReader): TargetGraph {
  const datasets = reader.layout.entries.filter((e) => e.kind === "dataset");
  const attributes: TargetAttribute[] = datasets.map((d, i) => ({
    nodeId: i + 1,
    name: VARIABLE_VALUE,
    fullName: d.path,
    checkpointKey: d.path,
    dtype: d.dtype,
    shape: d.shape,
    prettyName: d.path,
    objectPath: d.path,
  }));
  const none = { registeredSaver: undefined, hasCheckpointValues: undefined };
  return {
    graph: {
      nodes: [
        {
          children: datasets.map((d, i) => ({ nodeId: i + 1, localName: d.path })),
          attributes: [],
          slotVariables: [],
          ...none,
        },
        ...datasets.map((d) => ({
          children: [],
          attributes: [
            { name: VARIABLE_VALUE, fullName: d.path, checkpointKey: d.path, optionalRestore: false },
          ],
          slotVariables: [],
          ...none,
        })),
      ],
    },
    attributes,
    keras: reader.layout,
  };
}
