/* passes/fold_qdq.c — QDQ folding: a float op between dequantize and quantize (the form
 * ONNX QDQ models take after import) becomes the quantized tm op TFLite's int8 kernels
 * run, so the model computes in integers.
 *
 *   quantize(conv(dequantize(x), w, b) [relu|relu6]) -> conv(x, qw, qb) [relu] : q_y
 *
 * for conv2d, depthwise_conv2d and fully_connected, where w is int8 with zero point 0
 * (per tensor, or per output channel): dequantize of a constant, or the importer's
 * per-axis form (integers, minus zero points, times scales, transposed); the bias
 * (float, or dequantized int32) becomes int32 at s_x * s_w.  Likewise add and
 * avg_pool2d; pad, transpose, reshape, max_pool2d and relu move after the dequantize
 * (exact: they only move, pick or clamp at the zero point); and quantize(dequantize(q))
 * of equal types folds away.
 *
 * The ONNX importer spells QuantizeLinear's round-half-even as div, add/sub 1.5*2^23,
 * mul before tm.quantize; that chain is taken as one quantize.  The folded op therefore
 * rounds as TFLite does (fixed-point requantization, ties away from zero): results may
 * differ from the float simulation by one step.  Anything else (uint8, nonzero weight
 * zero points, per-axis activations, fused activations already set) is left as is. */
#include <math.h>
#include <string.h>

#include "passes/passes.h"

/* Per-tensor int8 (signed or signless storage, f32 expressed): what TFLite's int8
 * kernels take for activations. */
static bool is_q8(const tm_type *t) {
  const tm_type *e = tm_type_elem(t);
  return e && e->kind == TM_TYPE_QUANT && e->axis < 0 && e->nscales == 1 && e->storage->width == 8 &&
         e->storage->signedness != TM_UNSIGNED && e->expressed && e->expressed->kind == TM_TYPE_FLOAT &&
         e->expressed->width == 32 && tm_type_is_static(t);
}

static bool is_f32(const tm_type *t) {
  const tm_type *e = tm_type_elem(t);
  return e && e->kind == TM_TYPE_FLOAT && e->width == 32 && tm_type_is_static(t);
}

/* x when v = dequantize(x) with x per-tensor int8, else NULL. */
static tm_value *dq_source(const tm_value *v) {
  if (!v->def || !tm_op_is(v->def, "tm.dequantize")) return NULL;
  tm_value *x = tm_op_operand(v->def, 0);
  return is_q8(x->type) ? x : NULL;
}

static bool no_activation(const tm_op *op) { return !strcmp(tm_op_attr_str(op, "fused_activation", "none"), "none"); }

/* v is a constant whose elements all equal k (compared as f32: the importer's constants
 * are f32 roundings of the type's double scale). */
static bool splat_equals(const tm_value *v, double k) {
  const tm_attr *a = tm_value_const(v);
  if (!a || a->kind != TM_ATTR_DENSE || !is_f32(v->type)) return false;
  for (int64_t i = 0, n = tm_dense_numel(a); i < n; i++)
    if ((float)tm_dense_get_float(a, i) != (float)k) return false;
  return tm_dense_numel(a) > 0;
}

/* The operand of op (a binary op named `name`) that is not the splat k, or NULL. */
static tm_value *other_than_splat(const tm_value *v, const char *name, double k, bool either) {
  tm_op *op = v->def;
  if (!op || !tm_op_is(op, name) || op->noperands != 2 || !no_activation(op)) return NULL;
  for (int i = 0; i < (either ? 2 : 1); i++)
    if (splat_equals(tm_op_operand(op, 1 - i), k) && tm_op_operand(op, i)->type == v->type)
      return tm_op_operand(op, i);
  return NULL;
}

/* The importer's QuantizeLinear rounding, mul(sub(add(div(x, s), M), M), s) with M =
 * 1.5 * 2^23, is x as far as quantize to scale s is concerned (up to ties). */
static tm_value *peel_rounding(tm_value *v, double scale) {
  const double magic = 12582912.0;
  tm_value *a = other_than_splat(v, "tm.mul", scale, true), *b = a ? other_than_splat(a, "tm.sub", magic, false) : NULL,
           *c = b ? other_than_splat(b, "tm.add", magic, true) : NULL,
           *x = c ? other_than_splat(c, "tm.div", scale, false) : NULL;
  return x ? x : v;
}

/* ------------------------------------------------------------------ weights ------- */
/* Symmetric int8 weights in the op's layout with one scale (per tensor) or one per
 * output channel. */
typedef struct qweights {
  int8_t *q;
  double *scales;
  int nscales;
} qweights;

/* Integers of an f32 constant (exact integers in [-128, 127]) or of dequantize of a
 * constant with scale 1 and zero point 0; element i of the value into q[i]. */
static bool integer_values(const tm_value *v, int64_t n, int8_t *q) {
  const tm_attr *a = tm_value_const(v);
  if (!a && v->def && tm_op_is(v->def, "tm.dequantize")) {
    const tm_type *e = tm_type_elem(tm_op_operand(v->def, 0)->type);
    if (e->kind != TM_TYPE_QUANT || e->nscales != 1 || e->scales[0] != 1.0 || (e->zero_points && e->zero_points[0]) ||
        e->storage->width != 8 || e->storage->signedness == TM_UNSIGNED)
      return false;
    a = tm_value_const(tm_op_operand(v->def, 0));
  }
  if (!a || a->kind != TM_ATTR_DENSE || tm_dense_numel(a) != n) return false;
  for (int64_t i = 0; i < n; i++) {
    double d = tm_dense_get_float(a, i);
    if (d != floor(d) || d < -128 || d > 127) return false;
    q[i] = (int8_t)d;
  }
  return true;
}

/* The scale axis (-1: one scale) of a constant s broadcast along at most one dimension
 * of a rank-r value with dims d; its scales into *out. */
static bool broadcast_scales(tm_ctx *ctx, const tm_value *s, int r, const int64_t *d, int *axis, double **out) {
  const tm_attr *a = tm_value_const(s);
  if (!a || a->kind != TM_ATTR_DENSE || !is_f32(s->type)) return false;
  int64_t n = tm_dense_numel(a);
  *axis = -1;
  if (n != 1) {
    if (s->type->rank != r) return false;
    for (int i = 0; i < r; i++) {
      if (s->type->dims[i] == 1) continue;
      if (*axis >= 0 || s->type->dims[i] != d[i]) return false;
      *axis = i;
    }
  }
  *out = TM_NEW_ARRAY(tm_ctx_arena(ctx), double, n);
  for (int64_t i = 0; i < n; i++) (*out)[i] = tm_dense_get_float(a, i);
  return true;
}

/* Weights w of an op whose output channels are dimension `oc` of w: transposes of
 * dequantize(const int8) or of mul(integers [- zero], scales), zero points 0. */
static bool int_weights(tm_ctx *ctx, tm_value *w, int oc, qweights *out) {
  const tm_type *wt = w->type;
  int r = wt->rank;
  if (!is_f32(wt) || r < 1 || r > 4 || oc >= r) return false;
  int map[4] = {0, 1, 2, 3}; /* dimension i of w is dimension map[i] of the base value */
  tm_value *b = w;
  while (b->def && tm_op_is(b->def, "tm.transpose")) {
    int64_t perm[4];
    int n = 0;
    const tm_attr *pa = tm_op_attr(b->def, "perm");
    if (!pa || !tm_attr_get_int_array(pa, 4, perm, &n) || n != r) return false;
    for (int i = 0; i < r; i++) {
      if (perm[map[i]] < 0 || perm[map[i]] >= r) return false;
      map[i] = (int)perm[map[i]];
    }
    b = tm_op_operand(b->def, 0);
  }
  const tm_type *bt = b->type;
  if (!is_f32(bt) || bt->rank != r) return false;
  int64_t numel = tm_type_numel(bt);
  int8_t *q = TM_NEW_ARRAY(tm_ctx_arena(ctx), int8_t, numel);
  int axis = -1;
  double *scales = NULL;
  if (b->def && tm_op_is(b->def, "tm.dequantize") && tm_value_const(tm_op_operand(b->def, 0))) {
    const tm_type *e = tm_type_elem(tm_op_operand(b->def, 0)->type);
    if (e->kind != TM_TYPE_QUANT || e->storage->width != 8 || e->storage->signedness == TM_UNSIGNED || e->axis >= r)
      return false;
    for (int i = 0; e->zero_points && i < e->nscales; i++)
      if (e->zero_points[i]) return false;
    const tm_attr *a = tm_value_const(tm_op_operand(b->def, 0));
    if (a->kind != TM_ATTR_DENSE || tm_dense_numel(a) != numel || e->nscales != (e->axis >= 0 ? bt->dims[e->axis] : 1))
      return false;
    for (int64_t i = 0; i < numel; i++) q[i] = (int8_t)tm_dense_get_int(a, i);
    axis = e->axis;
    scales = (double *)e->scales;
  } else if (b->def && tm_op_is(b->def, "tm.mul") && b->def->noperands == 2 && no_activation(b->def)) {
    tm_value *ints = tm_op_operand(b->def, 0);
    if (!broadcast_scales(ctx, tm_op_operand(b->def, 1), r, bt->dims, &axis, &scales)) return false;
    if (ints->def && tm_op_is(ints->def, "tm.sub") && ints->def->noperands == 2 && no_activation(ints->def) &&
        splat_equals(tm_op_operand(ints->def, 1), 0.0))
      ints = tm_op_operand(ints->def, 0);
    if (ints->type != bt || !integer_values(ints, numel, q)) return false;
  } else {
    return false;
  }
  if (axis >= 0 && axis != map[oc]) return false;
  int64_t nch = axis >= 0 ? wt->dims[oc] : 1;
  for (int64_t c = 0; c < nch; c++)
    if (!(scales[c] > 0) || !isfinite(scales[c])) return false;
  /* Re-lay the integers out in w's order. */
  out->q = TM_NEW_ARRAY(tm_ctx_arena(ctx), int8_t, numel);
  for (int64_t f = 0; f < numel; f++) {
    int64_t rem = f, coord[4], base = 0;
    for (int i = r - 1; i >= 0; i--) coord[i] = rem % wt->dims[i], rem /= wt->dims[i];
    int64_t bc[4];
    for (int i = 0; i < r; i++) bc[map[i]] = coord[i];
    for (int i = 0; i < r; i++) base = base * bt->dims[i] + bc[i];
    out->q[f] = q[base];
  }
  out->scales = scales;
  out->nscales = (int)nch;
  return true;
}

/* Bias values in f32 terms: an f32 constant of n elements, or dequantize of an int32
 * constant (per tensor or along axis 0). */
static bool bias_values(tm_ctx *ctx, const tm_value *v, int64_t n, double **out) {
  const tm_attr *a = tm_value_const(v);
  const tm_type *e = NULL;
  if (!a && v->def && tm_op_is(v->def, "tm.dequantize")) {
    a = tm_value_const(tm_op_operand(v->def, 0));
    e = tm_type_elem(tm_op_operand(v->def, 0)->type);
    if (e->kind != TM_TYPE_QUANT || e->storage->width != 32 || e->axis > 0 || (e->nscales != 1 && e->nscales != n))
      return false;
  }
  if (!a || a->kind != TM_ATTR_DENSE || tm_dense_numel(a) != n || v->type->rank != 1 || (!e && !is_f32(v->type)))
    return false;
  *out = TM_NEW_ARRAY(tm_ctx_arena(ctx), double, n);
  for (int64_t c = 0; c < n; c++) {
    int k = e && e->nscales > 1 ? (int)c : 0;
    (*out)[c] = e ? e->scales[k] * (double)(tm_dense_get_int(a, c) - (e->zero_points ? e->zero_points[k] : 0))
                  : tm_dense_get_float(a, c);
  }
  return true;
}

/* ------------------------------------------------------------------ rewrites ------ */
static tm_value *create(tm_rewriter *rw, tm_op *pos, const tm_op *like, const char *name, int n,
                        tm_value *const *operands, const tm_type *rt) {
  tm_op_state st = {.name = name, .loc = like->loc, .noperands = n, .operands = operands, .nresults = 1,
                    .result_types = &rt, .nattrs = like->nattrs, .attrs = like->attrs};
  return tm_op_result(tm_rw_create_before(rw, pos, &st), 0);
}

static tm_value *quant_const(tm_rewriter *rw, tm_op *pos, const tm_type *shape, const tm_type *qelem, const void *data,
                             size_t elem_bytes, const tm_loc *loc) {
  tm_ctx *ctx = rw->ctx;
  const tm_type *st = tm_type_with_elem(ctx, shape, qelem->storage);
  const tm_attr *a = tm_attr_dense(ctx, st, false, data, (size_t)tm_type_numel(shape) * elem_bytes);
  return tm_op_result(tm_rw_const_before(rw, pos, a, tm_type_with_elem(ctx, shape, qelem), loc), 0);
}

/* quantize(p(dequantize(x), w, b) [relu|relu6]) -> p(x, qw, qb) [relu] : q_y. */
static bool fold_weighted(tm_rewriter *rw, tm_op *quant, tm_value *v, const tm_type *qy) {
  tm_ctx *ctx = rw->ctx;
  tm_op *act = NULL;
  if (v->def && (tm_op_is(v->def, "tm.relu") || tm_op_is(v->def, "tm.relu6"))) {
    act = v->def;
    v = tm_op_operand(act, 0);
    if (!tm_value_has_one_use(v) || v->type != act->results[0].type) return false;
  }
  tm_op *p = v->def;
  if (!p || !tm_value_has_one_use(v) || !no_activation(p) || p->noperands < 2 || !is_f32(v->type) || v->type->rank < 1)
    return false;
  bool dw = tm_op_is(p, "tm.depthwise_conv2d");
  if (!dw && !tm_op_is(p, "tm.conv2d") && !tm_op_is(p, "tm.fully_connected")) return false;
  tm_value *x = dq_source(tm_op_operand(p, 0));
  tm_value *w = tm_op_operand(p, 1);
  int oc = dw ? 3 : 0;
  qweights qw;
  if (!x || !int_weights(ctx, w, oc, &qw)) return false;
  int64_t n = v->type->dims[v->type->rank - 1];
  if (w->type->dims[oc] != n) return false;
  double sx = tm_type_elem(x->type)->scales[0];
  int32_t *qb = NULL;
  if (p->noperands > 2) {
    double *bv;
    if (!bias_values(ctx, tm_op_operand(p, 2), n, &bv)) return false;
    qb = TM_NEW_ARRAY(tm_ctx_arena(ctx), int32_t, n);
    for (int64_t c = 0; c < n; c++) {
      double r = nearbyint(bv[c] / (sx * qw.scales[qw.nscales > 1 ? c : 0]));
      if (!(fabs(r) < 2147483647.0)) return false;
      qb[c] = (int32_t)r;
    }
  }
  const tm_type *i8 = tm_type_int(ctx, 8), *i32 = tm_type_int(ctx, 32), *f32 = tm_type_float(ctx, 32);
  const tm_type *we = tm_type_quant(ctx, i8, f32, -128, 127, qw.nscales > 1 ? oc : -1, qw.nscales, qw.scales, NULL);
  tm_value *operands[3] = {x, quant_const(rw, p, w->type, we, qw.q, 1, w->def ? w->def->loc : p->loc), NULL};
  if (qb) {
    double *bs = TM_NEW_ARRAY(tm_ctx_arena(ctx), double, qw.nscales);
    for (int c = 0; c < qw.nscales; c++) bs[c] = sx * qw.scales[c];
    const tm_type *be =
        tm_type_quant(ctx, i32, f32, INT32_MIN, INT32_MAX, qw.nscales > 1 ? 0 : -1, qw.nscales, bs, NULL);
    operands[2] = quant_const(rw, p, tm_op_operand(p, 2)->type, be, qb, 4, p->loc);
  }
  const tm_type *rt = tm_type_with_elem(ctx, v->type, tm_type_elem(qy));
  tm_value *r = create(rw, p, p, p->name, qb ? 3 : 2, operands, rt);
  if (act) r = create(rw, quant, act, act->name, 1, &r, rt);
  tm_rw_replace_op(rw, quant, &r);
  return true;
}

/* quantize(add(dequantize(a), dequantize(b))) -> add(a, b) : q_y (same shapes);
 * quantize(avg_pool2d(dequantize(x))) -> avg_pool2d(x) when q_y is x's type. */
static bool fold_elementwise(tm_rewriter *rw, tm_op *quant, tm_value *v, const tm_type *qy) {
  tm_op *p = v->def;
  if (!p || !no_activation(p) || !tm_value_has_one_use(v) || !is_f32(v->type)) return false;
  tm_value *ops[2];
  if (tm_op_is(p, "tm.add") && p->noperands == 2) {
    for (int i = 0; i < 2; i++)
      if (tm_op_operand(p, i)->type != v->type || !(ops[i] = dq_source(tm_op_operand(p, i)))) return false;
  } else if (tm_op_is(p, "tm.avg_pool2d") && p->noperands == 1) {
    if (!(ops[0] = dq_source(tm_op_operand(p, 0))) || tm_type_elem(ops[0]->type) != tm_type_elem(qy)) return false;
  } else {
    return false;
  }
  tm_value *r = create(rw, p, p, p->name, p->noperands, ops, tm_type_with_elem(rw->ctx, v->type, tm_type_elem(qy)));
  tm_rw_replace_op(rw, quant, &r);
  return true;
}

static bool fold_quantize(tm_rewriter *rw, tm_op *quant) {
  const tm_type *qy = quant->results[0].type;
  if (!is_q8(qy)) return false;
  tm_value *v = peel_rounding(tm_op_operand(quant, 0), tm_type_elem(qy)->scales[0]);
  tm_value *x = dq_source(v);
  if (x && x->type == qy) { /* a round trip through the rounding chain */
    tm_rw_replace_op(rw, quant, &x);
    return true;
  }
  return fold_weighted(rw, quant, v, qy) || fold_elementwise(rw, quant, v, qy);
}

/* op(dequantize(x)) -> dequantize(op(x)) for ops that only move, select or clamp at
 * zero elements: the quantized op gives the same integers the float one's values are. */
static bool sink_dequantize(tm_rewriter *rw, tm_op *op) {
  tm_value *x = op->noperands == 1 ? dq_source(tm_op_operand(op, 0)) : NULL;
  if (!x || !no_activation(op) || !is_f32(op->results[0].type)) return false;
  const tm_type *qt = tm_type_with_elem(rw->ctx, op->results[0].type, tm_type_elem(x->type));
  tm_value *r = create(rw, op, op, op->name, 1, &x, qt);
  tm_op_state st = {.name = "tm.dequantize", .loc = op->loc, .noperands = 1, .operands = &r, .nresults = 1,
                    .result_types = (const tm_type *const[]){op->results[0].type}};
  tm_value *d = tm_op_result(tm_rw_create_before(rw, op, &st), 0);
  tm_rw_replace_op(rw, op, &d);
  return true;
}

static const tm_pattern patterns[] = {
    {"tm.quantize", fold_quantize, 2, "fold-qdq-compute"},
    {"tm.pad", sink_dequantize, 1, "sink-dequantize-pad"},
    {"tm.transpose", sink_dequantize, 1, "sink-dequantize-transpose"},
    {"tm.reshape", sink_dequantize, 1, "sink-dequantize-reshape"},
    {"tm.max_pool2d", sink_dequantize, 1, "sink-dequantize-max-pool"},
    {"tm.relu", sink_dequantize, 1, "sink-dequantize-relu"},
};

static int run(tm_ctx *ctx, tm_op *root, const tm_pass_options *opts) {
  (void)opts;
  tm_greedy_config cfg = {.max_iterations = 10};
  tm_apply_patterns_greedily(ctx, root, patterns, (int)TM_COUNTOF(patterns), &cfg, NULL);
  return 0;
}

TM_REGISTER_PASS(fold_qdq, "fold-qdq",
                 "Fold dequantize -> float op -> quantize (ONNX QDQ) into quantized conv2d, depthwise_conv2d, "
                 "fully_connected, add and pools with TFLite's int8 arithmetic",
                 run);
