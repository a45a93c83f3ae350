#!/usr/bin/env python3
"""Measures the low-rank pass on the shared float models, or compares two output files.

  measure.py table --tinyml-opt T --tinyml-run R [--models DIR] [--model NAME ...]
                   [--setting OPTS ...] [--tmp DIR] [--layers]
  measure.py compare REF.bin OUT.bin [--min-sqnr DB]

`table` runs, for every model (default: the *_float folders of --models) and every
setting (low-rank options, default: energies 1 .. 0.8, ranks 4 and 16, budgets 0.5 and 0.25 per layer and
global):
  tinyml-opt MODEL --low-rank='SETTING report=true' --print-cost   (parameters, MACs,
      per-layer weight reconstruction error: relative Frobenius norm)
  tinyml-run on the five golden inputs (host, C backend)           (output error)
and prints a markdown table: weights and MACs kept, layers factorized, the largest layer
error, the output SQNR against the float goldens over all five samples, the max abs
difference, and top-1 agreement for classifiers.  --layers adds each layer's rank and
error.  `compare` prints the SQNR and max |diff| of two raw f32 files and exits 1 below
--min-sqnr."""
import argparse, glob, math, os, re, struct, subprocess, sys

DEFAULT_SETTINGS = ["energy=1", "energy=0.999", "energy=0.99", "energy=0.95", "energy=0.9", "energy=0.8", "rank=4", "rank=16",
                    "param-budget=0.5", "param-budget=0.25", "param-budget=0.5 global=true",
                    "param-budget=0.25 global=true"]


def load(path):
    data = open(path, "rb").read()
    return list(struct.unpack("<%df" % (len(data) // 4), data))


def sqnr(ref, out):
    noise = sum((r - o) ** 2 for r, o in zip(ref, out))
    sig = sum(r * r for r in ref)
    return float("inf") if noise == 0 else 10 * math.log10(sig / noise)


def argmax(x):
    return max(range(len(x)), key=lambda i: x[i])


def compress(opt, model, setting, out):
    """Runs low-rank (report) and print-cost; returns (layers, totals, cost)."""
    lr = ["--low-rank=%s report=true" % setting] if setting else []
    p = subprocess.run([opt, model] + lr + ["--print-cost", "-o", out], capture_output=True, text=True)
    if p.returncode:
        sys.exit("tinyml-opt failed on %s (%s):\n%s" % (model, setting, p.stderr))
    layers = []
    for m in re.finditer(r"^\s+(\d+)\s+(tm\.\S+)\s+(\S+)\s+(\S+)\s+(\d+) -> (\d+)\s+(\d+) -> (\d+)\s+(.*)$",
                         p.stderr, re.M):
        idx, name, shape, rank, p0, p1, m0, m1, err = m.groups()
        layers.append(dict(idx=int(idx), name=name, shape=shape, rank=rank, p0=int(p0), p1=int(p1),
                           m0=int(m0), m1=int(m1), err=None if err.startswith("kept") else float(err), note=err))
    cost = re.search(r"total: (\d+) MACs, (\d+) parameter bytes", p.stderr)
    return layers, (int(cost.group(1)), int(cost.group(2)))


def run_outputs(run, model, ins, tmp, tag):
    cmd, outs = [run, model], []
    for i, f in enumerate(ins):
        o = os.path.join(tmp, "%s_out%d.bin" % (tag, i))
        cmd += ["--input", f, "--output", o]
        outs.append(o)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return [load(o) for o in outs]


def table(a):
    models = a.model or sorted(os.path.basename(d) for d in glob.glob(os.path.join(a.models, "*_float")))
    settings = a.setting or DEFAULT_SETTINGS
    os.makedirs(a.tmp, exist_ok=True)
    print("| model | setting | weights kept | MACs (print-cost) | param bytes (print-cost) | layers factorized | "
          "max layer error | SQNR dB | max abs diff | top-1 |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    details = []
    for name in models:
        d = os.path.join(a.models, name)
        ins = sorted(glob.glob(os.path.join(d, "in*.bin")))
        refs = [load(os.path.join(d, "out%d.bin" % i)) for i in range(len(ins))]
        model = os.path.join(d, "model.tflite")
        _, (mac0, pb0) = compress(a.tinyml_opt, model, None, os.path.join(a.tmp, "base.tir"))
        for s in settings:
            out = os.path.join(a.tmp, "%s.tir" % name)
            layers, (mac1, pb1) = compress(a.tinyml_opt, model, s, out)
            outs = run_outputs(a.tinyml_run, out, ins, a.tmp, name)
            r = [v for x in refs for v in x]
            o = [v for x in outs for v in x]
            w0, w1 = sum(l["p0"] for l in layers), sum(l["p1"] for l in layers)
            fact = [l for l in layers if l["err"] is not None]
            classes = len(refs[0])
            top1 = ("%d/%d" % (sum(argmax(x) == argmax(y) for x, y in zip(refs, outs)), len(refs))
                    if classes > 1 and name.split("_")[0] in ("resnet", "vww") else "-")
            print("| %s | %s | %d / %d (%.1f%%) | %d / %d (%.1f%%) | %d / %d | %d / %d | %s | %.2f | %.4g | %s |" % (
                name, s, w1, w0, 100.0 * w1 / w0, mac1, mac0, 100.0 * mac1 / mac0, pb1, pb0, len(fact), len(layers),
                "%.3f" % max(l["err"] for l in fact) if fact else "-", sqnr(r, o),
                max(abs(x - y) for x, y in zip(r, o)), top1))
            if a.layers:
                details.append((name, s, layers))
    for name, s, layers in details:
        print("\n%s, low-rank{%s}:\n\n| op | layer | weights | rank | params | MACs | rel. error |\n|---|---|---|---|---|---|---|" % (name, s))
        for l in layers:
            print("| %d | %s | %s | %s | %d -> %d | %d -> %d | %s |" % (l["idx"], l["name"], l["shape"], l["rank"], l["p0"],
                                                                 l["p1"], l["m0"], l["m1"], l["note"]))


def compare(a):
    r, o = load(a.ref), load(a.out)
    if len(r) != len(o):
        sys.exit("sizes differ: %d and %d floats" % (len(r), len(o)))
    db = sqnr(r, o)
    print("SQNR %.2f dB, max|diff| %.4g over %d floats" % (db, max(abs(x - y) for x, y in zip(r, o)), len(r)))
    return 1 if a.min_sqnr is not None and db < a.min_sqnr else 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("table")
    t.add_argument("--tinyml-opt", required=True)
    t.add_argument("--tinyml-run", required=True)
    t.add_argument("--models", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                    "../../../../../shared/models"))
    t.add_argument("--model", action="append")
    t.add_argument("--setting", action="append")
    t.add_argument("--tmp", default="/tmp/low-rank-measure")
    t.add_argument("--layers", action="store_true")
    c = sub.add_parser("compare")
    c.add_argument("ref"); c.add_argument("out")
    c.add_argument("--min-sqnr", type=float)
    a = p.parse_args()
    sys.exit(table(a) if a.cmd == "table" else compare(a))


if __name__ == "__main__":
    main()
