#!/usr/bin/env python3
"""SQNR of a quantized model against float goldens, measured by running it.

  sqnr.py TINYML_RUN MODEL.tir GOLDEN_DIR [--int8-ref INT8_DIR] [--tmp DIR] [--min-sqnr DB]
          [--inputs PATTERN]

Runs MODEL on GOLDEN_DIR/in*.bin (or the files matching --inputs, e.g. held-out samples) with tinyml-run (host C backend) and prints, per
output, 10*log10(sum ref^2 / sum (ref - out)^2) over all samples against out*.bin,
and the top-1 agreement with the float outputs.  With --int8-ref, also runs TFLite's
own int8 model (INT8_DIR/model.tflite) on our quantization of the same float inputs
(the int8 model's input scale and zero point) and reports the SQNR of its dequantized
outputs against float and the top-1 agreement between the two int8 models."""
import argparse, glob, math, os, re, struct, subprocess, sys

def load(path, fmt):
    data = open(path, "rb").read()
    return list(struct.unpack("<%d%s" % (len(data) // struct.calcsize(fmt), fmt), data))

def run(tool, model, ins, tmp, tag):
    outs = []
    cmd = [tool, model]
    for i, f in enumerate(ins):
        o = os.path.join(tmp, "%s_out%d.bin" % (tag, i))
        cmd += ["--input", f, "--output", o]
        outs.append(o)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return outs

def sqnr(ref, out):
    n = sum((r - o) ** 2 for r, o in zip(ref, out))
    return float("inf") if n == 0 else 10 * math.log10(sum(r * r for r in ref) / n)

def argmax(x):
    return max(range(len(x)), key=lambda i: x[i])

def top1(a, b):
    return sum(int(argmax(x) == argmax(y)) for x, y in zip(a, b))

def cat(lists):
    return [v for l in lists for v in l]

def main():
    p = argparse.ArgumentParser()
    p.add_argument("run"); p.add_argument("model"); p.add_argument("golden")
    p.add_argument("--int8-ref"); p.add_argument("--tmp", default="/tmp")
    p.add_argument("--inputs", default="in*.bin", help="which golden inputs to run (glob)")
    p.add_argument("--min-sqnr", type=float, help="exit 1 if our SQNR is below this many dB")
    a = p.parse_args()
    ins = sorted(glob.glob(os.path.join(a.golden, a.inputs)))
    refs = [load(os.path.join(os.path.dirname(f), "out" + os.path.basename(f)[2:]), "f") for f in ins]
    outs = [load(f, "f") for f in run(a.run, a.model, ins, a.tmp, "q")]
    r, o = cat(refs), cat(outs)
    ours = sqnr(r, o)
    print("ours: SQNR %.2f dB over %d samples, max|diff| %.4g, top-1 agreement with float %d/%d"
          % (ours, len(ins), max(abs(x - y) for x, y in zip(r, o)), top1(refs, outs), len(ins)))
    if a.int8_ref:
        info = open(os.path.join(a.int8_ref, "info.txt")).read()
        def q(kind):
            m = re.search(r"%s\[0\]: type=INT8 shape=\S+ bytes=\d+ scale=([-0-9.e]+) zero_point=(-?\d+)" % kind, info)
            return float(m.group(1)), int(m.group(2))
        (si, zi), (so, zo) = q("input"), q("output")
        qins = []
        for i, f in enumerate(ins):
            qx = [min(127, max(-128, int(round(x / si)) + zi)) for x in load(f, "f")]
            qf = os.path.join(a.tmp, "tfl_in%d.bin" % i)
            open(qf, "wb").write(struct.pack("<%db" % len(qx), *qx))
            qins.append(qf)
        touts = [[(v - zo) * so for v in load(f, "b")]
                 for f in run(a.run, os.path.join(a.int8_ref, "model.tflite"), qins, a.tmp, "tfl")]
        t = cat(touts)
        print("tflite int8 (input scale %g zp %d): SQNR %.2f dB against float, top-1 agreement with float %d/%d, "
              "with ours %d/%d, SQNR ours vs tflite %.2f dB"
              % (si, zi, sqnr(r, t), top1(refs, touts), len(ins), top1(outs, touts), len(ins), sqnr(t, o)))
    if a.min_sqnr is not None and not ours >= a.min_sqnr:
        print("SQNR BELOW %.2f dB" % a.min_sqnr)
        sys.exit(1)

if __name__ == "__main__":
    main()
