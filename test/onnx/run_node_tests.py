#!/usr/bin/python3
"""Run the ONNX backend node tests (Debian's libonnx-testdata) through tinyml-run.

Every test directory whose operators are all imported by frontend/onnx_importer.c is
compiled and run on its test_data_set_0 inputs; outputs are compared by tinyml-run
(floats: max|diff| <= 1e-5*max|ref| + 1e-6, integers exactly).  Prints the pass count per
operator, every failure and every skipped test with the reason; exits 1 if fewer than
--min-pass-rate (default 95 %) of the applicable tests pass.

Needs Debian's python3-onnx (run with /usr/bin/python3): onnx reads the models' operator
lists and the .pb tensors, which become the raw .bin files tinyml-run takes.

  run_node_tests.py --tinyml-run build/tinyml-run/tinyml-run [--data DIR] [-j N] [--filter SUBSTR]
"""
import argparse
import collections
import concurrent.futures
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper

# Keep in sync with ONNX_IMPORTED_OPS in frontend/onnx_importer.c (plus Constant).
SUPPORTED = {
    "Add", "AveragePool", "BatchNormalization", "Clip", "Concat", "Constant", "Conv", "ConvInteger", "ConvTranspose",
    "DequantizeLinear", "Div", "Dropout", "Flatten", "Gemm", "GlobalAveragePool", "HardSigmoid", "HardSwish",
    "Identity", "LeakyRelu", "MatMul", "MatMulInteger", "MaxPool", "Mul", "Pad", "QLinearConv", "QLinearMatMul",
    "QuantizeLinear", "ReduceMean", "Relu", "Reshape", "Sigmoid", "Slice", "Softmax", "Squeeze", "Sub", "Tanh",
    "Transpose", "Unsqueeze",
}
# The operators of the list: a test of one of them counts as applicable.
LISTED = SUPPORTED


def classify(test_dir):
    """(main operator, skip reason or None)."""
    model = onnx.load(os.path.join(test_dir, "model.onnx"))
    ops = [n.op_type for n in model.graph.node]
    main = next((o for o in ops if o not in ("Constant",)), ops[0] if ops else "?")
    # Training mode is random or has training-only outputs: not an inference compiler's job.
    for n in model.graph.node:
        training = (n.op_type == "Dropout" and len(n.input) > 2 and n.input[2]) or \
                   (n.op_type == "BatchNormalization" and any(a.name == "training_mode" and a.i for a in n.attribute))
        if training:
            return main, "training mode (%s)" % n.op_type
    if any(not vi.type.HasField("tensor_type") for vi in list(model.graph.input) + list(model.graph.output)):
        return main, "non-tensor (sequence or optional) graph values"
    foreign = sorted({o for o in ops if o not in LISTED})
    if foreign:
        return main, "operator(s) %s not in the list" % ", ".join(foreign)
    missing = sorted({o for o in ops if o not in SUPPORTED})
    if missing:
        return main, "applicable but not imported: %s" % ", ".join(missing)
    if not os.path.isdir(os.path.join(test_dir, "test_data_set_0")):
        return main, "no test_data_set_0"
    return main, None


def to_bin(pb, out):
    t = onnx.TensorProto()
    with open(pb, "rb") as f:
        t.ParseFromString(f.read())
    a = numpy_helper.to_array(t)
    if a.dtype == np.bool_:
        a = a.astype(np.uint8)
    np.ascontiguousarray(a).tofile(out)


# Inputs that tinyml needs as constants (shapes, axes, pads, bounds: tm takes them as
# attributes) but the node tests feed at run time: the runner freezes their test data
# into initializers, as a model exporter would.  op type -> input positions.
FREEZE = {
    "Reshape": {1}, "Slice": {1, 2, 3, 4}, "Pad": {1, 2, 3}, "Squeeze": {1}, "Unsqueeze": {1},
    "ReduceMean": {1}, "Clip": {1, 2}, "Dropout": {1, 2}, "QuantizeLinear": {1, 2}, "DequantizeLinear": {1, 2},
    # quantization parameters, and the weights of the convolutions
    "QLinearConv": {1, 2, 3, 4, 5, 6, 7, 8}, "QLinearMatMul": {1, 2, 4, 5, 6, 7}, "ConvInteger": {1, 2, 3},
    "MatMulInteger": {2, 3},
}


def freeze(test_dir, tmp, name, ds, input_pbs):
    """(model path, input .pb files still fed at run time, frozen input names)."""
    model = onnx.load(os.path.join(test_dir, "model.onnx"))
    frozen = set()
    for n in model.graph.node:
        for k in FREEZE.get(n.op_type, ()):
            if k < len(n.input) and n.input[k]:
                frozen.add(n.input[k])
    init_names = {i.name for i in model.graph.initializer}
    graph_inputs = [i for i in model.graph.input if i.name not in init_names]
    frozen &= {i.name for i in graph_inputs}
    if not frozen:
        return os.path.join(test_dir, "model.onnx"), input_pbs, []
    keep_inputs, keep_pbs = [], []
    for vi, pb in zip(graph_inputs, input_pbs):
        if vi.name in frozen:
            t = onnx.TensorProto()
            with open(os.path.join(ds, pb), "rb") as f:
                t.ParseFromString(f.read())
            t.name = vi.name
            model.graph.initializer.append(t)
        else:
            keep_inputs.append(vi)
            keep_pbs.append(pb)
    del model.graph.input[:]
    model.graph.input.extend(keep_inputs)
    path = os.path.join(tmp, name + ".onnx")
    onnx.save(model, path)
    return path, keep_pbs, sorted(frozen)


def run_one(tinyml_run, test_dir, tmp):
    ds = os.path.join(test_dir, "test_data_set_0")
    name = os.path.basename(test_dir)
    files = sorted(os.listdir(ds))
    pbs_of = {kind: sorted((f for f in files if f.startswith(kind) and f.endswith(".pb")),
                           key=lambda f: int(f[len(kind):-3])) for kind in ("input_", "output_")}
    try:
        model, pbs_of["input_"], frozen = freeze(test_dir, tmp, name, ds, pbs_of["input_"])
    except Exception as e:
        return False, "cannot freeze constant inputs: %s" % e
    args = [tinyml_run, model]
    for kind, flag in (("input_", "--input"), ("output_", "--compare")):
        for f in pbs_of[kind]:
            out = os.path.join(tmp, "%s_%s.bin" % (name, f[:-3]))
            try:
                to_bin(os.path.join(ds, f), out)
            except Exception as e:  # sequences, optionals: not tensors
                return False, "cannot read %s as a tensor: %s" % (f, e)
            args += [flag, out]
    try:
        p = subprocess.run(args, capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        return False, "timeout"
    text = (p.stdout + p.stderr).strip()
    first_error = next((l for l in text.splitlines() if "error" in l or "MISMATCH" in l), text[-300:])
    return p.returncode == 0, first_error


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tinyml-run", required=True)
    ap.add_argument("--data", default="/usr/share/libonnx-testdata/data/node")
    ap.add_argument("-j", type=int, default=2)
    ap.add_argument("--filter", default="")
    ap.add_argument("--min-pass-rate", type=float, default=95.0)
    ap.add_argument("-v", action="store_true", help="print every result")
    a = ap.parse_args()

    tests = sorted(d for d in os.listdir(a.data) if d.startswith("test_") and a.filter in d)
    applicable, skipped = [], []
    for t in tests:
        main_op, reason = classify(os.path.join(a.data, t))
        if reason and not reason.startswith("applicable"):
            skipped.append((t, reason))
        else:
            applicable.append((t, main_op, reason))

    results = {}
    with tempfile.TemporaryDirectory() as tmp, concurrent.futures.ThreadPoolExecutor(a.j) as ex:
        futs = {}
        for t, op, reason in applicable:
            if reason:
                results[t] = (op, False, reason)
            else:
                futs[ex.submit(run_one, a.tinyml_run, os.path.join(a.data, t), tmp)] = (t, op)
        for f in concurrent.futures.as_completed(futs):
            t, op = futs[f]
            ok, msg = f.result()
            results[t] = (op, ok, msg)
            if a.v:
                print("%s %s %s" % ("PASS" if ok else "FAIL", t, "" if ok else msg), flush=True)

    per_op = collections.defaultdict(lambda: [0, 0])
    for t, (op, ok, _) in results.items():
        per_op[op][1] += 1
        per_op[op][0] += ok
    print("\n== pass count per operator ==")
    for op in sorted(per_op):
        print("  %-22s %3d / %3d" % (op, per_op[op][0], per_op[op][1]))
    fails = sorted((t, m) for t, (_, ok, m) in results.items() if not ok)
    print("\n== failures (%d) ==" % len(fails))
    for t, m in fails:
        print("  %s: %s" % (t, m))
    print("\n== skipped (%d): operators outside the list, training mode, non-tensor values ==" % len(skipped))
    for t, r in skipped:
        print("  %s: %s" % (t, r))
    npass = sum(ok for _, ok, _ in results.values())
    rate = 100.0 * npass / len(results) if results else 0.0
    print("\nTOTAL: %d / %d applicable node tests pass (%.1f %%); %d skipped" % (npass, len(results), rate, len(skipped)))
    return 0 if rate >= a.min_pass_rate else 1


if __name__ == "__main__":
    sys.exit(main())
