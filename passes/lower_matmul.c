/* passes/lower_matmul.c — kernels of tm.batch_matmul (TFLite Micro's BATCH_MATMUL for f32,
 * int8 and int16, with broadcast batch dimensions and adj_x / adj_y) and
 * tm.transpose_conv (TRANSPOSE_CONV for f32, int8 and 16x8). */
#include <string.h>

#include "passes/lowering.h"

static bool attr_bool(const tm_op *op, const char *name) {
  const tm_attr *a = tm_op_attr(op, name);
  return a && a->kind == TM_ATTR_BOOL && a->u.b;
}

/* The index of operand `t` (rank r) for the result nest N: batch dimensions broadcast
 * (aligned at the matrix dimensions, index 0 where the operand has size 1), and the two
 * matrix dimensions given as (row, col), swapped when the operand is adjoint. */
static void operand_idx(lw_fn *F, const tm_type *t, const lw_nest *N, tm_value *row, tm_value *col, bool adj,
                        tm_value **idx) {
  int r = t->rank, off = N->rank - r;
  for (int j = 0; j < r - 2; j++) idx[j] = t->dims[j] == 1 ? lw_cidx(F, 0) : N->iv[j + off];
  idx[r - 2] = adj ? col : row;
  idx[r - 1] = adj ? row : col;
}

/* out[..., i, j] = sum_k x[..., i, k] * y[..., k, j].  Float: the sum starts at 0.0f and
 * runs in order of k.  int8: i32 sum of (x - zp_x) * (y - zp_y), then
 * MBQM(sum, QuantizeMultiplier((float)(s_x * s_y) / s_out)) + zp_out, clamped to the type
 * (BATCH_MATMUL has no fused activation).  int16 (zero points 0, as the verifier requires):
 * i64 sum and the 64-bit
 * MultiplyByQuantizedMultiplier, as TFLite Micro's EvalInt16. */
int lw_lower_batch_matmul(lw_lower *W, tm_op *op) {
  lw_fn *F = lw_fn_of(W);
  tm_value *x = tm_op_operand(op, 0), *y = tm_op_operand(op, 1), *out = tm_op_result(op, 0);
  lw_quant xq = lw_quant_of(x->type), yq = lw_quant_of(y->type), oq = lw_quant_of(out->type);
  bool flt = lw_is_f32(&xq) && lw_is_f32(&yq) && lw_is_f32(&oq);
  bool q8 = lw_is_q8(&xq) && lw_is_q8(&yq) && lw_is_q8(&oq);
  bool q16 = lw_is_q16(&xq) && lw_is_q16(&yq) && lw_is_q16(&oq);
  if (!flt && !q8 && !q16) return lw_unsupported(W, op, "only f32, per-tensor int8 and per-tensor int16 are supported");
  const tm_type *xt = x->type, *yt = y->type, *ot = out->type;
  if (xt->rank < 2 || yt->rank < 2 || ot->rank < 2 || ot->rank > LW_MAX_RANK)
    return lw_unsupported(W, op, "operands must have rank 2 to %d", LW_MAX_RANK);
  bool adj_x = attr_bool(op, "adj_x"), adj_y = attr_bool(op, "adj_y");
  int64_t depth = adj_x ? xt->dims[xt->rank - 2] : xt->dims[xt->rank - 1];

  int32_t q = 0;
  int shift = 0;
  if (!flt && lw_qmul(W, op, (double)((float)xq.scale * (float)yq.scale) / lw_fscale(oq.scale), &q, &shift)) return -1;
  /* 64-bit MBQM: x * round(q / 2^16) + 2^(total - 1) >> total, total = 15 - shift */
  const int64_t q_reduced = q < 0x7FFF0000 ? (q + (1 << 15)) >> 16 : 0x7FFF;
  const int total_shift = 15 - shift;
  if (q16 && (total_shift < 1 || total_shift > 62))
    return lw_unsupported(W, op, "the scales give no usable 64-bit multiplier");

  tm_value *xm = lw_in(W, x), *ym = lw_in(W, y), *om = lw_out(W, out);
  const tm_type *acc_t = flt ? lw_f32(F) : q16 ? lw_i64(F) : lw_i32(F);
  lw_nest N;
  lw_nest_begin(F, &N, ot->rank, ot->dims);
  tm_value *init = flt ? lw_cf32(F, 0.0f) : lw_cint(F, acc_t, 0);
  lw_for K;
  lw_for_n(F, &K, depth, 1, &init);
  tm_value *xi[LW_MAX_RANK], *yi[LW_MAX_RANK];
  operand_idx(F, xt, &N, N.iv[ot->rank - 2], K.iv, adj_x, xi);
  operand_idx(F, yt, &N, K.iv, N.iv[ot->rank - 1], adj_y, yi);
  tm_value *a = lw_load(F, xm, xt->rank, xi), *b = lw_load(F, ym, yt->rank, yi), *prod;
  if (flt) {
    prod = lw_mulf(F, a, b);
  } else {
    a = lw_int_to(F, a, acc_t);
    b = lw_int_to(F, b, acc_t);
    if (xq.zp) a = lw_addi(F, a, lw_cint(F, acc_t, -xq.zp));
    if (yq.zp) b = lw_addi(F, b, lw_cint(F, acc_t, -yq.zp));
    prod = lw_muli(F, b, a);
  }
  tm_value *sum = flt ? lw_addf(F, K.args[0], prod) : lw_addi(F, K.args[0], prod);
  tm_value *acc = lw_for_end(F, &K, 1, &sum)[0];
  tm_value *r = acc;
  if (!flt) {
    if (q16) {
      tm_value *v = lw_muli(F, acc, lw_ci64(F, q_reduced));
      v = lw_addi(F, v, lw_ci64(F, INT64_C(1) << (total_shift - 1)));
      r = lw_cast(F, "arith.trunci", lw_shrsi(F, v, lw_ci64(F, total_shift)), lw_i32(F));
    } else {
      r = lw_mbqm(F, acc, lw_ci32(F, q), lw_ci32(F, shift));
    }
    if (oq.zp) r = lw_addi(F, r, lw_ci32(F, oq.zp));
    r = lw_int_to(F, lw_clamp_i32(F, r, q16 ? INT16_MIN : INT8_MIN, q16 ? INT16_MAX : INT8_MAX), oq.storage);
  }
  lw_store(F, r, om, N.rank, N.iv);
  lw_nest_end(F, &N);
  return 0;
}

/* ------------------------------------------------------------ transpose_conv ------- */
static void int_pair(const tm_op *op, const char *name, int64_t *a, int64_t *b) {
  int64_t v[2] = {1, 1};
  int n = 0;
  const tm_attr *attr = tm_op_attr(op, name);
  if (attr) tm_attr_get_int_array(attr, 2, v, &n);
  *a = v[0], *b = v[1];
}

/* TFLite's padding of a transposed convolution: ComputePaddingHeightWidth with the
 * *output* size as the forward convolution's input (dilation 1). */
static int64_t tconv_pad(bool same, int64_t stride, int64_t out, int64_t k) {
  int64_t fwd = same ? (out + stride - 1) / stride : (out + stride - k) / stride;
  int64_t total = (fwd - 1) * stride + k - out;
  return total > 0 ? total / 2 : 0;
}

/* One spatial tap of the gather: for output coordinate o, the input row of kernel row
 * k = K - 1 - j is (o + pad - k) / stride when that is a whole number in [0, in).  The
 * condition (NULL when always true) and the input index. */
static tm_value *tconv_tap(lw_fn *F, tm_value *o, tm_value *j, int64_t K, int64_t pad, int64_t stride, int64_t in,
                           tm_value **cond) {
  tm_value *t = lw_add_idx(F, o, lw_affine(F, j, 1, pad - K + 1));
  /* One statement per op: C leaves the order of argument evaluation open, and the
   * printed IR must not depend on the compiler that built tinyml. */
  tm_value *ge0 = lw_cmpi(F, LW_SGE, t, lw_cidx(F, 0));
  tm_value *lt_in = lw_cmpi(F, LW_SLT, t, lw_cidx(F, in * stride));
  *cond = lw_andi(F, ge0, lt_in);
  if (stride == 1) return t;
  tm_value *whole = lw_cmpi(F, LW_EQ, lw_op2(F, "arith.remsi", t, lw_cidx(F, stride)), lw_cidx(F, 0));
  *cond = lw_andi(F, *cond, whole);
  return t;
}

/* TFLite Micro's TRANSPOSE_CONV (reference_ops::TransposeConv, reference_integer_ops::
 * TransposeConv).  TFLite scatters every input element into an output-sized scratch; here
 * each output element gathers the same products instead, visiting the input rows and
 * columns in increasing order (kernel taps in decreasing order), which is the order in
 * which the scatter adds them, so float sums round identically and no scratch is needed.
 * Float: sum from 0.0f, + bias, activation.  int8: i32 sum of (x - zp_x) * w (filter zero
 * points are 0, as the verifier requires), + bias, per-channel MBQM with
 * PopulateConvolutionQuantizationParams' multipliers, + zp_out, activation clamp.  16x8:
 * i64 sum and bias, 64-bit MBQM, no output offset (int16 zero points are 0). */
int lw_lower_transpose_conv(lw_lower *W, tm_op *op) {
  lw_fn *F = lw_fn_of(W);
  tm_value *x = tm_op_operand(op, 0), *w = tm_op_operand(op, 1), *out = tm_op_result(op, 0);
  tm_value *bias = op->noperands > 2 ? tm_op_operand(op, 2) : NULL;
  lw_quant xq = lw_quant_of(x->type), wq = lw_quant_of(w->type), oq = lw_quant_of(out->type);
  lw_quant bq = bias ? lw_quant_of(bias->type) : (lw_quant){0};
  bool flt = lw_is_f32(&xq) && lw_is_f32(&wq) && lw_is_f32(&oq) && (!bias || lw_is_f32(&bq));
  bool q8 = lw_is_q8(&xq) && lw_is_q8_weights(&wq) && lw_is_q8(&oq);
  bool q16 = lw_is_q16(&xq) && lw_is_q8_weights(&wq) && lw_is_q16(&oq);
  if (!flt && !q8 && !q16)
    return lw_unsupported(W, op, "only f32, int8 and 16x8 (int16 activations, int8 filter) are supported");
  const tm_type *xt = x->type, *wt = w->type, *ot = out->type;
  if (xt->rank != 4 || wt->rank != 4 || ot->rank != 4) return lw_unsupported(W, op, "operands must have rank 4");
  const int64_t H = xt->dims[1], Wi = xt->dims[2], C = xt->dims[3];
  const int64_t O = wt->dims[0], KH = wt->dims[1], KW = wt->dims[2], OH = ot->dims[1], OW = ot->dims[2];
  if (wt->dims[3] != C || ot->dims[3] != O || ot->dims[0] != xt->dims[0])
    return lw_unsupported(W, op, "operand shapes do not match");
  int64_t sh, sw;
  int_pair(op, "stride", &sh, &sw);
  if (sh < 1 || sw < 1) return lw_unsupported(W, op, "strides must be >= 1");
  const bool same = !strcmp(tm_op_attr_str(op, "padding", "same"), "same");
  const int64_t pt = tconv_pad(same, sh, OH, KH), pl = tconv_pad(same, sw, OW, KW);

  const tm_type *acc_t = flt ? lw_f32(F) : q16 ? lw_i64(F) : lw_i32(F);
  float flo = 0, fhi = 0;
  int fact = 0;
  int32_t lo = 0, hi = 0;
  int32_t *qs = NULL, *shifts = NULL;
  bool uniform = true;
  if (flt) {
    if ((fact = lw_act_range_f(W, op, &flo, &fhi)) < 0) return -1;
  } else {
    if (lw_act_range(W, op, &oq, &lo, &hi)) return -1;
    if (wq.axis >= 0 && (wq.axis != 0 || wq.nscales != O))
      return lw_unsupported(W, op, "a per-axis filter must be quantized along axis 0");
    if (bias && !(bq.storage->kind == TM_TYPE_INT && (bq.storage->width == (q16 ? 64 : 32) || (q16 && bq.storage->width == 16))))
      return lw_unsupported(W, op, "the bias must be i32 (int8) or i64/i16 (16x8)");
    qs = TM_NEW_ARRAY(tm_ctx_arena(W->ctx), int32_t, O);
    shifts = TM_NEW_ARRAY(tm_ctx_arena(W->ctx), int32_t, O);
    for (int64_t c = 0; c < O; c++) {
      double ws = lw_fscale(wq.axis >= 0 ? wq.scales[c] : wq.scale);
      int32_t q;
      int s;
      if (lw_qmul(W, op, lw_fscale(xq.scale) * ws / lw_fscale(oq.scale), &q, &s)) return -1;
      if (q16) { /* the 64-bit MBQM's reduced multiplier and total shift */
        q = q < 0x7FFF0000 ? (q + (1 << 15)) >> 16 : 0x7FFF;
        s = 15 - s;
        if (s < 1 || s > 62) return lw_unsupported(W, op, "the scales give no usable 64-bit multiplier");
      }
      qs[c] = q, shifts[c] = s;
      uniform &= q == qs[0] && s == shifts[0];
    }
  }

  tm_value *xm = lw_in(W, x), *wm = lw_in(W, w), *bm = bias ? lw_in(W, bias) : NULL, *qg = NULL, *sg = NULL;
  if (!flt && !uniform) {
    qg = lw_get_global(F, lw_global_i32(W->M, "tconv_multiplier", O, qs, F->loc));
    sg = lw_get_global(F, lw_global_i32(W->M, "tconv_shift", O, shifts, F->loc));
  }
  tm_value *om = lw_out(W, out);
  lw_nest N;
  lw_nest_begin(F, &N, 4, ot->dims);
  tm_value *n = N.iv[0], *oy = N.iv[1], *ox = N.iv[2], *oc = N.iv[3];
  tm_value *acc0 = flt ? lw_cf32(F, 0.0f) : lw_cint(F, acc_t, 0);

  lw_for ly, lx, lc;
  lw_for_n(F, &ly, KH, 1, &acc0);
  tm_value *ycond, *ty = tconv_tap(F, oy, ly.iv, KH, pt, sh, H, &ycond);
  lw_if yif;
  lw_if_begin(F, &yif, ycond, 1, &acc_t);
  tm_value *iy = sh == 1 ? ty : lw_divsi(F, ty, lw_cidx(F, sh)), *ky = lw_affine(F, ly.iv, -1, KH - 1);
  lw_for_n(F, &lx, KW, 1, ly.args);
  tm_value *xcond, *tx = tconv_tap(F, ox, lx.iv, KW, pl, sw, Wi, &xcond);
  lw_if xif;
  lw_if_begin(F, &xif, xcond, 1, &acc_t);
  tm_value *ix = sw == 1 ? tx : lw_divsi(F, tx, lw_cidx(F, sw)), *kx = lw_affine(F, lx.iv, -1, KW - 1);
  lw_for_n(F, &lc, C, 1, lx.args);
  tm_value *xi[] = {n, iy, ix, lc.iv}, *wi[] = {oc, ky, kx, lc.iv};
  tm_value *a = lw_load(F, xm, 4, xi), *b = lw_load(F, wm, 4, wi), *sum;
  if (flt) {
    sum = lw_addf(F, lc.args[0], lw_mulf(F, a, b));
  } else {
    a = lw_int_to(F, a, acc_t);
    if (xq.zp) a = lw_addi(F, a, lw_cint(F, acc_t, -xq.zp));
    sum = lw_addi(F, lc.args[0], lw_muli(F, a, lw_int_to(F, b, acc_t)));
  }
  tm_value *acc = lw_for_end(F, &lc, 1, &sum)[0];
  lw_if_else(F, &xif, 1, &acc);
  acc = lw_if_end(F, &xif, 1, lx.args)[0];
  acc = lw_for_end(F, &lx, 1, &acc)[0];
  lw_if_else(F, &yif, 1, &acc);
  acc = lw_if_end(F, &yif, 1, ly.args)[0];
  acc = lw_for_end(F, &ly, 1, &acc)[0];

  tm_value *r;
  if (flt) {
    r = bm ? lw_addf(F, acc, lw_load(F, bm, 1, &oc)) : acc;
    if (fact > 0) r = lw_clamp_f(F, r, lw_cf32(F, flo), lw_cf32(F, fhi));
  } else {
    if (bm) acc = lw_addi(F, acc, lw_int_to(F, lw_load(F, bm, 1, &oc), acc_t));
    tm_value *q = uniform ? lw_cint(F, acc_t, qs[0]) : lw_int_to(F, lw_load(F, qg, 1, &oc), acc_t);
    tm_value *s = uniform ? lw_cint(F, acc_t, shifts[0]) : lw_int_to(F, lw_load(F, sg, 1, &oc), acc_t);
    if (q16) {
      tm_value *round = lw_shli(F, lw_ci64(F, 1), lw_subi(F, s, lw_ci64(F, 1)));
      r = lw_cast(F, "arith.trunci", lw_shrsi(F, lw_addi(F, lw_muli(F, acc, q), round), s), lw_i32(F));
    } else {
      r = lw_mbqm(F, acc, q, s);
      if (oq.zp) r = lw_addi(F, r, lw_ci32(F, oq.zp));
    }
    r = lw_int_to(F, lw_clamp_i32(F, r, lo, hi), oq.storage);
  }
  lw_store(F, r, om, 4, N.iv);
  lw_nest_end(F, &N);
  return 0;
}
