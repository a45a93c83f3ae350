/* passes/fuse.c — graph-level fusion: fold what follows a convolution (batch_norm,
 * constant scales and offsets, clamps, a residual add) into it, fold explicit zero
 * padding into "same" padding, and drop identity reshapes/transposes and exact quantize
 * round trips.
 *
 * Every rewrite keeps the result the lowering computes: bit for bit for quantized
 * tensors (the fused activation range is TFLite's CalculateActivationRangeQuantized,
 * which the lowering implements), within rounding for float weight folding.  A rewrite
 * whose exactness cannot be shown is not made; docs/passes.md lists the rules. */
#include <math.h>
#include <string.h>

#include "passes/lowering.h"
#include "passes/passes.h"

/* ------------------------------------------------------------------ helpers ------- */
static bool is_f32(const tm_type *t) {
  const tm_type *e = tm_type_elem(t);
  return e && e->kind == TM_TYPE_FLOAT && e->width == 32;
}

static bool is_per_tensor_quant(const tm_type *t) {
  const tm_type *e = tm_type_elem(t);
  return e && e->kind == TM_TYPE_QUANT && e->axis < 0 && e->nscales == 1 && e->storage &&
         e->storage->width >= 2 && e->storage->width <= 32;
}

/* The single value of a constant whose elements are all equal (stored integers for
 * quantized constants), or false. */
static bool const_splat(const tm_value *v, double *out) {
  const tm_attr *a = tm_value_const(v);
  if (!a || a->kind != TM_ATTR_DENSE) return false;
  int64_t n = tm_dense_numel(a);
  if (n < 1) return false;
  bool flt = tm_type_elem(a->type)->kind == TM_TYPE_FLOAT;
  double first = flt ? tm_dense_get_float(a, 0) : (double)tm_dense_get_int(a, 0);
  for (int64_t i = 1; i < n && !a->u.dense.splat; i++)
    if ((flt ? tm_dense_get_float(a, i) : (double)tm_dense_get_int(a, i)) != first) return false;
  *out = first;
  return true;
}

/* Ops whose lowering applies fused_activation to its result (concat's does not). */
static bool clamps_result(const tm_op *op) {
  static const char *const names[] = {"tm.conv2d", "tm.depthwise_conv2d", "tm.fully_connected", "tm.add",
                                      "tm.sub",    "tm.mul",              "tm.avg_pool2d",      "tm.max_pool2d"};
  for (size_t i = 0; i < TM_COUNTOF(names); i++)
    if (tm_op_is(op, names[i])) return true;
  return false;
}

/* --------------------------------------------------------------- activations ------ */
/* A clamp as the closed interval it keeps, in the element domain of type t: floats, or
 * stored integers of a per-tensor quantization (what the lowering compares). */
typedef struct interval {
  double lo, hi;
} interval;

static const char *const activations[] = {"none", "relu", "relu6", "relu_n1_to_1"};

/* The interval fused_activation `act` clamps a result of type t to: for quantized
 * results TFLite's CalculateActivationRangeQuantized over the storage type's full range,
 * exactly as the lowering computes it. */
static bool act_interval(const char *act, const tm_type *t, interval *r) {
  const tm_type *e = tm_type_elem(t);
  if (is_f32(t)) {
    static const double lo[] = {-INFINITY, 0, 0, -1}, hi[] = {INFINITY, INFINITY, 6, 1};
    for (size_t i = 0; i < TM_COUNTOF(activations); i++)
      if (!strcmp(act, activations[i])) return *r = (interval){lo[i], hi[i]}, true;
    return false;
  }
  if (!is_per_tensor_quant(t)) return false;
  int32_t qmin = (int32_t)(-(INT64_C(1) << (e->storage->width - 1)));
  int32_t qmax = (int32_t)((INT64_C(1) << (e->storage->width - 1)) - 1);
  int32_t lo, hi;
  if (!tm_act_range_quant(act, e->scales[0], e->zero_points ? e->zero_points[0] : 0, qmin, qmax, &lo, &hi))
    return false;
  *r = (interval){lo, hi};
  return true;
}

/* The interval a clamp op keeps of its operand `x`, when the op is a pure clamp of x:
 * relu/relu6 (quantized: only with the operand's quantization, where TFLite's kernels do
 * not rescale — ReluQuantized with multiplier 1 is the identity), or maximum/minimum with
 * a constant whose elements are equal and whose element type is x's. */
static bool clamp_interval(const tm_op *op, tm_value **x, interval *r) {
  const tm_type *rt = op->results[0].type;
  if (tm_op_is(op, "tm.relu") || tm_op_is(op, "tm.relu6")) {
    *x = tm_op_operand(op, 0);
    return (*x)->type == rt && act_interval(tm_op_is(op, "tm.relu") ? "relu" : "relu6", rt, r);
  }
  bool is_max = tm_op_is(op, "tm.maximum");
  if (!is_max && !tm_op_is(op, "tm.minimum")) return false;
  for (int i = 0; i < 2; i++) {
    tm_value *v = tm_op_operand(op, i), *c = tm_op_operand(op, 1 - i);
    double k;
    /* A NaN bound is no interval (fmax/fmin would drop it). */
    if (v->type != rt || tm_type_elem(c->type) != tm_type_elem(rt) || !const_splat(c, &k) || isnan(k)) continue;
    interval full;
    if (!act_interval("none", rt, &full)) return false;
    *x = v;
    *r = is_max ? (interval){k, full.hi} : (interval){full.lo, k};
    return true;
  }
  return false;
}

/* clamp(p(...)) -> p(...) with a fused_activation keeping exactly the intersection of
 * p's current clamp and this one; made only when one of TFLite's activations has that
 * interval (for quantized results: after rounding to the storage type). */
static bool fold_activation(tm_rewriter *rw, tm_op *op) {
  tm_value *x;
  interval c, cur;
  if (!clamp_interval(op, &x, &c)) return false;
  tm_op *p = x->def;
  if (!p || !clamps_result(p) || !tm_value_has_one_use(x) || x->type != op->results[0].type) return false;
  if (!act_interval(tm_op_attr_str(p, "fused_activation", "none"), x->type, &cur)) return false;
  interval want = {fmax(cur.lo, c.lo), fmin(cur.hi, c.hi)};
  for (size_t i = 0; i < TM_COUNTOF(activations); i++) {
    interval a;
    if (act_interval(activations[i], x->type, &a) && a.lo == want.lo && a.hi == want.hi) {
      tm_rw_set_attr(rw, p, "fused_activation", tm_attr_cstr(rw->ctx, activations[i]));
      tm_rw_replace_op(rw, op, &x);
      return true;
    }
  }
  return false;
}

/* ------------------------------------------------------- affine into weights ------ */
/* y = p(x) * a[c] + b[c] per output channel c, folded into p's weights and bias. */
typedef struct channel_affine {
  int64_t n;
  double *a, *b;
} channel_affine;

/* Output channels of a float conv2d / depthwise_conv2d / fully_connected with no fused
 * activation whose weights (and bias, if any) are constants; 0 if p is not one. */
static int64_t foldable_producer(const tm_op *p) {
  if (!p || !(tm_op_is(p, "tm.conv2d") || tm_op_is(p, "tm.depthwise_conv2d") || tm_op_is(p, "tm.fully_connected")))
    return 0;
  if (strcmp(tm_op_attr_str(p, "fused_activation", "none"), "none") || p->noperands < 2) return 0;
  const tm_type *rt = p->results[0].type;
  if (!is_f32(rt) || !tm_type_is_static(rt) || rt->rank < 1) return 0;
  for (int i = 1; i < p->noperands; i++) {
    const tm_attr *c = tm_value_const(tm_op_operand(p, i));
    if (!c || !is_f32(c->type) || !tm_type_is_static(tm_op_operand(p, i)->type)) return 0;
  }
  return rt->dims[rt->rank - 1];
}

/* A constant broadcast over the last dimension only ([C], [1, .., C] or one element):
 * its value per channel, or false. */
static bool per_channel(const tm_value *v, int64_t n, double *out) {
  const tm_attr *a = tm_value_const(v);
  if (!a || !is_f32(v->type) || !tm_type_is_static(v->type)) return false;
  const tm_type *t = v->type;
  int64_t numel = tm_type_numel(t);
  if (numel != 1 && numel != n) return false;
  if (numel == n && n != 1 && (t->rank < 1 || t->dims[t->rank - 1] != n)) return false;
  for (int64_t c = 0; c < n; c++) out[c] = tm_dense_get_float(a, numel == 1 ? 0 : c);
  return true;
}

/* Rebuilds p with weights w[o, ...] * a[o] (depthwise: w[..., o] * a[o]) and bias
 * bias * a + b (no bias: b), fused_activation act, in place of `user`'s result. */
static void rebuild(tm_rewriter *rw, tm_op *p, const channel_affine *f, const char *act, tm_op *user) {
  tm_ctx *ctx = rw->ctx;
  tm_value *wv = tm_op_operand(p, 1);
  const tm_attr *w = tm_value_const(wv), *bias = p->noperands > 2 ? tm_value_const(tm_op_operand(p, 2)) : NULL;
  int64_t numel = tm_type_numel(wv->type), n = f->n;
  bool last = tm_op_is(p, "tm.depthwise_conv2d");
  float *nw = TM_NEW_ARRAY(tm_ctx_arena(ctx), float, numel), *nb = TM_NEW_ARRAY(tm_ctx_arena(ctx), float, n);
  for (int64_t i = 0; i < numel; i++) {
    int64_t o = last ? i % n : i / (numel / n);
    nw[i] = (float)(tm_dense_get_float(w, i) * f->a[o]);
  }
  for (int64_t o = 0; o < n; o++) nb[o] = (float)((bias ? tm_dense_get_float(bias, o) : 0.0) * f->a[o] + f->b[o]);
  const tm_type *bt = tm_type_tensor(ctx, tm_type_float(ctx, 32), 1, &n);
  tm_value *wn = tm_op_result(tm_rw_const_before(rw, p, tm_attr_dense(ctx, wv->type, false, nw, (size_t)numel * 4),
                                                 wv->type, wv->def->loc), 0);
  tm_value *bn =
      tm_op_result(tm_rw_const_before(rw, p, tm_attr_dense(ctx, bt, false, nb, (size_t)n * 4), bt, p->loc), 0);
  tm_value *operands[3] = {tm_op_operand(p, 0), wn, bn};
  tm_named_attr *attrs = TM_NEW_ARRAY(tm_ctx_arena(ctx), tm_named_attr, p->nattrs + 1);
  int nattrs = 0;
  for (int i = 0; i < p->nattrs; i++)
    if (strcmp(p->attrs[i].name, "fused_activation")) attrs[nattrs++] = p->attrs[i];
  if (strcmp(act, "none"))
    attrs[nattrs++] = (tm_named_attr){tm_intern_cstr(ctx, "fused_activation"), tm_attr_cstr(ctx, act)};
  const tm_type *rt = p->results[0].type;
  tm_op_state st = {.name = p->name, .loc = p->loc, .noperands = 3, .operands = operands, .nresults = 1,
                    .result_types = &rt, .nattrs = nattrs, .attrs = attrs};
  tm_value *r = tm_op_result(tm_rw_create_before(rw, p, &st), 0);
  tm_rw_replace_op(rw, user, &r);
  tm_rw_erase_op(rw, p);
}

/* batch_norm(p(x), scale, offset, mean, variance) -> p'(x): a = scale / sqrt(variance +
 * epsilon), b = offset - mean * a, computed in double and rounded once into the weights. */
static bool fold_batch_norm(tm_rewriter *rw, tm_op *op) {
  tm_value *x = tm_op_operand(op, 0);
  int64_t n = foldable_producer(x->def);
  if (!n || !tm_value_has_one_use(x) || x->type != op->results[0].type) return false;
  tm_arena *A = tm_ctx_arena(rw->ctx);
  double *v[4];
  for (int i = 0; i < 4; i++)
    if (!per_channel(tm_op_operand(op, i + 1), n, v[i] = TM_NEW_ARRAY(A, double, n))) return false;
  double eps = tm_op_attr_float(op, "epsilon", 1e-5);
  channel_affine f = {n, TM_NEW_ARRAY(A, double, n), TM_NEW_ARRAY(A, double, n)};
  for (int64_t c = 0; c < n; c++) {
    double d = v[3][c] + eps;
    if (!(d > 0) || !isfinite(d)) return false;
    f.a[c] = v[0][c] / sqrt(d);
    f.b[c] = v[1][c] - v[2][c] * f.a[c];
  }
  rebuild(rw, x->def, &f, "none", op);
  return true;
}

/* mul(p(x), c) -> p'(x) with weights and bias scaled by c; add(p(x), c) -> p'(x) with
 * c added to the bias.  The mul/add's fused_activation moves onto p'. */
static bool fold_scale_offset(tm_rewriter *rw, tm_op *op) {
  bool is_mul = tm_op_is(op, "tm.mul");
  for (int i = 0; i < 2; i++) {
    tm_value *x = tm_op_operand(op, i), *c = tm_op_operand(op, 1 - i);
    int64_t n = foldable_producer(x->def);
    if (!n || !tm_value_has_one_use(x) || x->type != op->results[0].type) continue;
    tm_arena *A = tm_ctx_arena(rw->ctx);
    channel_affine f = {n, TM_NEW_ARRAY(A, double, n), TM_NEW_ARRAY(A, double, n)};
    if (!per_channel(c, n, is_mul ? f.a : f.b)) continue;
    for (int64_t k = 0; k < n; k++) {
      if (is_mul) f.b[k] = 0;
      else f.a[k] = 1;
    }
    rebuild(rw, x->def, &f, tm_op_attr_str(op, "fused_activation", "none"), op);
    return true;
  }
  return false;
}

/* -------------------------------------------------------------------- padding ----- */
/* conv(pad(x), padding = "valid") -> conv(x, padding = "same") when the pad adds to
 * H and W exactly what TFLite's "same" padding adds (ComputePaddingWithOffset: total =
 * (out - 1) * stride + (k - 1) * dilation + 1 - in, floor(total / 2) before, the rest
 * after) and nothing to N and C.  The pad fills with zero (quantized: the zero point),
 * which the convolution's input offset turns into the zero contribution of a skipped
 * "same" tap, so the result is identical.  Pools are not folded: TFLite's "same"
 * pooling excludes padded taps, which an explicit zero pad would include. */
static bool same_pad(int64_t in, int64_t k, int64_t stride, int64_t dilation, int64_t before, int64_t after) {
  if (in < 1 || k < 1 || stride < 1 || dilation < 1) return false;
  int64_t out = (in + stride - 1) / stride;
  int64_t total = (out - 1) * stride + (k - 1) * dilation + 1 - in;
  if (total < 0) total = 0;
  return before == total / 2 && after == total - total / 2;
}

static bool fold_pad(tm_rewriter *rw, tm_op *op) {
  if (strcmp(tm_op_attr_str(op, "padding", ""), "valid")) return false;
  tm_value *pv = tm_op_operand(op, 0);
  tm_op *pad = pv->def;
  if (!pad || !tm_op_is(pad, "tm.pad") || pad->noperands != 1) return false;
  tm_value *x = tm_op_operand(pad, 0);
  const tm_type *xt = x->type, *ft = tm_op_operand(op, 1)->type;
  if (tm_type_elem(xt) != tm_type_elem(pv->type) || !tm_type_is_static(xt) || xt->rank != 4 ||
      !tm_type_is_static(ft) || ft->rank != 4)
    return false;
  const tm_attr *p = tm_op_attr(pad, "paddings");
  int64_t pads[4][2], s[2] = {1, 1}, d[2] = {1, 1};
  if (!p || p->kind != TM_ATTR_ARRAY || p->u.array.n != 4) return false;
  for (int i = 0; i < 4; i++) {
    int n = 0;
    if (!tm_attr_get_int_array(p->u.array.elts[i], 2, pads[i], &n) || n != 2) return false;
  }
  int n = 0;
  if (pads[0][0] || pads[0][1] || pads[3][0] || pads[3][1]) return false;
  if (tm_op_attr(op, "stride") && (!tm_attr_get_int_array(tm_op_attr(op, "stride"), 2, s, &n) || n != 2)) return false;
  if (tm_op_attr(op, "dilation") && (!tm_attr_get_int_array(tm_op_attr(op, "dilation"), 2, d, &n) || n != 2))
    return false;
  for (int i = 0; i < 2; i++)
    if (!same_pad(xt->dims[1 + i], ft->dims[1 + i], s[i], d[i], pads[1 + i][0], pads[1 + i][1])) return false;
  tm_rw_set_operand(rw, op, 0, x);
  tm_rw_set_attr(rw, op, "padding", tm_attr_cstr(rw->ctx, "same"));
  return true;
}

/* ------------------------------------------------------------ residual add ------ */
static bool is_q8_tensor(const tm_type *t) {
  const tm_type *e = tm_type_elem(t);
  return is_per_tensor_quant(t) && e->storage->width == 8 && e->storage->signedness != TM_UNSIGNED;
}

/* add(conv2d(x, w, b), r) -> conv2d_add(x, w, b, r): the convolution's result is never
 * stored; each value, rounded to the conv's own type as before, is added to r at the
 * same index inside the conv's output loop with the ADD kernel's arithmetic
 * (lw_residual_apply), so the result is the same bits.  Float, or per-tensor int8
 * throughout; r must have the result's shape (no broadcasting).  The new op goes where
 * the conv was when r is available there (so the conv's input does not live longer), else
 * where the add was. */
static bool fold_residual_add(tm_rewriter *rw, tm_op *add) {
  tm_ctx *ctx = rw->ctx;
  const tm_type *rt = add->results[0].type;
  const char *act = tm_op_attr_str(add, "fused_activation", "none");
  interval unused;
  if (!strcmp(act, "tanh") || !act_interval(act, rt, &unused)) return false;
  for (int i = 0; i < 2; i++) {
    tm_value *cv = tm_op_operand(add, i), *res = tm_op_operand(add, 1 - i);
    tm_op *conv = cv->def;
    if (!conv || !tm_op_is(conv, "tm.conv2d") || conv->noperands != 3 || !tm_value_has_one_use(cv)) continue;
    if (!tm_type_is_static(rt) || tm_type_with_elem(ctx, cv->type, tm_type_elem(rt)) != rt ||
        tm_type_with_elem(ctx, res->type, tm_type_elem(rt)) != rt)
      continue;
    bool flt = is_f32(rt) && is_f32(cv->type) && is_f32(res->type);
    if (!flt && !(is_q8_tensor(rt) && is_q8_tensor(cv->type) && is_q8_tensor(res->type))) continue;
    tm_op *pos = !res->def || (res->def->block == conv->block && tm_op_is_before_in_block(res->def, conv)) ? conv : add;
    tm_value *operands[4] = {tm_op_operand(conv, 0), tm_op_operand(conv, 1), tm_op_operand(conv, 2), res};
    tm_named_attr *attrs = TM_NEW_ARRAY(tm_ctx_arena(ctx), tm_named_attr, conv->nattrs + 2);
    int nattrs = 0;
    for (int k = 0; k < conv->nattrs; k++) attrs[nattrs++] = conv->attrs[k];
    attrs[nattrs++] = (tm_named_attr){tm_intern_cstr(ctx, "conv_type"), tm_attr_type(ctx, tm_type_elem(cv->type))};
    if (strcmp(act, "none"))
      attrs[nattrs++] = (tm_named_attr){tm_intern_cstr(ctx, "add_activation"), tm_attr_cstr(ctx, act)};
    tm_op_state st = {.name = "tm.conv2d_add", .loc = add->loc, .noperands = 4, .operands = operands,
                      .nresults = 1, .result_types = &rt, .nattrs = nattrs, .attrs = attrs};
    tm_value *r = tm_op_result(tm_rw_create_before(rw, pos, &st), 0);
    tm_rw_replace_op(rw, add, &r);
    tm_rw_erase_op(rw, conv);
    return true;
  }
  return false;
}

/* ------------------------------------------------------- conv into dense ------ */
/* fully_connected(reshape?(conv(x, w, b)), fw, fb) -> conv_fc(x, w, b, fw, fb): the
 * convolution's result is never stored; each value, rounded to the conv's own type
 * (conv_result) as before, is multiplied into the FULLY_CONNECTED's accumulators inside
 * the conv's output loop (int8: the same int32 sums; float: in the FC's order, the flat
 * NHWC index).  A conv batch of one that is one FC row, constant FC weights and bias, no
 * keep_num_dims or activation on the FC; float, or per-tensor int8 activations. */
static bool fold_conv_fc(tm_rewriter *rw, tm_op *fc) {
  tm_ctx *ctx = rw->ctx;
  tm_value *v = tm_op_operand(fc, 0), *fw = fc->noperands == 3 ? tm_op_operand(fc, 1) : NULL;
  const tm_attr *keep = tm_op_attr(fc, "keep_num_dims");
  if (!fw || !tm_value_const(fw) || !tm_value_const(tm_op_operand(fc, 2)) || (keep && keep->u.b) ||
      strcmp(tm_op_attr_str(fc, "fused_activation", "none"), "none"))
    return false;
  tm_op *reshape = v->def && tm_op_is(v->def, "tm.reshape") && tm_value_has_one_use(v) ? v->def : NULL;
  tm_value *cv = reshape ? tm_op_operand(reshape, 0) : v;
  tm_op *conv = cv->def;
  bool dw = conv && tm_op_is(conv, "tm.depthwise_conv2d");
  if (!conv || !(dw || tm_op_is(conv, "tm.conv2d")) || conv->noperands != 3 || !tm_value_has_one_use(cv)) return false;
  const tm_type *ct = cv->type, *x = tm_op_operand(conv, 0)->type, *y = fc->results[0].type;
  if (!tm_type_is_static(ct) || ct->rank != 4 || ct->dims[0] != 1 || !tm_type_is_static(fw->type) ||
      fw->type->rank != 2 || tm_type_numel(ct) != fw->type->dims[1] ||
      (reshape && tm_type_elem(v->type) != tm_type_elem(ct)))
    return false;
  if (!(is_f32(x) && is_f32(ct) && is_f32(y)) && !(is_q8_tensor(x) && is_q8_tensor(ct) && is_q8_tensor(y)))
    return false;
  tm_value *operands[5] = {tm_op_operand(conv, 0), tm_op_operand(conv, 1), tm_op_operand(conv, 2), fw,
                           tm_op_operand(fc, 2)};
  tm_named_attr *attrs = TM_NEW_ARRAY(tm_ctx_arena(ctx), tm_named_attr, conv->nattrs + 1);
  int nattrs = 0;
  for (int k = 0; k < conv->nattrs; k++) attrs[nattrs++] = conv->attrs[k];
  attrs[nattrs++] = (tm_named_attr){tm_intern_cstr(ctx, "conv_result"), tm_attr_type(ctx, ct)};
  tm_op_state st = {.name = dw ? "tm.depthwise_conv2d_fc" : "tm.conv2d_fc", .loc = fc->loc, .noperands = 5,
                    .operands = operands, .nresults = 1, .result_types = &y, .nattrs = nattrs, .attrs = attrs};
  tm_value *r = tm_op_result(tm_rw_create_before(rw, fc, &st), 0);
  tm_rw_replace_op(rw, fc, &r);
  if (reshape) tm_rw_erase_op(rw, reshape);
  tm_rw_erase_op(rw, conv);
  return true;
}

/* ---------------------------------------------------------------------- pass ------ */
static const tm_pattern activation_patterns[] = {
    {"tm.relu", fold_activation, 2, "fold-relu"},
    {"tm.relu6", fold_activation, 2, "fold-relu6"},
    {"tm.maximum", fold_activation, 2, "fold-clamp-max"},
    {"tm.minimum", fold_activation, 2, "fold-clamp-min"},
};
static const tm_pattern batch_norm_patterns[] = {{"tm.batch_norm", fold_batch_norm, 1, "fold-batch-norm"}};
static const tm_pattern scale_patterns[] = {
    {"tm.mul", fold_scale_offset, 1, "fold-mul-const"},
    {"tm.add", fold_scale_offset, 1, "fold-add-const"},
};
static const tm_pattern residual_patterns[] = {{"tm.add", fold_residual_add, 1, "fold-residual-add"}};
static const tm_pattern conv_fc_patterns[] = {{"tm.fully_connected", fold_conv_fc, 1, "fold-conv-fc"}};
static const tm_pattern pad_patterns[] = {
    {"tm.conv2d", fold_pad, 1, "fold-pad-conv2d"},
    {"tm.depthwise_conv2d", fold_pad, 1, "fold-pad-depthwise"},
};
/* Reused from the dialect's canonical patterns: identity reshape/squeeze/transpose and
 * chains of them, and quantize(dequantize(q)) to q's own type. */
static const char *const cleanup_ops[] = {"tm.reshape", "tm.squeeze", "tm.transpose", "tm.quantize"};

static const tm_pass_option options[] = {
    {.name = "activation", .kind = TM_OPT_BOOL, .default_value = "true",
     .help = "Fold relu, relu6 and constant maximum/minimum clamps into the producer's fused_activation"},
    {.name = "batch-norm", .kind = TM_OPT_BOOL, .default_value = "true",
     .help = "Fold float batch_norm into the preceding conv2d/depthwise_conv2d/fully_connected"},
    {.name = "scale", .kind = TM_OPT_BOOL, .default_value = "true",
     .help = "Fold float mul/add by per-channel constants into the preceding conv/fully_connected"},
    {.name = "pad", .kind = TM_OPT_BOOL, .default_value = "true",
     .help = "Fold an explicit tm.pad into a \"valid\" conv2d/depthwise_conv2d that it makes \"same\""},
    {.name = "residual", .kind = TM_OPT_BOOL, .default_value = "true",
     .help = "Fuse an add of a conv2d's result into the conv's output loop (tm.conv2d_add)"},
    {.name = "conv-fc", .kind = TM_OPT_BOOL, .default_value = "true",
     .help = "Fuse a conv2d/depthwise_conv2d read only by a fully_connected into one loop (tm.conv2d_fc): its "
             "result is never stored"},
    {.name = "cleanup", .kind = TM_OPT_BOOL, .default_value = "true",
     .help = "Remove identity reshapes/transposes and exact quantize(dequantize) round trips"},
};

static int run(tm_ctx *ctx, tm_op *root, const tm_pass_options *opts) {
  struct group {
    const char *option;
    const tm_pattern *pats;
    size_t n;
  } groups[] = {
      {"activation", activation_patterns, TM_COUNTOF(activation_patterns)},
      {"batch-norm", batch_norm_patterns, TM_COUNTOF(batch_norm_patterns)},
      {"scale", scale_patterns, TM_COUNTOF(scale_patterns)},
      {"pad", pad_patterns, TM_COUNTOF(pad_patterns)},
      {"residual", residual_patterns, TM_COUNTOF(residual_patterns)},
      {"conv-fc", conv_fc_patterns, TM_COUNTOF(conv_fc_patterns)},
  };
  tm_pattern pats[32];
  int n = 0;
  for (size_t g = 0; g < TM_COUNTOF(groups); g++)
    if (tm_pass_opt_bool(opts, groups[g].option))
      for (size_t i = 0; i < groups[g].n; i++) pats[n++] = groups[g].pats[i];
  if (tm_pass_opt_bool(opts, "cleanup"))
    for (size_t k = 0; k < TM_COUNTOF(cleanup_ops); k++) {
      const tm_opdef *d = tm_opdef_lookup(ctx, cleanup_ops[k]);
      for (int i = 0; d && i < d->ncanonical_patterns && n < (int)TM_COUNTOF(pats); i++)
        pats[n++] = d->canonical_patterns[i];
    }
  tm_greedy_config cfg = {.max_iterations = 10};
  tm_apply_patterns_greedily(ctx, root, pats, n, &cfg, NULL);
  return 0;
}

TM_REGISTER_PASS(fuse, "fuse",
                 "Fold batch_norm, constant scales/offsets, clamps, explicit padding and residual adds into the "
                 "producing op",
                 run, TM_PASS_OPTIONS(options));
