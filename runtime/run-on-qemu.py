#!/usr/bin/env python3
"""Builds a generated model for an emulated board, runs it under QEMU, checks its outputs
against golden data and measures it.

  run-on-qemu.py --target cortex-m4 --model DIR/kws.c --golden ../shared/models/kws_int8
  run-on-qemu.py --target rv32imc --model DIR/kws.a  --golden ...   (an LLVM-backend archive)
  run-on-qemu.py --target cortex-m4 --calibrate [--runs 2]
  run-on-qemu.py --list-targets

The model is NAME.c (compiled with the cross compiler), or NAME.o / NAME.a (linked as is),
with NAME.h beside it (the contract of backends/: NAME_ARENA_BYTES, NAME_NUM_INPUTS,
NAME_INPUTi_BYTES, NAME_invoke).  Golden data: for case c, in{c}.bin / out{c}.bin hold input 0
and output 0 (the layout of ../shared/models); a model with several inputs or outputs reads
in{c}_{i}.bin / out{c}_{o}.bin.  Float32 outputs (seen in NAME.h's type comments, in the
golden directory's info.txt, or given with --float-outputs) are compared with the tolerance
max|diff| <= 1e-5 max|ref| + 1e-6, everything else byte for byte.

Prints runtime/harness.c's line and then one summary line
  model=M target=T instructions=I flash_bytes=F model_flash_bytes=MF ram_bytes=R arena_bytes=A
  stack_bytes=S data_bss_bytes=D bitexact=0|1 ok=0|1
(flash: the ELF's allocated sections but the embedded test data, i.e. code + constants +
.data image, libc and harness included; model flash: the part of those the model's own
object takes in the link, its code and constants, what it adds to a firmware; ram: .data + .bss (arena and I/O buffers included;
a header with NAME_INPUTi_OFFSET has its inputs and outputs in the arena, no buffers)
+ the measured call's stack high-water mark).  --json FILE writes the same as JSON.

Exit status: 0 pass, 1 wrong output / failed run / bad calibration, 2 bad usage or build
error, 77 when the target's cross compiler or QEMU is missing (CTest's skip code).
"""
import argparse
import ast
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

RUNTIME = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(RUNTIME)
SKIP = 77
FIELDS = ("target", "arch", "qemu", "machine", "qemu_cpu", "cflags", "ldscript", "counter_hz")
TOOLS = {"arm": "arm-none-eabi-", "riscv": "riscv64-unknown-elf-"}
# The flags every build uses; -O2 as the TFLite Micro baseline's kernels.
COMMON_CFLAGS = ["-O2", "-g", "-ffunction-sections", "-fdata-sections", "--specs=picolibc.specs"]
WARN = ["-Wall", "-Wextra", "-Werror"]


class Failure(Exception):
    def __init__(self, message, status=1):
        super().__init__(message)
        self.status = status


def load_boards():
    """The BOARD(...) entries of boards.def, as dicts keyed by target name."""
    text = open(os.path.join(RUNTIME, "boards.def")).read()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    boards = {}
    for m in re.finditer(r"BOARD\((.*?)\)\s*$", text, flags=re.S | re.M):
        values = ast.literal_eval("(" + " ".join(m.group(1).split()) + ")")
        board = dict(zip(FIELDS, values))
        boards[board["target"]] = board
    return boards


def missing_tools(board):
    tools = [TOOLS[board["arch"]] + t for t in ("gcc", "readelf", "nm")] + [board["qemu"]]
    missing = [t for t in tools if not shutil.which(t)]
    if not missing:
        specs = run([TOOLS[board["arch"]] + "gcc", "-print-file-name=picolibc.specs"], check=False)
        if not os.path.isabs(specs.stdout.strip()):
            missing.append("picolibc (%s)" % ("picolibc-arm-none-eabi" if board["arch"] == "arm"
                                              else "picolibc-riscv64-unknown-elf"))
    return missing


def run(cmd, check=True, timeout=None, verbose=False):
    if verbose:
        print("+ " + " ".join(cmd), file=sys.stderr)
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           universal_newlines=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        raise Failure("timed out after %s s: %s\n%s" % (timeout, " ".join(cmd), out))
    if check and p.returncode != 0:
        raise Failure("command failed (%d): %s\n%s" % (p.returncode, " ".join(cmd), p.stdout), 2)
    return p


def board_cflags(board):
    return board["cflags"].split() + COMMON_CFLAGS + ["-I" + REPO, "-DTM_COUNTER_HZ=%d" % board["counter_hz"]]


def runtime_sources(board):
    start = "arm/startup.c" if board["arch"] == "arm" else "riscv/start.S"
    return [os.path.join(RUNTIME, f) for f in ("crt.c", "semihost.c", start)]


def link(board, objects, elf, args):
    gcc = TOOLS[board["arch"]] + "gcc"
    cmd = [gcc] + board_cflags(board) + ["-nostartfiles", "-L" + RUNTIME, "-T" + os.path.join(RUNTIME, board["ldscript"]),
                                         "-Wl,--gc-sections", "-Wl,-Map=" + elf + ".map", "-o", elf]
    cmd += ["-Wl,--defsym=__stack_size=%d" % args.stack_size] if args.stack_size else []
    run(cmd + objects + ["-lm"], verbose=args.verbose)


def compile_c(board, src, obj, args, extra=(), warn=True):
    gcc = TOOLS[board["arch"]] + "gcc"
    cmd = [gcc] + board_cflags(board) + (WARN if warn else []) + list(extra) + ["-c", src, "-o", obj]
    run(cmd, verbose=args.verbose)
    return obj


def qemu_command(board, elf):
    cmd = [board["qemu"], "-M", board["machine"]]
    if board["qemu_cpu"]:
        cmd += ["-cpu", board["qemu_cpu"]]
    if board["arch"] == "riscv":
        cmd += ["-bios", "none"]
    return cmd + ["-nographic", "-monitor", "none", "-semihosting", "-icount", "shift=0", "-kernel", elf]


def run_qemu(board, elf, args):
    p = run(qemu_command(board, elf), check=False, timeout=args.timeout, verbose=args.verbose)
    return p.returncode, p.stdout


def parse_line(output, prefix):
    for line in output.splitlines():
        if line.startswith(prefix):
            return dict(kv.split("=", 1) for kv in line[len(prefix):].split() if "=" in kv), line
    return None, None


# --------------------------------------------------------------------------- model runs

def header_info(header, name):
    """NAME_* macros of the model header, and per output whether its type comment says f32."""
    text = open(header).read()
    macros = {m.group(1): int(m.group(2)) for m in
              re.finditer(r"#define\s+%s_(\w+)\s+\(?(-?\d+)" % re.escape(name), text)}
    for key in ("NUM_INPUTS", "NUM_OUTPUTS", "ARENA_BYTES"):
        if key not in macros:
            raise Failure("%s does not define %s_%s" % (header, name, key), 2)
    f32 = {}
    for m in re.finditer(r"#define\s+%s_OUTPUT(\d+)_BYTES[^\n]*?/\*(.*?)\*/" % re.escape(name), text):
        f32[int(m.group(1))] = bool(re.search(r"x?f32>", m.group(2)))
    return macros, f32


def info_float_outputs(golden):
    """Output indices info.txt (../shared/models) declares FLOAT32."""
    path = os.path.join(golden, "info.txt")
    if not os.path.exists(path):
        return set()
    return {int(m.group(1)) for m in re.finditer(r"^output\[(\d+)\]: type=FLOAT32", open(path).read(), re.M)}


def golden_files(golden, kind, case, index, count):
    return os.path.join(golden, "%s%d.bin" % (kind, case) if count == 1 else "%s%d_%d.bin" % (kind, case, index))


def c_bytes(data):
    rows = [", ".join("%d" % b for b in data[i:i + 24]) for i in range(0, len(data), 24)]
    return "{\n  " + ",\n  ".join(rows) + "\n}" if rows else "{0}"


def write_data_file(path, name, header, target, macros, float_outputs, golden, cases):
    nin, nout = macros["NUM_INPUTS"], macros["NUM_OUTPUTS"]
    out = ["/* Generated by runtime/run-on-qemu.py from %s: test data for runtime/harness.c. */" % golden,
           "#include \"runtime/harness.h\"", "#include \"%s\"" % os.path.basename(header), ""]
    out.append("_Static_assert(%s_NUM_INPUTS == %d && %s_NUM_OUTPUTS == %d, \"the model's I/O count changed\");"
               % (name, nin, name, nout))
    out.append("const char tm_model_name[] = \"%s\", tm_target_name[] = \"%s\";" % (name, target))
    out.append("const uint32_t tm_num_cases = %d, tm_num_inputs = %d, tm_num_outputs = %d;" % (cases, nin, nout))
    lists = {"in": [], "out": []}
    for kind, count, key in (("in", nin, "INPUT"), ("out", nout, "OUTPUT")):
        tensors = []
        for i in range(count):
            size = macros.get("%s%d_BYTES" % (key, i))
            if size is None:
                raise Failure("the model header does not define %s_%s%d_BYTES" % (name, key, i), 2)
            f32 = int(kind == "out" and i in float_outputs)
            if "%s%d_OFFSET" % (key, i) in macros:  # in the arena: no buffer of its own
                tensors.append("{0, %s_%s%d_BYTES, %d, %s_%s%d_OFFSET}" % (name, key, i, f32, name, key, i))
            else:
                out.append("static unsigned char %s_buf%d[%d] __attribute__((aligned(16)));" % (kind, i, max(size, 1)))
                tensors.append("{%s_buf%d, %s_%s%d_BYTES, %d, -1}" % (kind, i, name, key, i, f32))
            for c in range(cases):
                bin_path = golden_files(golden, kind, c, i, count)
                data = open(bin_path, "rb").read()
                if len(data) != size:
                    raise Failure("%s has %d bytes, %s_%s%d_BYTES is %d" % (bin_path, len(data), name, key, i, size), 2)
                out.append("static const unsigned char %s%d_%d[%d] TM_TESTDATA = %s;"
                           % (kind, c, i, max(size, 1), c_bytes(data)))
        out.append("const tm_tensor tm_%sputs[] = {%s};" % (kind, ", ".join(tensors) or "{0, 0, 0, -1}"))
        lists[kind] = ["%s%d_%d" % (kind, c, i) for c in range(cases) for i in range(count)]
    out.append("const unsigned char *const tm_case_inputs[] = {%s};" % (", ".join(lists["in"]) or "0"))
    out.append("const unsigned char *const tm_case_outputs[] = {%s};" % (", ".join(lists["out"]) or "0"))
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def count_cases(golden, nin):
    cases = 0
    while os.path.exists(golden_files(golden, "in", cases, 0, nin)):
        cases += 1
    return cases


def model_flash(map_path, model, flash_sections):
    """Bytes of the link map's input sections from the model's object (an archive member
    or the object itself) placed in the flash output sections."""
    total, out, in_map, pending = 0, None, False, False
    for line in open(map_path):
        if line.startswith("Linker script and memory map"):
            in_map = True
            continue
        if not in_map:
            continue
        head = re.match(r"(\.\S+)", line)
        if head:
            out = head.group(1)
        entry = re.match(r"\s+(\S+)?\s*0x[0-9a-f]+\s+0x([0-9a-f]+)\s+(\S+)\s*$", line)
        if entry and (entry.group(1) or pending) and out in flash_sections:
            path = entry.group(3)
            if path == model or path.startswith(model + "("):
                total += int(entry.group(2), 16)
        # an input section whose name fills its line: address, size and file on the next
        pending = bool(re.match(r"\s+\.\S+\s*$", line))
    return total


def elf_sizes(board, elf):
    """flash: allocated, loaded sections but the test data; data_bss: the RAM image;
    the names of the flash sections."""
    prefix = TOOLS[board["arch"]]
    flash, sections = 0, set()
    for line in run([prefix + "readelf", "-SW", elf]).stdout.splitlines():
        m = re.match(r"\s*\[\s*\d+\]\s+(\S+)\s+(\S+)\s+[0-9a-f]+\s+[0-9a-f]+\s+([0-9a-f]+)\s+\S+\s+([A-Za-z]*)", line)
        if m and m.group(2) != "NOBITS" and "A" in m.group(4) and m.group(1) != ".tm_testdata":
            flash += int(m.group(3), 16)
            sections.add(m.group(1))
    syms = {}
    for line in run([prefix + "nm", elf]).stdout.splitlines():
        parts = line.split()
        if len(parts) == 3:
            syms[parts[2]] = int(parts[0], 16)
    return flash, syms["__bss_end"] - syms["__data_start"], sections


def run_model(board, args, work):
    model = os.path.abspath(args.model)
    base, ext = os.path.splitext(model)
    name = args.name or os.path.basename(base)
    header = os.path.abspath(args.header or base + ".h")
    if ext not in (".c", ".o", ".a"):
        raise Failure("--model must be NAME.c, NAME.o or NAME.a", 2)
    for path in (model, header):
        if not os.path.exists(path):
            raise Failure("no such file: " + path, 2)
    macros, header_f32 = header_info(header, name)
    golden = os.path.abspath(args.golden)
    cases = count_cases(golden, macros["NUM_INPUTS"])
    if args.cases:
        cases = min(cases, args.cases)
    if cases == 0:
        raise Failure("no golden cases (%s) in %s" % (os.path.basename(golden_files(golden, "in", 0, 0, macros["NUM_INPUTS"])),
                                                      golden), 2)
    float_outputs = {o for o, f in header_f32.items() if f} | info_float_outputs(golden) | set(args.float_outputs)

    data_c = os.path.join(work, "tm_data.c")
    write_data_file(data_c, name, header, board["target"], macros, float_outputs, golden, cases)
    inc = ["-I" + os.path.dirname(header)]
    objects = [compile_c(board, data_c, os.path.join(work, "tm_data.o"), args, inc),
               compile_c(board, os.path.join(RUNTIME, "harness.c"), os.path.join(work, "harness.o"), args,
                         inc + ["-DMODEL=" + name, "-DMODEL_HEADER=" + os.path.basename(header)])]
    objects += [compile_c(board, src, os.path.join(work, os.path.basename(src) + ".o"), args)
                for src in runtime_sources(board)]
    if ext == ".c":
        objects.append(compile_c(board, model, os.path.join(work, name + ".o"), args, inc + args.model_cflags,
                                 warn=not args.no_werror))
    else:
        objects.append(model)
    elf = os.path.join(work, "%s-%s.elf" % (name, board["target"]))
    link(board, objects, elf, args)
    flash, data_bss, sections = elf_sizes(board, elf)

    status, output = run_qemu(board, elf, args)
    result, line = parse_line(output, "tinyml: model=")
    sys.stdout.write(output if args.verbose or not result or status else line + "\n")
    if not result:
        raise Failure("%s on %s: no result line (exit status %d)" % (name, board["target"], status))
    summary = {
        "model": name, "target": board["target"], "instructions": int(result["instructions"]),
        "flash_bytes": flash, "model_flash_bytes": model_flash(elf + ".map", objects[-1], sections), "ram_bytes": data_bss + int(result["stack_bytes"]),
        "arena_bytes": int(result["arena_bytes"]), "stack_bytes": int(result["stack_bytes"]),
        "data_bss_bytes": data_bss, "bitexact": int(result["bitexact"]), "ok": int(result["ok"]),
        "cases": int(result["cases"]),
    }
    print(" ".join("%s=%s" % (k, v) for k, v in summary.items()))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=1)
    if status != 0 or not summary["ok"] or int(result["stack_overflow"]):
        raise Failure("%s on %s: %s" % (name, board["target"], "stack overflow" if int(result["stack_overflow"])
                                         else "outputs differ from the golden data" if not summary["ok"]
                                         else "exit status %d" % status))


# --------------------------------------------------------------------------- calibration

def calibrate(board, args, work):
    extra = ["-DTM_TARGET=\"%s\"" % board["target"], "-DTM_CALIB_N=%du" % args.n]
    if args.reload:
        extra.append("-DTM_SYSTICK_RELOAD=%su" % args.reload)
    objects = [compile_c(board, os.path.join(RUNTIME, "calibrate.c"), os.path.join(work, "calibrate.o"), args, extra)]
    objects += [compile_c(board, src, os.path.join(work, os.path.basename(src) + ".o"), args)
                for src in runtime_sources(board)]
    elf = os.path.join(work, "calibrate-%s.elf" % board["target"])
    link(board, objects, elf, args)
    lines = []
    for _ in range(args.runs):
        status, output = run_qemu(board, elf, args)
        result, line = parse_line(output, "tinyml: calibrate ")
        if status != 0 or not result:
            raise Failure("calibration run failed (exit status %d):\n%s" % (status, output))
        lines.append(line)
        print(line)
    if len(set(lines)) != 1:
        raise Failure("the count differs from run to run")
    expected, got, wraps = int(result["expected"]), int(result["instructions"]), int(result["wraps"])
    if board["counter_hz"]:
        # One SysTick tick of quantization, plus the wrap handler's few instructions per wrap.
        tick = -(-10**9 // board["counter_hz"])
        ok, rule = abs(got - expected) <= tick + 8 * wraps, "within +-%d + 8 per wrap" % tick
    else:
        ok, rule = got == expected, "exactly"
    print("calibration %s: %s counted %d instructions for a loop of %d (%s, error %+d)"
          % ("ok" if ok else "FAILED", board["target"], got, expected, rule, got - expected))
    if not ok:
        raise Failure("calibration is off")


# --------------------------------------------------------------------------- driver

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--target", help="a target of runtime/boards.def")
    ap.add_argument("--model", help="NAME.c, NAME.o or NAME.a, with NAME.h beside it")
    ap.add_argument("--header", help="the model header, if not beside the model")
    ap.add_argument("--name", help="the model's C name (default: the file's base name)")
    ap.add_argument("--golden", help="directory of in{c}.bin / out{c}.bin")
    ap.add_argument("--cases", type=int, default=0, help="use at most this many golden cases")
    ap.add_argument("--float-outputs", type=int, nargs="*", default=[], metavar="O",
                    help="compare these outputs as float32 with the tolerance")
    ap.add_argument("--model-cflags", default=[], type=str.split, help="extra flags for NAME.c")
    ap.add_argument("--no-werror", action="store_true", help="compile NAME.c without -Wall -Wextra -Werror")
    ap.add_argument("--stack-size", type=int, default=0, help="bytes of stack (default: sections.ld's 64 kB)")
    ap.add_argument("--calibrate", action="store_true", help="check the instruction counter")
    ap.add_argument("--n", type=int, default=100000000, help="calibration loop iterations (2n+1 instructions)")
    ap.add_argument("--reload", help="calibration: SysTick reload value, to exercise the wrap count")
    ap.add_argument("--runs", type=int, default=1, help="calibration: runs that must agree")
    ap.add_argument("--timeout", type=float, default=30, help="seconds per QEMU run")
    ap.add_argument("--work", help="build directory (default: a temporary one, removed)")
    ap.add_argument("--json", help="write the summary to this file")
    ap.add_argument("--list-targets", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true", help="print commands and the whole output")
    args = ap.parse_args()

    boards = load_boards()
    if args.list_targets:
        for b in boards.values():
            print("%-14s %-20s %-11s %s" % (b["target"], b["qemu"], b["machine"], b["cflags"]))
        return 0
    if args.target not in boards:
        ap.error("--target must be one of: " + ", ".join(boards))
    if not args.calibrate and not (args.model and args.golden):
        ap.error("give --model and --golden, or --calibrate")
    board = boards[args.target]
    missing = missing_tools(board)
    if missing:
        print("skipped: %s needs %s" % (args.target, ", ".join(missing)))
        return SKIP

    work = os.path.abspath(args.work) if args.work else tempfile.mkdtemp(prefix="tinyml-qemu-")
    os.makedirs(work, exist_ok=True)
    try:
        (calibrate if args.calibrate else run_model)(board, args, work)
        return 0
    except Failure as e:
        print("run-on-qemu: error: %s" % e, file=sys.stderr)
        return e.status
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
