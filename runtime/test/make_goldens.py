#!/usr/bin/env python3
"""Writes golden data for runtime/test/hello.c and hellof.c: OUT/hello/in{c}.bin, out{c}.bin
(5 cases) and the same for hellof, computed here independently of the C code; and wrong
copies, OUT/hello-bad (case 1, byte 3 off by one) and OUT/hellof-bad (case 2, float 4 off by
1e-4 max|ref|, ten times the tolerance), which the harness must reject."""
import math
import os
import random
import struct
import sys


def hello(x):
    return [max(-128, min(127, (3 * v + 7 + 1) // 2 - 1)) for v in x]


def hellof(x):
    return [math.tanh(2 * v) * 0.75 + v / 3 for v in x]


def main():
    out = sys.argv[1]
    rng = random.Random(20250001)
    for name in ("hello", "hellof", "hello-bad", "hellof-bad"):
        os.makedirs(os.path.join(out, name), exist_ok=True)
    for c in range(5):
        # Case 0 holds the extremes, where clamping and tanh saturation happen.
        x = [-128, 127, -1, 0, 1, 42, -43, 85, -86] + [rng.randrange(-128, 128) for _ in range(7)] if c == 0 \
            else [rng.randrange(-128, 128) for _ in range(16)]
        files = {"hello/in%d.bin" % c: struct.pack("16b", *x), "hello/out%d.bin" % c: struct.pack("16b", *hello(x))}
        f = [-1.0, 1.0, 0.0, -0.0, 5.0, -5.0, 1e-7, 0.3] if c == 0 else [rng.uniform(-1, 1) for _ in range(8)]
        f = list(struct.unpack("8f", struct.pack("8f", *f)))  # what the board sees: float32
        files["hellof/in%d.bin" % c] = struct.pack("8f", *f)
        files["hellof/out%d.bin" % c] = struct.pack("8f", *hellof(f))
        for path, data in list(files.items()):
            kind, _ = path.split("/")
            bad = data
            if path == "hello/out1.bin":
                bad = data[:3] + bytes([(data[3] + 1) & 255]) + data[4:]
            if path == "hellof/out2.bin":
                y = list(struct.unpack("8f", data))
                y[4] += 1e-4 * max(abs(v) for v in y)
                bad = struct.pack("8f", *y)
            files[path.replace(kind, kind + "-bad")] = bad
        for path, data in files.items():
            with open(os.path.join(out, path), "wb") as fh:
                fh.write(data)


if __name__ == "__main__":
    main()
