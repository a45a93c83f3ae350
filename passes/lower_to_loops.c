/* passes/lower_to_loops.c — the lower-to-loops pass: every func.func of tm ops on tensors
 * becomes a function on buffers made of arith/scf/memref/math ops (docs/lowered.md).
 *
 * Bufferization (the contract of the Step-2 design):
 *  - the signature becomes (inputs..., outputs...) -> (), all memrefs of the storage
 *    element types, outputs as out-params; `tm.num_inputs` records the split;
 *  - tm.const becomes a private constant memref.global, read with memref.get_global;
 *  - every other result is a raw `memref.alloc` of bytes plus a typed `memref.view`
 *    (the unit plan-memory places), unless it is returned: then the kernel writes the
 *    out-param directly;
 *  - reshape and squeeze are new views of the same raw bytes (a copy only where there
 *    are no raw bytes to view: arguments, globals, out-params);
 *  - each op is one kernel (lower_nn.c, lower_elementwise.c, lower_data.c), a loop nest
 *    with TFLite's integer arithmetic spelled out.
 * An op, type or attribute no kernel handles is a located error naming it. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "passes/lowering.h"

lw_fn *lw_fn_of(lw_lower *W) { return &W->F; }

/* ----------------------------------------------------------------- value map ----- */
static uint64_t hash_ptr(const void *p) {
  uint64_t h = (uint64_t)(uintptr_t)p * 0x9E3779B97F4A7C15ull;
  return h ^ (h >> 32);
}

static lw_entry *map_slot(lw_lower *W, tm_value *v) {
  uint64_t mask = (uint64_t)(W->map_cap - 1), h = hash_ptr(v) & mask;
  while (W->map[h].key && W->map[h].key != v) h = (h + 1) & mask;
  return &W->map[h];
}

static lw_entry *map_get(lw_lower *W, tm_value *v) {
  if (!W->map_cap) return NULL;
  lw_entry *e = map_slot(W, v);
  return e->key ? e : NULL;
}

static lw_entry *map_put(lw_lower *W, tm_value *v) {
  if ((W->map_n + 1) * 2 > W->map_cap) {
    int cap = W->map_cap ? W->map_cap * 2 : 64;
    lw_entry *old = W->map;
    int old_cap = W->map_cap;
    W->map = TM_NEW_ARRAY(tm_ctx_arena(W->ctx), lw_entry, cap);
    W->map_cap = cap;
    for (int i = 0; i < old_cap; i++)
      if (old[i].key) *map_slot(W, old[i].key) = old[i];
  }
  lw_entry *e = map_slot(W, v);
  if (!e->key) {
    e->key = v;
    W->map_n++;
  }
  return e;
}

/* ------------------------------------------------------------------- buffers ----- */
/* Unsigned storage (ONNX's uint8) is held as signless bits: arith ops are signless. */
const tm_type *lw_memref_of(tm_ctx *ctx, const tm_type *tensor) {
  const tm_type *s = tm_type_storage(tensor->elem);
  if (s->kind == TM_TYPE_INT && s->signedness == TM_UNSIGNED) s = tm_type_int(ctx, s->width);
  return tm_type_memref(ctx, s, tensor->rank, tensor->dims);
}

lw_quant lw_quant_of(const tm_type *tensor) {
  const tm_type *e = tm_type_elem(tensor);
  lw_quant q = {.storage = tm_type_storage(e), .axis = -1, .nscales = 1, .scale = 1.0};
  q.uns = q.storage->kind == TM_TYPE_INT && q.storage->signedness == TM_UNSIGNED;
  if (e->kind == TM_TYPE_QUANT) {
    q.quantized = true;
    q.scale = e->scales[0];
    q.zp = e->zero_points ? e->zero_points[0] : 0;
    q.axis = e->axis;
    q.nscales = e->nscales;
    q.scales = e->scales;
    q.zps = e->zero_points;
  }
  return q;
}

/* The dense value of a tm.const result, or NULL. */
static const tm_attr *const_value(tm_value *tensor) {
  return tensor->def && tm_op_is(tensor->def, "tm.const") ? tm_value_const(tensor) : NULL;
}

/* A raw byte buffer (the unit plan-memory places) and a typed view of it. */
static lw_buf alloc_buf(lw_lower *W, const tm_type *memref_type) {
  lw_fn *F = &W->F;
  int64_t bytes = tm_type_bytes(memref_type);
  if (bytes < 1) bytes = 1;
  const tm_type *raw_type = tm_type_memref(W->ctx, lw_i8(F), 1, &bytes);
  tm_named_attr align = {tm_intern_cstr(W->ctx, "alignment"), tm_attr_int(W->ctx, NULL, 16)};
  tm_value *raw = lw_op(F, "memref.alloc", raw_type, 0, NULL, 1, &align);
  tm_value *ops[] = {raw, lw_cidx(F, 0)};
  tm_value *view = lw_op(F, "memref.view", memref_type, 2, ops, 0, NULL);
  return (lw_buf){view, raw};
}

lw_buf lw_scratch(lw_lower *W, const tm_type *memref_type) { return alloc_buf(W, memref_type); }

void lw_bind(lw_lower *W, tm_value *tensor, lw_buf buf) {
  lw_entry *e = map_put(W, tensor);
  e->buf = buf;
  e->target = false;
}

lw_buf lw_in_buf(lw_lower *W, tm_value *tensor) {
  lw_entry *e = map_get(W, tensor);
  if (e && !e->target) return e->buf;
  /* A constant: its global, created on first use. */
  const tm_attr *value = const_value(tensor);
  if (!value) return (lw_buf){0}; /* cannot happen for verified IR: operands are defined before use */
  const tm_type *st = tm_type_tensor(W->ctx, lw_memref_of(W->ctx, tensor->type)->elem, tensor->type->rank,
                                     tensor->type->dims);
  if (value->type != st)
    value = tm_attr_dense(W->ctx, st, value->u.dense.splat, value->u.dense.data, value->u.dense.nbytes);
  tm_op *g = lw_global(W->M, "cst", value, tensor->def->loc);
  lw_buf buf = {lw_get_global(&W->F, g), NULL};
  lw_bind(W, tensor, buf);
  return buf;
}

tm_value *lw_in(lw_lower *W, tm_value *tensor) { return lw_in_buf(W, tensor).mem; }

bool lw_is_returned(lw_lower *W, tm_value *tensor) {
  lw_entry *e = map_get(W, tensor);
  return e && e->target;
}

/* tm.reshape and tm.squeeze lower to views of their operand's bytes (lower_data.c). */
static bool is_view(const tm_op *op) { return tm_op_is(op, "tm.reshape") || tm_op_is(op, "tm.squeeze"); }

/* No op after op reads v's bytes: through v or a view of it, transitively. */
static bool last_reader(const tm_value *v, const tm_op *op) {
  for (const tm_use *u = v->uses; u; u = u->next) {
    if (u->user == op) continue;
    if (u->user->block != op->block || !tm_op_is_before_in_block(u->user, op)) return false;
    if (is_view(u->user) && !last_reader(tm_op_result(u->user, 0), op)) return false;
  }
  return true;
}

bool lw_bytes_die_at(const tm_value *v, const tm_op *op) { return v->def && !is_view(v->def) && last_reader(v, op); }

tm_value *lw_out(lw_lower *W, tm_value *tensor) {
  lw_entry *e = map_get(W, tensor);
  if (e && e->target) {
    e->target = false;
    return e->buf.mem;
  }
  lw_buf buf = alloc_buf(W, lw_memref_of(W->ctx, tensor->type));
  lw_bind(W, tensor, buf);
  return buf.mem;
}

/* A 1-D memref of all elements of mem (a view of the same bytes). */
tm_value *lw_flat(lw_lower *W, lw_buf buf) {
  lw_fn *F = lw_fn_of(W);
  const tm_type *t = buf.mem->type;
  if (t->rank == 1) return buf.mem;
  int64_t n = tm_type_numel(t);
  const tm_type *ft = tm_type_memref(W->ctx, t->elem, 1, &n);
  if (buf.raw) {
    tm_value *ops[] = {buf.raw, lw_cidx(F, 0)};
    return lw_op(F, "memref.view", ft, 2, ops, 0, NULL);
  }
  const tm_attr **all = TM_NEW_ARRAY(tm_ctx_arena(W->ctx), const tm_attr *, t->rank);
  for (int i = 0; i < t->rank; i++) all[i] = tm_attr_int(W->ctx, NULL, i);
  const tm_attr *group = tm_attr_array(W->ctx, t->rank, all);
  tm_named_attr attr = {tm_intern_cstr(W->ctx, "reassociation"), tm_attr_array(W->ctx, 1, &group)};
  return lw_op(F, "memref.collapse_shape", ft, 1, &buf.mem, 1, &attr);
}

int lw_unsupported(lw_lower *W, tm_op *op, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char buf[512];
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  return tm_op_error(W->ctx, op, "cannot be lowered to loops: %s", buf);
}

/* ---------------------------------------------------------- shared kernel bits ----- */
int lw_qmul(lw_lower *W, tm_op *op, double m, int32_t *q, int *shift) {
  if (!tm_quantize_multiplier(m, q, shift))
    return lw_unsupported(W, op, "requantization multiplier %g is not a finite number", m);
  /* MBQM shifts left by `shift`: a shift of 31 or more is not an int32 shift. */
  if (*shift > 30) return lw_unsupported(W, op, "requantization multiplier %g is too large", m);
  return 0;
}

int lw_act_range(lw_lower *W, tm_op *op, const lw_quant *out, int32_t *lo, int32_t *hi) {
  const char *act = tm_op_attr_str(op, "fused_activation", "none");
  /* TFLite clamps to the storage type's full range (std::numeric_limits), not the
   * narrow range of the quantization. */
  int32_t qmin = (int32_t)(-(INT64_C(1) << (out->storage->width - 1)));
  int32_t qmax = (int32_t)((INT64_C(1) << (out->storage->width - 1)) - 1);
  if (!tm_act_range_quant(act, out->scale, out->zp, qmin, qmax, lo, hi))
    return lw_unsupported(W, op, "fused_activation \"%s\" on a quantized result is not supported", act);
  return 0;
}

int lw_act_range_f(lw_lower *W, tm_op *op, float *lo, float *hi) {
  const char *act = tm_op_attr_str(op, "fused_activation", "none");
  if (!strcmp(act, "none")) return 0;
  if (!strcmp(act, "relu")) *lo = 0.0f, *hi = 3.40282347e38f;
  else if (!strcmp(act, "relu6")) *lo = 0.0f, *hi = 6.0f;
  else if (!strcmp(act, "relu_n1_to_1")) *lo = -1.0f, *hi = 1.0f;
  else return lw_unsupported(W, op, "fused_activation \"%s\" is not supported", act);
  return 1;
}

/* ------------------------------------------------------------------- kernels ----- */
static int lower_const(lw_lower *W, tm_op *op) {
  (void)W, (void)op; /* globals are made on first use */
  return 0;
}

static const struct {
  const char *name;
  lw_kernel_fn fn;
} kernels[] = {
    {"tm.const", lower_const},
    {"tm.conv2d", lw_lower_conv2d},
    {"tm.conv2d_add", lw_lower_conv2d},
    {"tm.conv2d_fc", lw_lower_conv2d},
    {"tm.depthwise_conv2d_fc", lw_lower_depthwise_conv2d},
    {"tm.depthwise_conv2d", lw_lower_depthwise_conv2d},
    {"tm.fully_connected", lw_lower_fully_connected},
    {"tm.avg_pool2d", lw_lower_pool2d},
    {"tm.max_pool2d", lw_lower_pool2d},
    {"tm.softmax", lw_lower_softmax},
    {"tm.mean", lw_lower_mean},
    {"tm.add", lw_lower_binary},
    {"tm.sub", lw_lower_binary},
    {"tm.mul", lw_lower_binary},
    {"tm.div", lw_lower_binary},
    {"tm.maximum", lw_lower_binary},
    {"tm.minimum", lw_lower_binary},
    {"tm.relu", lw_lower_unary},
    {"tm.relu6", lw_lower_unary},
    {"tm.leaky_relu", lw_lower_unary},
    {"tm.logistic", lw_lower_unary},
    {"tm.tanh", lw_lower_unary},
    {"tm.hard_swish", lw_lower_unary},
    {"tm.quantize", lw_lower_quantize},
    {"tm.dequantize", lw_lower_quantize},
    {"tm.batch_norm", lw_lower_batch_norm},
    {"tm.reshape", lw_lower_reshape},
    {"tm.squeeze", lw_lower_reshape},
    {"tm.transpose", lw_lower_transpose},
    {"tm.concat", lw_lower_concat},
    {"tm.pad", lw_lower_pad},
    {"tm.strided_slice", lw_lower_strided_slice},
    {"tm.batch_matmul", lw_lower_batch_matmul},
    {"tm.transpose_conv", lw_lower_transpose_conv},
};

static lw_kernel_fn kernel_of(const tm_op *op) {
  for (size_t i = 0; i < TM_COUNTOF(kernels); i++)
    if (tm_op_is(op, kernels[i].name)) return kernels[i].fn;
  return NULL;
}

/* --------------------------------------------------------------- functions ----- */
static bool is_tensor(const tm_type *t) { return t && t->kind == TM_TYPE_TENSOR; }

/* Whether a function is at the tm level: tensors in its signature or tm ops inside. */
static bool needs_lowering(tm_op *func) {
  const tm_type *ft = tm_func_type(func);
  if (!ft) return false;
  for (int i = 0; i < ft->ninputs; i++)
    if (is_tensor(ft->inputs[i])) return true;
  for (int i = 0; i < ft->nresults; i++)
    if (is_tensor(ft->results[i])) return true;
  tm_block *b = tm_func_entry(func);
  for (tm_op *o = b ? b->first : NULL; o; o = o->next)
    if (!strncmp(o->name, "tm.", 3)) return true;
  return false;
}

/* A tensor type the buffers can hold: static, with a signless integer (or any 8-bit one, held
 * as signless bits) or float storage. */
static bool check_tensor(lw_lower *W, tm_op *at, const tm_type *t, const char *what, int i) {
  if (is_tensor(t) && tm_type_is_static(t)) {
    const tm_type *s = tm_type_storage(t->elem);
    bool int_ok = s->kind == TM_TYPE_INT && (s->signedness == TM_SIGNLESS || s->width == 8) && s->width >= 8;
    if (int_ok || s->kind == TM_TYPE_FLOAT) return true;
  }
  tm_op_error(W->ctx, at, "cannot be lowered to loops: %s #%d has type '%s'; only static tensors of signless integers "
                          "(8 bits or more), floats or quantized types with such storage are supported",
              what, i, tm_type_str(W->ctx, t));
  return false;
}

static tm_op *lower_func(lw_lower *W, tm_op *func) {
  tm_ctx *ctx = W->ctx;
  const tm_type *ft = tm_func_type(func);
  tm_block *body = tm_func_entry(func);
  if (!body || body->next) {
    tm_op_error(ctx, func, "cannot be lowered to loops: expected a body of one block");
    return NULL;
  }
  tm_op *ret = body->last;
  if (!ret || !tm_op_is(ret, "func.return")) {
    tm_op_error(ctx, func, "cannot be lowered to loops: expected the body to end in func.return");
    return NULL;
  }
  for (int i = 0; i < ft->ninputs; i++)
    if (!check_tensor(W, func, ft->inputs[i], "argument", i)) return NULL;
  for (int i = 0; i < ft->nresults; i++)
    if (!check_tensor(W, func, ft->results[i], "result", i)) return NULL;

  /* The signature on buffers: inputs, then outputs. */
  int nin = ft->ninputs, nout = ft->nresults;
  const tm_type **args = TM_NEW_ARRAY(tm_ctx_arena(ctx), const tm_type *, nin + nout + 1);
  for (int i = 0; i < nin; i++) args[i] = lw_memref_of(ctx, ft->inputs[i]);
  for (int i = 0; i < nout; i++) args[nin + i] = lw_memref_of(ctx, ft->results[i]);
  const tm_type *nft = tm_type_func(ctx, nin + nout, args, 0, NULL);
  tm_op *nf = tm_func_create(ctx, tm_op_attr_str(func, "sym_name", "main"), nft, func->loc);
  for (int i = 0; i < func->nattrs; i++) {
    const char *n = func->attrs[i].name;
    if (strcmp(n, "function_type") && strcmp(n, "sym_name") && strcmp(n, "arg_attrs") && strcmp(n, "res_attrs"))
      tm_op_set_attr(ctx, nf, n, func->attrs[i].value);
  }
  tm_op_set_attr(ctx, nf, "tm.num_inputs", tm_attr_int(ctx, NULL, nin));
  tm_op_insert_before(func, nf);
  if (W->M->anchor == func) W->M->anchor = nf;

  for (tm_op *op = body->first; op && op != ret; op = op->next) W->work += lw_op_work(W->M, op);
  lw_fn_init(&W->F, W->M, nf);
  tm_block *entry = tm_func_entry(nf);
  for (int i = 0; i < nin; i++) lw_bind(W, body->args[i], (lw_buf){entry->args[i], NULL});
  /* Returned results computed by a kernel write their out-param directly. */
  for (int i = 0; i < nout; i++) {
    tm_value *v = tm_op_operand(ret, i);
    tm_op *def = v->def;
    if (!def || map_get(W, v) || tm_op_is(def, "tm.const")) continue;
    lw_entry *e = map_put(W, v);
    e->buf = (lw_buf){entry->args[nin + i], NULL};
    e->target = true;
  }

  for (tm_op *op = body->first; op && op != ret; op = op->next) {
    lw_kernel_fn fn = kernel_of(op);
    if (!fn) {
      tm_op_error(ctx, op, "cannot be lowered to loops: no kernel for '%s'", op->name);
      return nf;
    }
    for (int i = 0; i < op->nresults; i++)
      if (!lw_packed_i4_use(op, &op->results[i], -1) && !check_tensor(W, op, op->results[i].type, "result", i)) return nf;
    for (int i = 0; i < op->noperands; i++)
      if (!lw_packed_i4_use(op, tm_op_operand(op, i), i) && !check_tensor(W, op, tm_op_operand(op, i)->type, "operand", i))
        return nf;
    W->F.loc = op->loc;
    W->F.b = tm_builder_at_end(ctx, entry);
    /* convolutions deferred into a row pipeline are due before any other kind of op
     * (constants emit nothing); their kernels set F.cold for their own code */
    if (!tm_op_is(op, "tm.conv2d") && !tm_op_is(op, "tm.conv2d_add") && !tm_op_is(op, "tm.const") &&
        lw_flush_stages(W))
      return nf;
    W->F.cold = lw_op_is_cold(W, op);
    if (fn(W, op)) return nf;
  }
  W->F.loc = ret->loc;
  W->F.cold = false;
  if (lw_flush_stages(W)) return nf;

  /* Results not written in place are copied to their out-params. */
  W->F.loc = ret->loc;
  for (int i = 0; i < nout; i++) {
    tm_value *out = entry->args[nin + i];
    lw_buf src = lw_in_buf(W, tm_op_operand(ret, i));
    if (src.mem == out) continue;
    tm_value *ops[] = {src.mem, out};
    lw_op(&W->F, "memref.copy", NULL, 2, ops, 0, NULL);
  }
  lw_op(&W->F, "func.return", NULL, 0, NULL, 0, NULL);
  lw_fn_finish(&W->F);
  return nf;
}

/* ------------------------------------------------------------------- the pass ----- */
static const tm_pass_option options[] = {
    {.name = "helpers", .kind = TM_OPT_STRING, .default_value = "call",
     .help = "Fixed-point helpers (MultiplyByQuantizedMultiplier, ...): \"call\" private __tm_* functions, or "
             "\"inline\" their arith ops at every use"},
    {.name = "target", .kind = TM_OPT_STRING, .default_value = "",
     .help = "The target of backends/targets.def the kernels are for (default: the module's tm.target attribute, "
             "which tinyml-opt --target sets; none: portable kernels). DSP and RV32 targets get docs/dsp.md's kernels"},
    {.name = "unroll-words", .kind = TM_OPT_INT, .default_value = "16", .min = 0, .max = 1024,
     .help = "DSP kernels: a block's product of at most this many words per pixel is unrolled, not a loop "
             "(faster, more flash; 0: always a loop)"},
    {.name = "loop-words", .kind = TM_OPT_INT, .default_value = "16", .min = 1, .max = 1024,
     .help = "DSP kernels: a longer product's loop takes the most words a trip, up to this many, that divide its "
             "words in three trips or more (1: one word a trip, LLVM unrolls)"},
    {.name = "cold-percent", .kind = TM_OPT_FLOAT, .default_value = "0", .min = 0, .max = 100,
     .help = "An op doing less than this percentage of its function's work (multiply-accumulates plus result "
             "elements) is cold: its DSP products take one word a trip, whatever unroll-words and loop-words say, "
             "and its fixed-point helper calls are marked tm.cold, which LLVM keeps calls (less flash where speed "
             "cannot pay; 0: off)"},
    {.name = "computed-tables", .kind = TM_OPT_BOOL, .default_value = "false",
     .help = "Tables that follow from a few constants (a residual addition's terms, a short softmax row's exps) are "
             "computed into the arena at each inference, not stored in flash (a few thousand instructions and up "
             "to 1 KB of RAM while in use, for 1 KB of flash each)"},
    {.name = "epilogue-loop", .kind = TM_OPT_BOOL, .default_value = "false",
     .help = "DSP and RV32 kernels: a block's results of a convolution with a residual addition are requantized, "
             "added and stored in a loop over its channels, that code once per pixel instead of once per channel "
             "and pixel (less flash; a store and a load a result more)"},
    {.name = "channel-pairs", .kind = TM_OPT_BOOL, .default_value = "true",
     .help = "DSP kernels: where the cost model says it pays, pack two output channels' weights into each word "
             "(one SXTB16 for two channels' products, docs/dsp.md)"},
    {.name = "row-pipeline", .kind = TM_OPT_BOOL, .default_value = "true",
     .help = "DSP and RV32 kernels: a convolution read only by the next one, as its input or residual, is "
             "computed row by row as that one needs its rows, kept in a ring of a few rows (less RAM, docs/dsp.md)"},
    {.name = "mve", .kind = TM_OPT_BOOL, .default_value = "true",
     .help = "DSP kernels on a core with MVE (Helium, cortex-m55): convolutions and fully_connected as "
             "16-byte vector dot products over each pixel's kernel rows (armdsp.vmladava, docs/dsp.md)"},
    {.name = "lane-pairs", .kind = TM_OPT_BOOL, .default_value = "true",
     .help = "RV32 kernels: a batch-1 fully_connected multiplies each input byte by two output channels' "
             "weights at once, the 16-bit halves of one word, where its weights keep a few products' sums "
             "within 16 bits (fewer instructions; those weights take twice the flash, docs/dsp.md)"},
};

static int run(tm_ctx *ctx, tm_op *root, const tm_pass_options *opts) {
  if (!tm_op_is(root, "builtin.module"))
    return tm_op_error(ctx, root, "lower-to-loops must run on a builtin.module (it adds globals and functions)");
  const char *helpers = tm_pass_opt_str(opts, "helpers");
  if (strcmp(helpers, "call") && strcmp(helpers, "inline")) {
    tm_error(ctx, root->loc, "lower-to-loops: option 'helpers' must be \"call\" or \"inline\", not \"%s\"", helpers);
    return -1;
  }
  const char *target = tm_pass_opt_str(opts, "target");
  if (!*target) target = tm_op_attr_str(root, "tm.target", "");
  bool mve = false;
  int kernels = *target ? lw_target_kernels(target, &mve) : LW_KERNELS_PORTABLE;
  if (kernels < 0) {
    tm_error(ctx, root->loc, "lower-to-loops: unknown target '%s' (see tinyml-opt --list-targets)", target);
    return -1;
  }
  lw_module M = {.ctx = ctx, .module = root, .inline_helpers = !strcmp(helpers, "inline"),
                 .kernels = kernels, .unroll_words = tm_pass_opt_int(opts, "unroll-words"),
                 .loop_words = tm_pass_opt_int(opts, "loop-words"),
                 .cold_percent = tm_pass_opt_float(opts, "cold-percent"),
                 .computed_tables = tm_pass_opt_bool(opts, "computed-tables"),
                 .epilogue_loop = tm_pass_opt_bool(opts, "epilogue-loop"),
                 .channel_pairs = tm_pass_opt_bool(opts, "channel-pairs"),
                 .row_pipeline = tm_pass_opt_bool(opts, "row-pipeline"),
                 .lane_pairs = tm_pass_opt_bool(opts, "lane-pairs"),
                 .mve = mve && tm_pass_opt_bool(opts, "mve")};
  tm_block *mb = tm_module_body(root);
  int nfuncs = 0;
  for (tm_op *o = mb ? mb->first : NULL; o; o = o->next) nfuncs += tm_op_is(o, "func.func") && needs_lowering(o);
  if (!nfuncs) return 0;
  tm_op **funcs = TM_NEW_ARRAY(tm_ctx_arena(ctx), tm_op *, nfuncs);
  nfuncs = 0;
  for (tm_op *o = mb->first; o; o = o->next) {
    if (!M.anchor && tm_op_is(o, "func.func")) M.anchor = o;
    if (tm_op_is(o, "func.func") && needs_lowering(o)) funcs[nfuncs++] = o;
  }
  for (int i = 0; i < nfuncs; i++) {
    lw_lower W = {.ctx = ctx, .M = &M};
    int errors = tm_ctx_error_count(ctx);
    tm_op *nf = lower_func(&W, funcs[i]);
    if (tm_ctx_error_count(ctx) > errors) {
      if (nf) {
        if (M.anchor == nf) M.anchor = funcs[i];
        tm_op_erase(nf);
      }
      return -1;
    }
    tm_op_erase(funcs[i]);
  }
  lw_requant_trim_addends(&M);
  return 0;
}

TM_REGISTER_PASS(lower_to_loops, "lower-to-loops",
                 "Lower tm ops on tensors to loops on buffers (arith, scf, memref, math) with TFLite's integer "
                 "arithmetic",
                 run, TM_PASS_OPTIONS(options));
