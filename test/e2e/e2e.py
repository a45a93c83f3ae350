#!/usr/bin/env python3
"""Compiles one shared model with tinyml-opt and runs it on an emulated board.

  e2e.py --tinyml-opt build/tinyml-opt/tinyml-opt --models ../shared/models \
         --model kws_int8 --target cortex-m4 --backend c|llvm|obj [--pipeline O2|O1|Omem|Os|TEXT]

The pipeline is tinyml-opt's -O2 unless --pipeline (a name of passes/pipelines.def, a pass
pipeline text, or flags) or $TINYML_PIPELINE says otherwise.
Backends: `c` emits NAME.c (built by runtime/run-on-qemu.py with the target's cross
compiler), `llvm` emits NAME.a (--emit=lib --target=T), `obj` emits NAME.o (--emit=obj).
runtime/run-on-qemu.py then links it with the harness, runs it under QEMU and compares every
golden case: int8 byte for byte, float32 within the shared models' tolerance.

Exit status: run-on-qemu.py's (0 pass, 1 wrong output or failed run, 2 build error), 1 when
tinyml-opt fails, 77 (CTest's skip code) when the shared models, this model, the cross
compiler or QEMU are missing.  bench/run.py imports this file for compile_model() and run_model().
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUN_ON_QEMU = os.path.join(REPO, "runtime", "run-on-qemu.py")
# The shared models live beside the repository (/work/shared next to /work/main).
DEFAULT_MODELS = os.path.join(os.path.dirname(REPO), "shared", "models")
# The default optimization level (passes/pipelines.def, docs/passes.md); --pipeline or
# $TINYML_PIPELINE overrides it.
PIPELINE = os.environ.get("TINYML_PIPELINE", "-O2").split()
SKIP = 77
EMIT = {"c": ("c", ".c"), "llvm": ("lib", ".a"), "obj": ("obj", ".o")}


def c_name(model):
    """The generated symbols' prefix: the model folder's name, a C identifier."""
    return "".join(ch if ch.isalnum() else "_" for ch in model)


def pipeline_args(pipeline):
    """tinyml-opt's arguments for a pipeline: a name of passes/pipelines.def ("O2" or
    "-O2"), a pass pipeline text ("canonicalize,fuse,..."), or flags ("--fuse ...")."""
    text = pipeline.strip()
    if text.startswith("-"):
        return text.split()
    if text in named_pipelines():
        return ["-" + text]
    return ["--pass-pipeline=" + (text if text.startswith("builtin.module(") else "builtin.module(%s)" % text)]


def named_pipelines():
    """{name: text} from passes/pipelines.def, the source of tinyml-opt's -O levels."""
    src = open(os.path.join(REPO, "passes", "pipelines.def")).read()
    return {m.group(1): "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(2)))
            for m in re.finditer(r"^PIPELINE\((\w+),\s*\w+,\s*((?:\s*\"[^\"]*\")+)", src, re.M)}


def compile_model(tinyml_opt, model_dir, target, backend, outdir, pipeline=PIPELINE):
    """Runs tinyml-opt once; returns (generated model path, wall time in ms, completed process)."""
    emit, ext = EMIT[backend]
    os.makedirs(outdir, exist_ok=True)
    out = os.path.join(outdir, c_name(os.path.basename(model_dir)) + ext)
    cmd = [tinyml_opt, os.path.join(model_dir, "model.tflite")] + list(pipeline) + ["--emit=" + emit, "-o", out]
    if backend != "c":
        cmd.append("--target=" + target)
    start = time.perf_counter()
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True)
    ms = (time.perf_counter() - start) * 1000.0
    p.args = cmd
    return out, ms, p


def run_model(model_path, model_dir, target, work, json_path=None, timeout=None, verbose=False):
    """runtime/run-on-qemu.py on a generated model; returns the completed process."""
    cmd = [sys.executable, RUN_ON_QEMU, "--target", target, "--model", model_path, "--golden", model_dir,
           "--work", work]
    cmd += ["--json", json_path] if json_path else []
    cmd += ["--timeout", str(timeout)] if timeout else []
    cmd += ["-v"] if verbose else []
    return subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--tinyml-opt", required=True)
    ap.add_argument("--models", default=DEFAULT_MODELS, help="the shared models (default: %(default)s)")
    ap.add_argument("--model", required=True, help="a folder of --models, e.g. kws_int8")
    ap.add_argument("--target", required=True, help="a target of runtime/boards.def")
    ap.add_argument("--backend", choices=sorted(EMIT), required=True)
    ap.add_argument("--pipeline", help="a pipeline of passes/pipelines.def (O0, O1, O2, ...), a pass pipeline "
                    "text or tinyml-opt flags (default: %s)" % " ".join(PIPELINE))
    ap.add_argument("--timeout", type=float, help="seconds per QEMU run (run-on-qemu.py's default: 30)")
    ap.add_argument("--work", help="keep the generated code and the build here (default: temporary)")
    ap.add_argument("--json", help="write run-on-qemu.py's summary here")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()

    model_dir = os.path.join(args.models, args.model)
    if not os.path.isfile(os.path.join(model_dir, "model.tflite")):
        print("skipped: no shared model %s (expected %s/model.tflite)" % (args.model, model_dir))
        return SKIP
    work = os.path.abspath(args.work) if args.work else tempfile.mkdtemp(prefix="tinyml-e2e-")
    try:
        pipeline = pipeline_args(args.pipeline) if args.pipeline else PIPELINE
        path, ms, p = compile_model(args.tinyml_opt, model_dir, args.target, args.backend, work, pipeline)
        print("+ %s  (%.0f ms)" % (" ".join(p.args), ms))
        sys.stdout.write(p.stdout)
        if p.returncode != 0:
            print("e2e: error: tinyml-opt failed with exit status %d" % p.returncode)
            return 1
        q = run_model(path, model_dir, args.target, work, args.json, args.timeout, args.verbose)
        sys.stdout.write(q.stdout)
        return q.returncode
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
