/* passes/lower_fused.c — epilogues of the ops the fuse pass makes, called from the
 * kernels in lower_nn.c and lower_dsp.c: the residual addition of tm.conv2d_add.
 *
 * int8: TFLite's add (lw_qadd) rescales each input x to MBQM((x - zp) << 20, q, e) and
 * the sum to the result.  The input of the larger scale has q = 2^30, e = 0: its term is
 * exactly (x - zp) << 19.  The other's is a table of its 256 values (1 KB of constants),
 * one load in place of a high multiply and its rounding, with the constant terms folded
 * in (one per op: lw_residual_init, then lw_residual_apply at each of the kernel's
 * stores). */
#include <string.h>

#include "passes/lowering.h"

/* Input x of TFLite's add (q, e, zp): whether its term is (x - zp) << (left_shift - 1). */
static bool halves(int32_t q, int e) { return q == INT32_C(1) << 30 && e == 0; }

/* The table of an input's terms MBQM((x - zp) << left_shift, q, e) + k by x + 128: a
 * constant global, or with lower-to-loops' computed-tables a scratch the memory plan
 * places, filled here at each inference (256 MBQMs, about 4,000 instructions on a
 * Cortex-M4, for 1 KB less flash). */
static tm_value *term_table(lw_lower *W, const lw_qadd *p, int64_t zp, int32_t q, int e, int64_t k) {
  lw_fn *F = lw_fn_of(W);
  if (W->M->computed_tables) {
    int64_t n = 256;
    tm_value *t = lw_scratch(W, tm_type_memref(W->ctx, lw_i32(F), 1, &n)).mem;
    lw_for L;
    lw_for_n(F, &L, n, 0, NULL);
    tm_value *x = lw_cast(F, "arith.index_cast", L.iv, lw_i32(F));
    tm_value *v = lw_shli(F, lw_addi(F, x, lw_ci32(F, (int32_t)(-128 - zp))), lw_ci32(F, p->left_shift));
    v = lw_addi(F, lw_mbqm(F, v, lw_ci32(F, q), lw_ci32(F, e)), lw_ci32(F, (int32_t)k));
    lw_store(F, v, t, 1, &L.iv);
    lw_for_end(F, &L, 0, NULL);
    return t;
  }
  int32_t *t = TM_NEW_ARRAY(tm_ctx_arena(W->ctx), int32_t, 256);
  for (int x = -128; x < 128; x++)
    t[x + 128] = (int32_t)(tm_fx_mbqm((int32_t)((x - zp) * (INT64_C(1) << p->left_shift)), q, e) + k);
  return lw_get_global(F, lw_global_i32(W->M, "residual_term", 256, t, F->loc));
}

int lw_residual_init(lw_lower *W, tm_op *op, lw_residual *r) {
  tm_value *res = tm_op_operand(op, 3), *y = tm_op_result(op, 0);
  const tm_attr *ct = tm_op_attr(op, "conv_type");
  lw_quant aq = lw_quant_of(tm_type_with_elem(W->ctx, y->type, ct->type)), bq = lw_quant_of(res->type);
  lw_quant oq = lw_quant_of(y->type);
  const char *act = tm_op_attr_str(op, "add_activation", "none");
  *r = (lw_residual){.res = res, .flt = lw_is_f32(&oq)};
  if (r->flt) {
    r->clamp = strcmp(act, "none") != 0;
    r->flo = strcmp(act, "relu_n1_to_1") ? 0.0f : -1.0f;
    r->fhi = !strcmp(act, "relu") ? 3.40282347e38f : !strcmp(act, "relu6") ? 6.0f : 1.0f;
    return 0;
  }
  if (!lw_is_q8(&aq) || !lw_is_q8(&bq) || !lw_is_q8(&oq))
    return lw_unsupported(W, op, "only f32 and per-tensor int8 residual additions are supported");
  int32_t lo, hi;
  if (!tm_act_range_quant(act, oq.scale, oq.zp, -128, 127, &lo, &hi))
    return lw_unsupported(W, op, "add_activation \"%s\" on a quantized result is not supported", act);
  lw_qadd *p = &r->qa;
  if (lw_qadd_init(W, op, &aq, &bq, &oq, lo, hi, p)) return -1;
  /* the linear terms' constants -zp << (left_shift - 1) go into a table when there is one */
  bool lin1 = halves(p->q1, p->e1), lin2 = halves(p->q2, p->e2);
  int64_t k1 = lin1 ? -p->zp1 * (INT64_C(1) << (p->left_shift - 1)) : 0;
  int64_t k2 = lin2 ? -p->zp2 * (INT64_C(1) << (p->left_shift - 1)) : 0;
  if (!lin1) r->t1 = term_table(W, p, p->zp1, p->q1, p->e1, k2);
  if (!lin2) r->t2 = term_table(W, p, p->zp2, p->q2, p->e2, lin1 ? k1 : 0);
  r->k = lin1 && lin2 ? k1 + k2 : 0;
  return 0;
}

/* An input's term: its table's entry, or x << (left_shift - 1) (the constant apart). */
static tm_value *term(lw_fn *F, const lw_qadd *p, tm_value *table, tm_value *x) {
  tm_value *v = lw_int_to(F, x, lw_i32(F));
  if (!table) return lw_shli(F, v, lw_ci32(F, p->left_shift - 1));
  tm_value *i = lw_cast(F, "arith.index_cast", lw_addi(F, v, lw_ci32(F, 128)), lw_index(F));
  return lw_load(F, table, 1, &i);
}

/* conv2d_add's result at idx, from the convolution's value c there (already rounded to
 * conv_type and clamped by its fused_activation): exactly what the separate tm.add
 * computes from the stored convolution result (lw_lower_binary).  Float: reference_ops
 * Add with add_activation's clamp.  int8: lw_qadd (reference_integer_ops AddFunc),
 * clamped to add_activation's range (CalculateActivationRangeQuantized). */
tm_value *lw_residual_apply(lw_lower *W, const lw_residual *r, tm_value *c, int n, tm_value *const *idx) {
  lw_fn *F = lw_fn_of(W);
  tm_value *x2 = lw_load(F, lw_in(W, r->res), n, idx);
  if (r->flt) {
    tm_value *v = lw_addf(F, c, x2);
    return r->clamp ? lw_clamp_f(F, v, lw_cf32(F, r->flo), lw_cf32(F, r->fhi)) : v;
  }
  const lw_qadd *p = &r->qa;
  tm_value *s1 = term(F, p, r->t1, c); /* one statement each: the IR's order is the compiler's */
  tm_value *sum = lw_addi(F, s1, term(F, p, r->t2, x2));
  if (r->k) sum = lw_addi(F, sum, lw_ci32(F, (int32_t)r->k));
  return lw_qadd_finish(F, p, sum);
}
