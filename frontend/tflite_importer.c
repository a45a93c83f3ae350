/* frontend/tflite_importer.c — a .tflite model (subgraph 0) as a module of tm ops.
 *
 * tflite_reader.c decodes the flatbuffer and has checked every offset, index, buffer size
 * and quantization count.  This file checks what a graph needs beyond the schema (a DAG
 * in execution order, supported operators and element types, constant inputs where tm
 * takes attributes) and maps each operator to one tm op whose result type is the output
 * tensor's.  Shapes are left to the tm verifier: every op's location names its operator
 * index, loc("FILE:op 12"("output tensor name")), so a shape TFLite got wrong is reported
 * at that operator.  docs/import.md describes the mapping. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/frontend.h"
#include "frontend/import_diag.h"
#include "frontend/tflite_reader.h"

#define MAX_ATTRS 8                  /* attributes of one tm op */
#define MAX_ATTR_INTS 64             /* values of a constant input turned into an attribute */
#define MAX_DIMS 16                  /* the reader's rank bound */
#define MAX_ELEMS (INT64_C(1) << 31) /* tm's bound on tensor sizes (ops.md) */

typedef struct importer {
  tm_ctx *ctx;
  const char *file;
  const tfl_model *m;
  const tfl_subgraph *g;
  tm_builder b;
  tm_value **vals;       /* per tensor: its value once defined */
  int32_t *producer;     /* per tensor: the operator writing it, -1 if none */
  bool *is_input;        /* per tensor: a graph input */
  bool *poisoned;        /* per tensor: an error about it (or its producer) was reported */
  const tm_type **types; /* per tensor: its type, once computed */
  int nerrors;
} importer;

/* One operator being imported: its tm operands (TFLite input positions) and attributes. */
typedef struct op_import {
  importer *I;
  const tfl_operator *op;
  uint32_t index;
  const tm_loc *loc;
  const uint32_t *operands; /* positions in op->inputs, in tm operand order */
  int noperands;
  tm_named_attr attrs[MAX_ATTRS];
  int nattrs;
} op_import;

/* error(I, loc, fmt, ...) -> false and error_null(...) -> NULL: frontend/import_diag.h */
#define error(I, ...) tm_import_error((I)->ctx, &(I)->nerrors, __VA_ARGS__)
#define error_null(I, ...) tm_import_error_null((I)->ctx, &(I)->nerrors, __VA_ARGS__)

/* ------------------------------------------------------------ names, locations ---- */
static const char *op_name(const tfl_operator *op) {
  if (op->builtin_code == TFL_OP_CUSTOM) return "CUSTOM";
  const char *n = tfl_builtin_name(op->builtin_code);
  return n ? n : "unknown operator";
}

static const char *tensor_name(const importer *I, int32_t t) { return I->g->tensors[t].name; }

/* "FILE:what N", with the TFLite name as a nested name location when there is one. */
static const tm_loc *named_loc(importer *I, const char *what, uint32_t index, const char *name) {
  const char *s = tm_arena_printf(I->ctx, "%s:%s %" PRIu32, I->file, what, index);
  return tm_loc_name(I->ctx, s, name && *name ? tm_loc_name(I->ctx, name, NULL) : NULL);
}

static const tm_loc *tensor_loc(importer *I, int32_t t) {
  return named_loc(I, "tensor", (uint32_t)t, tensor_name(I, t));
}

static const tm_loc *op_loc(importer *I, uint32_t i) {
  const tfl_operator *op = &I->g->operators[i];
  return named_loc(I, "op", i, op->num_outputs ? tensor_name(I, op->outputs[0]) : NULL);
}

/* --------------------------------------------------------------------- types ------ */
static const tm_type *storage_type(tm_ctx *ctx, int type) {
  switch (type) {
  case TFL_FLOAT32: return tm_type_float(ctx, 32);
  case TFL_FLOAT16: return tm_type_float(ctx, 16);
  case TFL_FLOAT64: return tm_type_float(ctx, 64);
  case TFL_INT64: return tm_type_int(ctx, 64);
  case TFL_INT32: return tm_type_int(ctx, 32);
  case TFL_INT16: return tm_type_int(ctx, 16);
  case TFL_INT8: return tm_type_int(ctx, 8);
  case TFL_INT4: return tm_type_int(ctx, 4);
  case TFL_BOOL: return tm_type_int(ctx, 1);
  case TFL_UINT8: return tm_type_int_signed(ctx, 8, TM_UNSIGNED);
  case TFL_UINT16: return tm_type_int_signed(ctx, 16, TM_UNSIGNED);
  case TFL_UINT32: return tm_type_int_signed(ctx, 32, TM_UNSIGNED);
  case TFL_UINT64: return tm_type_int_signed(ctx, 64, TM_UNSIGNED);
  default: return NULL; /* string, complex, resource, variant */
  }
}

/* Quantization makes a !quant.uniform element only for activation and weight storage
 * types; int32/int64 biases stay plain integers (their scale is implied: s_in * s_w). */
static bool quantizable(int type) {
  return type == TFL_INT8 || type == TFL_UINT8 || type == TFL_INT16 || type == TFL_INT4;
}

static const tm_type *quant_type(importer *I, int32_t ti, const tm_type *storage) {
  const tfl_tensor *t = &I->g->tensors[ti];
  const tfl_quant *q = t->quant;
  if (q->details_type)
    return error_null(I, tensor_loc(I, ti), "tensor %" PRId32 " ('%s'): custom quantization is not supported", ti,
                      t->name);
  unsigned w = storage->width;
  bool is_unsigned = storage->signedness == TM_UNSIGNED;
  int64_t lo = is_unsigned ? 0 : -(INT64_C(1) << (w - 1));
  int64_t hi = is_unsigned ? (INT64_C(1) << w) - 1 : (INT64_C(1) << (w - 1)) - 1;
  double *scales = TM_NEW_ARRAY(tm_ctx_arena(I->ctx), double, q->num_scales);
  for (uint32_t i = 0; i < q->num_scales; i++) {
    scales[i] = q->scales[i];
    if (!(scales[i] > 0) || !isfinite(scales[i]))
      return error_null(I, tensor_loc(I, ti),
                        "tensor %" PRId32 " ('%s'): quantization scale %g is not positive and finite", ti, t->name,
                        scales[i]);
    if (q->zero_points[i] < lo || q->zero_points[i] > hi)
      return error_null(I, tensor_loc(I, ti),
                        "tensor %" PRId32 " ('%s'): zero point %" PRId64 " is outside the storage range [%" PRId64
                        ", %" PRId64 "] of %s",
                        ti, t->name, q->zero_points[i], lo, hi, tfl_type_name(t->type));
  }
  int axis = q->num_scales > 1 ? q->quantized_dimension : -1;
  return tm_type_quant(I->ctx, storage, tm_type_float(I->ctx, 32), lo, hi, axis, (int)q->num_scales, scales,
                       q->zero_points);
}

static const tm_type *tensor_type_uncached(importer *I, int32_t ti) {
  const tfl_tensor *t = &I->g->tensors[ti];
  const tm_loc *loc = tensor_loc(I, ti);
  const tm_type *e = storage_type(I->ctx, t->type);
  const char *tn = tfl_type_name(t->type);
  if (!e)
    return error_null(I, loc, "tensor %" PRId32 " ('%s') has element type %s, which is not supported", ti, t->name,
                      tn ? tn : "?");
  if (t->is_sparse)
    return error_null(I, loc, "tensor %" PRId32 " ('%s') is sparse, which is not supported", ti, t->name);
  if (t->is_variable)
    return error_null(I, loc, "tensor %" PRId32 " ('%s') is a variable, which is not supported", ti, t->name);
  if (t->rank > MAX_DIMS) return error_null(I, loc, "tensor %" PRId32 " has rank %" PRIu32, ti, t->rank);
  if (t->quant && t->quant->num_scales && quantizable(t->type) && !(e = quant_type(I, ti, e))) return NULL;
  /* Zero dimensions are skipped, as the IR parser counts: every printed type re-parses. */
  int64_t dims[MAX_DIMS], numel = 1;
  for (uint32_t i = 0; i < t->rank; i++) {
    dims[i] = t->shape[i];
    if (dims[i] && (numel *= dims[i]) > MAX_ELEMS)
      return error_null(I, loc, "tensor %" PRId32 " ('%s') has more than 2^31 elements", ti, t->name);
  }
  return tm_type_tensor(I->ctx, e, (int)t->rank, dims);
}

/* tensor<shape x elem>, from `shape` (shape_signature's -1 batch is ignored); NULL after
 * an error, which is reported once. */
static const tm_type *tensor_type(importer *I, int32_t ti) {
  if (!I->types[ti] && !I->poisoned[ti]) I->poisoned[ti] = !(I->types[ti] = tensor_type_uncached(I, ti));
  return I->types[ti];
}

/* ----------------------------------------------------------------- constants ------ */
/* The data of a constant tensor: a buffer with bytes that is not a graph input. */
static const tfl_buffer *const_buffer(const importer *I, int32_t ti) {
  const tfl_buffer *b = &I->m->buffers[I->g->tensors[ti].buffer];
  return !I->is_input[ti] && b->size ? b : NULL;
}

/* A tm.const holding the buffer in the storage type (quantized constants keep their
 * storage values), as a splat when every element is the same. */
static tm_value *materialize(importer *I, int32_t ti) {
  const tm_type *type = tensor_type(I, ti);
  if (!type) return NULL;
  const tfl_tensor *t = &I->g->tensors[ti];
  const tfl_buffer *buf = const_buffer(I, ti);
  int64_t n = tm_type_numel(type);
  size_t eb = (tm_type_elem_bits(type) + 7) / 8;
  if (n < 0 || (uint64_t)n > SIZE_MAX / 8)
    return error_null(I, tensor_loc(I, ti), "tensor %" PRId32 " ('%s') is too large", ti, t->name);
  size_t nbytes = (size_t)n * eb;
  /* INT4 comes packed two per byte or one per byte; everything else as tm stores it. */
  bool packed = t->type == TFL_INT4 && buf->size != (uint64_t)n;
  if (buf->size != (packed ? ((uint64_t)n + 1) / 2 : nbytes))
    return error_null(I, tensor_loc(I, ti), "tensor %" PRId32 " ('%s'): buffer has %" PRIu64 " bytes, expected %zu", ti,
                      t->name, buf->size, nbytes);
  uint8_t *data = tm_arena_alloc(tm_ctx_arena(I->ctx), nbytes ? nbytes : 1, 16);
  if (packed) {
    /* Packed two per byte, low nibble first; tm keeps one sign-extended value per byte. */
    for (int64_t i = 0; i < n; i++) {
      unsigned nib = (buf->data[i / 2] >> (4 * (i % 2))) & 0xF;
      data[i] = (uint8_t)(nib & 8 ? nib | 0xF0 : nib);
    }
  } else if (t->type == TFL_INT4 || t->type == TFL_BOOL) {
    for (int64_t i = 0; i < n; i++) {
      uint8_t v = buf->data[i];
      data[i] = t->type == TFL_BOOL ? v != 0 : (uint8_t)(v & 8 ? v | 0xF0 : v & 0xF);
    }
  } else if (nbytes) {
    memcpy(data, buf->data, nbytes); /* buffer data may be unaligned */
  }
  bool splat = n > 1;
  for (int64_t i = 1; splat && i < n; i++) splat = memcmp(data, data + (size_t)i * eb, eb) == 0;
  const tm_type *st = tm_type_with_elem(I->ctx, type, tm_type_storage(type->elem));
  const tm_attr *value = tm_attr_dense(I->ctx, st, splat, data, splat ? eb : nbytes);
  if (!value) return error_null(I, tensor_loc(I, ti), "tensor %" PRId32 " ('%s'): cannot hold its data", ti, t->name);
  tm_builder b = I->b;
  b.loc = tensor_loc(I, ti);
  return I->vals[ti] = tm_op_result(tm_build_const(&b, value, type), 0);
}

/* ------------------------------------------------------------ graph structure ----- */
/* Whether operator `from` reads, directly or through other operators, an output of `to`. */
static bool reaches(importer *I, uint32_t from, uint32_t to) {
  uint32_t nops = I->g->num_operators;
  bool *seen = TM_NEW_ARRAY(tm_ctx_arena(I->ctx), bool, nops);
  uint32_t *stack = TM_NEW_ARRAY(tm_ctx_arena(I->ctx), uint32_t, nops);
  uint32_t sp = 0;
  stack[sp++] = from;
  seen[from] = true;
  while (sp) {
    const tfl_operator *op = &I->g->operators[stack[--sp]];
    for (uint32_t k = 0; k < op->num_inputs; k++) {
      int32_t t = op->inputs[k];
      int32_t p = t >= 0 ? I->producer[t] : -1;
      if (p < 0 || seen[p]) continue;
      if ((uint32_t)p == to) return true;
      seen[p] = true;
      stack[sp++] = (uint32_t)p;
    }
  }
  return false;
}

/* Whether input k of the operator is defined before it runs: a graph input, a constant
 * or the output of an earlier operator.  TFLite executes operators in file order. */
static bool available(op_import *o, uint32_t k) {
  importer *I = o->I;
  int32_t t = o->op->inputs[k];
  if (t < 0 || I->vals[t] || I->is_input[t] || const_buffer(I, t)) return true;
  int32_t p = I->producer[t];
  const char *name = op_name(o->op);
  if (p < 0)
    return error(I, o->loc,
                 "operator %" PRIu32 " (%s) input %" PRIu32 ": tensor %" PRId32
                 " ('%s') is not a graph input, a constant or the output of an operator",
                 o->index, name, k, t, tensor_name(I, t));
  if ((uint32_t)p == o->index)
    return error(I, o->loc,
                 "operator %" PRIu32 " (%s) reads its own output tensor %" PRId32 " ('%s'): the graph has a cycle",
                 o->index, name, t, tensor_name(I, t));
  if ((uint32_t)p > o->index)
    return error(I, o->loc,
                 "operator %" PRIu32 " (%s) reads tensor %" PRId32 " ('%s') before operator %" PRId32
                 " (%s) writes it: %s",
                 o->index, name, t, tensor_name(I, t), p, op_name(&I->g->operators[p]),
                 reaches(I, (uint32_t)p, o->index) ? "the graph has a cycle"
                                                   : "operators must be in execution (topological) order");
  return true; /* an earlier operator that failed: already reported */
}

static tm_value *value_of(importer *I, int32_t t) {
  if (I->vals[t]) return I->vals[t];
  return const_buffer(I, t) ? materialize(I, t) : NULL;
}

/* ---------------------------------------------------------------- attributes ------ */
static void set_attr(op_import *o, const char *name, const tm_attr *value) {
  if (o->nattrs < MAX_ATTRS) o->attrs[o->nattrs++] = (tm_named_attr){tm_intern_cstr(o->I->ctx, name), value};
}

static void set_pair(op_import *o, const char *name, int64_t h, int64_t w) {
  int64_t v[2] = {h, w};
  set_attr(o, name, tm_attr_int_array(o->I->ctx, 2, v));
}

static void set_bool(op_import *o, const char *name, bool v) {
  if (v) set_attr(o, name, tm_attr_bool(o->I->ctx, true)); /* false is the default */
}

static void set_f32(op_import *o, const char *name, float v) {
  set_attr(o, name, tm_attr_float(o->I->ctx, tm_type_float(o->I->ctx, 32), v));
}

static bool set_activation(op_import *o, int act) {
  static const char *const names[] = {"none", "relu", "relu_n1_to_1", "relu6", "tanh"};
  if (act < 0 || act >= (int)TM_COUNTOF(names)) {
    const char *n = tfl_activation_name(act);
    return error(o->I, o->loc, "operator %" PRIu32 " (%s): fused activation %s is not supported", o->index,
                 op_name(o->op), n ? n : "?");
  }
  if (act) set_attr(o, "fused_activation", tm_attr_cstr(o->I->ctx, names[act]));
  return true;
}

static void set_padding(op_import *o, int padding) {
  set_attr(o, "padding", tm_attr_cstr(o->I->ctx, padding == TFL_PAD_VALID ? "valid" : "same"));
}

static bool has_options(op_import *o, int type) {
  if (o->op->options_type == type) return true;
  const char *want = tfl_options_name(type), *got = tfl_options_name(o->op->options_type);
  return error(o->I, o->loc, "operator %" PRIu32 " (%s) has builtin options %s, expected %s", o->index, op_name(o->op),
               got ? got : "?", want ? want : "?");
}

/* The values of constant integer input k (perm, paddings, axes, ...), which tm takes as
 * an attribute; *shape (if not NULL) receives the constant's type. */
static bool const_ints(op_import *o, uint32_t k, const char *what, int64_t *out, int *n, const tm_type **shape) {
  importer *I = o->I;
  int32_t t = k < o->op->num_inputs ? o->op->inputs[k] : -1;
  if (t < 0)
    return error(I, o->loc, "operator %" PRIu32 " (%s) needs its %s input (input %" PRIu32 ")", o->index,
                 op_name(o->op), what, k);
  const tfl_tensor *x = &I->g->tensors[t];
  const tfl_buffer *buf = const_buffer(I, t);
  if (!buf)
    return error(I, o->loc,
                 "operator %" PRIu32 " (%s) input %" PRIu32 " (%s): tensor %" PRId32
                 " ('%s') must be a constant, tinyml needs its values at compile time",
                 o->index, op_name(o->op), k, what, t, x->name);
  if (x->type != TFL_INT32 && x->type != TFL_INT64)
    return error(I, o->loc, "operator %" PRIu32 " (%s) input %" PRIu32 " (%s) must be INT32 or INT64, got %s", o->index,
                 op_name(o->op), k, what, tfl_type_name(x->type));
  size_t eb = x->type == TFL_INT32 ? 4 : 8;
  if (buf->size % eb || buf->size / eb > MAX_ATTR_INTS)
    return error(I, o->loc,
                 "operator %" PRIu32 " (%s) input %" PRIu32 " (%s) has %" PRIu64 " bytes, expected at most %d values",
                 o->index, op_name(o->op), k, what, buf->size, MAX_ATTR_INTS);
  *n = (int)(buf->size / eb);
  for (int i = 0; i < *n; i++) {
    uint64_t v = 0;
    for (size_t b = 0; b < eb; b++) v |= (uint64_t)buf->data[(size_t)i * eb + b] << (8 * b);
    out[i] = eb == 4 ? (int64_t)(int32_t)(uint32_t)v : (int64_t)v;
  }
  if (shape && !(*shape = tensor_type(I, t))) return false;
  return true;
}

/* Only input 0 becomes an operand; the others are attributes or implied by the result. */
static void only_input0(op_import *o) { o->noperands = 1; }

/* ------------------------------------------------------------ per operator ------- */
typedef bool (*attrs_fn)(op_import *o);

static bool attrs_none(op_import *o) {
  (void)o;
  return true;
}

static bool attrs_binary(op_import *o) {
  int32_t c = o->op->builtin_code;
  int type = c == TFL_OP_ADD ? TFL_OPT_ADD : c == TFL_OP_SUB ? TFL_OPT_SUB : TFL_OPT_MUL;
  return has_options(o, type) && set_activation(o, o->op->options.add.activation);
}

static bool attrs_conv(op_import *o) {
  const tfl_conv2d_options *c = &o->op->options.conv2d;
  if (!has_options(o, TFL_OPT_CONV2D)) return false;
  set_padding(o, c->padding);
  set_pair(o, "stride", c->stride_h, c->stride_w);
  if (c->dilation_h != 1 || c->dilation_w != 1) set_pair(o, "dilation", c->dilation_h, c->dilation_w);
  return set_activation(o, c->activation);
}

/* TFLite's kernels derive the multiplier from the shapes and converters do not always
 * fill the option in, so the shapes decide when they can. */
static bool attrs_depthwise(op_import *o) {
  const tfl_depthwise_conv2d_options *c = &o->op->options.depthwise_conv2d;
  if (!has_options(o, TFL_OPT_DEPTHWISE_CONV2D)) return false;
  const tfl_tensor *x = &o->I->g->tensors[o->op->inputs[0]], *w = &o->I->g->tensors[o->op->inputs[1]];
  int64_t mult = c->depth_multiplier;
  if (x->rank == 4 && w->rank == 4 && x->shape[3] > 0 && w->shape[3] % x->shape[3] == 0)
    mult = w->shape[3] / x->shape[3];
  set_padding(o, c->padding);
  set_pair(o, "stride", c->stride_h, c->stride_w);
  if (c->dilation_h != 1 || c->dilation_w != 1) set_pair(o, "dilation", c->dilation_h, c->dilation_w);
  set_attr(o, "depth_multiplier", tm_attr_int(o->I->ctx, NULL, mult));
  return set_activation(o, c->activation);
}

/* TFLite's (output_shape, weights, input, bias?) becomes (input, filter, bias?); the
 * output shape is the result type, so a constant output_shape must agree with it. */
static bool attrs_transpose_conv(op_import *o) {
  static const uint32_t order[] = {2, 1, 3};
  const tfl_transpose_conv_options *c = &o->op->options.transpose_conv;
  importer *I = o->I;
  if (!has_options(o, TFL_OPT_TRANSPOSE_CONV)) return false;
  o->operands = order;
  o->noperands = o->op->num_inputs > 3 && o->op->inputs[3] >= 0 ? 3 : 2;
  if (const_buffer(I, o->op->inputs[0])) {
    int64_t v[MAX_ATTR_INTS];
    int n;
    const tfl_tensor *y = &I->g->tensors[o->op->outputs[0]];
    if (!const_ints(o, 0, "output_shape", v, &n, NULL)) return false;
    bool same = (uint32_t)n == y->rank;
    for (int i = 0; same && i < n; i++) same = v[i] == y->shape[i];
    if (!same)
      return error(I, o->loc,
                   "operator %" PRIu32
                   " (TRANSPOSE_CONV): output_shape input does not match the shape of output tensor %" PRId32 " ('%s')",
                   o->index, o->op->outputs[0], y->name);
  }
  set_padding(o, c->padding);
  set_pair(o, "stride", c->stride_h, c->stride_w);
  return set_activation(o, c->activation);
}

static bool attrs_fully_connected(op_import *o) {
  const tfl_fully_connected_options *c = &o->op->options.fully_connected;
  if (!has_options(o, TFL_OPT_FULLY_CONNECTED)) return false;
  if (c->weights_format != 0)
    return error(o->I, o->loc, "operator %" PRIu32 " (FULLY_CONNECTED): shuffled weights are not supported", o->index);
  set_bool(o, "keep_num_dims", c->keep_num_dims);
  return set_activation(o, c->activation);
}

static bool attrs_batch_matmul(op_import *o) {
  if (!has_options(o, TFL_OPT_BATCH_MATMUL)) return false;
  set_bool(o, "adj_x", o->op->options.batch_matmul.adj_x);
  set_bool(o, "adj_y", o->op->options.batch_matmul.adj_y);
  return true;
}

static bool attrs_pool(op_import *o) {
  const tfl_pool2d_options *c = &o->op->options.pool2d;
  if (!has_options(o, TFL_OPT_POOL2D)) return false;
  set_pair(o, "filter", c->filter_h, c->filter_w);
  set_padding(o, c->padding);
  set_pair(o, "stride", c->stride_h, c->stride_w);
  return set_activation(o, c->activation);
}

static bool attrs_softmax(op_import *o) {
  if (!has_options(o, TFL_OPT_SOFTMAX)) return false;
  set_f32(o, "beta", o->op->options.softmax.beta);
  return true;
}

static bool attrs_leaky_relu(op_import *o) {
  if (!has_options(o, TFL_OPT_LEAKY_RELU)) return false;
  set_f32(o, "alpha", o->op->options.leaky_relu.alpha);
  return true;
}

static bool attrs_concat(op_import *o) {
  if (!has_options(o, TFL_OPT_CONCATENATION)) return false;
  set_attr(o, "axis", tm_attr_int(o->I->ctx, NULL, o->op->options.concatenation.axis));
  return set_activation(o, o->op->options.concatenation.activation);
}

/* RESHAPE and EXPAND_DIMS: the new shape is the output tensor's. */
static bool attrs_reshape(op_import *o) {
  only_input0(o);
  return true;
}

static bool attrs_squeeze(op_import *o) {
  if (!has_options(o, TFL_OPT_SQUEEZE)) return false;
  const tfl_int_list *l = &o->op->options.squeeze;
  if (l->count > MAX_ATTR_INTS)
    return error(o->I, o->loc, "operator %" PRIu32 " (SQUEEZE) has %" PRIu32 " squeeze_dims", o->index, l->count);
  int64_t v[MAX_ATTR_INTS];
  for (uint32_t i = 0; i < l->count; i++) v[i] = l->values[i];
  if (l->count) set_attr(o, "squeeze_dims", tm_attr_int_array(o->I->ctx, (int)l->count, v));
  return true;
}

static bool attrs_mean(op_import *o) {
  int64_t v[MAX_ATTR_INTS];
  int n;
  if (!has_options(o, TFL_OPT_REDUCER) || !const_ints(o, 1, "axes", v, &n, NULL)) return false;
  only_input0(o);
  set_attr(o, "axes", tm_attr_int_array(o->I->ctx, n, v));
  set_bool(o, "keep_dims", o->op->options.reducer.keep_dims);
  return true;
}

static bool attrs_transpose(op_import *o) {
  int64_t v[MAX_ATTR_INTS];
  int n;
  if (!const_ints(o, 1, "perm", v, &n, NULL)) return false;
  only_input0(o);
  set_attr(o, "perm", tm_attr_int_array(o->I->ctx, n, v));
  return true;
}

/* paddings: an [rank, 2] constant -> [[before, after], ...]. */
static bool attrs_pad(op_import *o) {
  int64_t v[MAX_ATTR_INTS];
  int n;
  const tm_type *shape;
  if (!const_ints(o, 1, "paddings", v, &n, &shape)) return false;
  if (shape->rank != 2 || shape->dims[1] != 2)
    return error(o->I, o->loc, "operator %" PRIu32 " (%s): paddings must have shape [rank, 2], got '%s'", o->index,
                 op_name(o->op), tm_type_str(o->I->ctx, shape));
  const tm_attr *pairs[MAX_ATTR_INTS / 2];
  for (int i = 0; i < n / 2; i++) pairs[i] = tm_attr_int_array(o->I->ctx, 2, v + 2 * i);
  only_input0(o);
  set_attr(o, "paddings", tm_attr_array(o->I->ctx, n / 2, pairs));
  return true;
}

static bool attrs_strided_slice(op_import *o) {
  static const char *const names[] = {"begin", "end", "strides"};
  const tfl_strided_slice_options *c = &o->op->options.strided_slice;
  importer *I = o->I;
  if (!has_options(o, TFL_OPT_STRIDED_SLICE)) return false;
  const char *bad = c->ellipsis_mask   ? "ellipsis_mask"
                    : c->new_axis_mask ? "new_axis_mask"
                    : c->offset        ? "offset"
                                       : NULL;
  if (bad) return error(I, o->loc, "operator %" PRIu32 " (STRIDED_SLICE): %s is not supported", o->index, bad);
  for (uint32_t k = 1; k <= 3; k++) {
    int64_t v[MAX_ATTR_INTS];
    int n;
    if (!const_ints(o, k, names[k - 1], v, &n, NULL)) return false;
    set_attr(o, names[k - 1], tm_attr_int_array(I->ctx, n, v));
  }
  only_input0(o);
  if (c->begin_mask) set_attr(o, "begin_mask", tm_attr_int(I->ctx, NULL, c->begin_mask));
  if (c->end_mask) set_attr(o, "end_mask", tm_attr_int(I->ctx, NULL, c->end_mask));
  if (c->shrink_axis_mask) set_attr(o, "shrink_axis_mask", tm_attr_int(I->ctx, NULL, c->shrink_axis_mask));
  return true;
}

/* TFLite builtin -> tm op: X(builtin, tm op, min inputs, max inputs (-1: any number),
 *                            first optional input (-1: none), attributes). */
/* clang-format off */
#define TFL_IMPORTED_OPS(X)                                                          \
  X(ADD, "tm.add", 2, 2, -1, attrs_binary)                                           \
  X(AVERAGE_POOL_2D, "tm.avg_pool2d", 1, 1, -1, attrs_pool)                          \
  X(BATCH_MATMUL, "tm.batch_matmul", 2, 2, -1, attrs_batch_matmul)                   \
  X(CONCATENATION, "tm.concat", 1, -1, -1, attrs_concat)                             \
  X(CONV_2D, "tm.conv2d", 2, 3, 2, attrs_conv)                                       \
  X(DEPTHWISE_CONV_2D, "tm.depthwise_conv2d", 2, 3, 2, attrs_depthwise)              \
  X(DEQUANTIZE, "tm.dequantize", 1, 1, -1, attrs_none)                               \
  X(EXPAND_DIMS, "tm.reshape", 2, 2, -1, attrs_reshape)                              \
  X(FULLY_CONNECTED, "tm.fully_connected", 2, 3, 2, attrs_fully_connected)           \
  X(HARD_SWISH, "tm.hard_swish", 1, 1, -1, attrs_none)                               \
  X(LEAKY_RELU, "tm.leaky_relu", 1, 1, -1, attrs_leaky_relu)                         \
  X(LOGISTIC, "tm.logistic", 1, 1, -1, attrs_none)                                   \
  X(MAXIMUM, "tm.maximum", 2, 2, -1, attrs_none)                                     \
  X(MAX_POOL_2D, "tm.max_pool2d", 1, 1, -1, attrs_pool)                              \
  X(MEAN, "tm.mean", 2, 2, -1, attrs_mean)                                           \
  X(MINIMUM, "tm.minimum", 2, 2, -1, attrs_none)                                     \
  X(MUL, "tm.mul", 2, 2, -1, attrs_binary)                                           \
  X(PAD, "tm.pad", 2, 2, -1, attrs_pad)                                              \
  X(QUANTIZE, "tm.quantize", 1, 1, -1, attrs_none)                                   \
  X(RELU, "tm.relu", 1, 1, -1, attrs_none)                                           \
  X(RELU6, "tm.relu6", 1, 1, -1, attrs_none)                                         \
  X(RESHAPE, "tm.reshape", 1, 2, 1, attrs_reshape)                                   \
  X(SOFTMAX, "tm.softmax", 1, 1, -1, attrs_softmax)                                  \
  X(SQUEEZE, "tm.squeeze", 1, 1, -1, attrs_squeeze)                                  \
  X(STRIDED_SLICE, "tm.strided_slice", 4, 4, -1, attrs_strided_slice)                \
  X(SUB, "tm.sub", 2, 2, -1, attrs_binary)                                           \
  X(TANH, "tm.tanh", 1, 1, -1, attrs_none)                                           \
  X(TRANSPOSE, "tm.transpose", 2, 2, -1, attrs_transpose)                            \
  X(TRANSPOSE_CONV, "tm.transpose_conv", 3, 4, 3, attrs_transpose_conv)
/* clang-format on */

typedef struct op_rule {
  int32_t code;
  const char *tm_name;
  int min_inputs, max_inputs, first_optional;
  attrs_fn attrs;
} op_rule;

static const op_rule rules[] = {
#define TFL_X_RULE(b, name, lo, hi, opt, fn) {TFL_OP_##b, name, lo, hi, opt, fn},
    TFL_IMPORTED_OPS(TFL_X_RULE)
#undef TFL_X_RULE
};

static const op_rule *find_rule(int32_t code) {
  for (size_t i = 0; i < TM_COUNTOF(rules); i++)
    if (rules[i].code == code) return &rules[i];
  return NULL;
}

static bool unsupported(importer *I, const tfl_operator *op, uint32_t i, const tm_loc *loc) {
  const char *n = tfl_builtin_name(op->builtin_code);
  if (op->builtin_code == TFL_OP_CUSTOM) {
    const char *cc = I->m->opcodes[op->opcode_index].custom_code;
    return error(I, loc, "unsupported TFLite custom operator '%s' at operator index %" PRIu32, cc ? cc : "", i);
  }
  if (!n)
    return error(I, loc, "unsupported TFLite operator with builtin code %" PRId32 " at operator index %" PRIu32,
                 op->builtin_code, i);
  return error(I, loc, "unsupported TFLite operator '%s' (builtin code %" PRId32 ") at operator index %" PRIu32, n,
               op->builtin_code, i);
}

static bool import_op(importer *I, uint32_t i) {
  const tfl_operator *op = &I->g->operators[i];
  op_import o = {.I = I, .op = op, .index = i, .loc = op_loc(I, i)};
  const op_rule *r = find_rule(op->builtin_code);
  if (!r) return unsupported(I, op, i, o.loc);
  if (op->num_outputs != 1)
    return error(I, o.loc, "operator %" PRIu32 " (%s) has %" PRIu32 " outputs, expected 1", i, op_name(op),
                 op->num_outputs);
  if (op->num_inputs < (uint32_t)r->min_inputs || (r->max_inputs >= 0 && op->num_inputs > (uint32_t)r->max_inputs)) {
    const char *want = tm_arena_printf(I->ctx, "%d", r->min_inputs);
    if (r->max_inputs < 0)
      want = tm_arena_printf(I->ctx, "%d or more", r->min_inputs);
    else if (r->max_inputs > r->min_inputs)
      want = tm_arena_printf(I->ctx, "%d to %d", r->min_inputs, r->max_inputs);
    return error(I, o.loc, "operator %" PRIu32 " (%s) has %" PRIu32 " inputs, expected %s", i, op_name(op),
                 op->num_inputs, want);
  }
  for (uint32_t k = 0; k < op->num_inputs; k++) {
    int32_t t = op->inputs[k];
    if (t < 0 && (r->first_optional < 0 || k < (uint32_t)r->first_optional))
      return error(I, o.loc, "operator %" PRIu32 " (%s): required input %" PRIu32 " is missing", i, op_name(op), k);
    if (t >= 0 && I->poisoned[t]) return false; /* its producer's error was reported */
  }
  for (uint32_t k = 0; k < op->num_inputs; k++)
    if (!available(&o, k)) return false;
  /* Absent optional inputs come last; by default every present input is an operand. */
  uint32_t *present = TM_NEW_ARRAY(tm_ctx_arena(I->ctx), uint32_t, op->num_inputs + 1);
  for (uint32_t k = 0; k < op->num_inputs; k++)
    if (op->inputs[k] >= 0) present[o.noperands++] = k;
  o.operands = present;
  if (!r->attrs(&o)) return false;

  tm_value **vals = TM_NEW_ARRAY(tm_ctx_arena(I->ctx), tm_value *, o.noperands + 1);
  for (int k = 0; k < o.noperands; k++)
    if (!(vals[k] = value_of(I, op->inputs[o.operands[k]]))) return false;
  int32_t out = op->outputs[0];
  const tm_type *rt = tensor_type(I, out);
  if (!rt) return false;
  tm_op_state st = {.name = r->tm_name, .loc = o.loc, .noperands = o.noperands, .operands = vals, .nresults = 1,
                    .result_types = &rt, .nattrs = o.nattrs, .attrs = o.attrs};
  I->vals[out] = tm_op_result(tm_build(&I->b, &st), 0);
  return true;
}

/* ------------------------------------------------------------------- graph -------- */
static void *arena_alloc(void *user, size_t size) { return tm_arena_alloc(user, size, 16); }

/* Graph inputs and operator outputs: each tensor is defined once. */
static bool check_definitions(importer *I) {
  const tfl_subgraph *g = I->g;
  for (uint32_t i = 0; i < g->num_inputs; i++) {
    int32_t t = g->inputs[i];
    if (I->is_input[t])
      error(I, tensor_loc(I, t), "graph input %" PRIu32 " is tensor %" PRId32 " ('%s'), already an earlier input", i, t,
            tensor_name(I, t));
    I->is_input[t] = true;
  }
  for (uint32_t i = 0; i < g->num_operators && I->nerrors < TM_IMPORT_MAX_ERRORS; i++) {
    const tfl_operator *op = &g->operators[i];
    for (uint32_t k = 0; k < op->num_outputs; k++) {
      int32_t t = op->outputs[k];
      const char *what = I->is_input[t] ? "graph input" : const_buffer(I, t) ? "constant" : NULL;
      if (what)
        error(I, op_loc(I, i), "operator %" PRIu32 " (%s) writes %s tensor %" PRId32 " ('%s')", i, op_name(op), what, t,
              tensor_name(I, t));
      else if (I->producer[t] >= 0)
        error(I, op_loc(I, i),
              "operator %" PRIu32 " (%s) writes tensor %" PRId32 " ('%s'), already written by operator %" PRId32
              " (%s)",
              i, op_name(op), t, tensor_name(I, t), I->producer[t], op_name(&g->operators[I->producer[t]]));
      else
        I->producer[t] = (int32_t)i;
    }
  }
  return I->nerrors == 0;
}

static const tm_attr *io_names(importer *I, uint32_t n, const int32_t *tensors) {
  bool any = false;
  const tm_attr **names = TM_NEW_ARRAY(tm_ctx_arena(I->ctx), const tm_attr *, n + 1);
  for (uint32_t i = 0; i < n; i++) {
    names[i] = tm_attr_cstr(I->ctx, tensor_name(I, tensors[i]));
    any |= tensor_name(I, tensors[i])[0] != 0;
  }
  return any ? tm_attr_array(I->ctx, (int)n, names) : NULL;
}

static tm_op *import_graph(importer *I, const char *func_name) {
  tm_ctx *ctx = I->ctx;
  const tfl_subgraph *g = I->g;
  tm_arena *A = tm_ctx_arena(ctx);
  uint32_t nt = g->num_tensors;
  I->vals = TM_NEW_ARRAY(A, tm_value *, nt + 1);
  I->producer = TM_NEW_ARRAY(A, int32_t, nt + 1);
  I->is_input = TM_NEW_ARRAY(A, bool, nt + 1);
  I->poisoned = TM_NEW_ARRAY(A, bool, nt + 1);
  I->types = TM_NEW_ARRAY(A, const tm_type *, nt + 1);
  for (uint32_t t = 0; t < nt; t++) I->producer[t] = -1;
  if (!check_definitions(I)) return NULL;

  const tm_type **ins = TM_NEW_ARRAY(A, const tm_type *, g->num_inputs + 1);
  const tm_type **outs = TM_NEW_ARRAY(A, const tm_type *, g->num_outputs + 1);
  for (uint32_t i = 0; i < g->num_inputs; i++) ins[i] = tensor_type(I, g->inputs[i]);
  for (uint32_t i = 0; i < g->num_outputs; i++) outs[i] = tensor_type(I, g->outputs[i]);
  if (I->nerrors) return NULL;

  tm_op *module = tm_module_create(ctx, tm_loc_name(ctx, I->file, NULL));
  const tm_type *ft = tm_type_func(ctx, (int)g->num_inputs, ins, (int)g->num_outputs, outs);
  tm_op *func = tm_func_create(ctx, func_name, ft, named_loc(I, "subgraph", 0, g->name));
  tm_block_append(tm_module_body(module), func);
  tm_block *entry = tm_func_entry(func);
  for (uint32_t i = 0; i < g->num_inputs; i++) {
    I->vals[g->inputs[i]] = entry->args[i];
    entry->args[i]->loc = tensor_loc(I, g->inputs[i]);
  }
  const tm_attr *names = io_names(I, g->num_inputs, g->inputs);
  if (names) tm_op_set_attr(ctx, func, "tm.input_names", names);
  if ((names = io_names(I, g->num_outputs, g->outputs))) tm_op_set_attr(ctx, func, "tm.output_names", names);

  I->b = tm_builder_at_end(ctx, entry);
  for (uint32_t i = 0; i < g->num_operators && I->nerrors < TM_IMPORT_MAX_ERRORS; i++)
    if (!import_op(I, i))
      for (uint32_t k = 0; k < g->operators[i].num_outputs; k++) I->poisoned[g->operators[i].outputs[k]] = true;

  tm_value **results = TM_NEW_ARRAY(A, tm_value *, g->num_outputs + 1);
  for (uint32_t i = 0; i < g->num_outputs && I->nerrors < TM_IMPORT_MAX_ERRORS; i++) {
    int32_t t = g->outputs[i];
    if (I->poisoned[t]) continue;
    if (!I->vals[t] && !const_buffer(I, t))
      error(I, tensor_loc(I, t),
            "graph output %" PRIu32 ": tensor %" PRId32
            " ('%s') is not a graph input, a constant or the output of an operator",
            i, t, tensor_name(I, t));
    else
      results[i] = value_of(I, t);
  }
  if (I->nerrors) return NULL;
  tm_op_state ret = {.name = "func.return", .loc = func->loc, .noperands = (int)g->num_outputs, .operands = results};
  tm_build(&I->b, &ret);
  return module;
}

tm_op *tm_import_tflite(tm_ctx *ctx, const char *filename, const uint8_t *data, size_t size,
                        const tm_tflite_import_options *opt) {
  const char *file = tm_intern_cstr(ctx, filename ? filename : "<tflite>");
  const tm_loc *file_loc = tm_loc_name(ctx, file, NULL);
  tfl_model *m = NULL;
  tfl_error err;
  if (tfl_model_read(data, size, arena_alloc, tm_ctx_arena(ctx), &m, &err) != TFL_OK) {
    const char *msg = strncmp(err.message, "tflite: ", 8) ? err.message : err.message + 8;
    tm_error(ctx, file_loc, "%s TFLite file: %s", err.status == TFL_ERR_UNSUPPORTED ? "unsupported" : "invalid", msg);
    return NULL;
  }
  if (m->version != 3) {
    tm_error(ctx, file_loc, "unsupported TFLite schema version %" PRIu32 " (expected 3)", m->version);
    return NULL;
  }
  if (m->num_subgraphs > 1)
    tm_note(ctx, file_loc, "importing subgraph 0 only; the model has %" PRIu32 " subgraphs", m->num_subgraphs);
  importer I = {.ctx = ctx, .file = file, .m = m, .g = &m->subgraphs[0]};
  const char *name = opt && opt->func_name ? opt->func_name : tm_import_stem_symbol(ctx, file);
  tm_op *module = import_graph(&I, name);
  tm_import_note_stopped(ctx, I.nerrors, file_loc);
  return module;
}
