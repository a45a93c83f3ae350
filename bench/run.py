#!/usr/bin/env python3
"""Benchmarks the shared models on emulated boards against the TFLite Micro baseline.

  bench/run.py [--build build] [--float] [--jobs 2]

For every shared int8 model (float32 ones too with --float), every target (cortex-m4 and
rv32imc) and both backends (c: NAME.c built by the cross compiler; llvm: --emit=lib), it
compiles the model with tinyml-opt (timed, median of --compile-runs), builds and runs it
under QEMU with runtime/run-on-qemu.py (--runs times; the counts must agree) after checking
each target's instruction counter against its calibration loop, and writes

  BUILD/bench/results.csv  model,target,backend,instructions,flash_bytes,ram_bytes,
                           arena_bytes,stack_bytes,compile_ms,bitexact
  BUILD/bench/results.md   the table below, with ../shared/baseline's figures and ratios

and prints the table.  Exit status 1 if a compile or run failed, an int8 model was not bit
exact, a count changed between runs or a calibration was off; 77 if the shared models, a
cross compiler or QEMU are missing.  See bench/README.md for what each number measures.
"""
import argparse
import concurrent.futures
import csv
import json
import os
import re
import statistics
import subprocess
import sys
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
sys.path.insert(0, os.path.join(REPO, "test", "e2e"))
import e2e  # noqa: E402  (compile_model, run_model, the pipeline)

SHARED = os.path.join(os.path.dirname(REPO), "shared")
COLUMNS = ["model", "target", "backend", "instructions", "flash_bytes", "ram_bytes", "arena_bytes",
           "stack_bytes", "compile_ms", "bitexact"]
# Work per inference decides the order: the longest jobs start first.
ORDER = ["vww", "resnet", "kws", "micro_speech", "ad01", "hello_world"]


def baseline_name(model):
    """The baseline CSVs call kws_int8 'kws' and keep the _float suffix."""
    return model[:-len("_int8")] if model.endswith("_int8") else model


def load_baseline(directory):
    """{(target, model): {"instructions", "arena", "label"}} from ../shared/baseline's CSVs.

    cortex-m4: TFLM + CMSIS-NN (the primary baseline); rv32imc: TFLM reference kernels
    (there is no CMSIS-NN for RISC-V)."""
    base = {}
    path = os.path.join(directory, "tflm_cortex_m4.csv")
    if os.path.exists(path):
        for row in csv.DictReader(open(path)):
            if row["variant"] == "cmsis_nn":
                base[("cortex-m4", row["model"])] = {"instructions": int(row["instr"]),
                                                     "arena": int(row["arena_used"]), "label": "TFLM+CMSIS-NN"}
    path = os.path.join(directory, "tflm_rv32imc.csv")
    if os.path.exists(path):
        for row in csv.DictReader(open(path)):
            base[("rv32imc", row["model"])] = {"instructions": int(row["instructions"]),
                                               "arena": int(row["arena"]), "label": "TFLM ref"}
    return base


def io_bytes(header, name):
    """Bytes of the model's separate input and output buffers, from NAME.h."""
    text = open(header).read()
    return sum(int(m.group(1)) for m in
               re.finditer(r"#define\s+%s_(?:IN|OUT)PUT\d+_BYTES\s+\(?(\d+)" % re.escape(name), text))


def last_line(text):
    lines = text.strip().splitlines()
    return lines[-1] if lines else ""


def measure(job, args):
    """Compiles and runs one (model, target, backend); returns the result dict."""
    model, target, backend = job
    model_dir = os.path.join(args.models, model)
    work = os.path.join(args.out, "work", "%s-%s-%s" % (model, target, backend))
    row = {"model": model, "target": target, "backend": backend, "bitexact": 0, "error": ""}
    times = []
    for _ in range(args.compile_runs):
        path, ms, p = e2e.compile_model(args.tinyml_opt, model_dir, target, backend, work)
        if p.returncode != 0:
            row["error"] = "tinyml-opt failed (%d): %s" % (p.returncode, last_line(p.stdout))
            return row
        times.append(ms)
    row["compile_ms"] = round(statistics.median(times), 1)
    row["io_bytes"] = io_bytes(os.path.splitext(path)[0] + ".h", e2e.c_name(model))
    counts = []
    for r in range(args.runs):
        summary_path = os.path.join(work, "summary%d.json" % r)
        if os.path.exists(summary_path):
            os.remove(summary_path)
        q = e2e.run_model(path, model_dir, target, os.path.join(work, "build"), summary_path, args.timeout)
        with open(os.path.join(work, "run%d.log" % r), "w") as log:
            log.write(q.stdout)
        if q.returncode == e2e.SKIP:
            row["error"] = "skipped: " + q.stdout.strip()
            row["skipped"] = True
            return row
        if not os.path.exists(summary_path):
            row["error"] = "run failed (%d): %s" % (q.returncode, last_line(q.stdout))
            return row
        summary = json.load(open(summary_path))
        counts.append(summary["instructions"])
        if q.returncode != 0:
            row["error"] = "run failed (%d): %s" % (q.returncode, last_line(q.stdout))
    for key in COLUMNS[3:8]:
        row[key] = summary[key]
    row["bitexact"] = summary["bitexact"]
    row["ok"] = summary["ok"]
    if len(set(counts)) > 1:
        row["error"] = row["error"] or "instruction count changed between runs: %s" % counts
    return row


def calibrate(target, args):
    p = subprocess.run([sys.executable, e2e.RUN_ON_QEMU, "--target", target, "--calibrate", "--runs", "2"],
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True)
    return p.returncode, last_line(p.stdout)


def fmt(value, spec="{:,}"):
    return "" if value is None or value == "" else spec.format(value)


def ratio(ours, theirs):
    return "%.2f" % (ours / theirs) if ours and theirs else ""


def table_rows(results, baseline):
    """Header and rows of the report table (strings)."""
    head = ["model", "target", "backend", "instructions", "baseline instr.", "instr. ratio", "flash", "RAM",
            "arena", "arena+I/O", "baseline arena", "arena ratio", "stack", "compile ms", "bitexact"]
    rows = []
    for r in results:
        b = baseline.get((r["target"], baseline_name(r["model"])), {})
        arena_io = r["arena_bytes"] + r["io_bytes"] if "arena_bytes" in r else None
        rows.append([r["model"], r["target"], r["backend"], fmt(r.get("instructions")),
                     fmt(b.get("instructions")), ratio(r.get("instructions"), b.get("instructions")),
                     fmt(r.get("flash_bytes")), fmt(r.get("ram_bytes")), fmt(r.get("arena_bytes")),
                     fmt(arena_io), fmt(b.get("arena")), ratio(arena_io, b.get("arena")),
                     fmt(r.get("stack_bytes")), fmt(r.get("compile_ms"), "{:.1f}"),
                     ("yes" if r["bitexact"] else "tolerance" if r.get("ok") else "NO") + (" (%s)" % r["error"]
                                                                                        if r["error"] else "")])
    return head, rows


def geomeans(results, baseline):
    """Geometric mean of the instruction and arena ratios per (target, backend)."""
    lines = []
    groups = {}
    for r in results:
        b = baseline.get((r["target"], baseline_name(r["model"])))
        if b and r.get("instructions") and r["model"].endswith("_int8"):
            groups.setdefault((r["target"], r["backend"], b["label"]), []).append(
                (r["instructions"] / b["instructions"], (r["arena_bytes"] + r["io_bytes"]) / b["arena"]))
    for (target, backend, label), pairs in sorted(groups.items()):
        gi = statistics.geometric_mean([p[0] for p in pairs])
        ga = statistics.geometric_mean([p[1] for p in pairs])
        lines.append("%s %s vs %s, %d int8 models: geomean instructions ratio %.2f, arena+I/O ratio %.2f"
                     % (target, backend, label, len(pairs), gi, ga))
    return lines


def markdown(head, rows, notes):
    right = {i for i, h in enumerate(head) if h not in ("model", "target", "backend", "bitexact")}
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---:" if i in right else "---" for i in range(len(head))) + "|"]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(out + [""] + ["- " + n for n in notes]) + "\n"


def text_table(head, rows):
    widths = [max(len(x) for x in col) for col in zip(head, *rows)]
    line = lambda cells: "  ".join(c.rjust(w) if i >= 3 else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))
    return "\n".join([line(head)] + [line(r) for r in rows])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--build", default=os.path.join(REPO, "build"), help="the build directory (default: %(default)s)")
    ap.add_argument("--tinyml-opt", help="default: BUILD/tinyml-opt/tinyml-opt")
    ap.add_argument("--out", help="results directory (default: BUILD/bench)")
    ap.add_argument("--models", default=os.path.join(SHARED, "models"), help="default: %(default)s")
    ap.add_argument("--baseline", default=os.path.join(SHARED, "baseline"), help="default: %(default)s")
    ap.add_argument("--float", action="store_true", help="benchmark the float32 models too")
    ap.add_argument("--only", nargs="*", default=[], metavar="MODEL", help="only these model folders")
    ap.add_argument("--targets", nargs="*", default=["cortex-m4", "rv32imc"])
    ap.add_argument("--backends", nargs="*", default=["c", "llvm"], choices=sorted(e2e.EMIT))
    ap.add_argument("--jobs", "-j", type=int, default=2)
    ap.add_argument("--compile-runs", type=int, default=3, help="compile_ms is the median of this many")
    ap.add_argument("--runs", type=int, default=2, help="QEMU runs per build; their counts must agree")
    ap.add_argument("--timeout", type=float, default=300, help="seconds per QEMU run")
    args = ap.parse_args()
    args.tinyml_opt = os.path.abspath(args.tinyml_opt or os.path.join(args.build, "tinyml-opt", "tinyml-opt"))
    args.out = os.path.abspath(args.out or os.path.join(args.build, "bench"))
    if not os.access(args.tinyml_opt, os.X_OK):
        print("bench: error: no tinyml-opt at %s (build first, or give --build / --tinyml-opt)" % args.tinyml_opt)
        return 2
    if not os.path.isdir(args.models):
        print("skipped: no shared models at %s" % args.models)
        return e2e.SKIP
    models = sorted((m for m in os.listdir(args.models)
                     if os.path.isfile(os.path.join(args.models, m, "model.tflite"))
                     and (m.endswith("_int8") or (args.float and m.endswith("_float")))
                     and (not args.only or m in args.only)),
                    key=lambda m: (ORDER.index(baseline_name(m).replace("_float", ""))
                                   if baseline_name(m).replace("_float", "") in ORDER else len(ORDER), m))
    jobs = [(m, t, b) for m in models for t in args.targets for b in args.backends]
    os.makedirs(args.out, exist_ok=True)
    start = time.time()

    failed = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        calib = {t: pool.submit(calibrate, t, args) for t in args.targets}
        for t, f in calib.items():
            status, line = f.result()
            print("calibration %s: %s" % (t, line))
            if status == e2e.SKIP:
                print("skipped: %s" % line)
                return e2e.SKIP
            if status != 0:
                failed.append("calibration of %s" % t)
        futures = [pool.submit(measure, job, args) for job in jobs]
        for f in concurrent.futures.as_completed(futures):
            r = f.result()
            print("  %-18s %-10s %-5s %s" % (r["model"], r["target"], r["backend"],
                                              r["error"] or "instructions=%d bitexact=%d" % (r["instructions"], r["bitexact"])),
                  flush=True)
    results = [f.result() for f in futures]
    if any(r.get("skipped") for r in results):
        print("skipped: " + next(r["error"] for r in results if r.get("skipped")))
        return e2e.SKIP
    for r in results:
        if r["error"] or (r["model"].endswith("_int8") and not r["bitexact"]) or not r.get("ok"):
            failed.append("%s %s %s: %s" % (r["model"], r["target"], r["backend"], r["error"] or "outputs differ"))

    with open(os.path.join(args.out, "results.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        for r in results:
            w.writerow([r.get(c, "") for c in COLUMNS])
    baseline = load_baseline(args.baseline)
    head, rows = table_rows(results, baseline)
    elapsed = time.time() - start
    notes = geomeans(results, baseline) + [
        "baseline: cortex-m4 = TFLM + CMSIS-NN, rv32imc = TFLM reference kernels (%s); ratio = ours / baseline"
        % os.path.relpath(args.baseline, REPO),
        "arena ratio = (our arena + the separate input/output buffers) / TFLM's arena_used_bytes, which holds "
        "the I/O tensors; neither counts the stack",
        "RAM = .data + .bss (arena, I/O buffers, libc data) + stack high-water mark; flash = code + constants, "
        "harness and libc pieces included (no stdio)",
        "command: bench/run.py %s; pipeline: tinyml-opt %s; compile ms = median of %d; %d QEMU runs each, identical counts; %.0f s with %d jobs"
        % (" ".join(sys.argv[1:]), " ".join(e2e.PIPELINE), args.compile_runs, args.runs, elapsed, args.jobs)]
    md = markdown(head, rows, notes)
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write(md)
    print()
    print(text_table(head, rows))
    print()
    print("\n".join(notes))
    print("wrote %s and %s" % (os.path.join(args.out, "results.csv"), os.path.join(args.out, "results.md")))
    if failed:
        print("bench: FAILED: " + "; ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
