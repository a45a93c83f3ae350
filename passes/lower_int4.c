/* passes/lower_int4.c — int4 weights packed two per byte (see lowering.h).
 *
 * A constant weight tensor with i4 storage (the quantize pass's weights=i4) becomes a
 * global of bytes holding two values per byte along its last dimension, the element of
 * even index in the low nibble; a row of odd length ends in a half-used byte.  Loads read
 * the byte and sign-extend the nibble: (b << 28) >> 28 or b >> 4 on the i32 of the
 * sign-extended byte, so the kernels see the same levels as with one value per byte. */
#include "passes/lowering.h"

bool lw_is_packed_i4(const tm_value *w) {
  const tm_type *e = w->type->kind == TM_TYPE_TENSOR ? w->type->elem : NULL;
  const tm_type *st = e ? tm_type_storage(e) : NULL;
  return st && st->kind == TM_TYPE_INT && st->width == 4 && w->type->rank >= 1 && w->type->rank <= LW_MAX_RANK && tm_type_is_static(w->type) &&
         tm_value_const(w);
}

bool lw_packed_i4_use(const tm_op *op, const tm_value *v, int operand) {
  if (!lw_is_packed_i4(v)) return false;
  if (operand < 0) return tm_op_is(op, "tm.const");
  return operand == 1 && (tm_op_is(op, "tm.conv2d") || tm_op_is(op, "tm.conv2d_add") ||
                          tm_op_is(op, "tm.depthwise_conv2d") || tm_op_is(op, "tm.fully_connected"));
}

tm_value *lw_in_weights(lw_lower *W, tm_value *w) {
  if (!lw_is_packed_i4(w)) return lw_in(W, w);
  const tm_type *t = w->type;
  int64_t last = t->dims[t->rank - 1], half = (last + 1) / 2, rows = last ? tm_type_numel(t) / last : 0;
  int64_t dims[LW_MAX_RANK];
  for (int d = 0; d < t->rank && d < LW_MAX_RANK; d++) dims[d] = t->dims[d];
  dims[t->rank - 1] = half;
  uint8_t *bytes = TM_NEW_ARRAY(tm_ctx_arena(W->ctx), uint8_t, rows * half + 1);
  const tm_attr *a = tm_value_const(w);
  for (int64_t r = 0; r < rows; r++)
    for (int64_t i = 0; i < last; i++)
      bytes[r * half + i / 2] |= (uint8_t)((tm_dense_get_int(a, r * last + i) & 0xF) << (4 * (i & 1)));
  const tm_type *pt = tm_type_tensor(W->ctx, lw_i8(lw_fn_of(W)), t->rank, dims);
  const tm_attr *packed = tm_attr_dense(W->ctx, pt, false, bytes, (size_t)(rows * half));
  return lw_get_global(lw_fn_of(W), lw_global(W->M, "cst_i4", packed, w->def->loc));
}

tm_value *lw_load_weight(lw_fn *F, const tm_value *w, tm_value *mem, int n, tm_value *const *idx, const tm_type *to) {
  if (!lw_is_packed_i4(w)) return lw_int_to(F, lw_load(F, mem, n, idx), to);
  tm_value *at[LW_MAX_RANK];
  for (int i = 0; i < n && i < LW_MAX_RANK; i++) at[i] = idx[i];
  tm_value *k = idx[n - 1];
  at[n - 1] = lw_op2(F, "arith.shrui", k, lw_cidx(F, 1));
  tm_value *b = lw_int_to(F, lw_load(F, mem, n, at), lw_i32(F));
  tm_value *lo = lw_shrsi(F, lw_shli(F, b, lw_ci32(F, 28)), lw_ci32(F, 28)), *hi = lw_shrsi(F, b, lw_ci32(F, 4));
  tm_value *odd = lw_cmpi(F, LW_EQ, lw_andi(F, k, lw_cidx(F, 1)), lw_cidx(F, 1));
  return lw_int_to(F, lw_select(F, odd, hi, lo), to);
}
