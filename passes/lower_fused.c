/* passes/lower_fused.c — epilogues of the ops the fuse pass makes, called from the
 * kernels in lower_nn.c: the residual addition of tm.conv2d_add. */
#include <string.h>

#include "passes/lowering.h"

/* conv2d_add's result at idx, from the convolution's value c there (already rounded to
 * conv_type and clamped by its fused_activation): exactly what the separate tm.add
 * computes from the stored convolution result (lw_lower_binary).  Float: reference_ops
 * Add with add_activation's clamp.  int8: reference_integer_ops AddFunc — both inputs
 * shifted left by 20 and rescaled to twice the larger input scale, summed, rescaled to the
 * output, clamped to add_activation's range (CalculateActivationRangeQuantized). */
tm_value *lw_residual_add(lw_lower *W, tm_op *op, tm_value *c, int n, tm_value *const *idx) {
  lw_fn *F = lw_fn_of(W);
  tm_value *res = tm_op_operand(op, 3), *y = tm_op_result(op, 0);
  const tm_attr *ct = tm_op_attr(op, "conv_type");
  lw_quant aq = lw_quant_of(tm_type_with_elem(W->ctx, y->type, ct->type)), bq = lw_quant_of(res->type);
  lw_quant oq = lw_quant_of(y->type);
  const char *act = tm_op_attr_str(op, "add_activation", "none");
  tm_value *x2 = lw_load(F, lw_in(W, res), n, idx);
  if (lw_is_f32(&oq)) {
    tm_value *r = lw_addf(F, c, x2);
    if (!strcmp(act, "none")) return r;
    float lo = strcmp(act, "relu_n1_to_1") ? 0.0f : -1.0f;
    float hi = !strcmp(act, "relu") ? 3.40282347e38f : !strcmp(act, "relu6") ? 6.0f : 1.0f;
    return lw_clamp_f(F, r, lw_cf32(F, lo), lw_cf32(F, hi));
  }
  if (!lw_is_q8(&aq) || !lw_is_q8(&bq) || !lw_is_q8(&oq)) {
    lw_unsupported(W, op, "only f32 and per-tensor int8 residual additions are supported");
    return NULL;
  }
  int32_t q1, q2, qo, lo, hi;
  int e1, e2, eo;
  const int left_shift = 20;
  double s1 = lw_fscale(aq.scale), s2 = lw_fscale(bq.scale), twice_max = 2 * (s1 > s2 ? s1 : s2);
  if (lw_qmul(W, op, s1 / twice_max, &q1, &e1) || lw_qmul(W, op, s2 / twice_max, &q2, &e2) ||
      lw_qmul(W, op, twice_max / ((double)(1 << left_shift) * lw_fscale(oq.scale)), &qo, &eo))
    return NULL;
  if (e1 > 0 || e2 > 0 || eo > 0) {
    lw_unsupported(W, op, "the output scale is too small for TFLite's add");
    return NULL;
  }
  if (!tm_act_range_quant(act, oq.scale, oq.zp, -128, 127, &lo, &hi)) {
    lw_unsupported(W, op, "add_activation \"%s\" on a quantized result is not supported", act);
    return NULL;
  }
  const tm_type *i32 = lw_i32(F);
  tm_value *v1 = lw_int_to(F, c, i32), *v2 = lw_int_to(F, x2, i32), *shift = lw_ci32(F, left_shift);
  if (aq.zp) v1 = lw_addi(F, v1, lw_ci32(F, -aq.zp));
  if (bq.zp) v2 = lw_addi(F, v2, lw_ci32(F, -bq.zp));
  tm_value *r1 = lw_mbqm(F, lw_shli(F, v1, shift), lw_ci32(F, q1), lw_ci32(F, e1));
  tm_value *r2 = lw_mbqm(F, lw_shli(F, v2, shift), lw_ci32(F, q2), lw_ci32(F, e2));
  tm_value *raw = lw_mbqm(F, lw_addi(F, r1, r2), lw_ci32(F, qo), lw_ci32(F, eo));
  if (oq.zp) raw = lw_addi(F, raw, lw_ci32(F, oq.zp));
  return lw_int_to(F, lw_clamp_i32(F, raw, lo, hi), oq.storage);
}
