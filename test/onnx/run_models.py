#!/usr/bin/python3
"""The ONNX end-to-end models (make_models.py): generated into WORKDIR, then each golden
case run on the host through tinyml-run (--target host), or compiled by tinyml-opt and run
under QEMU by runtime/run-on-qemu.py (--target cortex-m4, ...; exit 77 when the cross
compiler or QEMU is missing).  Run with /usr/bin/python3 (python3-onnx).

  run_models.py --tinyml-opt T --tinyml-run R --target host|cortex-m4 WORKDIR
"""
import argparse
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
MODELS = ("onnx_mlp", "onnx_cnn")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tinyml-opt", required=True)
    ap.add_argument("--tinyml-run", required=True)
    ap.add_argument("--target", default="host")
    ap.add_argument("workdir")
    a = ap.parse_args()
    subprocess.run([sys.executable, os.path.join(HERE, "make_models.py"), a.workdir], check=True)
    status = 0
    for m in MODELS:
        d = os.path.join(a.workdir, m)
        cases = sorted(f[2:-4] for f in os.listdir(d) if f.startswith("in") and f.endswith(".bin"))
        if a.target == "host":
            args = [a.tinyml_run, os.path.join(d, "model.onnx")]
            for c in cases:
                args += ["--input", os.path.join(d, "in%s.bin" % c), "--compare", os.path.join(d, "out%s.bin" % c)]
            p = subprocess.run(args)
            print("%s host: %s" % (m, "ok" if p.returncode == 0 else "FAILED"), flush=True)
            status |= p.returncode != 0
            continue
        out = os.path.join(a.workdir, a.target, m)
        os.makedirs(out, exist_ok=True)
        c_file = os.path.join(out, m + ".c")
        p = subprocess.run([a.tinyml_opt, os.path.join(d, "model.onnx"), "--canonicalize", "--lower-to-loops",
                            "--plan-memory", "--emit=c", "-o", c_file])
        if p.returncode:
            print("%s: tinyml-opt FAILED" % m)
            status = 1
            continue
        p = subprocess.run([sys.executable, os.path.join(REPO, "runtime", "run-on-qemu.py"), "--target", a.target,
                            "--model", c_file, "--golden", d])
        if p.returncode == 77:
            return 77
        status |= p.returncode != 0
    return 1 if status else 0


if __name__ == "__main__":
    sys.exit(main())
