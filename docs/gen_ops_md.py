#!/usr/bin/env python3
"""Regenerates the generated blocks of docs/ops.md from ir/ops.def.

ir/ops.def is the single source of the tm dialect's op list: the registry is expanded
from it in C, and this script writes each op's reference block (operands, results,
traits, hooks, attributes with kinds and defaults) into docs/ops.md between

    <!-- BEGIN GENERATED tm.<op> -->  ...  <!-- END GENERATED tm.<op> -->

plus the op index between <!-- BEGIN GENERATED index --> and its END marker.  The prose
around the blocks (shape rules, quantized arithmetic) is written by hand.

    gen_ops_md.py            rewrite docs/ops.md in place
    gen_ops_md.py --check    exit 1 if docs/ops.md is out of date (a lit test runs this)
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OPS_DEF = os.path.join(ROOT, "ir", "ops.def")
OPS_MD = os.path.join(ROOT, "docs", "ops.md")

KINDS = {"DENSE": "dense", "STRING": "string", "INT": "integer", "FLOAT": "float", "BOOL": "bool",
         "INT_ARRAY": "integer array", "ARRAY": "array", "TYPE": "type"}
TRAITS = {"PURE": "Pure", "COMMUTATIVE": "Commutative", "ELEMENTWISE": "Elementwise",
          "CONSTANT": "ConstantLike"}


def split_args(text):
    """Top-level comma split, respecting parentheses and string literals."""
    args, depth, cur, i = [], 0, "", 0
    while i < len(text):
        c = text[i]
        if c == '"':
            j = i + 1
            while text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            cur += text[i:j + 1]
            i = j + 1
            continue
        if c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        if c == "," and depth == 0:
            args.append(cur.strip())
            cur = ""
        else:
            cur += c
        i += 1
    args.append(cur.strip())
    return args


def c_string(text):
    """Concatenated C string literals -> their value."""
    parts = re.findall(r'"((?:[^"\\]|\\.)*)"', text)
    return "".join(re.sub(r"\\(.)", r"\1", p) for p in parts)


def macro_calls(src, name):
    """Argument texts of every `name(...)` in src."""
    out = []
    for m in re.finditer(r"\b%s\(" % name, src):
        i, depth = m.end(), 1
        j = i
        while depth:
            c = src[j]
            if c == '"':
                j += 1
                while src[j] != '"':
                    j += 2 if src[j] == "\\" else 1
            elif c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
            j += 1
        out.append(src[i:j - 1])
    return out


def parse(path):
    src = open(path).read()
    src = re.sub(r"/\*.*?\*/", "", src, flags=re.S)
    src = src.replace("\\\n", " ")
    attrs = {}
    for line in src.splitlines():
        m = re.match(r"#define TM_ATTR_(\w+) TM_ATTR\((.*)\)\s*$", line)
        if m:
            name, kind, req, dflt, doc = split_args(m.group(2))
            attrs[name] = {"kind": KINDS[kind], "required": req == "REQUIRED",
                           "default": None if dflt == "NULL" else c_string(dflt), "doc": c_string(doc)}
    ops = []
    for call in macro_calls(src, "TM_OP"):
        a = split_args(call)
        if len(a) != 13:
            sys.exit("gen_ops_md: a TM_OP in ir/ops.def has %d fields, not 13: %s" % (len(a), call[:60]))
        name, mn, mx, res, traits, attrlist, verify, infer, fold, macs, pats, operands, summary = a
        names = [x.strip() for x in attrlist[len("ATTRS("):-1].split(",") if x.strip()]
        ops.append({"name": "tm." + name, "min": int(mn), "max": int(mx), "results": int(res),
                    "traits": [TRAITS[t.strip()] for t in traits.split("|")], "attrs": names,
                    "fold": fold != "NO_FOLD", "patterns": pats != "NO_PATTERNS",
                    "operands": c_string(operands), "summary": c_string(summary)})
    return attrs, ops


def operand_list(op):
    out = []
    for o in [x.strip() for x in op["operands"].split(",") if x.strip()]:
        if o.endswith("?"):
            out.append("`%s` (optional)" % o[:-1])
        elif o.endswith("..."):
            out.append("`%s` (variadic, at least %d)" % (o[:-3], op["min"]))
        else:
            out.append("`%s`" % o)
    return ", ".join(out) if out else "none"


def op_block(op, attrs):
    lines = ["### `%s`" % op["name"], "", op["summary"] + ".", "",
             "| | |", "|---|---|",
             "| Operands | %s |" % operand_list(op),
             "| Results | %d |" % op["results"],
             "| Traits | %s |" % ", ".join(op["traits"])]
    hooks = ["verifier", "shape inference", "cost"]
    if op["fold"]:
        hooks.append("fold")
    if op["patterns"]:
        hooks.append("canonicalization patterns")
    lines.append("| Hooks | %s |" % ", ".join(hooks))
    if op["attrs"]:
        lines += ["", "| Attribute | Kind | Default | Meaning |", "|---|---|---|---|"]
        for n in op["attrs"]:
            a = attrs[n]
            dflt = "required" if a["required"] else "`%s`" % a["default"]
            lines.append("| `%s` | %s | %s | %s |" % (n, a["kind"], dflt, a["doc"].replace("|", "\\|")))
    else:
        lines += ["", "No attributes."]
    return "\n".join(lines)


def index_block(ops):
    lines = ["| Op | Summary |", "|---|---|"]
    for op in ops:
        anchor = op["name"].replace(".", "")
        lines.append("| [`%s`](#%s) | %s |" % (op["name"], anchor, op["summary"]))
    return "\n".join(lines)


def render(md, attrs, ops):
    blocks = {"index": index_block(ops)}
    for op in ops:
        blocks[op["name"]] = op_block(op, attrs)
    errors = []
    seen = set()

    def repl(m):
        key = m.group(1)
        seen.add(key)
        if key not in blocks:
            errors.append("docs/ops.md documents '%s', which ir/ops.def does not define" % key)
            return m.group(0)
        return "<!-- BEGIN GENERATED %s -->\n%s\n<!-- END GENERATED %s -->" % (key, blocks[key], key)

    out = re.sub(r"<!-- BEGIN GENERATED (\S+) -->\n.*?<!-- END GENERATED \1 -->", repl, md, flags=re.S)
    for key in blocks:
        if key not in seen:
            errors.append("docs/ops.md has no section for '%s' (add its BEGIN/END GENERATED markers)" % key)
    return out, errors


def main():
    check = "--check" in sys.argv[1:]
    attrs, ops = parse(OPS_DEF)
    md = open(OPS_MD).read()
    out, errors = render(md, attrs, ops)
    for e in errors:
        sys.stderr.write("gen_ops_md: %s\n" % e)
    if check:
        if out != md:
            sys.stderr.write("gen_ops_md: docs/ops.md is out of date with ir/ops.def; run docs/gen_ops_md.py\n")
            return 1
        return 1 if errors else 0
    if out != md:
        open(OPS_MD, "w").write(out)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
