#!/usr/bin/python3
"""Writes a small QDQ-quantized CNN (the form ONNX Runtime's quantizer exports) for
test/passes/fold-qdq-onnx.tir: int8 input and output, DequantizeLinear of int8 weights
(per output channel or per tensor, zero point 0), one int32 bias through DequantizeLinear
(as exporters write it) and float biases, QuantizeLinear after every float op.  The
fold-qdq pass turns it into quantized tm ops.  Built with
Debian's python3-onnx (run with /usr/bin/python3).

  make_qdq_models.py OUTDIR  -> OUTDIR/qdq_cnn.onnx, OUTDIR/qdq_cnn.in.bin
  make_qdq_models.py --compare A.bin B.bin  -> int8 outputs agree within 1 step?  Prints
      how many differ by one; exit 1 if any differs by more.
"""
import os
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

F, I8 = TensorProto.FLOAT, TensorProto.INT8


BATCH = 16


def compare(a, b):
    x, y = np.fromfile(a, np.int8).astype(int), np.fromfile(b, np.int8).astype(int)
    d = np.abs(x - y) if x.size == y.size else np.array([99])
    print("%d of %d outputs differ by 1, max |diff| %d" % ((d == 1).sum(), x.size, d.max()))
    return 0 if d.max() <= 1 else 1


def main():
    if sys.argv[1] == "--compare":
        sys.exit(compare(sys.argv[2], sys.argv[3]))
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rng = np.random.RandomState(11)
    inits, nodes = [], []

    def init(name, arr):
        inits.append(numpy_helper.from_array(arr, name))
        return name

    def q(x, y, s, z):  # QuantizeLinear to int8
        nodes.append(helper.make_node("QuantizeLinear", [x, init(y + "_s", np.float32(s)),
                                                         init(y + "_z", np.int8(z))], [y]))
        return y

    def dq(x, y, s, z, axis=None):
        kw = {} if axis is None else {"axis": axis}
        nodes.append(helper.make_node("DequantizeLinear", [x, init(y + "_s", s), init(y + "_z", z)], [y], **kw))
        return y

    def weights(name, shape, axis_len):
        w = rng.randint(-127, 128, shape).astype(np.int8)
        s = (rng.uniform(0.002, 0.01, axis_len)).astype(np.float32)
        return dq(init(name + "_q", w), name, s, np.zeros(axis_len, np.int8), axis=0), s

    sx, zx = 0.05, -3
    x = dq("x", "x_f", np.float32(sx), np.int8(zx))
    # conv 4 -> 8, 3x3 "same", per-channel weights, int32 bias at scale sx * sw, relu.
    w1, s1 = weights("w1", (8, 4, 3, 3), 8)
    b1 = dq(init("b1_q", rng.randint(-300, 300, 8).astype(np.int32)), "b1", (sx * s1).astype(np.float32),
            np.zeros(8, np.int32), axis=0)
    nodes.append(helper.make_node("Conv", [x, w1, b1], ["c1"], pads=[1, 1, 1, 1]))
    nodes.append(helper.make_node("Relu", ["c1"], ["r1"]))
    sy1, zy1 = 0.04, -128
    h = dq(q("r1", "r1_q", sy1, zy1), "r1_f", np.float32(sy1), np.int8(zy1))
    # depthwise 3x3 stride 2, float bias (quantized by the pass at sx * sw).
    w2, _ = weights("w2", (8, 1, 3, 3), 8)
    b2 = init("b2", rng.uniform(-0.2, 0.2, 8).astype(np.float32))
    nodes.append(helper.make_node("Conv", [h, w2, b2], ["c2"], pads=[1, 1, 1, 1], strides=[2, 2], group=8))
    sy2, zy2 = 0.03, 5
    h = dq(q("c2", "c2_q", sy2, zy2), "c2_f", np.float32(sy2), np.int8(zy2))
    nodes.append(helper.make_node("MaxPool", [h], ["p"], kernel_shape=[2, 2], strides=[1, 1]))
    h = dq(q("p", "p_q", sy2, zy2), "p_f", np.float32(sy2), np.int8(zy2))
    nodes.append(helper.make_node("Flatten", [h], ["fl"]))
    h = dq(q("fl", "fl_q", sy2, zy2), "fl_f", np.float32(sy2), np.int8(zy2))
    # fully connected 32 -> 10, per-tensor weights, float bias.
    wq = rng.randint(-127, 128, (10, 32)).astype(np.int8)
    sw = np.float32(0.004)
    w3 = dq(init("w3_q", wq), "w3", sw, np.int8(0))
    b3 = init("b3", rng.uniform(-0.5, 0.5, 10).astype(np.float32))
    nodes.append(helper.make_node("Gemm", [h, w3, b3], ["g"], transB=1))
    q("g", "y", 0.08, 2)

    g = helper.make_graph(nodes, "qdq_cnn", [helper.make_tensor_value_info("x", I8, [BATCH, 4, 6, 6])],
                          [helper.make_tensor_value_info("y", I8, [BATCH, 10])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    with open(os.path.join(out, "qdq_cnn.onnx"), "wb") as f:
        f.write(m.SerializeToString())
    rng.randint(-128, 128, (BATCH, 4, 6, 6)).astype(np.int8).tofile(os.path.join(out, "qdq_cnn.in.bin"))


if __name__ == "__main__":
    main()
