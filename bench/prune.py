#!/usr/bin/env python3
"""Measures the prune pass on the shared models (docs/prune.md): for every model and
pruning setting, the flash and instructions per inference on cortex-m4 under QEMU with the
dense and the sparse kernels, and the output error against the golden outputs on the host.

    bench/prune.py [--build BUILD] [--only kws_int8 ...] [--emit c|obj] [--out RESULTS.md]

Settings: no pruning; unstructured 0 (the sparse kernels on the model's own zeros) and
50/70/90 % (per layer), each with format=dense (zeroed
weights, dense kernels) and format=bcsr (sparse kernels); structured 25/50 %; optionally
unstructured in blocks of 4 input channels (--settings u50b4 u70b4 u90b4).  The pruned
graph goes through tinyml-opt -O2 --emit=c (or --emit=obj: the LLVM backend) and
runtime/run-on-qemu.py (first golden input; flash = the whole image, code and constants, harness
included).  Errors: tinyml-run on the five golden inputs; SQNR of the (dequantized) outputs
against the goldens, max |diff|, and for classifiers how many of the five top-1 classes agree.
The sparse kernels' host outputs must equal the dense ones' (bit-exact column)."""
import argparse
import concurrent.futures
import json
import math
import os
import re
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = ["hello_world_float", "hello_world_int8", "ad01_float", "ad01_int8", "micro_speech_int8", "kws_int8",
          "resnet_float", "resnet_int8", "vww_float", "vww_int8"]
CLASSIFIERS = ("kws", "micro_speech", "resnet", "vww")
SETTINGS = [("none", None, None), ("u0", "sparsity=0", "u"),
            ("u50", "sparsity=0.5", "u"), ("u70", "sparsity=0.7", "u"), ("u90", "sparsity=0.9", "u"),
            ("s25", "sparsity=0.25 structured=true", "s"), ("s50", "sparsity=0.5 structured=true", "s"),
            ("u50b4", "sparsity=0.5 block=4", "u"), ("u70b4", "sparsity=0.7 block=4", "u"),
            ("u90b4", "sparsity=0.9 block=4", "u")]
DEFAULT = ["none", "u0", "u50", "u70", "u90", "s25", "s50"]


def run(cmd, **kw):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    if r.returncode:
        raise RuntimeError("%s failed:\n%s%s" % (" ".join(cmd), r.stdout[-2000:], r.stderr[-2000:]))
    return r.stdout


def output_quant(model_dir):
    """(is_float, scale, zero_point) of output 0 from info.txt."""
    info = open(os.path.join(model_dir, "info.txt")).read()
    m = re.search(r"output\[0\]: type=(\w+).*?(?:scale=([\d.e+-]+) zero_point=(-?\d+))?$", info, re.M)
    if m.group(1) == "FLOAT32":
        return True, 1.0, 0
    return False, float(m.group(2)), int(m.group(3))


def read_out(path, q):
    data = open(path, "rb").read()
    if q[0]:
        return list(struct.unpack("<%df" % (len(data) // 4), data))
    return [q[1] * (v - q[2]) for v in struct.unpack("<%db" % len(data), data)]


def host_outputs(a, tir, model_dir, work, ncases):
    """Outputs of the model on the golden inputs (tinyml-run, program kept and reused)."""
    keep = os.path.join(work, "keep")
    os.makedirs(work, exist_ok=True)
    outs = []
    for c in range(ncases):
        out = os.path.join(work, "out%d.bin" % c)
        inp = os.path.join(model_dir, "in%d.bin" % c)
        if c == 0:
            run([a.tinyml_run, tir, "--input", inp, "--output", out, "--keep", keep])
        else:
            run([os.path.join(keep, "model-run"), inp, out])
        outs.append(open(out, "rb").read())
    return outs


def errors(outs, model, model_dir, q):
    sig = noise = 0.0
    maxdiff = 0.0
    agree = 0
    for c, raw in enumerate(outs):
        path = os.path.join(model_dir, "out%d.bin" % c)
        ref = read_out(path, q)
        got = list(struct.unpack("<%df" % (len(raw) // 4), raw)) if q[0] else \
            [q[1] * (v - q[2]) for v in struct.unpack("<%db" % len(raw), raw)]
        sig += sum(r * r for r in ref)
        noise += sum((g - r) ** 2 for g, r in zip(got, ref))
        maxdiff = max(maxdiff, max(abs(g - r) for g, r in zip(got, ref)))
        agree += got.index(max(got)) == ref.index(max(ref))
    sqnr = math.inf if noise == 0 else 10 * math.log10(sig / noise) if sig > 0 else -math.inf
    top1 = "%d/%d" % (agree, len(outs)) if model.startswith(CLASSIFIERS) else "-"
    return sqnr, maxdiff, top1


def qemu(a, tir, name, work):
    """(flash bytes, instructions) of one inference on the target."""
    os.makedirs(work, exist_ok=True)
    src = os.path.join(work, name + (".c" if a.emit == "c" else ".o"))
    flags = ["-O2", "--emit=" + a.emit, "-o", src] + (["--target=" + a.target] if a.emit == "obj" else [])
    run([a.tinyml_opt, tir] + flags)
    js = os.path.join(work, name + ".json")
    subprocess.run([sys.executable, os.path.join(ROOT, "runtime", "run-on-qemu.py"), "--target", a.target, "--model",
                    src, "--golden", a.golden, "--cases", "1", "--json", js, "--work", os.path.join(work, "q-" + name)],
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    r = json.load(open(js))
    return r["flash_bytes"], r["instructions"]


def measure(a, model, setting):
    label, opts, kind = setting
    model_dir = os.path.join(a.models, model)
    work = tempfile.mkdtemp(prefix="prune-%s-%s-" % (model, label), dir=a.work)
    a_golden = argparse.Namespace(**vars(a))
    a_golden.golden = model_dir
    src = os.path.join(model_dir, "model.tflite")
    q = output_quant(model_dir)
    row = {"model": model, "setting": label}
    name = model.replace("_float", "").replace("_int8", "")
    dense = os.path.join(work, "dense.tir")
    run([a.tinyml_opt, src, "-o", dense] + ([] if not opts else ["--pass-pipeline=prune{%s%s}" %
                                                                  (opts, " format=dense" if kind == "u" else "")]))
    cost = subprocess.run([a.tinyml_opt, dense, "--pass-pipeline=print-cost", "-o", os.devnull],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True).stderr
    m = re.search(r"total: (\d+) MACs, (\d+) parameter bytes", cost)
    row["macs"], row["params"] = int(m.group(1)), int(m.group(2))
    outs = host_outputs(a, dense, model_dir, os.path.join(work, "hd"), 5)
    row["sqnr"], row["maxdiff"], row["top1"] = errors(outs, model, model_dir, q)
    row["flash_dense"], row["instr_dense"] = qemu(a_golden, dense, name, os.path.join(work))
    if kind == "u":
        sparse = os.path.join(work, "sparse.tir")
        run([a.tinyml_opt, src, "-o", sparse, "--pass-pipeline=prune{%s format=bcsr}" % opts])
        souts = host_outputs(a, sparse, model_dir, os.path.join(work, "hs"), 5)
        row["bitexact"] = "yes" if souts == outs else "NO"
        row["flash_sparse"], row["instr_sparse"] = qemu(a_golden, sparse, name, os.path.join(work, "s"))
    return row


def fmt_db(x):
    return "exact" if x == math.inf else "%.1f" % x


def table(rows):
    lines = ["| model | pruning | params B | MACs | flash B dense | flash B sparse | instr dense | instr sparse | "
             "SQNR dB | max abs diff | top-1 | sparse = dense |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"]
    for r in rows:
        lines.append("| %s | %s | %d | %d | %d | %s | %d | %s | %s | %.3g | %s | %s |" % (
            r["model"], r["setting"], r["params"], r["macs"], r["flash_dense"],
            r.get("flash_sparse", "-"), r["instr_dense"], r.get("instr_sparse", "-"), fmt_db(r["sqnr"]), r["maxdiff"],
            r["top1"], r.get("bitexact", "-")))
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--models", default=os.path.join(os.path.dirname(ROOT), "shared", "models"))
    p.add_argument("--only", nargs="*", default=MODELS)
    p.add_argument("--settings", nargs="*", default=DEFAULT, help="of %s (uNN: unstructured NN %%%%, sNN: "
                   "structured, b4: blocks of 4; default: %s)" % (", ".join(s[0] for s in SETTINGS), " ".join(DEFAULT)))
    p.add_argument("--emit", choices=["c", "obj"], default="c")
    p.add_argument("--target", default="cortex-m4")
    p.add_argument("--jobs", "-j", type=int, default=2)
    p.add_argument("--out", help="write the markdown table here too")
    p.add_argument("--json", help="write the rows here")
    p.add_argument("--work", default=None, help="keep the builds in this directory")
    a = p.parse_args()
    a.tinyml_opt = os.path.join(a.build, "tinyml-opt", "tinyml-opt")
    a.tinyml_run = os.path.join(a.build, "tinyml-run", "tinyml-run")
    if a.work:
        os.makedirs(a.work, exist_ok=True)
    jobs = [(m, s) for m in a.only for s in SETTINGS if s[0] in a.settings]
    rows = {}
    with concurrent.futures.ThreadPoolExecutor(a.jobs) as ex:
        futs = {ex.submit(measure, a, m, s): (m, s[0]) for m, s in jobs}
        for f in concurrent.futures.as_completed(futs):
            try:
                rows[futs[f]] = f.result()
                print("done", *futs[f], file=sys.stderr)
            except Exception as e:  # report and go on with the other settings
                print("FAILED", *futs[f], e, file=sys.stderr)
    ordered = [rows[(m, s[0])] for m, s in jobs if (m, s[0]) in rows]
    text = table(ordered)
    print(text)
    if a.out:
        open(a.out, "w").write(text + "\n")
    if a.json:
        json.dump(ordered, open(a.json, "w"), indent=1, default=str)


if __name__ == "__main__":
    main()
