#!/usr/bin/env python3
"""Per-layer instruction profile of the shared models on an emulated board.

  bench/layers.py [--build build] [--only kws_int8 ...] [--target cortex-m4|rv32imc]
                  [--backend llvm|c] [--out DIR] [--jobs 2]

For each shared int8 model it lists the ops of the -O2 IR just before lower-to-loops
(after fuse, depthwise-lowering and reorder-for-memory: the ops the code is made of, a
fused conv+relu or conv+add being one op) and measures each two ways, with the pass
truncate (passes/truncate.c) inserted before lower-to-loops:

  in the model  prefix k+1 minus prefix k, where prefix k = truncate{ops=k}: the first k
                ops, returning what they computed that later ops need.  The rows add up
                exactly to the whole model.
  alone         truncate{first=k ops=k+1}: op k by itself, fed with prefix k's outputs,
                minus the empty call (prefix 0).

Every cut runs under QEMU as bench/run.py runs the model (e2e.compile_model, run_model:
runtime/run-on-qemu.py, -icount) on input case 0, its outputs checked against the host C
backend's for the same cut (tinyml-run), the whole model's against the TFLite golden.

Writes OUT/layers.md (one table per model: op index, op, shapes, MACs from --print-cost,
instructions in the model and alone, each over MACs/2, share of the total; the sum check:
the longest prefix against the model compiled with the plain pipeline, which must be
equal) and OUT/layers.csv.  Exit status 1 if a compile or run failed, an output differed
or a sum check failed; 77 if the shared models, the cross compiler or QEMU are missing.
"""
import argparse
import concurrent.futures
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import time

import run as bench  # bench/run.py: its helpers, and test/e2e/e2e.py on the path

e2e = bench.e2e
CONST_OPS = ('"tm.const"', '"arith.constant"')


# A tensor type's shape and element (the storage type of a quantized one):
# tensor<1x25x5x64x!quant.uniform<i8:f32, ...>> -> 1x25x5x64xi8.
TENSOR = re.compile(r"\btensor<((?:[0-9?]+x)*)(?:!quant\.uniform<)?(\w+)")


def shapes_of(types):
    return [m.group(1) + m.group(2) for m in TENSOR.finditer(types)]


def describe(line):
    """(kind, shapes) of one op line of the printed IR: kind is the op name with its fused
    activation and stride, shapes the operands' (bias and other i32 vectors left out) and
    the results'."""
    name = re.search(r'"([\w.]+)"\(', line).group(1)
    kind = name[len("tm."):] if name.startswith("tm.") else name
    for attr in ("fused_activation", "add_activation"):
        m = re.search(r'\b%s = "(\w+)"' % attr, line)
        if m and m.group(1) != "none":
            kind += " +" + m.group(1)
    m = re.search(r"\bstride = \[(\d+), (\d+)\]", line)
    if m and m.group(1) + m.group(2) != "11":
        kind += " /%s" % m.group(1)
    sig = line[line.rindex(" : (") + 4:] if " : (" in line else ""
    if " -> " not in sig:
        return kind, ""
    ins, outs = (shapes_of(part) for part in sig.rsplit(" -> ", 1))
    ins = [t for t in ins if not re.fullmatch(r"\d+xi32", t)]
    return kind, "%s -> %s" % (", ".join(ins), ", ".join(outs))


def model_ops(args, model_dir, before):
    """The computing ops of the IR at the cut point, in order, with their MACs:
    [{"index", "kind", "shapes", "macs"}] (tm.const left out, as truncate counts)."""
    text = "builtin.module(%s)" % ",".join(before + ["print-cost"])
    p = subprocess.run([args.tinyml_opt, os.path.join(model_dir, "model.tflite"), "--pass-pipeline=" + text],
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError("tinyml-opt failed: %s" % bench.last_line(p.stderr))
    macs = {int(m.group(1)): int(m.group(2))
            for m in re.finditer(r"^\s+(\d+)\s+\S+\s+(\d+)\s+\d+\s+\d+$", p.stderr, re.M)}
    body = p.stdout[p.stdout.index("func.func"):]
    lines = [ln.strip() for ln in body.splitlines()[1:]]
    lines = lines[:next(i for i, ln in enumerate(lines) if ln.startswith("return") or ln == "}")]
    ops = []
    for pos, line in enumerate(lines):
        if any(c in line for c in CONST_OPS):
            continue
        kind, shapes = describe(line)
        ops.append({"index": len(ops), "kind": kind, "shapes": shapes, "macs": macs.get(pos, 0)})
    return ops


def num_outputs(header, name):
    m = re.search(r"#define\s+%s_NUM_OUTPUTS\s+\(?(\d+)" % re.escape(name), open(header).read())
    return int(m.group(1))


def golden_dir(work, inputs, outputs):
    """A one-case golden directory of run-on-qemu.py: the given input and output files."""
    d = os.path.join(work, "golden")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for kind, files in (("in", inputs), ("out", outputs)):
        for i, path in enumerate(files):
            shutil.copy(path, os.path.join(d, "%s0.bin" % kind if len(files) == 1 else "%s0_%d.bin" % (kind, i)))
    return d


def measure(args, model, pipeline, work, truncate=None, inputs=None):
    """Compiles and runs the model cut by `truncate` (truncate's options; None: the whole
    model with the plain pipeline) on `inputs` (default: the model's in0.bin); returns
    {"instructions", "error", "outputs"}: the host C backend's output files, which the
    QEMU run matched."""
    model_dir = os.path.join(args.models, model)
    inputs = inputs or [os.path.join(model_dir, "in0.bin")]
    row = {"instructions": None, "error": "", "outputs": []}
    passes = pipeline if truncate is None else \
        bench.insert_before(pipeline, "lower-to-loops", "truncate{%s}" % truncate)
    flags = e2e.pipeline_args(",".join(passes))
    path, _, p = e2e.compile_model(args.tinyml_opt, model_dir, args.target, args.backend, work, flags)
    if p.returncode != 0:
        row["error"] = "tinyml-opt failed: %s" % bench.last_line(p.stdout)
        return row
    if truncate is None:  # the TFLite golden output
        outputs = [os.path.join(model_dir, "out0.bin")]
    else:  # the host C backend's outputs of the same cut
        outputs = [os.path.join(work, "host%d.bin" % o)
                   for o in range(num_outputs(os.path.splitext(path)[0] + ".h", e2e.c_name(model)))]
        cmd = [args.tinyml_run, os.path.join(model_dir, "model.tflite"), flags[0]]
        cmd += [a for i in inputs for a in ("--input", i)] + [a for o in outputs for a in ("--output", o)]
        h = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True)
        if h.returncode != 0:
            row["error"] = "tinyml-run failed: %s" % bench.last_line(h.stderr)
            return row
    summary_path = os.path.join(work, "summary.json")
    if os.path.exists(summary_path):
        os.remove(summary_path)
    q = e2e.run_model(path, golden_dir(work, inputs, outputs), args.target, os.path.join(work, "build"),
                      summary_path, args.timeout)
    with open(os.path.join(work, "run.log"), "w") as log:
        log.write(q.stdout)
    if q.returncode == e2e.SKIP:
        row["error"] = "skipped: " + q.stdout.strip()
        row["skipped"] = True
    elif not os.path.exists(summary_path):
        row["error"] = "run failed (%d): %s" % (q.returncode, bench.last_line(q.stdout))
    else:
        summary = json.load(open(summary_path))
        row["instructions"], row["outputs"] = summary["instructions"], outputs
        if q.returncode != 0 or not summary["bitexact"]:
            row["error"] = "outputs differ" if not summary["bitexact"] else "run failed (%d)" % q.returncode
    return row


def measure_op(args, model, pipeline, k, nops, work):
    """Prefix k (the first k ops), then op k alone (truncate's window [k, k+1)), fed with
    the model's input and the prefix's outputs: its arguments, in the same order.
    Returns (prefix row, alone row or None)."""
    prefix = measure(args, model, pipeline, os.path.join(work, "prefix%d" % k), "ops=%d" % k)
    if k == nops or prefix["error"]:
        return prefix, None
    inputs = [os.path.join(args.models, model, "in0.bin")] + prefix["outputs"]
    return prefix, measure(args, model, pipeline, os.path.join(work, "alone%d" % k), "first=%d ops=%d" % (k, k + 1),
                           inputs)


def fmt_ratio(instructions, macs):
    return "%.2f" % (instructions / (macs / 2)) if macs and instructions is not None else ""


def report(model, ops, runs, target, backend):
    """The markdown table of one model and its notes; returns (text, csv rows, failures).
    runs: {("whole", None), ("prefix", k), ("alone", k): instructions}."""
    total, call = runs[("whole", None)], runs[("prefix", 0)]
    out = ["### %s (%s, %s)" % (model, target, backend), "",
           "| # | op | shapes | MACs | instructions | instr. / (MACs/2) | share | alone | alone / (MACs/2) |",
           "|---:|---|---|---:|---:|---:|---:|---:|---:|",
           "| - | call, return | | | %s | | %s | | |" % (bench.fmt(call), share(call, total))]
    rows, failed = [], []
    for op in ops:
        k = op["index"]
        op["instructions"] = runs[("prefix", k + 1)] - runs[("prefix", k)]
        op["alone"] = runs[("alone", k)] - call
        out.append("| %d | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            k, op["kind"], op["shapes"], bench.fmt(op["macs"] or None), bench.fmt(op["instructions"]),
            fmt_ratio(op["instructions"], op["macs"]), share(op["instructions"], total), bench.fmt(op["alone"]),
            fmt_ratio(op["alone"], op["macs"])))
        rows.append([model, target, backend, k, op["kind"], op["shapes"], op["macs"], op["instructions"], op["alone"]])
    macs = sum(op["macs"] for op in ops)
    last, alone = runs[("prefix", len(ops))], call + sum(op["alone"] for op in ops)
    out += ["| | **total** | | %s | %s | %s | 100 %% | %s | %s |" % (
        bench.fmt(macs), bench.fmt(total), fmt_ratio(total, macs), bench.fmt(alone), fmt_ratio(alone, macs)), ""]
    if last != total:
        failed.append("%s: the longest prefix ran %s instructions, the whole model %s" % (model, last, total))
    out.append("- sum check: call + the rows = the longest prefix = %s instructions; the whole model (plain "
               "pipeline) = %s: %s.  Call + the ops alone: %s (%+.1f %%)" % (
                   bench.fmt(last), bench.fmt(total), "equal" if last == total else "DIFFERENT", bench.fmt(alone),
                   100.0 * (alone - total) / total))
    ranked = [op for op in ops if op["macs"]]
    if ranked:
        far = sorted(ranked, key=lambda op: -op["alone"] / op["macs"])[:3]
        excess = sorted(ranked, key=lambda op: -(op["alone"] - op["macs"] / 2))[:3]
        out.append("- furthest from the dual-MAC bound (alone / (MACs/2)): " + ", ".join(
            "#%d %s %s" % (op["index"], op["kind"], fmt_ratio(op["alone"], op["macs"])) for op in far))
        out.append("- most instructions above it (alone - MACs/2, share of the model): " + ", ".join(
            "#%d %s %s (%s)" % (op["index"], op["kind"], bench.fmt(int(op["alone"] - op["macs"] / 2)),
                               share(op["alone"] - op["macs"] / 2, total)) for op in excess))
    out.append("")
    return "\n".join(out), rows, failed


def share(part, total):
    return "%.1f %%" % (100.0 * part / total) if part is not None and total else ""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--build", default=os.path.join(bench.REPO, "build"), help="the build directory (default: %(default)s)")
    ap.add_argument("--tinyml-opt", help="default: BUILD/tinyml-opt/tinyml-opt")
    ap.add_argument("--tinyml-run", help="default: BUILD/tinyml-run/tinyml-run")
    ap.add_argument("--out", help="results directory (default: BUILD/bench)")
    ap.add_argument("--models", default=os.path.join(bench.SHARED, "models"), help="default: %(default)s")
    ap.add_argument("--only", nargs="*", default=[], metavar="MODEL", help="only these model folders")
    ap.add_argument("--target", default="cortex-m4", help="a target of runtime/boards.def (default: %(default)s)")
    ap.add_argument("--backend", default="llvm", choices=["llvm", "c"], help="default: %(default)s")
    ap.add_argument("--pipeline", default="O2", help="a pipeline of passes/pipelines.def or a pass pipeline text "
                    "with lower-to-loops (default: %(default)s)")
    ap.add_argument("--jobs", "-j", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=300, help="seconds per QEMU run")
    args = ap.parse_args()
    args.tinyml_opt = os.path.abspath(args.tinyml_opt or os.path.join(args.build, "tinyml-opt", "tinyml-opt"))
    args.tinyml_run = os.path.abspath(args.tinyml_run or os.path.join(args.build, "tinyml-run", "tinyml-run"))
    args.out = os.path.abspath(args.out or os.path.join(args.build, "bench"))
    for tool in (args.tinyml_opt, args.tinyml_run):
        if not os.access(tool, os.X_OK):
            print("layers: error: no %s (build first, or give --build)" % tool)
            return 2
    pipeline_text = e2e.named_pipelines().get(args.pipeline.lstrip("-"), args.pipeline)
    if pipeline_text.startswith("builtin.module("):
        pipeline_text = pipeline_text[len("builtin.module("):-1]
    pipeline = bench.split_pipeline(pipeline_text)
    if "lower-to-loops" not in [bench.pass_name(p) for p in pipeline]:
        ap.error("the pipeline has no lower-to-loops to cut before")
    before = pipeline[:[bench.pass_name(p) for p in pipeline].index("lower-to-loops")]
    if not os.path.isdir(args.models):
        print("skipped: no shared models at %s" % args.models)
        return e2e.SKIP
    models = sorted((m for m in os.listdir(args.models)
                     if m.endswith("_int8") and os.path.isfile(os.path.join(args.models, m, "model.tflite"))
                     and (not args.only or m in args.only)), key=bench.model_order)
    os.makedirs(args.out, exist_ok=True)
    start = time.time()

    ops = {m: model_ops(args, os.path.join(args.models, m), before) for m in models}
    jobs = [(m, None) for m in models] + [(m, k) for m in models for k in range(len(ops[m]) + 1)]
    runs, failed = {}, []
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {}
        for m, k in jobs:
            work = os.path.join(args.out, "layers", "%s-%s-%s" % (m, args.target, args.backend))
            futures[pool.submit(measure, args, m, pipeline, os.path.join(work, "whole")) if k is None else
                    pool.submit(measure_op, args, m, pipeline, k, len(ops[m]), work)] = (m, k)
        for f in concurrent.futures.as_completed(futures):
            m, k = futures[f]
            named = [(("whole", None), f.result())] if k is None else \
                [(("prefix", k), f.result()[0])] + ([(("alone", k), f.result()[1])] if f.result()[1] else [])
            for key, r in named:
                if r.get("skipped"):
                    print(r["error"])
                    pool.shutdown(cancel_futures=True)
                    return e2e.SKIP
                runs[(m,) + key] = r["instructions"]
                label = key[0] + ("" if key[1] is None else str(key[1]))
                if r["error"]:
                    failed.append("%s %s: %s" % (m, label, r["error"]))
                print("  %-18s %-9s %s" % (m, label, r["error"] or "instructions=%d" % r["instructions"]), flush=True)

    sections, csv_rows = [], []
    for m in models:
        mine = {key[1:]: n for key, n in runs.items() if key[0] == m}
        if None in mine.values() or len(mine) != 2 * len(ops[m]) + 2:
            sections.append("### %s\n\nFAILED: see %s\n" % (m, os.path.join(args.out, "layers")))
            continue
        text, rows, bad = report(m, ops[m], mine, args.target, args.backend)
        sections.append(text)
        csv_rows += rows
        failed += bad
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    md = ("# Instructions per layer (bench/layers.py %s, %s)\n\n"
          "Pipeline `%s`, its ops as they stand before lower-to-loops, on %s.  instructions: prefix k+1 minus "
          "prefix k, the op in the model (LLVM's and gcc's whole-function decisions land in it too); alone: the "
          "op compiled and run by itself, minus the empty call (a cortex-m4 count is read from SysTick in steps "
          "of 40: each row is within +-80).  MACs: tinyml-opt --print-cost.  / (MACs/2): 1.0 is one SMLAD per "
          "two int8 MACs and nothing else.  share: of the whole model.  %.0f s with %d jobs.\n\n%s"
          % (" ".join(sys.argv[1:]), when, pipeline_text, args.target, time.time() - start, args.jobs,
             "\n".join(sections)))
    with open(os.path.join(args.out, "layers.md"), "w") as f:
        f.write(md)
    with open(os.path.join(args.out, "layers.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["model", "target", "backend", "op", "kind", "shapes", "macs", "instructions", "alone"])
        w.writerows(csv_rows)
    print(md)
    print("wrote %s and %s" % (os.path.join(args.out, "layers.md"), os.path.join(args.out, "layers.csv")))
    if failed:
        print("layers: FAILED: " + "; ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
