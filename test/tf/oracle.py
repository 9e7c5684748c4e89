#!/usr/bin/env python3
"""TensorFlow's answers for tfckpt's differential tests (test/tf). The judge, never the product.

Usage: oracle.py REQUEST.json RESULT.json
REQUEST is {"op": ..., ...}; RESULT receives the JSON answer. One process answers one request, so a
test pays TensorFlow's import once per batch. Ops:
  read      {"checkpoints": [path, ...], "slices"?: {path: {key: [spec, ...]}}} -> per path: every
            key's dtype, shape and a SHA-256 of its value bytes (or the error TF gave), and the
            parsed object graph. A key TF reads only slice by slice is restored per given
            `shape_and_slices` spec and assembled.
  resave    {"jobs": [{"src", "dst", "shards": [[key, ...], ...]}]} -> TF re-saves src at dst:
            RestoreV2 of every key whole, SaveV2 per shard in the given order, MergeV2Checkpoints.
  module_template {"jobs": [{"prefix", "keys": {name: {dtype, shape}}}]} -> Checkpoint.save of a
            tf.Module tree with one zero variable per key (`a/b/c` -> model.a.b.c).
  module_restore  {"jobs": [{"checkpoint", "keys"}]} -> that tree restored from the checkpoint:
            the three assertions' outcomes and every variable's digest.
"""
import hashlib
import os
import struct
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow.core.protobuf import trackable_object_graph_pb2  # noqa: E402
from judge import serve  # noqa: E402

GRAPH_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH"


def digest(value):
    """SHA-256 of a tensor's bytes as tfckpt holds them: raw little-endian elements, row-major;
    strings as (u64 little-endian length, bytes) per element."""
    h = hashlib.sha256()
    if isinstance(value, bytes):  # a scalar string; numpy's "S" would drop trailing NULs
        value = np.array([value], dtype=object)
    arr = np.asarray(value)
    if arr.dtype.kind == "S":
        raise ValueError("fixed-width numpy bytes lose trailing NULs; expected an object array")
    if arr.dtype == object:
        for s in arr.reshape(-1):
            b = bytes(s)
            h.update(struct.pack("<Q", len(b)))
            h.update(b)
    else:
        h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()


def graph_json(raw):
    g = trackable_object_graph_pb2.TrackableObjectGraph.FromString(raw)
    nodes = []
    for n in g.nodes:
        nodes.append(
            {
                "children": [[c.node_id, c.local_name] for c in n.children],
                "attributes": [[a.name, a.full_name, a.checkpoint_key] for a in n.attributes],
                "slot_variables": [[s.original_variable_node_id, s.slot_name, s.slot_variable_node_id] for s in n.slot_variables],
                "has_checkpoint_values": n.has_checkpoint_values.value if n.HasField("has_checkpoint_values") else None,
                "registered_saver": n.registered_saver.name if n.HasField("registered_saver") else None,
            }
        )
    return {"nodes": nodes}


def restore_slices(path, name, dtype, shape, specs):
    """A partitioned tensor TF restores only slice by slice (strings: "Dtype string not supported"
    whole): each stored slice restored by RestoreV2 with its `shape_and_slices` spec, assembled."""
    full = np.empty(shape, dtype=object) if dtype == tf.string else np.zeros(shape, dtype=dtype.as_numpy_dtype)
    for spec in specs:
        part = tf.raw_ops.RestoreV2(prefix=path, tensor_names=[name], shape_and_slices=[spec], dtypes=[dtype])[0].numpy()
        extents = spec.split(" ")[-1].split(":")
        index = tuple(slice(None) if e == "-" else slice(int(e.split(",")[0]), int(e.split(",")[0]) + int(e.split(",")[1])) for e in extents)
        full[index] = part
    return full


def read(paths, slices=None):
    slices = slices or {}
    out = {}
    for path in paths:
        entry = {}
        try:
            reader = tf.train.load_checkpoint(path)
        except Exception as e:  # noqa: BLE001
            out[path] = {"error": f"{type(e).__name__}: {e}"}
            continue
        shapes = reader.get_variable_to_shape_map()
        dtypes = reader.get_variable_to_dtype_map()
        keys = {}
        for name in sorted(shapes):
            k = {"dtype": dtypes[name].name, "shape": list(shapes[name])}
            try:
                value = reader.get_tensor(name)
                k["via"] = "get_tensor"
            except Exception as e:  # noqa: BLE001
                # CheckpointReader cannot convert some dtypes (V1 float16, complex, uint16; variant)
                # or sliced V1 tensors; the RestoreV2 kernel can (it falls back to the V1 reader).
                try:
                    value = tf.raw_ops.RestoreV2(prefix=path, tensor_names=[name], shape_and_slices=[""], dtypes=[dtypes[name]])[0].numpy()
                    k["via"] = "RestoreV2"
                except Exception as e2:  # noqa: BLE001
                    specs = slices.get(path, {}).get(name)
                    try:
                        if not specs:
                            raise e2
                        value = restore_slices(path, name, dtypes[name], list(shapes[name]), specs)
                        k["via"] = "RestoreV2 per slice"
                    except Exception:  # noqa: BLE001
                        k["error"] = f"{type(e).__name__}: {str(e).splitlines()[0][:200]}; RestoreV2: {type(e2).__name__}: {str(e2).splitlines()[0][:200]}"
                        keys[name] = k
                        continue
            k["sha256"] = digest(value)
            if name == GRAPH_KEY:
                entry["graph"] = graph_json(bytes(value))
            keys[name] = k
        entry["keys"] = keys
        out[path] = entry
    return out


def resave(jobs):
    """TensorFlow's own re-save of each job's source: every key restored whole (RestoreV2), saved
    per shard in the given order (SaveV2), the shards merged (MergeV2Checkpoints)."""
    import tempfile

    out = {}
    for job in jobs:
        src, dst = job["src"], job["dst"]
        dtypes = tf.train.load_checkpoint(src).get_variable_to_dtype_map()
        tmp = tempfile.mkdtemp(prefix="tfckpt-resave-")
        parts = []
        for i, names in enumerate(job["shards"]):
            if not names:
                continue
            tensors = tf.raw_ops.RestoreV2(prefix=src, tensor_names=names, shape_and_slices=[""] * len(names), dtypes=[dtypes[n] for n in names])
            part = os.path.join(tmp, f"part-{i:05d}")
            tf.raw_ops.SaveV2(prefix=part, tensor_names=names, shape_and_slices=[""] * len(names), tensors=tensors)
            parts.append(part)
        tf.raw_ops.MergeV2Checkpoints(checkpoint_prefixes=parts, destination_prefix=dst, delete_old_dirs=True)
        out[dst] = "ok"
    return out


def module_tree(keys):
    """A tf.Module tree with one zero-filled variable per checkpoint key (`a/b/c` -> root.model.a.b.c)."""
    root = tf.Module()
    root.model = tf.Module()
    variables = {}
    for name, spec in sorted(keys.items()):
        *scopes, leaf = name.split("/")
        node = root.model
        for s in scopes:
            if not hasattr(node, s):
                setattr(node, s, tf.Module())
            node = getattr(node, s)
        dtype = tf.as_dtype(spec["dtype"])
        init = tf.fill(spec["shape"], "") if dtype == tf.string else tf.zeros(spec["shape"], dtype)
        v = tf.Variable(init)
        setattr(node, leaf, v)
        variables[name] = v
    return root, variables


def module_template(jobs):
    """Saves, for each job, the template of a module tree holding `keys` (Checkpoint.save)."""
    return {job["prefix"]: tf.train.Checkpoint(model=module_tree(job["keys"])[0].model).save(job["prefix"]) for job in jobs}


def module_restore(jobs):
    """Restores each job's checkpoint into a fresh module tree: TF's assertions and every value's digest."""
    out = {}
    for job in jobs:
        root, variables = module_tree(job["keys"])
        entry = {"assertions": {}}
        try:
            status = tf.train.Checkpoint(model=root.model).restore(job["checkpoint"])
            for name in ("assert_consumed", "assert_existing_objects_matched", "assert_nontrivial_match"):
                try:
                    getattr(status, name)()
                    entry["assertions"][name] = "passed"
                except AssertionError as e:
                    entry["assertions"][name] = f"failed: {str(e)[:500]}"
            entry["values"] = {name: digest(v.numpy()) for name, v in variables.items()}
        except Exception as e:  # noqa: BLE001
            entry["error"] = f"{type(e).__name__}: {str(e)[:500]}"
        out[job["checkpoint"]] = entry
    return out


OPS = {
    "read": lambda req: read(req["checkpoints"], req.get("slices")),
    "module_template": lambda req: module_template(req["jobs"]),
    "module_restore": lambda req: module_restore(req["jobs"]),
    "resave": lambda req: resave(req["jobs"]),
}


def main(request_path, result_path):
    serve("oracle.py", request_path, result_path, OPS, {"tensorflow": tf.__version__})


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
