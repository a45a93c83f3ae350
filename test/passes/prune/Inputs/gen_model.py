#!/usr/bin/env python3
"""Writes a small int8 and a float model (conv2d 3x3 same, conv2d 3x3 stride 2, reshape,
fully_connected) with pseudo-random weights, and an input for each, into DIR:

    gen_model.py DIR   ->  DIR/int8.tir DIR/float.tir DIR/in_int8.bin DIR/in_float.bin

Used by the dense-versus-sparse bit-exactness tests of the prune pass."""
import os
import struct
import sys

state = [12345]


def rnd():
    """A 31-bit LCG, the same numbers on every host."""
    state[0] = (state[0] * 1103515245 + 12345) & 0x7FFFFFFF
    return state[0]


def ints(n, lo, hi):
    return [lo + rnd() % (hi - lo + 1) for _ in range(n)]


def floats(n, scale):
    return [scale * ((rnd() % 20001) / 10000.0 - 1.0) for _ in range(n)]


def nest(vals, dims):
    if len(dims) == 1:
        return "[" + ", ".join(vals) + "]"
    step = len(vals) // dims[0]
    return "[" + ", ".join(nest(vals[i * step:(i + 1) * step], dims[1:]) for i in range(dims[0])) + "]"


def dense(vals, dims, elem):
    text = [repr(float(v)) if elem == "f32" else str(v) for v in vals]
    return "dense<%s> : tensor<%sx%s>" % (nest(text, dims), "x".join(map(str, dims)), elem)


def model(quant):
    def t(dims, q):
        shape = "x".join(map(str, dims))
        return "tensor<%sx%s>" % (shape, q if quant else "f32")

    qx, q1, q2, qo = ("!quant.uniform<i8:f32, 0.05:-3>", "!quant.uniform<i8:f32, 0.04:-128>",
                      "!quant.uniform<i8:f32, 0.08:5>", "!quant.uniform<i8:f32, 0.1:2>")
    lines = []

    def const(name, dims, vals, elem, typ):
        lines.append('  %%%s = "tm.const"() {value = %s} : () -> %s' % (name, dense(vals, dims, elem), typ))

    def weights(name, dims, scales):
        n = 1
        for d in dims:
            n *= d
        if quant:
            wt = "tensor<%sx!quant.uniform<i8:f32:0, {%s}>>" % ("x".join(map(str, dims)), ", ".join(scales))
            const(name, dims, ints(n, -127, 127), "i8", wt)
        else:
            const(name, dims, floats(n, 0.3), "f32", "tensor<%sxf32>" % "x".join(map(str, dims)))
        return lines[-1].rsplit("-> ", 1)[1]

    def bias(name, n):
        if quant:
            const(name, [n], ints(n, -2000, 2000), "i32", "tensor<%dxi32>" % n)
        else:
            const(name, [n], floats(n, 0.5), "f32", "tensor<%dxf32>" % n)
        return lines[-1].rsplit("-> ", 1)[1]

    tx, t1, t2, tr, to = t([1, 6, 6, 4], qx), t([1, 6, 6, 8], q1), t([1, 3, 3, 8], q2), t([1, 72], q2), t([1, 4], qo)
    w1 = weights("w1", [8, 3, 3, 4], ["%.4f" % (0.004 + 0.001 * i) for i in range(8)])
    b1 = bias("b1", 8)
    lines.append('  %%c1 = "tm.conv2d"(%%x, %%w1, %%b1) {fused_activation = "relu", padding = "same"} : (%s, %s, %s) -> %s'
                 % (tx, w1, b1, t1))
    w2 = weights("w2", [8, 3, 3, 8], ["%.4f" % (0.003 + 0.0005 * i) for i in range(8)])
    b2 = bias("b2", 8)
    lines.append('  %%c2 = "tm.conv2d"(%%c1, %%w2, %%b2) {padding = "same", stride = [2, 2]} : (%s, %s, %s) -> %s'
                 % (t1, w2, b2, t2))
    lines.append('  %%r = "tm.reshape"(%%c2) : (%s) -> %s' % (t2, tr))
    w3 = weights("w3", [4, 72], ["%.4f" % (0.002 + 0.001 * i) for i in range(4)])
    b3 = bias("b3", 4)
    lines.append('  %%y = "tm.fully_connected"(%%r, %%w3, %%b3) : (%s, %s, %s) -> %s' % (tr, w3, b3, to))
    return "func.func @model(%%x: %s) -> %s {\n%s\n  return %%y : %s\n}\n" % (tx, to, "\n".join(lines), to)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "int8.tir"), "w") as f:
        f.write(model(True))
    with open(os.path.join(out, "float.tir"), "w") as f:
        f.write(model(False))
    with open(os.path.join(out, "in_int8.bin"), "wb") as f:
        f.write(struct.pack("<144b", *ints(144, -128, 127)))
    with open(os.path.join(out, "in_float.bin"), "wb") as f:
        f.write(struct.pack("<144f", *floats(144, 1.0)))


if __name__ == "__main__":
    main()
