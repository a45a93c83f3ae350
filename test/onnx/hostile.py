#!/usr/bin/python3
"""Hostile ONNX files: each is written to OUTDIR and given to tinyml-opt, which must exit
with status 1 (no crash, no hang) and print a located error containing the expected text.
Built with Debian's python3-onnx (run with /usr/bin/python3).

  hostile.py --tinyml-opt build/tinyml-opt/tinyml-opt OUTDIR
"""
import argparse
import os
import subprocess
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

F = TensorProto.FLOAT


def vi(name, shape, t=F):
    return helper.make_tensor_value_info(name, t, shape)


def model(nodes, inputs, outputs, inits=(), opset=13):
    g = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)]).SerializeToString()


def relu_model(**kw):
    return model([helper.make_node("Relu", ["x"], ["y"], name="r")], [vi("x", [1, 4])], [vi("y", [1, 4])], **kw)


def raw_tensor(name, dims, raw):
    """A float TensorProto with arbitrary dims and raw bytes (helper.make_tensor checks)."""
    t = TensorProto()
    t.name, t.data_type = name, F
    t.dims.extend(dims)
    t.raw_data = raw
    return t


def w(name, shape):
    return numpy_helper.from_array(np.ones(shape, np.float32), name)


def cases():
    good = relu_model()
    yield "empty", b"", "the model has no graph"
    yield "garbage", bytes(range(256)) * 4, "invalid ONNX file"
    yield "truncated", good[: len(good) // 2], "invalid ONNX file"
    yield "opset99", relu_model(opset=99), "unsupported ONNX opset 99"
    yield "unsupported_op", model([helper.make_node("Gelu", ["x"], ["y"], name="act")], [vi("x", [1, 4])],
                                  [vi("y", [1, 4])]), "unsupported ONNX operator 'Gelu' (opset 13) at node 'act'"
    yield "custom_domain", model([helper.make_node("Foo", ["x"], ["y"], name="f", domain="com.acme")],
                                 [vi("x", [1, 4])], [vi("y", [1, 4])]), "of domain 'com.acme'"
    yield "undefined_input", model([helper.make_node("Relu", ["nope"], ["y"], name="r")], [vi("x", [1, 4])],
                                   [vi("y", [1, 4])]), "is not a graph input, an initializer or a node output"
    yield "out_of_order", model([helper.make_node("Relu", ["a"], ["y"], name="r2"),
                                 helper.make_node("Relu", ["x"], ["a"], name="r1")], [vi("x", [1, 4])],
                                [vi("y", [1, 4])]), "nodes must be in topological order"
    yield "cycle", model([helper.make_node("Add", ["x", "b"], ["a"], name="p"),
                          helper.make_node("Relu", ["a"], ["b"], name="q")], [vi("x", [1, 4])],
                         [vi("b", [1, 4])]), "used before the node writing it"
    yield "duplicate_output", model([helper.make_node("Relu", ["x"], ["y"], name="r1"),
                                     helper.make_node("Relu", ["x"], ["y"], name="r2")], [vi("x", [1, 4])],
                                    [vi("y", [1, 4])]), "node output 'y' is already defined"
    bad = raw_tensor("w", [4, 4], b"\0" * 10)
    yield "initializer_size", model([helper.make_node("MatMul", ["x", "w"], ["y"])], [vi("x", [1, 4])],
                                    [vi("y", [1, 4])], [bad]), "has 10 bytes of data, expected 64"
    neg = raw_tensor("w", [4, -4], b"")
    yield "negative_dim", model([helper.make_node("MatMul", ["x", "w"], ["y"])], [vi("x", [1, 4])],
                                [vi("y", [1, 4])], [neg]), "negative dimension -4"
    yield "huge_input", model([helper.make_node("Relu", ["x"], ["y"])], [vi("x", [1 << 20, 1 << 20])],
                              [vi("y", None)]), "more than 2^31 elements"
    yield "dynamic_dim", model([helper.make_node("Relu", ["x"], ["y"])], [vi("x", ["batch", 4])],
                               [vi("y", None)]), "dynamic dimension 0 ('batch')"
    yield "rank9", model([helper.make_node("Relu", ["x"], ["y"])], [vi("x", [1] * 9)], [vi("y", None)]), \
        "rank 9, more than the supported 8"
    yield "string_input", model([helper.make_node("Identity", ["x"], ["y"])], [vi("x", [2], TensorProto.STRING)],
                                [vi("y", None)]), "element type STRING"
    yield "conv_channels", model([helper.make_node("Conv", ["x", "w"], ["y"], name="c")], [vi("x", [1, 3, 8, 8])],
                                 [vi("y", None)], [w("w", [4, 5, 3, 3])]), "do not fit input"
    yield "conv_stride0", model([helper.make_node("Conv", ["x", "w"], ["y"], name="c", strides=[0, 1])],
                                [vi("x", [1, 3, 8, 8])], [vi("y", None)], [w("w", [4, 3, 3, 3])]), \
        "must be in [1, 65536]"
    yield "reshape_runtime_shape", model([helper.make_node("Reshape", ["x", "s"], ["y"], name="rs")],
                                         [vi("x", [2, 4]), vi("s", [2], TensorProto.INT64)], [vi("y", None)]), \
        "input 1 (shape) must be a constant"
    yield "missing_output", model([helper.make_node("Relu", ["x"], ["y"])], [vi("x", [1, 4])], [vi("zz", [1, 4])]), \
        "graph output 0 ('zz') is not a graph input"
    ext = raw_tensor("w", [4, 4], b"")
    ext.data_location = TensorProto.EXTERNAL
    yield "external_data", model([helper.make_node("MatMul", ["x", "w"], ["y"])], [vi("x", [1, 4])],
                                 [vi("y", None)], [ext]), "external file"
    yield "gemm_rank3", model([helper.make_node("Gemm", ["x", "w"], ["y"], name="g")], [vi("x", [1, 2, 4])],
                              [vi("y", None)], [w("w", [4, 4])]), "A and B must be 2-D"
    yield "bad_perm", model([helper.make_node("Transpose", ["x"], ["y"], perm=[0, 0])], [vi("x", [2, 4])],
                            [vi("y", None)]), "perm is not a permutation"
    yield "squeeze_axis", model([helper.make_node("Squeeze", ["x", "a"], ["y"])], [vi("x", [2, 4])],
                                [vi("y", None)], [numpy_helper.from_array(np.array([5], np.int64), "a")]), \
        "axis 5 is out of range for rank 2"
    yield "declared_shape", model([helper.make_node("Relu", ["x"], ["y"])], [vi("x", [1, 4])], [vi("y", [1, 5])]), \
        "is declared as 'tensor<1x5xf32>', but the graph computes 'tensor<1x4xf32>'"
    # ModelProto field 7 (graph) sent as a varint instead of a length-delimited message
    yield "bad_wire_type", bytes([0x08, 0x07, 0x38, 0x01]), "invalid ONNX file"
    u8, i32 = TensorProto.UINT8, TensorProto.INT32
    def qparam(name, v, t=F):
        return helper.make_tensor(name, t, [], [v])
    yield "qdq_bad_scale", model([helper.make_node("QuantizeLinear", ["x", "s", "z"], ["y"])], [vi("x", [1, 4])],
                                 [vi("y", [1, 4], u8)], [qparam("s", -1.0), qparam("z", 0, u8)]), \
        "the scale -1 is not positive and finite"
    yield "per_axis_count", model([helper.make_node("DequantizeLinear", ["x", "s", "z"], ["y"], axis=1)],
                                  [vi("x", [1, 3, 2, 2], u8)], [vi("y", [1, 3, 2, 2])],
                                  [helper.make_tensor("s", F, [2], [1.0, 2.0]),
                                   helper.make_tensor("z", u8, [2], [0, 0])]), \
        "input 1 (scale) must be an f32 constant of 1 or 3 values"
    yield "matmulinteger_inexact", model([helper.make_node("MatMulInteger", ["a", "b", "za", "zb"], ["y"])],
                                         [vi("a", [2, 300], u8)], [vi("y", [2, 4], i32)],
                                         [numpy_helper.from_array(np.full((300, 4), 255, np.uint8), "b"),
                                          qparam("za", 0, u8), qparam("zb", 0, u8)]), \
        "exceed 2^24: not computed exactly in f32"
    yield "qlinearmatmul_zp_type", model([helper.make_node("QLinearMatMul", ["a", "sa", "za", "b", "sb", "zb", "sy", "zy"],
                                                           ["y"])], [vi("a", [2, 4], u8), vi("b", [4, 3], u8)],
                                         [vi("y", [2, 3], u8)],
                                         [qparam("sa", 0.1), qparam("za", 0, TensorProto.INT8), qparam("sb", 0.1),
                                          qparam("zb", 0, u8), qparam("sy", 0.1), qparam("zy", 0, u8)]), \
        "the operands and zero points must be int8 or uint8 of the same types"
    yield "dq_int32_zero_point", model([helper.make_node("DequantizeLinear", ["b", "s", "z"], ["y"])], [],
                                       [vi("y", [3])],
                                       [helper.make_tensor("b", i32, [3], [1, 2, 3]), qparam("s", 0.5),
                                        qparam("z", 7, i32)]), \
        "an int32 DequantizeLinear needs zero point 0"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tinyml-opt", required=True)
    ap.add_argument("outdir")
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    failed = n = 0
    for name, data, expect in cases():
        n += 1
        path = os.path.join(a.outdir, name + ".onnx")
        with open(path, "wb") as f:
            f.write(data)
        try:
            p = subprocess.run([a.tinyml_opt, path], capture_output=True, text=True, timeout=60)
            status, err = p.returncode, p.stderr
        except subprocess.TimeoutExpired:
            status, err = "timeout", ""
        located = (path + ":") in err and "error:" in err
        ok = status == 1 and expect in err and located
        failed += not ok
        first = next((l for l in err.splitlines() if "error:" in l), err.strip()[:200])
        print("%s %-22s %s" % ("ok  " if ok else "FAIL", name, first if ok else
                               "status %s, expected a located error with %r, got:\n%s" % (status, expect, err)))
    print("%d of %d hostile files rejected with the expected error" % (n - failed, n))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
