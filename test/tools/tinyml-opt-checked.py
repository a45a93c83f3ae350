#!/usr/bin/env python3
"""Runs tinyml-opt as lit asked, and checks the printed IR on the way out.

lit substitutes every `tinyml-opt` in a RUN line with this script, so every lit test's
output is checked for two promises of the textual format:
  1. printing is canonical: re-parsing the output with tinyml-opt prints identical text;
  2. the output is valid MLIR: `mlir-opt-19 --allow-unregistered-dialect` accepts it.
Output that is not IR (diagnostics runs, listings, -o files) is passed through unchecked.
The tool's own stdout, stderr and exit code are passed through unchanged.
"""
import os
import subprocess
import sys

NOT_IR_FLAGS = ("--verify-diagnostics", "--list-passes", "--list-pipelines", "--list-ops", "--help", "-h",
                "--version", "--emit")


def fail(msg, text):
    sys.stderr.write("tinyml-opt-checked: %s\n--- output was ---\n%s\n" % (msg, text))
    sys.exit(99)


def main():
    tool, mlir_opt, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    run = subprocess.run([tool] + args, stdin=sys.stdin.buffer, capture_output=True)
    sys.stderr.buffer.write(run.stderr)
    sys.stdout.buffer.write(run.stdout)
    sys.stdout.flush()
    out = run.stdout.decode("utf-8", "replace")
    checked = (run.returncode == 0 and out.strip() and "-o" not in args
               and not any(a.split("=")[0] in NOT_IR_FLAGS for a in args))
    if not checked:
        sys.exit(run.returncode)

    split = ["--split-input-file"] if "--split-input-file" in args else []
    extra = [a for a in args if a in ("--allow-unregistered-dialect", "--print-locations",
                                      "--mlir-print-debuginfo", "--print-op-generic",
                                      "--mlir-print-op-generic")]
    again = subprocess.run([tool, "-"] + split + extra, input=run.stdout, capture_output=True)
    if again.returncode != 0:
        fail("output does not re-parse:\n" + again.stderr.decode("utf-8", "replace"), out)
    if again.stdout != run.stdout:
        fail("printing is not canonical; re-parsed output differs:\n"
             + again.stdout.decode("utf-8", "replace"), out)
    if mlir_opt and mlir_opt != "false":
        mlir = subprocess.run([mlir_opt, "--allow-unregistered-dialect", "-"] + split,
                              input=run.stdout, capture_output=True)
        if mlir.returncode != 0:
            fail("mlir-opt rejects the output:\n" + mlir.stderr.decode("utf-8", "replace"), out)
    sys.exit(0)


if __name__ == "__main__":
    main()
