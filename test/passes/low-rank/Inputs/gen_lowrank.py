#!/usr/bin/env python3
"""Writes a float graph whose weights have known low rank, and an input for it.

  gen_lowrank.py OUT_DIR [NOISE]

OUT_DIR/model.tir: a 3x3 conv2d 8 -> 8 (same padding, relu) whose filter has Tucker-2
ranks (r_out, r_in) = (2, 3), a 1x1 conv2d 8 -> 12 with stride 2 of rank 2, then a
fully_connected 108 -> 10 of rank 3, all with biases; OUT_DIR/in.bin: one random input.
NOISE (default 0) adds that much uniform noise to every weight, making them full rank."""
import os, random, struct, sys

rng = random.Random(5)

def mat(r, c):
    return [[rng.uniform(-1, 1) for _ in range(c)] for _ in range(r)]

def dense(vals, shape):
    if len(shape) == 1:
        return "[" + ", ".join("%.9g" % v for v in vals) + "]"
    step = len(vals) // shape[0]
    return "[" + ", ".join(dense(vals[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])) + "]"

def const(name, vals, shape):
    t = "tensor<%sxf32>" % "x".join(map(str, shape))
    return '    %%%s = "tm.const"() {value = dense<%s> : %s} : () -> %s\n' % (name, dense(vals, shape), t, t)

def main():
    out = sys.argv[1]
    noise = float(sys.argv[2]) if len(sys.argv) > 2 else 0.0
    def nz(v):
        return [x + rng.uniform(-noise, noise) for x in v]
    # 3x3 conv: W[o, k, c] = sum_{a, b} A[o, a] G[a, k, b] B[c, b]
    A, B, G = mat(8, 2), mat(8, 3), [mat(9, 3) for _ in range(2)]
    w1 = [sum(A[o][a] * G[a][k][b] * B[c][b] for a in range(2) for b in range(3))
          for o in range(8) for k in range(9) for c in range(8)]
    P, Q = mat(12, 2), mat(2, 8)
    w2 = [sum(P[o][a] * Q[a][c] for a in range(2)) for o in range(12) for c in range(8)]
    R, S = mat(10, 3), mat(3, 108)
    w3 = [sum(R[o][a] * S[a][c] for a in range(3)) for o in range(10) for c in range(108)]
    body = const("w1", nz(w1), [8, 3, 3, 8]) + const("b1", [rng.uniform(-1, 1) for _ in range(8)], [8])
    body += const("w2", nz(w2), [12, 1, 1, 8]) + const("b2", [rng.uniform(-1, 1) for _ in range(12)], [12])
    body += const("w3", nz(w3), [10, 108]) + const("b3", [rng.uniform(-1, 1) for _ in range(10)], [10])
    body += ('    %0 = "tm.conv2d"(%arg0, %w1, %b1) {fused_activation = "relu", padding = "same"} : '
             '(tensor<1x6x6x8xf32>, tensor<8x3x3x8xf32>, tensor<8xf32>) -> tensor<1x6x6x8xf32>\n'
             '    %1 = "tm.conv2d"(%0, %w2, %b2) {padding = "same", stride = [2, 2]} : '
             '(tensor<1x6x6x8xf32>, tensor<12x1x1x8xf32>, tensor<12xf32>) -> tensor<1x3x3x12xf32>\n'
             '    %2 = "tm.fully_connected"(%1, %w3, %b3) : '
             '(tensor<1x3x3x12xf32>, tensor<10x108xf32>, tensor<10xf32>) -> tensor<1x10xf32>\n'
             '    return %2 : tensor<1x10xf32>\n')
    with open(os.path.join(out, "model.tir"), "w") as f:
        f.write("module {\n  func.func @net(%arg0: tensor<1x6x6x8xf32>) -> tensor<1x10xf32> {\n" + body + "  }\n}\n")
    with open(os.path.join(out, "in.bin"), "wb") as f:
        f.write(struct.pack("<288f", *[rng.uniform(-1, 1) for _ in range(288)]))

main()
