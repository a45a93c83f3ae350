#!/usr/bin/env python3
"""Benchmarks the shared models on emulated boards against the TFLite Micro baseline.

  bench/run.py [--build build] [--float] [--jobs 2]

For every shared int8 model (float32 ones too with --float), every target (cortex-m4 and
rv32imc) and both backends (c: NAME.c built by the cross compiler; llvm: --emit=lib), it
compiles the model with tinyml-opt (timed, median of --compile-runs), builds and runs it
under QEMU with runtime/run-on-qemu.py (--runs times; the counts must agree) after checking
each target's instruction counter against its calibration loop, and writes

  BUILD/bench/results.csv  model,target,backend,instructions,flash_bytes,model_flash_bytes,
                           ram_bytes,arena_bytes,stack_bytes,param_bytes,compile_ms,bitexact
  BUILD/bench/results.md   the table below, with ../shared/baseline's figures and ratios

and prints the table.  Exit status 1 if a compile or run failed, an int8 model was not bit
exact, a count changed between runs or a calibration was off; 77 if the shared models, a
cross compiler or QEMU are missing.  See bench/README.md for what each number measures.
"""
import argparse
import concurrent.futures
import csv
import functools
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
COLUMNS = ["model", "target", "backend", "instructions", "flash_bytes", "model_flash_bytes", "ram_bytes",
           "arena_bytes", "stack_bytes", "param_bytes", "compile_ms", "bitexact"]
MEASURED = ["instructions", "flash_bytes", "model_flash_bytes", "ram_bytes", "arena_bytes", "stack_bytes"]
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
    """Bytes of the model's separate input and output buffers, from NAME.h: those without
    a NAME_INPUTi_OFFSET / NAME_OUTPUTi_OFFSET (the others live in the arena)."""
    text = open(header).read()
    in_arena = set(re.findall(r"#define\s+%s_((?:IN|OUT)PUT\d+)_OFFSET\b" % re.escape(name), text))
    return sum(int(m.group(2)) for m in
               re.finditer(r"#define\s+%s_((?:IN|OUT)PUT\d+)_BYTES\s+\(?(\d+)" % re.escape(name), text)
               if m.group(1) not in in_arena)


def last_line(text):
    lines = text.strip().splitlines()
    return lines[-1] if lines else ""


@functools.lru_cache(maxsize=None)
def model_cost(tinyml_opt, model_dir):
    """The model's multiply-accumulates and parameter bytes (tinyml-opt --print-cost): MACs
    for the dual-MAC bound (an int8 MAC pair per SMLAD makes MACs/2 instructions the floor
    of a Cortex-M4 kernel), parameters for the flash over the weights."""
    p = subprocess.run([tinyml_opt, os.path.join(model_dir, "model.tflite"), "--print-cost", "-o", "/dev/null"],
                       capture_output=True, text=True)
    m = re.search(r"total: (\d+) MACs, (\d+) parameter bytes", p.stdout + p.stderr)
    return (int(m.group(1)), int(m.group(2))) if m else (None, None)


def measure(job, args):
    """Compiles and runs one (model, target, backend[, variant, pipeline arguments]); returns
    the result dict."""
    model, target, backend = job[:3]
    variant, pipeline = job[3:] if len(job) > 3 else ("", args.pipeline_args)
    model_dir = os.path.join(args.models, model)
    work = os.path.join(args.out, "work", "-".join([model, target, backend] + ([variant] if variant else [])))
    row = {"model": model, "target": target, "backend": backend, "variant": variant, "bitexact": 0, "error": ""}
    times = []
    for _ in range(args.compile_runs):
        path, ms, p = e2e.compile_model(args.tinyml_opt, model_dir, target, backend, work, pipeline)
        if p.returncode != 0:
            row["error"] = "tinyml-opt failed (%d): %s" % (p.returncode, last_line(p.stdout))
            return row
        times.append(ms)
    row["compile_ms"] = round(statistics.median(times), 1)
    row["macs"], row["param_bytes"] = model_cost(args.tinyml_opt, model_dir)
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
    for key in MEASURED:
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


# ------------------------------------------------------------------ ablation (--ablate)
def split_pipeline(text):
    """Top-level passes of a pipeline text, options kept: "a,b{x=1,2},c" -> [a, b{x=1,2}, c]."""
    passes, depth, cur = [], 0, ""
    for ch in text:
        depth += (ch in "{(") - (ch in "})")
        if ch == "," and depth == 0:
            passes.append(cur.strip())
            cur = ""
        else:
            cur += ch
    return passes + ([cur.strip()] if cur.strip() else [])


def pass_name(p):
    return p.split("{", 1)[0]


def with_option(passes, name, option):
    """Sets option "key=value" on every occurrence of pass `name`."""
    key = option.split("=", 1)[0]
    out = []
    for p in passes:
        if pass_name(p) == name:
            opts = [o for o in (p[len(name) + 1:-1].split() if "{" in p else []) if o.split("=", 1)[0] != key]
            p = "%s{%s}" % (name, " ".join(opts + [option]))
        out.append(p)
    return out


def insert_before(passes, before, new):
    i = next(k for k, p in enumerate(passes) if pass_name(p) == before)
    return passes[:i] + [new] + passes[i:]


def ablations(base_text):
    """(pass, in the base pipeline?, variant pipeline text) for each pass of issue 5: the base
    pipeline without it when it is part of it, with it added otherwise."""
    base = split_pipeline(base_text)
    names = [pass_name(p) for p in base]
    drop = lambda name: [p for p in base if pass_name(p) != name]
    out = []
    for name in ("fuse", "depthwise-lowering", "reorder-for-memory"):
        if name in names:
            out.append((name, True, drop(name)))
    if "depthwise-lowering" in names:
        out.append(("depthwise-lowering in-place", True, with_option(base, "depthwise-lowering", "in-place=false")))
    plan = next((p for p in base if pass_name(p) == "plan-memory"), "")
    io_on = "io-in-arena=true" in plan
    out.append(("plan-memory io-in-arena", io_on,
                with_option(base, "plan-memory", "io-in-arena=%s" % ("false" if io_on else "true"))))
    out.append(("plan-memory in-place", "in-place=false" not in plan, with_option(base, "plan-memory", "in-place=false")))
    if "tile" not in names:
        out.append(("tile", False, insert_before(base, "plan-memory", "tile,cse")))
    if "patch-based" not in names:
        first = "depthwise-lowering" if "depthwise-lowering" in names else "lower-to-loops"
        omem = [q for q in split_pipeline(e2e.named_pipelines().get("Omem", "")) if pass_name(q) == "patch-based"]
        out.append(("patch-based", False, insert_before(base, first, (omem or ["patch-based{count-inputs=true}"])[0])))
    return [(n, inside, ",".join(v)) for n, inside, v in out]


def variant_id(name):
    return "abl-" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def ablation_markdown(results, variants, base_label):
    """One table per pass: instructions and RAM per model and backend with and without it."""
    by = {(r["model"], r["target"], r["backend"], r["variant"]): r for r in results}
    keys = sorted({(r["model"], r["target"], r["backend"]) for r in results},
                  key=lambda k: (k[1], k[2], model_order(k[0])))
    out = []
    for name, inside, text in variants:
        vid = variant_id(name)
        with_id, without_id = ("base", vid) if inside else (vid, "base")
        out += ["### `%s`" % name, "",
                "%s: `%s`; %s: `%s`." % ("without" if inside else "with", text,
                                          "with" if inside else "without", base_label), "",
                "| model | target | backend | instr. with | instr. without | instr. change | RAM with | RAM without "
                "| RAM change | bitexact with / without |",
                "|---|---|---|---:|---:|---:|---:|---:|---:|---|"]
        for model, target, backend in keys:
            w, wo = by.get((model, target, backend, with_id)), by.get((model, target, backend, without_id))
            if not w or not wo:
                continue
            cells = [model, target, backend]
            for key in ("instructions", "ram_bytes"):
                a, b = w.get(key), wo.get(key)
                cells += [fmt(a), fmt(b), ("%+.1f %%" % (100.0 * (a - b) / b) if key == "instructions" else
                                           "%+d" % (a - b)) if a and b else ""]
            cells.append(" / ".join(exact_label(r) for r in (w, wo)))
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
    return "\n".join(out)


def exact_label(r):
    if r["error"]:
        return "FAILED (%s)" % r["error"]
    return "yes" if r["bitexact"] else "tolerance" if r.get("ok") else "NO"


def model_order(model):
    base = baseline_name(model).replace("_float", "")
    return (ORDER.index(base) if base in ORDER else len(ORDER), model)


def table_rows(results, baseline):
    """Header and rows of the report table (strings)."""
    head = ["model", "target", "backend", "instructions", "baseline instr.", "instr. ratio", "flash",
            "model flash", "over weights", "RAM",
            "arena", "arena+I/O", "baseline arena", "arena ratio", "RAM ratio", "stack", "instr. / (MACs/2)", "compile ms",
            "bitexact"]
    rows = []
    for r in results:
        b = baseline.get((r["target"], baseline_name(r["model"])), {})
        arena_io = r["arena_bytes"] + r["io_bytes"] if "arena_bytes" in r else None
        rows.append([r["model"], r["target"], r["backend"], fmt(r.get("instructions")),
                     fmt(b.get("instructions")), ratio(r.get("instructions"), b.get("instructions")),
                     fmt(r.get("flash_bytes")), fmt(r.get("model_flash_bytes")),
                     fmt(r["model_flash_bytes"] - r["param_bytes"] if r.get("model_flash_bytes") and r.get("param_bytes")
                         else None),
                     fmt(r.get("ram_bytes")), fmt(r.get("arena_bytes")),
                     fmt(arena_io), fmt(b.get("arena")), ratio(arena_io, b.get("arena")),
                     ratio(r.get("ram_bytes"), b.get("arena")),
                     fmt(r.get("stack_bytes")),
                     fmt(r["instructions"] / (r["macs"] / 2) if r.get("instructions") and r.get("macs") else None,
                         "{:.2f}"),
                     fmt(r.get("compile_ms"), "{:.1f}"),
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
    ap.add_argument("--targets", nargs="*", help="default: cortex-m4 rv32imc (--ablate: cortex-m4)")
    ap.add_argument("--backends", nargs="*", choices=sorted(e2e.EMIT), help="default: c llvm (--ablate: llvm c)")
    ap.add_argument("--pipeline", default=os.environ.get("TINYML_PIPELINE", "O2"),
                    help="a pipeline of passes/pipelines.def (O0, O1, O2, Omem), a pass pipeline text, or "
                    "tinyml-opt flags (default: $TINYML_PIPELINE or %(default)s)")
    ap.add_argument("--ablate", action="store_true",
                    help="also run --pipeline without each optimization pass it has (with each it lacks) and "
                    "write BUILD/bench/ablation.{md,csv}")
    ap.add_argument("--jobs", "-j", type=int, default=2)
    ap.add_argument("--compile-runs", type=int, default=3, help="compile_ms is the median of this many")
    ap.add_argument("--runs", type=int, default=2, help="QEMU runs per build; their counts must agree")
    ap.add_argument("--timeout", type=float, default=300, help="seconds per QEMU run")
    args = ap.parse_args()
    args.targets = args.targets or (["cortex-m4"] if args.ablate else ["cortex-m4", "rv32imc"])
    args.backends = args.backends or (["llvm", "c"] if args.ablate else ["c", "llvm"])
    args.pipeline_args = e2e.pipeline_args(args.pipeline)
    variants = []
    if args.ablate:
        base_text = e2e.named_pipelines().get(args.pipeline.lstrip("-"), args.pipeline)
        if base_text.startswith("-"):
            ap.error("--ablate needs a named pipeline or a pass pipeline text, not flags")
        variants = ablations(base_text.replace("builtin.module(", "", 1)[:-1]
                             if base_text.startswith("builtin.module(") else base_text)
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
    if args.ablate:
        jobs = [(m, t, b, "base", args.pipeline_args) for m, t, b in jobs] + \
               [(m, t, b, variant_id(name), e2e.pipeline_args(text)) for name, _, text in variants
                for m, t, b in jobs]
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
            print("  %-18s %-10s %-5s %-28s %s" % (r["model"], r["target"], r["backend"], r["variant"],
                                              r["error"] or "instructions=%d bitexact=%d" % (r["instructions"], r["bitexact"])),
                  flush=True)
    results = [f.result() for f in futures]
    ablated = [r for r in results if r["variant"] not in ("", "base")]
    results = [r for r in results if r["variant"] in ("", "base")]
    if any(r.get("skipped") for r in results):
        print("skipped: " + next(r["error"] for r in results if r.get("skipped")))
        return e2e.SKIP
    for r in results + ablated:
        if r["error"] or (r["model"].endswith("_int8") and not r["bitexact"]) or not r.get("ok"):
            failed.append("%s %s %s %s: %s" % (r["model"], r["target"], r["backend"], r["variant"],
                                               r["error"] or "outputs differ"))

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
        "RAM ratio = our RAM (arena + separate I/O buffers + static data + measured stack) / TFLM's arena "
        "(issue 5's peak-RAM criterion: int8 <= 0.6)",
        "RAM = .data + .bss (arena, I/O buffers, libc data) + stack high-water mark; flash = code + constants, "
        "harness and libc pieces included (no stdio); model flash = the model's own code and constants in that "
        "image (what it adds to a firmware); over weights = model flash - the parameter bytes of --print-cost",
        "command: bench/run.py %s; pipeline: tinyml-opt %s; compile ms = median of %d; %d QEMU runs each, identical counts; %.0f s with %d jobs"
        % (" ".join(sys.argv[1:]), " ".join(args.pipeline_args), args.compile_runs, args.runs, elapsed, args.jobs)]
    md = markdown(head, rows, notes)
    if args.ablate:
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        text = ablation_markdown(results + ablated, variants, "`%s`" % " ".join(args.pipeline_args))
        text = ("# Each pass with and without it (bench/run.py %s, %s)\n\nBase: tinyml-opt `%s`.  instr. = "
                "instructions per inference (QEMU -icount, SysTick); RAM = .data + .bss (arena, separate I/O "
                "buffers, static data) + the measured stack; change = with - without.\n\n%s"
                % (" ".join(sys.argv[1:]), when, " ".join(args.pipeline_args), text))
        with open(os.path.join(args.out, "ablation.md"), "w") as f:
            f.write(text)
        with open(os.path.join(args.out, "ablation.csv"), "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["variant"] + COLUMNS)
            for r in results + ablated:
                w.writerow([r["variant"]] + [r.get(c, "") for c in COLUMNS])
        print(text)
        print("wrote %s" % os.path.join(args.out, "ablation.md"))
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
