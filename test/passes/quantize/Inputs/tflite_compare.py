#!/usr/bin/env python3
"""Our quantization against TFLite's own int8 conversion, on TFLite's input domain.

  tflite_compare.py TINYML_OPT TINYML_RUN FLOAT_DIR INT8_DIR TMP [quantize options]

The int8 model's golden inputs (INT8_DIR/in*.bin), dequantized with its input scale and
zero point, are the float inputs: the float model (FLOAT_DIR/model.tflite) gives the
reference outputs, our quantize pass is calibrated on those inputs, and TFLite's int8
model runs on its original int8 inputs.  Prints the SQNR of both int8 models against
float, their top-1 agreement with float and with each other, and the SQNR between them."""
import glob, os, re, struct, subprocess, sys
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(__file__))
from sqnr import load, run, sqnr, top1, cat

def main():
    opt, tool, fdir, idir, tmp = sys.argv[1:6]
    extra = " ".join(sys.argv[6:])
    info = open(os.path.join(idir, "info.txt")).read()
    def q(kind):
        m = re.search(r"%s\[0\]: type=INT8 shape=\S+ bytes=\d+ scale=([-0-9.e]+) zero_point=(-?\d+)" % kind, info)
        return float(m.group(1)), int(m.group(2))
    (si, zi), (so, zo) = q("input"), q("output")
    cal = os.path.join(tmp, "cal")
    os.makedirs(cal, exist_ok=True)
    qins = sorted(glob.glob(os.path.join(idir, "in*.bin")))
    fins = []
    for i, f in enumerate(qins):
        x = [struct.unpack("<f", struct.pack("<f", (v - zi) * si))[0] for v in load(f, "b")]
        path = os.path.join(cal, "in%d.bin" % i)
        open(path, "wb").write(struct.pack("<%df" % len(x), *x))
        fins.append(path)
    refs = [load(f, "f") for f in run(tool, os.path.join(fdir, "model.tflite"), fins, tmp, "float")]
    model = os.path.join(tmp, "q.tir")
    subprocess.run([opt, os.path.join(fdir, "model.tflite"),
                    "--pass-pipeline=quantize{calibration-data=%s %s}" % (cal, extra), "-o", model], check=True)
    ours = [load(f, "f") for f in run(tool, model, fins, tmp, "ours")]
    tfl = [[(v - zo) * so for v in load(f, "b")] for f in run(tool, os.path.join(idir, "model.tflite"), qins, tmp, "tfl")]
    r, o, t = cat(refs), cat(ours), cat(tfl)
    n = len(fins)
    print("on %d int8 golden inputs: ours SQNR %.2f dB, top-1 %d/%d; tflite int8 SQNR %.2f dB, top-1 %d/%d; "
          "ours vs tflite: top-1 %d/%d, SQNR %.2f dB"
          % (n, sqnr(r, o), top1(refs, ours), n, sqnr(r, t), top1(refs, tfl), n, top1(ours, tfl), n, sqnr(t, o)))

if __name__ == "__main__":
    main()
