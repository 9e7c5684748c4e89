"""Family 1: a tf.layers.dense MLP (`dense/…`, `dense_1/…`) trained with
tf.compat.v1.train.AdamOptimizer and a global_step, migrated to a Keras 3 Sequential with
keras.optimizers.Adam saved through tf.train.Checkpoint(model=..., optimizer=...)."""
import os

from common import compare, main, rng, save_json, tolist

import tensorflow as tf  # noqa: E402

IN, HID, OUT = 4, 8, 3
LR, EPS = 0.01, 1e-8
STEPS = 3
r = rng(1)
X_TRAIN = r.normal(size=(STEPS, 16, IN)).astype("float32")
Y_TRAIN = r.normal(size=(STEPS, 16, OUT)).astype("float32")
X_EVAL = r.normal(size=(5, IN)).astype("float32")
X_STEP = r.normal(size=(16, IN)).astype("float32")
Y_STEP = r.normal(size=(16, OUT)).astype("float32")
NAMES = ["dense/kernel", "dense/bias", "dense_1/kernel", "dense_1/bias"]


def tf1(work):
    v1 = tf.compat.v1
    v1.disable_eager_execution()
    v1.set_random_seed(0)
    x = v1.placeholder(tf.float32, [None, IN])
    y = v1.placeholder(tf.float32, [None, OUT])

    def dense(h, units, scope):  # what tf.layers.dense creates and computes
        with v1.variable_scope(scope):
            k = v1.get_variable("kernel", [h.shape[-1], units], initializer=v1.glorot_uniform_initializer())
            b = v1.get_variable("bias", [units], initializer=v1.zeros_initializer())
        return tf.matmul(h, k) + b

    logits = dense(tf.nn.relu(dense(x, HID, "dense")), OUT, "dense_1")
    loss = tf.reduce_mean(tf.square(logits - y))
    step = v1.train.get_or_create_global_step()
    train = v1.train.AdamOptimizer(LR, epsilon=EPS).minimize(loss, global_step=step)
    weights = {v.op.name: v for v in v1.trainable_variables()}
    with v1.Session() as s:
        s.run(v1.global_variables_initializer())
        for i in range(STEPS):
            s.run(train, {x: X_TRAIN[i], y: Y_TRAIN[i]})
        path = v1.train.Saver().save(s, os.path.join(work, "tf1", "model.ckpt"), global_step=step)
        outputs = s.run(logits, {x: X_EVAL})
        before = s.run(weights)
        s.run(train, {x: X_STEP, y: Y_STEP})
        after = s.run(weights)
    save_json(os.path.join(work, "tf1.json"), {"checkpoint": path, "outputs": outputs.tolist(), "before": tolist(before), "afterStep": tolist(after)})


def build():
    import keras

    model = keras.Sequential(
        [keras.Input((IN,)), keras.layers.Dense(HID, activation="relu", name="dense"), keras.layers.Dense(OUT, name="dense_1")],
        name="mlp",
    )
    opt = keras.optimizers.Adam(learning_rate=LR, epsilon=EPS, name="adam")
    opt.build(model.trainable_variables)
    return model, opt


def template(work):
    model, opt = build()
    tf.train.Checkpoint(model=model, optimizer=opt).save(os.path.join(work, "template", "ckpt"))


def tf2(work, ckpt):
    model, opt = build()
    tf.train.Checkpoint(model=model, optimizer=opt).restore(ckpt).assert_consumed()
    outputs = model(X_EVAL).numpy()
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(model(X_STEP) - Y_STEP))
    opt.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
    by = {"dense/kernel": model.layers[0].kernel, "dense/bias": model.layers[0].bias, "dense_1/kernel": model.layers[1].kernel, "dense_1/bias": model.layers[1].bias}
    return compare(work, outputs, {k: v.numpy() for k, v in by.items()}, {"iterations": int(opt.iterations.numpy())})


def build_module():
    """(ii) The Keras-2-style layout: a tf.Module tree and tf.compat.v1.train.AdamOptimizer in
    eager mode, whose m and v are slot variables and beta1_power/beta2_power its own variables."""

    class Dense(tf.Module):
        def __init__(self, n_in, n_out, name):
            super().__init__(name=name)
            self.kernel = tf.Variable(tf.zeros([n_in, n_out]), name="kernel")
            self.bias = tf.Variable(tf.zeros([n_out]), name="bias")

        def __call__(self, x):
            return tf.matmul(x, self.kernel) + self.bias

    class MLP(tf.Module):
        def __init__(self):
            super().__init__(name="mlp")
            self.dense = Dense(IN, HID, "dense")
            self.dense_1 = Dense(HID, OUT, "dense_1")

        def __call__(self, x):
            return self.dense_1(tf.nn.relu(self.dense(x)))

    model = MLP()
    opt = tf.compat.v1.train.AdamOptimizer(LR, epsilon=EPS)
    step = tf.Variable(0, dtype=tf.int64, name="global_step")
    return model, opt, step


def module_vars(model):
    return [model.dense.kernel, model.dense.bias, model.dense_1.kernel, model.dense_1.bias]


def template_module(work):
    model, opt, step = build_module()
    opt.apply_gradients([(tf.zeros_like(v), v) for v in module_vars(model)])  # creates the slots
    tf.train.Checkpoint(model=model, optimizer=opt, global_step=step).save(os.path.join(work, "template-module", "ckpt"))


def tf2_module(work, ckpt):
    model, opt, step = build_module()
    # Slots are created before the restore here (restore-on-create would work too).
    opt._create_slots(module_vars(model))
    opt._create_non_slot_variable(initial_value=0.9, name="beta1_power", colocate_with=model.dense.kernel)
    opt._create_non_slot_variable(initial_value=0.999, name="beta2_power", colocate_with=model.dense.kernel)
    tf.train.Checkpoint(model=model, optimizer=opt, global_step=step).restore(ckpt).assert_consumed()
    outputs = model(X_EVAL).numpy()
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(model(X_STEP) - Y_STEP))
    opt.apply_gradients(zip(tape.gradient(loss, module_vars(model)), module_vars(model)), global_step=step)
    names = ["dense/kernel", "dense/bias", "dense_1/kernel", "dense_1/bias"]
    return compare(work, outputs, {n: v.numpy() for n, v in zip(names, module_vars(model))}, {"globalStep": int(step.numpy())})


if __name__ == "__main__":
    main(tf1, template, tf2, {"module": (template_module, tf2_module)})
