/**
 * Targets from Keras 3 weights files: a `.weights.h5` or `.keras` saved from the freshly built
 * model is a template, as a TF2 checkpoint is. Each HDF5 dataset is one target variable whose
 * checkpoint key, object path, full name and pretty name are all its HDF5 path
 * (`layers/dense/vars/0`): Keras 3 stores no variable names, only layer paths and variable
 * indices (`keras/src/saving/saving_lib.py`, `H5IOStore`).
 *
 * @module
 */
import type { KerasLayout, KerasWeightsReader } from "../keras/reader.js";
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

/** The JSON form of a Keras layout (`tfckpt graph model.weights.h5`). */
export interface KerasLayoutJson {
  readonly format: "tfckpt-keras-layout";
  readonly version: 1;
  /** Entry names of a `.keras` archive other than the weights, in archive order. */
  readonly archive?: readonly string[];
  readonly groups: ReadonlyArray<{ path: string; attrs: Record<string, string> }>;
  readonly datasets: ReadonlyArray<{
    path: string;
    dtype: string;
    shape: number[];
    attrs?: Record<string, string>;
  }>;
}

/** A Keras layout as JSON: every group with its attributes, every dataset's dtype and shape. */
export function kerasLayoutToJson(layout: KerasLayout): KerasLayoutJson {
  const groups = [];
  const datasets = [];
  for (const e of layout.entries) {
    if (e.kind === "group") groups.push({ path: e.path, attrs: { ...e.attrs } });
    else
      datasets.push({
        path: e.path,
        dtype: e.dtype.name,
        shape: [...e.shape],
        ...(Object.keys(e.attrs).length > 0 ? { attrs: { ...e.attrs } } : {}),
      });
  }
  return {
    format: "tfckpt-keras-layout",
    version: 1,
    ...(layout.archive !== undefined ? { archive: layout.archive.map((a) => a.name) } : {}),
    groups,
    datasets,
  };
}

/**
 * A Keras layout as an indented tree: groups (with their `name` attribute, the layer's own name)
 * and datasets with dtype and shape.
 */
export function renderKerasTree(layout: KerasLayout): string[] {
  const lines = ["(root)"];
  for (const e of layout.entries) {
    if (e.path === "") continue;
    const parts = e.path.split("/");
    const indent = "  ".repeat(parts.length);
    const leaf = parts.at(-1) as string;
    if (e.kind === "group") {
      const attrs = Object.entries(e.attrs).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
      lines.push(`${indent}${leaf}/${attrs.length > 0 ? `  (${attrs.join(", ")})` : ""}`);
    } else lines.push(`${indent}${leaf}  ${e.dtype.name}[${e.shape.join(",")}]`);
  }
  return lines;
}
