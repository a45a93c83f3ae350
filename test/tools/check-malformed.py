#!/usr/bin/env python3
"""Every malformed input in the lit suite, run on its own, must fail cleanly.

The suite's error tests (--verify-diagnostics with expected-error comments) check the
messages; this check runs each of their `// -----` chunks alone through tinyml-opt, the
way a user would, and requires exit code 1 with a located first line
`FILE:LINE:COL: error: ...`, and no crash (a signal or a sanitizer report).
Usage: check-malformed.py TINYML_OPT TEST_DIR
"""
import glob
import os
import re
import shlex
import subprocess
import sys
import tempfile


def run_flags(text):
    """Flags of the file's --verify-diagnostics RUN line, minus the verification ones."""
    for line in text.splitlines():
        m = re.match(r"//\s*RUN:\s*tinyml-opt\s+%s\s+(.*)$", line)
        if m and "--verify-diagnostics" in m.group(1) and "|" not in m.group(1):
            return [a for a in shlex.split(m.group(1))
                    if a not in ("--verify-diagnostics", "--split-input-file")]
    return None


def main():
    tool, test_dir = sys.argv[1], sys.argv[2]
    checked, failures = 0, []
    for path in sorted(glob.glob(os.path.join(test_dir, "**", "*.tir"), recursive=True)):
        text = open(path, encoding="utf-8", errors="replace").read()
        flags = run_flags(text)
        if flags is None:
            continue
        for i, chunk in enumerate(text.split("\n// -----\n")):
            if not re.search(r"expected-error", chunk):
                continue
            with tempfile.NamedTemporaryFile("w", suffix=".tir", delete=False) as f:
                f.write(chunk)
            try:
                r = subprocess.run([tool, f.name] + flags, capture_output=True, text=True,
                                   errors="replace", timeout=20)
                first = r.stderr.splitlines()[0] if r.stderr else ""
                located = re.match(re.escape(f.name) + r":\d+:\d+: error: ", first)
                if r.returncode != 1 or not located or "Sanitizer" in r.stderr:
                    failures.append("%s chunk %d: exit %d, stderr: %s" % (
                        path, i, r.returncode, r.stderr[:300]))
            finally:
                os.unlink(f.name)
            checked += 1
    for f in failures:
        print("FAIL:", f)
    print("malformed inputs: %d checked, %d failed" % (checked, len(failures)))
    print("%d passed, %d failed" % (checked - len(failures), len(failures)))
    sys.exit(1 if failures or checked < 30 else 0)


if __name__ == "__main__":
    main()
