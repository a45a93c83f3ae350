#!/usr/bin/env python3
"""The compression passes composed on a shared float model, run on the host and on a board.

  compose.py --tinyml-opt T --tinyml-run R --model vww_float [--models DIR]
             [--pipeline TEXT] [--target cortex-m4 ...] [--backend c llvm] [--work DIR]
             [--min-sqnr DB]

1. tinyml-opt MODEL --pass-pipeline=TEXT (default: low-rank{energy=0.99}, prune{sparsity=0.5},
   quantize calibrated on the model's golden inputs; `%(models)s/%(model)s` in TEXT is the
   model's folder) -> compressed.tir
2. tinyml-run (host, C backend) on the five golden inputs: SQNR, max |diff| and top-1
   agreement against the float goldens; exit 1 below --min-sqnr.  These host outputs are
   the goldens for step 3.
3. for each target and backend: tinyml-opt compressed.tir -O2 --emit=c (or --emit=lib
   --target=T for llvm), then runtime/run-on-qemu.py, which must reproduce the host
   outputs (within the float tolerance; the integer kernels make them bit-exact).

Exit status: 0, 1 (a failure), 77 (CTest's skip code) when the shared model is missing, or
when run-on-qemu.py skips (no cross compiler or QEMU) -- after the host part has passed."""
import argparse, os, shutil, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "e2e"))
sys.path.insert(0, os.path.join(HERE, "..", "low-rank", "Inputs"))
import e2e  # noqa: E402  (run_model, DEFAULT_MODELS, SKIP)
import measure  # noqa: E402  (load, sqnr, argmax, run_outputs)

PIPELINE = ("builtin.module(func.func(low-rank{energy=0.99},prune{sparsity=0.5},"
            "quantize{calibration-data=%(models)s/%(model)s calibration-files=in*.bin}))")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0], epilog=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tinyml-opt", required=True)
    ap.add_argument("--tinyml-run", required=True)
    ap.add_argument("--models", default=e2e.DEFAULT_MODELS)
    ap.add_argument("--model", required=True)
    ap.add_argument("--pipeline", default=PIPELINE)
    ap.add_argument("--target", action="append", help="default: cortex-m4")
    ap.add_argument("--backend", nargs="+", choices=["c", "llvm"], default=["c", "llvm"])
    ap.add_argument("--work", help="keep everything here (default: a temporary directory)")
    ap.add_argument("--min-sqnr", type=float, help="exit 1 if the host SQNR against float is below this")
    a = ap.parse_args()

    model_dir = os.path.join(a.models, a.model)
    if not os.path.isfile(os.path.join(model_dir, "model.tflite")):
        print("skipped: no shared model %s" % model_dir)
        return e2e.SKIP
    work = os.path.abspath(a.work) if a.work else tempfile.mkdtemp(prefix="tinyml-compose-")
    try:
        os.makedirs(work, exist_ok=True)
        pipeline = a.pipeline % {"models": a.models, "model": a.model}
        compressed = os.path.join(work, "compressed.tir")
        cmd = [a.tinyml_opt, os.path.join(model_dir, "model.tflite"), "--pass-pipeline=" + pipeline, "-o", compressed]
        print("+ " + " ".join(cmd), flush=True)
        if subprocess.run(cmd).returncode:
            print("compose: error: tinyml-opt failed")
            return 1

        golden = os.path.join(work, "golden")
        os.makedirs(golden, exist_ok=True)
        ins = []
        for i in range(5):
            src = os.path.join(model_dir, "in%d.bin" % i)
            if os.path.isfile(src):
                ins.append(shutil.copy(src, golden))
        outs = measure.run_outputs(a.tinyml_run, compressed, ins, golden, "host")
        refs = [measure.load(os.path.join(model_dir, "out%d.bin" % i)) for i in range(len(ins))]
        for i, o in enumerate(outs):
            os.replace(os.path.join(golden, "host_out%d.bin" % i), os.path.join(golden, "out%d.bin" % i))
        r, o = [v for x in refs for v in x], [v for x in outs for v in x]
        db = measure.sqnr(r, o)
        top1 = sum(measure.argmax(x) == measure.argmax(y) for x, y in zip(refs, outs))
        print("host: SQNR %.2f dB against float over %d samples, max|diff| %.4g, top-1 agreement %d/%d"
              % (db, len(ins), max(abs(x - y) for x, y in zip(r, o)), top1, len(ins)), flush=True)
        if a.min_sqnr is not None and db < a.min_sqnr:
            print("compose: error: SQNR below %g dB" % a.min_sqnr)
            return 1

        status = 0
        for target in a.target or ["cortex-m4"]:
            for backend in a.backend:
                name = e2e.c_name(a.model)
                path = os.path.join(work, "%s_%s" % (target, backend), name + (".c" if backend == "c" else ".a"))
                os.makedirs(os.path.dirname(path), exist_ok=True)
                emit = ["--emit=c"] if backend == "c" else ["--emit=lib", "--target=" + target]
                cmd = [a.tinyml_opt, compressed, "-O2"] + emit + ["-o", path]
                print("+ " + " ".join(cmd), flush=True)
                if subprocess.run(cmd).returncode:
                    print("compose: error: tinyml-opt failed for %s/%s" % (target, backend))
                    return 1
                q = e2e.run_model(path, golden, target, os.path.dirname(path))
                sys.stdout.write(q.stdout)
                if q.returncode == e2e.SKIP:
                    return e2e.SKIP
                status = status or q.returncode
        return status
    finally:
        if not a.work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
