#!/usr/bin/python3
"""Writes the ONNX end-to-end models (a small MLP and a small CNN) with deterministic
weights, built with Debian's python3-onnx helper API (run with /usr/bin/python3), and
golden outputs computed by an independent NumPy reference written here (float64, then
rounded to float32), in the layout of ../shared/models: model.onnx, in{c}.bin, out{c}.bin,
info.txt.

  make_models.py OUTDIR      -> OUTDIR/onnx_mlp/, OUTDIR/onnx_cnn/
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

CASES = 3


def init(name, a):
    return numpy_helper.from_array(np.asarray(a, dtype=np.float32), name)


# ----------------------------------------------------------------- reference -------
def conv2d(x, w, b, stride, pads, group=1):
    """NCHW x, OIHW w; pads (top, left, bottom, right)."""
    x = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    oh, ow = (h - kh) // stride + 1, (wd - kw) // stride + 1
    y = np.zeros((n, o, oh, ow))
    og = o // group
    for g in range(group):
        xs = x[:, g * cg:(g + 1) * cg]
        for oc in range(g * og, (g + 1) * og):
            for i in range(oh):
                for j in range(ow):
                    patch = xs[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
                    y[:, oc, i, j] = np.sum(patch * w[oc], axis=(1, 2, 3)) + b[oc]
    return y


def maxpool2(x):
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# ----------------------------------------------------------------- models ----------
def mlp(rng):
    w1 = rng.uniform(-0.5, 0.5, (32, 16)).astype(np.float32)  # MatMul B: [in, out]
    b1 = rng.uniform(-0.1, 0.1, (32,)).astype(np.float32)
    w2 = rng.uniform(-0.5, 0.5, (10, 32)).astype(np.float32)  # Gemm transB: [out, in]
    b2 = rng.uniform(-0.1, 0.1, (10,)).astype(np.float32)
    nodes = [
        helper.make_node("MatMul", ["x", "w1t"], ["h0"], name="fc1"),
        helper.make_node("Add", ["h0", "b1"], ["h1"], name="fc1_bias"),
        helper.make_node("Relu", ["h1"], ["h2"], name="relu1"),
        helper.make_node("Gemm", ["h2", "w2", "b2"], ["h3"], name="fc2", transB=1),
        helper.make_node("Softmax", ["h3"], ["y"], name="softmax", axis=-1),
    ]
    graph = helper.make_graph(
        nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])],
        [init("w1t", w1.T), init("b1", b1), init("w2", w2), init("b2", b2)])

    def ref(x):
        h = np.maximum(x.astype(np.float64) @ w1.T.astype(np.float64) + b1, 0)
        return softmax(h @ w2.T.astype(np.float64) + b2)
    return graph, [(1, 16)], ref


def cnn(rng):
    """Conv(3->8, 3x3, pad 1) BN ReLU MaxPool | depthwise Conv(s2, asymmetric pads) Clip(0,6)
    | Conv 1x1 -> GlobalAveragePool -> Flatten -> Gemm, plus a Flatten of a 4-D tensor."""
    w1 = rng.uniform(-0.4, 0.4, (8, 3, 3, 3)).astype(np.float32)
    b1 = rng.uniform(-0.1, 0.1, (8,)).astype(np.float32)
    gamma = rng.uniform(0.5, 1.5, (8,)).astype(np.float32)
    beta = rng.uniform(-0.2, 0.2, (8,)).astype(np.float32)
    mean = rng.uniform(-0.1, 0.1, (8,)).astype(np.float32)
    var = rng.uniform(0.5, 1.5, (8,)).astype(np.float32)
    wd = rng.uniform(-0.5, 0.5, (8, 1, 3, 3)).astype(np.float32)
    bd = rng.uniform(-0.1, 0.1, (8,)).astype(np.float32)
    w3 = rng.uniform(-0.4, 0.4, (12, 8, 1, 1)).astype(np.float32)
    b3 = rng.uniform(-0.1, 0.1, (12,)).astype(np.float32)
    wf = rng.uniform(-0.3, 0.3, (10, 12)).astype(np.float32)
    bf = rng.uniform(-0.1, 0.1, (10,)).astype(np.float32)
    wl = rng.uniform(-0.05, 0.05, (12 * 4 * 4, 10)).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["c1", "gamma", "beta", "mean", "var"], ["bn"], name="bn1",
                         epsilon=1e-3),
        helper.make_node("Relu", ["bn"], ["r1"], name="relu1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], name="pool1", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p1", "wd", "bd"], ["c2"], name="dw", group=8, kernel_shape=[3, 3],
                         strides=[2, 2], pads=[0, 0, 1, 1]),
        helper.make_node("Clip", ["c2", "lo", "hi"], ["r2"], name="relu6"),
        helper.make_node("Conv", ["r2", "w3", "b3"], ["c3"], name="pw"),
        helper.make_node("GlobalAveragePool", ["c3"], ["g"], name="gap"),
        helper.make_node("Flatten", ["g"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "wf", "bf"], ["logits"], name="fc", transB=1),
        helper.make_node("Flatten", ["c3"], ["f2"], name="flatten_nchw"),
        helper.make_node("MatMul", ["f2", "wl"], ["side"], name="fc_side"),
        helper.make_node("Add", ["logits", "side"], ["y"], name="sum"),
    ]
    graph = helper.make_graph(
        nodes, "cnn", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])],
        [init("w1", w1), init("b1", b1), init("gamma", gamma), init("beta", beta), init("mean", mean),
         init("var", var), init("wd", wd), init("bd", bd), init("lo", np.float32(0)), init("hi", np.float32(6)),
         init("w3", w3), init("b3", b3), init("wf", wf), init("bf", bf), init("wl", wl)])

    def ref(x):
        x = x.astype(np.float64)
        c1 = conv2d(x, w1, b1, 1, (1, 1, 1, 1))
        bn = (c1 - mean[None, :, None, None]) / np.sqrt(var[None, :, None, None] + 1e-3) * gamma[None, :, None, None] \
            + beta[None, :, None, None]
        p1 = maxpool2(np.maximum(bn, 0))
        c2 = np.clip(conv2d(p1, wd, bd, 2, (0, 0, 1, 1), group=8), 0, 6)
        c3 = conv2d(c2, w3, b3, 1, (0, 0, 0, 0))
        logits = c3.mean(axis=(2, 3)) @ wf.T + bf
        return logits + c3.reshape(1, -1) @ wl
    return graph, [(1, 3, 16, 16)], ref


def main():
    out = sys.argv[1]
    for name, make in (("onnx_mlp", mlp), ("onnx_cnn", cnn)):
        rng = np.random.RandomState(1234)
        graph, in_shapes, ref = make(rng)
        model = helper.make_model(graph, producer_name="tinyml make_models.py",
                                  opset_imports=[helper.make_opsetid("", 13)])
        onnx.checker.check_model(model)
        d = os.path.join(out, name)
        os.makedirs(d, exist_ok=True)
        onnx.save(model, os.path.join(d, "model.onnx"))
        for c in range(CASES):
            x = rng.uniform(-1, 1, in_shapes[0]).astype(np.float32)
            x.tofile(os.path.join(d, "in%d.bin" % c))
            ref(x).astype(np.float32).tofile(os.path.join(d, "out%d.bin" % c))
        with open(os.path.join(d, "info.txt"), "w") as f:
            f.write("%s: ONNX opset 13, float32; golden outputs from the NumPy reference in make_models.py\n"
                    "output 0: float32\n" % name)


if __name__ == "__main__":
    main()
