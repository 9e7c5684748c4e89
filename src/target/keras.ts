/**
 * Targets from Keras 3 weights files: a `.weights.h5` or `.keras` saved from the freshly built
 * model is a template, as a TF2 checkpoint is. Each HDF5 dataset is one target variable whose
 * checkpoint key, object path and pretty name are its HDF5 path (`layers/dense/vars/0`): Keras 3
 * stores no variable names, only layer paths (named after the layer class) and variable indices
 * (`keras/src/saving/saving_lib.py`, `H5IOStore`). Its full name is Keras 3's `variable.path`
 * where the layer class is known (`dense/kernel`, `block/bn/moving_mean`: the `name` attributes
 * of the enclosing `vars` groups, then the variable's name), else the HDF5 path.
 *
 * @module
 */

import { VARIABLE_VALUE } from "../graph/keys.js";
import type { KerasLayout } from "../reader.js";
import { formatType } from "../tensor.js";
import type { TargetAttribute, TargetGraph } from "./target.js";

/**
 * Variable names of Keras 3 layers, in `layer.weights` order, by the snake-case class name Keras
 * gives their groups (`keras/src/layers/core/dense.py`, `convolutional/base_conv.py`,
 * `core/embedding.py`, `normalization/batch_normalization.py`, `layer_normalization.py`).
 * `optionalTail`: the last names may be absent (`use_bias=False`); otherwise the count must match.
 */
export const LAYER_VARIABLES: ReadonlyMap<string, { names: readonly string[]; optionalTail: boolean }> =
  new Map(
    Object.entries({
      dense: { names: ["kernel", "bias"], optionalTail: true },
      einsum_dense: { names: ["kernel", "bias"], optionalTail: true },
      conv1d: { names: ["kernel", "bias"], optionalTail: true },
      conv2d: { names: ["kernel", "bias"], optionalTail: true },
      conv3d: { names: ["kernel", "bias"], optionalTail: true },
      conv1d_transpose: { names: ["kernel", "bias"], optionalTail: true },
      conv2d_transpose: { names: ["kernel", "bias"], optionalTail: true },
      conv3d_transpose: { names: ["kernel", "bias"], optionalTail: true },
      embedding: { names: ["embeddings"], optionalTail: false },
      batch_normalization: {
        names: ["gamma", "beta", "moving_mean", "moving_variance"],
        optionalTail: false,
      },
      layer_normalization: { names: ["gamma", "beta"], optionalTail: false },
    }),
  );

/**
 * Keras 3 `variable.path` of each dataset whose layer class is known: the `name` attributes of the
 * `vars` groups of its enclosing layers (the model's own excluded), then the variable's name.
 */
export function kerasVariablePaths(layout: KerasLayout): Map<string, string> {
  const names = new Map<string, string>();
  const counts = new Map<string, number>();
  for (const e of layout.entries) {
    if (e.kind === "group" && e.path.endsWith("/vars") && typeof e.attrs.name === "string")
      names.set(e.path.slice(0, -"/vars".length), e.attrs.name);
    if (e.kind === "dataset") {
      const g = e.path.slice(0, e.path.lastIndexOf("/"));
      counts.set(g, (counts.get(g) ?? 0) + 1);
    }
  }
  const out = new Map<string, string>();
  for (const e of layout.entries) {
    if (e.kind !== "dataset") continue;
    const m = /^(.*)\/vars\/(\d+)$/.exec(e.path);
    if (m === null) continue;
    const layer = m[1] as string;
    const index = Number(m[2]);
    const cls = (layer.split("/").at(-1) as string).replace(/_\d+$/, "");
    const spec = LAYER_VARIABLES.get(cls); // a Map: group names come from the file
    const count = counts.get(`${layer}/vars`) ?? 0;
    if (
      spec === undefined ||
      count > spec.names.length ||
      (!spec.optionalTail && count !== spec.names.length)
    )
      continue;
    // Names of the enclosing layers: every ancestor with a named `vars` group, below the root.
    const parts = layer.split("/");
    const scope: string[] = [];
    for (let i = 1; i <= parts.length; i++) {
      const n = names.get(parts.slice(0, i).join("/"));
      if (n !== undefined) scope.push(n);
    }
    if (scope.length === 0) continue;
    out.set(e.path, `${scope.join("/")}/${spec.names[index]}`);
  }
  return out;
}

/**
 * The target of a Keras weights file: its datasets as attributes (HDF5 name order), a flat
 * stand-in object graph (the root with one child per dataset) for the code that walks graphs, and
 * the file's layout in `keras`, which the Keras writer reproduces.
 * @param reader  a `KerasWeightsReader`, or anything holding its `layout` (the reader contract's
 *        `kerasLayout()` capability)
 */
export function targetFromKeras(reader: { readonly layout: KerasLayout }): TargetGraph {
  const datasets = reader.layout.entries.filter((e) => e.kind === "dataset");
  const paths = kerasVariablePaths(reader.layout);
  const attributes: TargetAttribute[] = datasets.map((d, i) => ({
    nodeId: i + 1,
    name: VARIABLE_VALUE,
    fullName: paths.get(d.path) ?? d.path,
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
            {
              name: VARIABLE_VALUE,
              fullName: paths.get(d.path) ?? d.path,
              checkpointKey: d.path,
              optionalRestore: false,
            },
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
    } else lines.push(`${indent}${leaf}  ${formatType(e, true)}`);
  }
  return lines;
}
