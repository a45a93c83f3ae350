#!/usr/bin/python3
"""Writes small quantized ONNX models with NumPy goldens, for test/import/onnx_quant.tir:
the arithmetic ONNX defines and the node tests do not pin down (ties of QuantizeLinear's
round half to even, uint8 at the function's edges, exact integer sums).  Built with
Debian's python3-onnx (run with /usr/bin/python3).

  make_quant_models.py OUTDIR  -> OUTDIR/NAME.onnx, OUTDIR/NAME.in.bin, OUTDIR/NAME.out.bin
"""
import os
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

F, U8, I8, I32 = TensorProto.FLOAT, TensorProto.UINT8, TensorProto.INT8, TensorProto.INT32


def save(outdir, name, nodes, inputs, outputs, inits, x, y):
    g = helper.make_graph(nodes, name, inputs, outputs, inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    with open(os.path.join(outdir, name + ".onnx"), "wb") as f:
        f.write(m.SerializeToString())
    x.tofile(os.path.join(outdir, name + ".in.bin"))
    y.tofile(os.path.join(outdir, name + ".out.bin"))


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    vi = helper.make_tensor_value_info
    scalar = lambda name, t, v: helper.make_tensor(name, t, [], [v])

    # QuantizeLinear: ties round half to even (TFLite's AffineQuantize rounds them away
    # from zero); saturation at both ends of uint8.
    x = np.array([0.25, 0.75, 1.25, -0.25, -0.75, -1.25, 3.0, 7.25, 1000.0, -1000.0], np.float32)
    y = np.clip(np.rint(x / np.float32(0.5)) + 128, 0, 255).astype(np.uint8)
    save(out, "quantize_ties", [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["y"])],
         [vi("x", F, [10])], [vi("y", U8, [10])], [scalar("s", F, 0.5), scalar("z", U8, 128)], x, y)

    # QLinearMatMul: uint8 input and result, uint8 constant weights; enough outputs that
    # TFLite's requantization (which rounds twice) would differ in some.
    rng = np.random.RandomState(7)
    a = rng.randint(100, 141, (24, 16)).astype(np.uint8)
    b = rng.randint(110, 151, (16, 12)).astype(np.uint8)
    sa, za, sb, zb, sy, zy = 0.02, 120, 0.01, 130, 0.0033, 128
    acc = (a.astype(np.int64) - za) @ (b.astype(np.int64) - zb)
    y = np.clip(np.rint(acc * (sa * sb / sy)) + zy, 0, 255).astype(np.uint8)
    save(out, "qlinear_matmul",
         [helper.make_node("QLinearMatMul", ["a", "sa", "za", "b", "sb", "zb", "sy", "zy"], ["y"])],
         [vi("a", U8, [24, 16])], [vi("y", U8, [24, 12])],
         [scalar("sa", F, sa), scalar("za", U8, za), numpy_helper.from_array(b, "b"), scalar("sb", F, sb),
          scalar("zb", U8, zb), scalar("sy", F, sy), scalar("zy", U8, zy)], a, y)

    # ConvInteger: int32 sums of (x - zx) * w, exact, with padding.
    xi = rng.randint(0, 256, (1, 2, 5, 5)).astype(np.uint8)
    w = rng.randint(-128, 128, (3, 2, 3, 3)).astype(np.int8)
    xp = np.pad(xi.astype(np.int64) - 7, ((0, 0), (0, 0), (1, 1), (1, 1)))
    yi = np.zeros((1, 3, 5, 5), np.int64)
    for o in range(3):
        for i in range(5):
            for j in range(5):
                yi[0, o, i, j] = np.sum(xp[0, :, i:i + 3, j:j + 3] * w[o])
    save(out, "conv_integer",
         [helper.make_node("ConvInteger", ["x", "w", "zx"], ["y"], pads=[1, 1, 1, 1])],
         [vi("x", U8, [1, 2, 5, 5])], [vi("y", I32, [1, 3, 5, 5])],
         [numpy_helper.from_array(w, "w"), scalar("zx", U8, 7)], xi, yi.astype(np.int32))


if __name__ == "__main__":
    main()
