/* passes/lower_fused.c — epilogues of the ops the fuse pass makes, called from the
 * kernels in lower_nn.c: the residual addition of tm.conv2d_add. */
#include <string.h>

#include "passes/lowering.h"

/* conv2d_add's result at idx, from the convolution's value c there (already rounded to
 * conv_type and clamped by its fused_activation): exactly what the separate tm.add
 * computes from the stored convolution result (lw_lower_binary).  Float: reference_ops
 * Add with add_activation's clamp.  int8: lw_qadd (reference_integer_ops AddFunc),
 * clamped to add_activation's range (CalculateActivationRangeQuantized). */
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
  int32_t lo, hi;
  if (!tm_act_range_quant(act, oq.scale, oq.zp, -128, 127, &lo, &hi)) {
    lw_unsupported(W, op, "add_activation \"%s\" on a quantized result is not supported", act);
    return NULL;
  }
  lw_qadd qa;
  if (lw_qadd_init(W, op, &aq, &bq, &oq, lo, hi, &qa)) return NULL;
  return lw_qadd_apply(F, &qa, c, x2, false);
}
