#!/usr/bin/env python3
"""Writes hostile .tflite files, and optionally checks that tinyml-opt rejects each cleanly.

Every file is a variant of one tiny valid model built here byte by byte (a hand-rolled
flatbuffer writer, no TensorFlow needed): truncated or corrupted flatbuffers, indices out
of range, graphs with cycles, unsupported operators, shapes and quantization TFLite would
reject.  Valid models are written too: valid.tflite (the base), valid-names.tflite (names
a printer must escape), valid-ops.tflite (every operator the importer maps) and
valid-two-subgraphs.tflite (an unused second subgraph).

  make-hostile-tflite.py OUTDIR                  write the files
  make-hostile-tflite.py OUTDIR --check TOOL     also run TOOL (tinyml-opt) on each hostile
                                                 file: it must exit with 1 and print
                                                 "error: <expected text>", never crash.
With --check, one line per file ("NAME: <first error line>") goes to stdout for FileCheck,
and the exit status is 1 if any file misbehaved.
"""
import os
import struct
import subprocess
import sys

# TensorType, BuiltinOperator and BuiltinOptions codes of tensorflow/lite/schema/schema.fbs.
F32, I32, U8, I64, STRING, BOOL, I16, COMPLEX64, I8 = 0, 2, 3, 4, 5, 6, 7, 8, 9
ADD, CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, RELU, RESHAPE, SOFTMAX = 0, 3, 4, 9, 19, 22, 25
CUSTOM, PAD, GATHER, TRANSPOSE, STRIDED_SLICE = 32, 34, 36, 39, 45
AVERAGE_POOL_2D, CONCATENATION, LOGISTIC, MAX_POOL_2D, MUL, RELU6, TANH = 1, 2, 14, 17, 18, 21, 28
MEAN, SUB, SQUEEZE, MAXIMUM, MINIMUM, TRANSPOSE_CONV, EXPAND_DIMS = 40, 41, 43, 55, 57, 67, 70
LEAKY_RELU, QUANTIZE, DEQUANTIZE, HARD_SWISH, BATCH_MATMUL = 98, 114, 6, 117, 126
OPT_CONV, OPT_DEPTHWISE, OPT_POOL, OPT_FC, OPT_SOFTMAX, OPT_CONCATENATION = 1, 2, 5, 8, 9, 10
OPT_ADD, OPT_MUL, OPT_REDUCER, OPT_SUB, OPT_SQUEEZE, OPT_STRIDED_SLICE = 11, 21, 27, 28, 30, 32
OPT_TRANSPOSE_CONV, OPT_LEAKY_RELU, OPT_BATCH_MATMUL = 49, 75, 101


# ------------------------------------------------------------ a tiny flatbuffer writer
# Objects are laid out front to back (parents before children), so every reference points
# forward as flatbuffers requires; references are patched once the child exists.
class Fb:
    def __init__(self):
        self.b = bytearray()

    def here(self):
        return len(self.b)

    def align(self, a, offset=0):
        while (len(self.b) + offset) % a:
            self.b.append(0)

    def le(self, v, n):
        self.b += (v & ((1 << (8 * n)) - 1)).to_bytes(n, "little")

    def set(self, at, v, n):
        self.b[at:at + n] = (v & ((1 << (8 * n)) - 1)).to_bytes(n, "little")

    def link(self, at, target):
        self.set(at, target - at, 4)

    def table(self, fields):
        """fields: (id, size, value); size 0 is a 4-byte reference to link later.
        Writes the vtable and the table; returns (table position, {id: field position})."""
        maxid = max([f[0] for f in fields], default=-1)
        offs = [0] * (maxid + 1)
        o = 4
        for fid, size, _ in fields:
            offs[fid] = o
            o += size or 4
        self.align(2)
        vt = self.here()
        self.le(4 + 2 * (maxid + 1), 2)
        self.le(o, 2)
        for off in offs:
            self.le(off, 2)
        self.align(4)
        t = self.here()
        self.le(t - vt, 4)
        slots = {}
        for fid, size, value in fields:
            slots[fid] = self.here()
            self.le(value, size or 4)
        return t, slots

    def vector(self, fmt, values):
        size = struct.calcsize(fmt)
        self.align(max(4, size), 4)  # elements aligned to their size
        pos = self.here()
        self.le(len(values), 4)
        for v in values:
            self.b += struct.pack("<" + fmt, v)
        return pos

    def string(self, s):
        data = s.encode("utf-8", "surrogateescape") if isinstance(s, str) else s
        self.align(4)
        pos = self.here()
        self.le(len(data), 4)
        self.b += data + b"\0"
        return pos

    def refs(self, n):
        """A vector of n references; returns (position, slots to link)."""
        self.align(4)
        pos = self.here()
        self.le(n, 4)
        slots = []
        for _ in range(n):
            slots.append(self.here())
            self.le(0, 4)
        return pos, slots


# ------------------------------------------------------------------ a model description
class Tensor:
    def __init__(self, name, shape, type=F32, buffer=0, quant=None):
        self.name, self.shape, self.type, self.buffer, self.quant = name, shape, type, buffer, quant


class Op:
    def __init__(self, opcode, inputs, outputs, opt_type=0, opt=None):
        self.opcode, self.inputs, self.outputs = opcode, inputs, outputs
        self.opt_type, self.opt = opt_type, opt  # opt: (id, size, value) fields of the options table


class Model:
    def __init__(self):
        self.version = 3
        self.opcodes = []  # (builtin code, custom name or None)
        self.buffers = [b""]
        self.tensors = []
        self.inputs, self.outputs = [], []
        self.ops = []
        self.subgraphs = 1

    def buffer(self, data):
        self.buffers.append(data)
        return len(self.buffers) - 1

    def opcode(self, code, custom=None):
        self.opcodes.append((code, custom))
        return len(self.opcodes) - 1

    def tensor(self, *args, **kw):
        self.tensors.append(Tensor(*args, **kw))
        return len(self.tensors) - 1


def build(m, layout=None):
    """The flatbuffer bytes of m; layout (a dict) receives positions for byte-level edits."""
    L = layout if layout is not None else {}
    fb = Fb()
    fb.le(0, 4)
    fb.b += b"TFL3"
    L["model_vt"] = fb.here()
    model, ms = fb.table([(0, 4, m.version), (1, 0, 0), (2, 0, 0), (3, 0, 0), (4, 0, 0)])
    L["model"] = model
    fb.link(0, model)
    fb.link(ms[3], fb.string("hostile"))

    pos, slots = fb.refs(len(m.buffers))
    fb.link(ms[4], pos)
    for slot, data in zip(slots, m.buffers):
        t, bs = fb.table([(0, 0, 0)] if data else [])
        fb.link(slot, t)
        if data:
            fb.align(16, 4)
            fb.link(bs[0], fb.vector("B", list(data)))

    pos, slots = fb.refs(len(m.opcodes))
    fb.link(ms[1], pos)
    for slot, (code, custom) in zip(slots, m.opcodes):
        fields = [(0, 1, min(code, 127)), (2, 4, 1), (3, 4, code)]
        if custom is not None:
            fields.append((1, 0, 0))
        t, cs = fb.table(fields)
        fb.link(slot, t)
        if custom is not None:
            fb.link(cs[1], fb.string(custom))

    pos, gslots = fb.refs(m.subgraphs)
    fb.link(ms[2], pos)
    for k, gslot in enumerate(gslots):
        g, gs = fb.table([(0, 0, 0), (1, 0, 0), (2, 0, 0), (3, 0, 0), (4, 0, 0)])
        fb.link(gslot, g)
        fb.link(gs[1], fb.vector("i", m.inputs if k == 0 else []))
        fb.link(gs[2], fb.vector("i", m.outputs if k == 0 else []))
        fb.link(gs[4], fb.string("main" if k == 0 else "extra"))
        tensors = m.tensors if k == 0 else []
        pos, tslots = fb.refs(len(tensors))
        L.setdefault("tensors_vec", pos)
        fb.link(gs[0], pos)
        for i, (slot, x) in enumerate(zip(tslots, tensors)):
            fields = [(0, 0, 0), (1, 1, x.type), (2, 4, x.buffer), (3, 0, 0)]
            if x.quant:
                fields.append((4, 0, 0))
            t, ts = fb.table(fields)
            fb.link(slot, t)
            fb.link(ts[0], fb.vector("i", x.shape))
            name = fb.string(x.name)
            if i == 0:
                L["tensor0_name"] = name
            fb.link(ts[3], name)
            if x.quant:
                q = x.quant
                qt, qs = fb.table([(2, 0, 0), (3, 0, 0), (6, 4, q.get("qdim", 0))])
                fb.link(ts[4], qt)
                fb.link(qs[2], fb.vector("f", q["scales"]))
                fb.link(qs[3], fb.vector("q", q["zps"]))
        ops = m.ops if k == 0 else []
        pos, oslots = fb.refs(len(ops))
        fb.link(gs[3], pos)
        for i, (slot, o) in enumerate(zip(oslots, ops)):
            fields = [(0, 4, o.opcode), (1, 0, 0), (2, 0, 0)]
            if o.opt_type:
                fields += [(3, 1, o.opt_type), (4, 0, 0)]
            t, os_ = fb.table(fields)
            fb.link(slot, t)
            vec = fb.vector("i", o.inputs)
            if i == 0:
                L["op0_inputs"] = vec
            fb.link(os_[1], vec)
            fb.link(os_[2], fb.vector("i", o.outputs))
            if o.opt_type:
                # Scalar fields, or (id, 0, [ints]) for a vector field.
                t, opts = fb.table([(f[0], f[1], 0 if isinstance(f[2], list) else f[2]) for f in o.opt or []])
                fb.link(os_[4], t)
                for fid, _, value in o.opt or []:
                    if isinstance(value, list):
                        fb.link(opts[fid], fb.vector("i", value))
    return bytes(fb.b)


def f32s(*v):
    return struct.pack("<%df" % len(v), *v)


def i32s(*v):
    return struct.pack("<%di" % len(v), *v)


CONV_OPT = [(0, 1, 0), (1, 4, 1), (2, 4, 1), (3, 1, 0)]  # SAME, stride 1x1, no activation


def base():
    """conv -> relu -> add(relu, conv) -> reshape -> fully_connected -> softmax, f32."""
    m = Model()
    conv, relu, add = m.opcode(CONV_2D), m.opcode(RELU), m.opcode(ADD)
    reshape, fc, softmax = m.opcode(RESHAPE), m.opcode(FULLY_CONNECTED), m.opcode(SOFTMAX)
    x = m.tensor("x", [1, 4, 4, 2])
    w = m.tensor("w", [3, 1, 1, 2], buffer=m.buffer(f32s(*[0.5] * 6)))
    b = m.tensor("b", [3], buffer=m.buffer(f32s(1, 2, 3)))
    c = m.tensor("conv", [1, 4, 4, 3])
    r = m.tensor("relu", [1, 4, 4, 3])
    a = m.tensor("add", [1, 4, 4, 3])
    shape = m.tensor("shape", [2], type=I32, buffer=m.buffer(i32s(1, 48)))
    flat = m.tensor("flat", [1, 48])
    fw = m.tensor("fc_w", [2, 48], buffer=m.buffer(f32s(*[0.25] * 96)))
    y = m.tensor("logits", [1, 2])
    p = m.tensor("probs", [1, 2])
    m.inputs, m.outputs = [x], [p]
    m.ops = [
        Op(conv, [x, w, b], [c], OPT_CONV, CONV_OPT),
        Op(relu, [c], [r]),
        Op(add, [r, c], [a], OPT_ADD, [(0, 1, 0)]),
        Op(reshape, [a, shape], [flat]),
        Op(fc, [flat, fw, -1], [y], OPT_FC, [(0, 1, 0)]),
        Op(softmax, [y], [p], OPT_SOFTMAX, [(0, 4, struct.unpack("<I", struct.pack("<f", 1.0))[0])]),
    ]
    return m


def quantized():
    """An int8 conv with a per-channel filter, an i32 bias and a RELU."""
    m = Model()
    conv = m.opcode(CONV_2D)
    x = m.tensor("x", [1, 4, 4, 2], I8, quant={"scales": [0.5], "zps": [-1]})
    w = m.tensor("w", [3, 1, 1, 2], I8, m.buffer(bytes([1, 2, 3, 4, 5, 6])),
                 quant={"scales": [0.1, 0.2, 0.3], "zps": [0, 0, 0], "qdim": 0})
    b = m.tensor("b", [3], I32, m.buffer(i32s(10, -10, 0)), quant={"scales": [0.05, 0.1, 0.15], "zps": [0, 0, 0]})
    y = m.tensor("y", [1, 4, 4, 3], I8, quant={"scales": [0.25], "zps": [-128]})
    m.inputs, m.outputs = [x], [y]
    m.ops = [Op(conv, [x, w, b], [y], OPT_CONV, [(0, 1, 0), (1, 4, 1), (2, 4, 1), (3, 1, 1)])]
    return m


def f32bits(v):
    return struct.unpack("<I", struct.pack("<f", v))[0]


def all_ops():
    """Every operator the importer maps, in a graph tm's verifier accepts."""
    m = Model()
    code = {c: m.opcode(c) for c in (CONV_2D, DEPTHWISE_CONV_2D, MAX_POOL_2D, AVERAGE_POOL_2D, TRANSPOSE_CONV,
                                     ADD, SUB, MUL, MAXIMUM, MINIMUM, RELU, RELU6, LEAKY_RELU, LOGISTIC, TANH,
                                     HARD_SWISH, PAD, MEAN, TRANSPOSE, STRIDED_SLICE, SQUEEZE, RESHAPE,
                                     EXPAND_DIMS, BATCH_MATMUL, CONCATENATION, FULLY_CONNECTED, SOFTMAX,
                                     QUANTIZE, DEQUANTIZE)}

    def const(name, shape, data, type=F32):
        return m.tensor(name, shape, type, m.buffer(data))

    def op(c, inputs, shape, opt_type=0, opt=None, type=F32, quant=None):
        out = m.tensor("%s_%d" % ("op", len(m.ops)), shape, type, quant=quant)
        m.ops.append(Op(code[c], inputs, [out], opt_type, opt))
        return out

    n = lambda k: [0.5] * k
    x = m.tensor("x", [1, 8, 8, 4])
    x2 = m.tensor("x2", [1, 4])
    m.inputs = [x, x2]
    # VALID, stride 1, dilation 2, RELU6.
    c = op(CONV_2D, [x, const("w", [4, 3, 3, 4], f32s(*n(144))), const("b", [4], f32s(1, 2, 3, 4))], [1, 4, 4, 4],
           OPT_CONV, [(0, 1, 1), (1, 4, 1), (2, 4, 1), (3, 1, 3), (4, 4, 2), (5, 4, 2)])
    # depth_multiplier 0 in the file: the shapes say 2.
    d = op(DEPTHWISE_CONV_2D, [c, const("dw", [1, 3, 3, 8], f32s(*n(72))), const("db", [8], f32s(*n(8)))],
           [1, 2, 2, 8], OPT_DEPTHWISE, [(0, 1, 0), (1, 4, 2), (2, 4, 2), (3, 4, 0), (4, 1, 1)])
    mp = op(MAX_POOL_2D, [d], [1, 1, 1, 8], OPT_POOL, [(0, 1, 1), (1, 4, 2), (2, 4, 2), (3, 4, 2), (4, 4, 2)])
    ap = op(AVERAGE_POOL_2D, [c], [1, 2, 2, 4], OPT_POOL, [(0, 1, 0), (1, 4, 2), (2, 4, 2), (3, 4, 2), (4, 4, 2)])
    tc = op(TRANSPOSE_CONV, [const("out_shape", [4], i32s(1, 4, 4, 4), I32), const("tw", [4, 3, 3, 4], f32s(*n(144))),
                             ap, const("tb", [4], f32s(*n(4)))], [1, 4, 4, 4],
            OPT_TRANSPOSE_CONV, [(0, 1, 0), (1, 4, 2), (2, 4, 2)])
    a = op(ADD, [tc, c], [1, 4, 4, 4], OPT_ADD, [(0, 1, 2)])
    a = op(SUB, [a, c], [1, 4, 4, 4], OPT_SUB, [(0, 1, 0)])
    a = op(MUL, [a, const("two", [], f32s(2))], [1, 4, 4, 4], OPT_MUL, [(0, 1, 4)])
    a = op(MAXIMUM, [a, c], [1, 4, 4, 4])
    a = op(MINIMUM, [a, c], [1, 4, 4, 4])
    for u in (RELU, RELU6):
        a = op(u, [a], [1, 4, 4, 4])
    a = op(LEAKY_RELU, [a], [1, 4, 4, 4], OPT_LEAKY_RELU, [(0, 4, f32bits(0.125))])
    for u in (LOGISTIC, TANH, HARD_SWISH):
        a = op(u, [a], [1, 4, 4, 4])
    p = op(PAD, [a, const("paddings", [4, 2], i32s(0, 0, 1, 1, 0, 2, 0, 0), I32)], [1, 6, 6, 4])
    mean = op(MEAN, [p, const("axes", [2], i32s(1, 2), I32)], [1, 1, 1, 4], OPT_REDUCER, [(0, 1, 1)])
    t = op(TRANSPOSE, [p, const("perm", [4], i32s(0, 3, 1, 2), I32)], [1, 4, 6, 6])
    ss = op(STRIDED_SLICE, [t, const("begin", [4], i32s(0, 0, 0, 0), I32), const("end", [4], i32s(1, 4, 6, 6), I32),
                            const("strides", [4], i32s(1, 1, 2, 3), I32)], [4, 3, 2], OPT_STRIDED_SLICE, [(4, 4, 1)])
    sq = op(SQUEEZE, [mean], [1, 4], OPT_SQUEEZE, [(0, 0, [1, 2])])
    r = op(RESHAPE, [ss, const("shape", [2], i32s(4, 6), I32)], [4, 6])
    e = op(EXPAND_DIMS, [r, const("axis", [], i32s(0), I32)], [1, 4, 6])
    bm = op(BATCH_MATMUL, [e, const("y", [1, 3, 6], f32s(*n(18)))], [1, 4, 3], OPT_BATCH_MATMUL, [(1, 1, 1)])
    cat = op(CONCATENATION, [sq, sq], [1, 8], OPT_CONCATENATION, [(0, 4, 1)])
    fc = op(FULLY_CONNECTED, [cat, const("fw", [2, 8], f32s(*n(16))), const("fb", [2], f32s(0, 0))], [1, 2],
            OPT_FC, [(0, 1, 1), (2, 1, 1)])
    sm = op(SOFTMAX, [fc], [1, 2], OPT_SOFTMAX, [(0, 4, f32bits(0.5))])
    q = op(QUANTIZE, [x2], [1, 4], type=I8, quant={"scales": [0.125], "zps": [3]})
    dq = op(DEQUANTIZE, [q], [1, 4])
    m.outputs = [sm, bm, mp, dq]
    return m


# --------------------------------------------------------------------- the variants
def put32(b, at, v):
    b = bytearray(b)
    b[at:at + 4] = (v & 0xFFFFFFFF).to_bytes(4, "little")
    return bytes(b)


def put16(b, at, v):
    b = bytearray(b)
    b[at:at + 2] = (v & 0xFFFF).to_bytes(2, "little")
    return bytes(b)


def variants():
    """(name, bytes, text the first error must contain)."""
    out = []

    def add(name, data, expect):
        out.append((name, data, expect))

    def model(name, expect, edit, make=base):
        m = make()
        edit(m)
        add(name, build(m), expect)

    L = {}
    good = build(base(), L)

    # The flatbuffer itself.
    add("empty", b"", "file of 0 bytes is too small")
    add("truncated-header", good[:3], "file of 3 bytes is too small")
    add("truncated-half", good[: len(good) // 2], "past end of file")
    add("truncated-last-byte", good[:-1], "past end of file")
    add("root-offset-past-end", put32(good, 0, len(good) + 64), "root offset")
    add("vtable-offset-past-end", put32(good, L["model"], -0x100000), "vtable offset")
    add("vtable-size-odd", put16(good, L["model_vt"], 13), "invalid vtable size 13")
    add("field-outside-table", put16(good, L["model_vt"] + 4, 200), "outside its table")
    add("vector-length-huge", put32(good, L["tensors_vec"], 0x7FFFFFFF), "runs past end of file")
    name = L["tensor0_name"]
    add("string-without-nul", good[:name + 5] + b"!" + good[name + 6:], "is not NUL-terminated")
    add("op-inputs-offset-past-end", put32(good, L["op0_inputs"], 0x7FFFFFF0), "runs past end of file")

    # The schema.
    model("schema-version", "unsupported TFLite schema version 2", lambda m: setattr(m, "version", 2))
    model("no-subgraphs", "model has no subgraphs", lambda m: setattr(m, "subgraphs", 0))
    model("negative-dim", "negative dimension -3", lambda m: m.tensors[3].shape.__setitem__(1, -3))
    model("buffer-too-small", "buffer 2 has 8 bytes, expected 12",
          lambda m: m.buffers.__setitem__(2, f32s(1, 2)))
    model("buffer-index-out-of-range", "buffer index 42 out of range",
          lambda m: setattr(m.tensors[1], "buffer", 42))
    model("tensor-index-out-of-range", "tensor index 99 out of range",
          lambda m: m.ops[1].inputs.__setitem__(0, 99))
    model("opcode-index-out-of-range", "opcode index 17 out of range",
          lambda m: setattr(m.ops[2], "opcode", 17))
    model("graph-input-out-of-range", "tensor index 1000 out of range", lambda m: setattr(m, "inputs", [1000]))
    model("unknown-tensor-type", "unknown", lambda m: setattr(m.tensors[3], "type", 99))
    model("quant-scale-count", "3 quantization scales for dimension 0 of size 1",
          lambda m: setattr(m.tensors[0], "quant", {"scales": [0.1, 0.2, 0.3], "zps": [0, 0, 0]}), quantized)
    model("quant-zero-point-count", "quantization has 2 zero points but 1 scales",
          lambda m: setattr(m.tensors[0], "quant", {"scales": [0.1], "zps": [0, 0]}), quantized)

    # The graph.
    model("cycle-self", "operator 1 (RELU) reads its own output tensor 4 ('relu'): the graph has a cycle",
          lambda m: setattr(m.ops[1], "inputs", [4]))

    def two_op_cycle(m):
        m.ops[1].inputs = [5]  # relu reads add, add reads relu
    model("cycle-two-ops", "operator 1 (RELU) reads tensor 5 ('add') before operator 2 (ADD) writes it: "
          "the graph has a cycle", two_op_cycle)

    def out_of_order(m):
        m.ops[4], m.ops[5] = m.ops[5], m.ops[4]
    model("not-topological", "operator 4 (SOFTMAX) reads tensor 9 ('logits') before operator 5 "
          "(FULLY_CONNECTED) writes it: operators must be in execution (topological) order", out_of_order)
    model("never-produced", "operator 1 (RELU) input 0: tensor 7 ('flat') is not a graph input, a constant or "
          "the output of an operator", lambda m: m.ops[1].inputs.__setitem__(0, 7) or m.ops.pop(3))
    model("output-never-produced", "graph output 0: tensor 10 ('probs') is not a graph input",
          lambda m: m.ops.pop())
    model("written-twice", "operator 2 (ADD) writes tensor 4 ('relu'), already written by operator 1 (RELU)",
          lambda m: setattr(m.ops[2], "outputs", [4]))
    model("writes-graph-input", "operator 1 (RELU) writes graph input tensor 0 ('x')",
          lambda m: setattr(m.ops[1], "outputs", [0]))
    model("writes-constant", "operator 1 (RELU) writes constant tensor 2 ('b')",
          lambda m: setattr(m.ops[1], "outputs", [2]))
    model("missing-input", "operator 0 (CONV_2D): required input 1 is missing",
          lambda m: m.ops[0].inputs.__setitem__(1, -1))
    model("too-many-inputs", "operator 2 (ADD) has 3 inputs, expected 2",
          lambda m: m.ops[2].inputs.append(3))
    model("two-outputs", "operator 1 (RELU) has 2 outputs, expected 1",
          lambda m: m.ops[1].outputs.append(m.tensor("extra", [1])))

    # Operators.
    model("unsupported-op", "unsupported TFLite operator 'GATHER' (builtin code 36) at operator index 1",
          lambda m: setattr(m.ops[1], "opcode", m.opcode(GATHER)))
    model("custom-op", "unsupported TFLite custom operator 'MyOp' at operator index 1",
          lambda m: setattr(m.ops[1], "opcode", m.opcode(CUSTOM, "MyOp")))

    def many_unsupported(m):
        g = m.opcode(GATHER)
        m.ops = [Op(g, [0], [m.tensor("t%d" % i, [1])]) for i in range(40)]
        m.outputs = [m.ops[-1].outputs[0]]
    model("many-unsupported-ops", "at operator index 0", many_unsupported)
    model("unsupported-activation", "operator 0 (CONV_2D): fused activation SIGN_BIT is not supported",
          lambda m: setattr(m.ops[0], "opt", CONV_OPT[:3] + [(3, 1, 5)]))

    def pad_from_input(m):
        pad, paddings = m.opcode(PAD), m.tensor("paddings", [4, 2], I32)
        m.inputs.append(paddings)
        m.ops.insert(1, Op(pad, [3, paddings], [m.tensor("padded", [1, 4, 4, 3])]))
    model("non-constant-paddings", "operator 1 (PAD) input 1 (paddings): tensor 11 ('paddings') must be a "
          "constant, tinyml needs its values at compile time", pad_from_input)

    def perm_float(m):
        tr = m.opcode(TRANSPOSE)
        perm = m.tensor("perm", [4], F32, m.buffer(f32s(0, 2, 1, 3)))
        m.ops.insert(1, Op(tr, [3, perm], [m.tensor("t", [1, 4, 4, 3])]))
    model("float-perm", "operator 1 (TRANSPOSE) input 1 (perm) must be INT32 or INT64, got FLOAT32", perm_float)

    def ellipsis(m):
        ss = m.opcode(STRIDED_SLICE)
        k = [m.tensor(n, [4], I32, m.buffer(i32s(0, 0, 0, 0))) for n in ("begin", "end", "strides")]
        m.ops.insert(1, Op(ss, [3] + k, [m.tensor("s", [1, 4, 4, 3])], OPT_STRIDED_SLICE, [(2, 4, 1)]))
    model("strided-slice-ellipsis", "operator 1 (STRIDED_SLICE): ellipsis_mask is not supported", ellipsis)

    # Types and shapes (the tm verifier, located at the operator).
    model("conv-output-shape", "op 0: error: 'tm.conv2d' op result type 'tensor<1x4x4x5xf32>' does "
          "not match the inferred type 'tensor<1x4x4x3xf32>'", lambda m: setattr(m.tensors[3], "shape", [1, 4, 4, 5]))
    model("conv-stride-shape", "op 0: error: 'tm.conv2d' op result type 'tensor<1x4x4x3xf32>' does not match "
          "the inferred type 'tensor<1x2x2x3xf32>'", lambda m: setattr(m.ops[0], "opt", CONV_OPT[:1] + [(1, 4, 2), (2, 4, 2)]))
    model("add-output-shape", "op 2: error: 'tm.add' op result type 'tensor<1x4x4x4xf32>' does not match",
          lambda m: setattr(m.tensors[5], "shape", [1, 4, 4, 4]))
    model("relu-output-shape", "op 1: error: 'tm.relu' op result type 'tensor<1x4x3x3xf32>' does not match",
          lambda m: setattr(m.tensors[4], "shape", [1, 4, 3, 3]))
    model("fc-weights-mismatch", "op 4: error: 'tm.fully_connected' op expected input element count (48) to be "
          "a multiple of the weights input size (47)", lambda m: m.tensors[8].shape.__setitem__(1, 47) or
          m.buffers.__setitem__(m.tensors[8].buffer, f32s(*[0.25] * 94)))
    model("reshape-element-count", "op 3: error: 'tm.reshape' op expected result element count (47) to match "
          "input element count (48)", lambda m: setattr(m.tensors[7], "shape", [1, 47]))
    model("softmax-int-output", "op 5: error: 'tm.softmax' op expected result element type 'i32' to match "
          "input element type 'f32'", lambda m: setattr(m.tensors[10], "type", I32))
    model("huge-tensor", "tensor 3 ('conv') has more than 2^31 elements",
          lambda m: setattr(m.tensors[3], "shape", [1, 65536, 65536, 3]))
    model("string-tensor", "tensor 4 ('relu') has element type STRING, which is not supported",
          lambda m: setattr(m.tensors[4], "type", STRING))
    model("complex-constant", "tensor 2 ('b') has element type COMPLEX64",
          lambda m: setattr(m.tensors[2], "type", COMPLEX64) or m.buffers.__setitem__(2, f32s(1, 2, 3, 4, 5, 6)))

    # Quantization.
    model("zero-point-out-of-range", "tensor 0 ('x'): zero point 300 is outside the storage range [-128, 127] of INT8",
          lambda m: setattr(m.tensors[0], "quant", {"scales": [0.5], "zps": [300]}), quantized)
    model("zero-scale", "tensor 3 ('y'): quantization scale 0 is not positive and finite",
          lambda m: setattr(m.tensors[3], "quant", {"scales": [0.0], "zps": [0]}), quantized)
    model("nan-scale", "quantization scale nan is not positive and finite",
          lambda m: setattr(m.tensors[1], "quant", {"scales": [0.1, float("nan"), 0.3], "zps": [0, 0, 0]}), quantized)
    model("filter-wrong-axis", "expected filter to be quantized per tensor or along axis 0, got axis 3",
          lambda m: setattr(m.tensors[1], "quant", {"scales": [0.1, 0.2], "zps": [0, 0], "qdim": 3}), quantized)
    model("float-filter-int8-input", "'tm.conv2d' op expected filter",
          lambda m: setattr(m.tensors[1], "type", F32) or setattr(m.tensors[1], "quant", None) or
          m.buffers.__setitem__(1, f32s(*[0.5] * 6)), quantized)
    model("bias-i8", "expected bias element type i32",
          lambda m: setattr(m.tensors[2], "type", I8) or setattr(m.tensors[2], "quant", None) or
          m.buffers.__setitem__(2, bytes([1, 2, 3])), quantized)
    return out


def valid_models():
    m = base()
    # Names a printer must escape; the graph stays valid.
    n = base()
    for i, name in enumerate(['q"uote', "new\nline", "back\\slash", "tab\there", "\u00e9t\u00e9", "\x7f\x01",
                              "", b"\xff\xfe", "loc(}{", "x" * 300, "a;b;c"]):
        n.tensors[i].name = name
    two = base()
    two.subgraphs = 2  # an empty second subgraph nothing calls
    return [("valid", build(m)), ("valid-names", build(n)), ("valid-ops", build(all_ops())),
            ("valid-two-subgraphs", build(two))]


def check(tool, path, expect):
    """(ok, the first error line or a description of the failure); expect must be in the
    first error line."""
    try:
        r = subprocess.run([tool, path], capture_output=True, timeout=60)
    except subprocess.TimeoutExpired:
        return False, "timed out"
    err = r.stderr.decode("utf-8", "replace")
    first = next((l for l in err.splitlines() if "error:" in l), "")
    if r.returncode != 1:
        return False, "exit %d: %s" % (r.returncode, err[-500:])
    if "Sanitizer" in err or "runtime error" in err:
        return False, "sanitizer report: " + err[-500:]
    if r.stdout:
        return False, "printed output despite the error"
    if expect not in first:
        return False, "expected an error containing %r, got: %s" % (expect, err[:500])
    return True, first


def main():
    if len(sys.argv) not in (2, 4) or (len(sys.argv) == 4 and sys.argv[2] != "--check"):
        sys.exit(__doc__)
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    hostile = variants()
    for name, data in valid_models():
        with open(os.path.join(outdir, name + ".tflite"), "wb") as f:
            f.write(data)
    for name, data, _ in hostile:
        with open(os.path.join(outdir, name + ".tflite"), "wb") as f:
            f.write(data)
    if len(sys.argv) == 2:
        return
    failed = 0
    for name, _, expect in hostile:
        ok, line = check(sys.argv[3], os.path.join(outdir, name + ".tflite"), expect)
        # Only the part after the file name: the output directory differs between runs.
        line = line.split(outdir + "/", 1)[-1]
        print("%s: %s%s" % (name, "" if ok else "FAILED: ", line))
        failed += not ok
    print("%d hostile files, %d rejected cleanly, %d failed" % (len(hostile), len(hostile) - failed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
