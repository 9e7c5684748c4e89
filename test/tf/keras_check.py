#!/usr/bin/env python3
"""Keras 3's answers for tfckpt's Keras-weights tests (test/tf/keras-weights.test.ts). The judge.

Usage: keras_check.py REQUEST.json RESULT.json
Ops:
  templates {"dir": D}  builds the MLP of fixtures/tf-2.21/tf1-mlp-adam as a Keras 3 Functional
            model (layers named "dense", "dense_1") and saves D/template.weights.h5 and
            D/template.keras from the freshly built model (the targets tfckpt writes to), and
            D/template-adam.weights.h5 with its Adam optimizer built (optimizer/vars/0..9).
  check     {"dir": D, "tf1": PREFIX, "weights": W, "archive": K}
            runs the TF1 graph (tf.compat.v1 Saver.restore of PREFIX) on fixed inputs;
            loads W with model.load_weights() and K with keras.saving.load_model(), predicts;
            sets the TF1 values with set_weights() and lets Keras save its own .weights.h5, then
            compares it with W in h5py (every group, its attributes; every dataset's dtype, shape,
            bytes). Returns the max |delta| of each prediction and the list of differences.
  step      {"tf1": PREFIX, "weights": W}  the optimizer state: the TF1 graph restores PREFIX
            (weights, Adam slots, beta powers, global_step) and runs one AdamOptimizer step on a
            fixed batch; Keras builds Adam(0.01, epsilon=1e-8) (TF1's defaults), load_weights(W)
            with the optimizer built, and runs one train_on_batch on the same batch. Returns the
            restored iteration count and the max |delta| of every weight after the step.
  nested    {"dir": D} / {"dir": D, "weights": W}  without "weights": builds the nested model of
            fixtures/keras-3.15 (Sequential of Dense + BatchNormalization inside a Functional model,
            Embedding) twice: D/nested-source.weights.h5 after two epochs of fit (moving statistics
            changed), D/nested-template.weights.h5 freshly built with another seed. With "weights":
            loads W into a fresh model and returns the max |delta| of its predictions and of every
            weight against the trained model's.
  describe  {"files": [F, ...]}  every dataset of each HDF5 file: dtype, shape (h5py's view).
"""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import h5py  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from judge import serve  # noqa: E402

LAYERS = [("dense", 4, 8, "relu"), ("dense_1", 8, 2, None)]


def mlp():
    inputs = keras.Input((4,), name="x")
    h = inputs
    for name, _, units, act in LAYERS:
        h = keras.layers.Dense(units, activation=act, name=name)(h)
    return keras.Model(inputs, h, name="mlp")


def tf1_predict(prefix, x):
    """The TF1 graph of the checkpoint (tf.layers.dense names), restored by a v1 Saver."""
    v1 = tf.compat.v1
    g = tf.Graph()
    with g.as_default():
        inp = v1.placeholder(tf.float32, [None, 4])
        h = inp
        for name, n_in, n_out, act in LAYERS:
            with v1.variable_scope(name):
                k = v1.get_variable("kernel", [n_in, n_out], tf.float32)
                b = v1.get_variable("bias", [n_out], tf.float32)
            h = tf.matmul(h, k) + b
            if act == "relu":
                h = tf.nn.relu(h)
        saver = v1.train.Saver(var_list=v1.global_variables())
        with v1.Session(graph=g) as s:
            saver.restore(s, prefix)
            return s.run(h, {inp: x})


def walk(path):
    out = {}
    with h5py.File(path, "r") as f:
        out["/"] = ("group", sorted((k, str(v)) for k, v in f.attrs.items()))

        def visit(name, obj):
            attrs = sorted((k, str(v)) for k, v in obj.attrs.items())
            if isinstance(obj, h5py.Dataset):
                arr = np.asarray(obj[()])
                out[name] = ("dataset", str(obj.dtype), list(obj.shape), arr.tobytes().hex(), attrs)
            else:
                out[name] = ("group", attrs)

        f.visititems(visit)
    return out


def adam():
    return keras.optimizers.Adam(0.01, epsilon=1e-8)


def templates(d):
    keras.utils.set_random_seed(3)
    m = mlp()
    m.save_weights(os.path.join(d, "template.weights.h5"))
    m.save(os.path.join(d, "template.keras"))
    m.compile(optimizer=adam(), loss="mse")
    m.optimizer.build(m.trainable_variables)
    m.save_weights(os.path.join(d, "template-adam.weights.h5"))
    return {"keras": keras.__version__}


def tf1_step(prefix, x, y):
    """One more AdamOptimizer(0.01) step of the TF1 graph of fixtures/tf-2.21 tf1-mlp-adam."""
    v1 = tf.compat.v1
    g = tf.Graph()
    with g.as_default():
        inp = v1.placeholder(tf.float32, [None, 4])
        out = v1.placeholder(tf.float32, [None, 2])
        h = inp
        names = []
        for name, n_in, n_out, act in LAYERS:
            with v1.variable_scope(name):
                k = v1.get_variable("kernel", [n_in, n_out], tf.float32)
                b = v1.get_variable("bias", [n_out], tf.float32)
            names += [k, b]
            h = tf.matmul(h, k) + b
            if act == "relu":
                h = tf.nn.relu(h)
        loss = tf.reduce_mean(tf.square(h - out))
        step = v1.train.get_or_create_global_step()
        train = v1.train.AdamOptimizer(0.01).minimize(loss, global_step=step)
        saver = v1.train.Saver(var_list=v1.global_variables())
        with v1.Session(graph=g) as s:
            saver.restore(s, prefix)
            s.run(train, {inp: x, out: y})
            return s.run(names)


def step(req):
    rng = np.random.RandomState(11)
    x = rng.randn(5, 4).astype(np.float32)
    y = rng.randn(5, 2).astype(np.float32)
    want = tf1_step(req["tf1"], x, y)
    m = mlp()
    m.compile(optimizer=adam(), loss="mse")
    m.optimizer.build(m.trainable_variables)
    m.load_weights(req["weights"])
    iterations = int(m.optimizer.iterations.numpy())
    m.train_on_batch(x, y)
    got = m.get_weights()
    return {
        "iterations": iterations,
        "max_abs": max(float(np.abs(a - b).max()) for a, b in zip(got, want)),
        "weights": len(got),
    }


def check(req):
    d = req["dir"]
    x = np.random.RandomState(5).randn(16, 4).astype(np.float32)
    ref = tf1_predict(req["tf1"], x)
    m = mlp()
    m.load_weights(req["weights"])
    by_weights = m.predict(x, verbose=0)
    loaded = keras.saving.load_model(req["archive"])
    by_archive = loaded.predict(x, verbose=0)
    # Keras's own file of the same model holding the TF1 values.
    reader = tf.train.load_checkpoint(req["tf1"])
    own = mlp()
    own.set_weights([reader.get_tensor(f"{n}/{v}") for n, *_ in LAYERS for v in ("kernel", "bias")])
    own_path = os.path.join(d, "keras-own.weights.h5")
    own.save_weights(own_path)
    a, b = walk(req["weights"]), walk(own_path)
    diffs = [f"{k}: tfckpt {a.get(k)!r:.200} keras {b.get(k)!r:.200}" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
    return {
        "weights_max_abs": float(np.abs(by_weights - ref).max()),
        "archive_max_abs": float(np.abs(by_archive - ref).max()),
        "archive_class": type(loaded).__name__,
        "layout_entries": len(b),
        "layout_diffs": diffs,
    }


def nested_model():
    block = keras.Sequential([keras.layers.Dense(3, name="inner"), keras.layers.BatchNormalization(name="bn")], name="block")
    ids = keras.Input((2,), dtype="int32", name="ids")
    e = keras.layers.Embedding(10, 4, name="emb")(ids)
    f = keras.layers.Flatten(name="flat")(e)
    out = keras.layers.Dense(1, name="head")(block(f))
    return keras.Model(ids, out, name="nested")


def nested(req):
    d = req["dir"]
    x = np.random.RandomState(2).randint(0, 10, size=(32, 2)).astype(np.int32)
    if "weights" not in req:
        keras.utils.set_random_seed(4)
        m = nested_model()
        m.compile(optimizer="adam", loss="mse")
        m.fit(x, np.random.RandomState(3).randn(32, 1).astype(np.float32), epochs=2, verbose=0)
        m.save_weights(os.path.join(d, "nested-source.weights.h5"))
        keras.utils.set_random_seed(9)
        nested_model().save_weights(os.path.join(d, "nested-template.weights.h5"))
        return {}
    src = nested_model()
    src.load_weights(os.path.join(d, "nested-source.weights.h5"))
    m = nested_model()
    m.load_weights(req["weights"])
    return {
        "predict_max_abs": float(np.abs(m.predict(x, verbose=0) - src.predict(x, verbose=0)).max()),
        "weights_max_abs": max(float(np.abs(a - b).max()) for a, b in zip(m.get_weights(), src.get_weights())),
        "weights": len(m.get_weights()),
    }


def describe(files):
    out = {}
    for f in files:
        with h5py.File(f, "r") as h:
            ds = {}

            def visit(name, obj):
                if isinstance(obj, h5py.Dataset):
                    bf = obj.attrs.get("dtype") == "bfloat16"
                    ds[name] = {"dtype": "bfloat16" if bf else ("bool" if obj.dtype == np.bool_ else obj.dtype.name), "shape": list(obj.shape)}

            h.visititems(visit)
            out[f] = ds
    return out


OPS = {
    "templates": lambda req: templates(req["dir"]),
    "check": check,
    "step": step,
    "nested": nested,
    "describe": lambda req: describe(req["files"]),
}


def main(request_path, result_path):
    serve("keras_check.py", request_path, result_path, OPS, {"keras": keras.__version__})


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
