/* passes/lower_sparse.c — sparse weights for the conv2d and fully_connected kernels of
 * lower-to-loops: ops marked `tm.sparse = "bcsr"` by the prune pass (docs/prune.md).
 *
 * Block-CSR along the last (input channel) dimension, in blocks of B weights
 * (`tm.sparse_block`, default 1).  The weights are rows of L = last-dimension elements
 * (one per output channel of a fully_connected, one per output channel and filter tap of
 * a conv2d); a block is stored when any of its weights is non-zero (not the zero point,
 * for quantized weights).  Three constant tables, read front to back:
 *   ptr  [rows + 1]  i16 (i32 beyond 32767 blocks): the first block of each row
 *   col  [blocks]    i8 (i16 beyond 256 blocks per row), unsigned: the block's position
 *   val  [blocks * B] the stored weights, block after block
 * The kernel's innermost loop runs over a row's blocks, B multiply-accumulates unrolled,
 * with the dense kernel's arithmetic: integer sums are the same bits, float sums skip
 * only products with zero. */
#include <string.h>

#include "passes/lowering.h"

static tm_value *zext_i32(lw_fn *F, tm_value *v) {
  return v->type->width == 32 ? v : lw_cast(F, "arith.extui", v, lw_i32(F));
}

/* An index table entry, zero-extended (ptr entries are below 2^15 in i16 tables). */
static tm_value *load_index(lw_fn *F, tm_value *mem, tm_value *i) {
  tm_value *v = zext_i32(F, lw_load(F, mem, 1, &i));
  return lw_cast(F, "arith.index_cast", v, lw_index(F));
}

static tm_value *table(lw_lower *W, const char *base, unsigned bits, int64_t n, const void *data,
                       const tm_type *elem) {
  tm_ctx *ctx = W->ctx;
  if (!elem) elem = tm_type_int(ctx, bits);
  int64_t len = n > 0 ? n : 1; /* an empty table still gets one (unused) element */
  const tm_type *t = tm_type_tensor(ctx, elem, 1, &len);
  uint8_t *bytes = TM_NEW_ARRAY(tm_ctx_arena(ctx), uint8_t, (size_t)len * bits / 8);
  if (n > 0) memcpy(bytes, data, (size_t)n * bits / 8);
  lw_fn *F = lw_fn_of(W);
  return lw_get_global(F, lw_global(W->M, base, tm_attr_dense(ctx, t, false, bytes, (size_t)len * bits / 8), F->loc));
}

int lw_sparse_init(lw_lower *W, tm_op *op, tm_value *w, lw_sparse *S) {
  *S = (lw_sparse){0};
  const tm_attr *fmt = tm_op_attr(op, "tm.sparse");
  if (!fmt) return 0;
  if (fmt->kind != TM_ATTR_STRING || fmt->u.str.len != 4 || memcmp(fmt->u.str.data, "bcsr", 4))
    return lw_unsupported(W, op, "unknown sparse format %s (expected \"bcsr\")", tm_attr_str(W->ctx, fmt));
  if (tm_op_is(op, "tm.depthwise_conv2d"))
    return lw_unsupported(W, op, "sparse weights are implemented for conv2d and fully_connected only");
  const tm_attr *d = tm_value_const(w);
  if (!d || d->kind != TM_ATTR_DENSE) return lw_unsupported(W, op, "sparse weights must be a constant");
  const tm_attr *ba = tm_op_attr(op, "tm.sparse_block");
  int64_t B = ba ? (ba->kind == TM_ATTR_INT ? ba->u.i : 0) : 1;
  int64_t L = w->type->dims[w->type->rank - 1], n = tm_type_numel(w->type);
  if (B < 1 || B > 64 || L % B)
    return lw_unsupported(W, op, "tm.sparse_block must be an integer in [1, 64] dividing %lld", (long long)L);
  lw_quant q = lw_quant_of(w->type);
  if (q.quantized && q.nscales > 1)
    for (int i = 0; i < q.nscales; i++)
      if (q.zps && q.zps[i]) return lw_unsupported(W, op, "sparse per-channel weights need zero points 0");
  int64_t rows = n / L, per_row = L / B;
  if (per_row > 65536) return lw_unsupported(W, op, "rows of %lld blocks are too long", (long long)per_row);
  bool flt = !q.quantized;
  size_t es = flt ? 4 : 1;
  int64_t zero = q.quantized ? q.zp : 0;

  tm_arena *A = tm_ctx_arena(W->ctx);
  int32_t *ptr = TM_NEW_ARRAY(A, int32_t, rows + 1);
  int32_t *col = TM_NEW_ARRAY(A, int32_t, n / B + 1);
  uint8_t *val = TM_NEW_ARRAY(A, uint8_t, (size_t)n * es + 1);
  int64_t nb = 0;
  for (int64_t r = 0; r < rows; r++) {
    ptr[r] = (int32_t)nb;
    for (int64_t k = 0; k < per_row; k++) {
      int64_t base = r * L + k * B;
      bool any = false;
      for (int64_t j = 0; j < B; j++)
        any |= flt ? tm_dense_get_float(d, base + j) != 0.0 : tm_dense_get_int(d, base + j) != zero;
      if (!any) continue;
      col[nb] = (int32_t)k;
      for (int64_t j = 0; j < B; j++) {
        size_t at = (size_t)((nb * B + j)) * es;
        if (flt) {
          float f = (float)tm_dense_get_float(d, base + j);
          memcpy(val + at, &f, 4);
        } else {
          val[at] = (uint8_t)tm_dense_get_int(d, base + j);
        }
      }
      nb++;
    }
  }
  ptr[rows] = (int32_t)nb;

  /* Narrow the index tables. */
  bool ptr16 = nb <= INT16_MAX, col8 = per_row <= 256;
  int16_t *p16 = TM_NEW_ARRAY(A, int16_t, rows + 1);
  for (int64_t r = 0; r <= rows; r++) p16[r] = (int16_t)ptr[r];
  uint8_t *c8 = TM_NEW_ARRAY(A, uint8_t, nb + 1);
  uint16_t *c16 = TM_NEW_ARRAY(A, uint16_t, nb + 1);
  for (int64_t k = 0; k < nb; k++) c8[k] = (uint8_t)col[k], c16[k] = (uint16_t)col[k];
  S->on = true;
  S->block = B;
  S->ptr = table(W, "sparse_ptr", ptr16 ? 16 : 32, rows + 1, ptr16 ? (const void *)p16 : (const void *)ptr, NULL);
  S->col = table(W, "sparse_col", col8 ? 8 : 16, nb, col8 ? (const void *)c8 : (const void *)c16, NULL);
  S->val = table(W, "sparse_val", (unsigned)es * 8, nb * B, val, flt ? lw_f32(lw_fn_of(W)) : lw_i8(lw_fn_of(W)));
  S->w_off = q.quantized && q.nscales <= 1 ? -q.zp : 0;
  return 0;
}

tm_value *lw_sparse_dot(lw_lower *W, const lw_sparse *S, tm_value *row, tm_value *acc, const lw_sparse_x *X) {
  lw_fn *F = lw_fn_of(W);
  bool flt = acc->type->kind == TM_TYPE_FLOAT;
  tm_value *p0 = load_index(F, S->ptr, row);
  tm_value *p1 = load_index(F, S->ptr, lw_add_idx(F, row, lw_cidx(F, 1)));
  lw_for L;
  lw_for_begin(F, &L, p0, p1, lw_cidx(F, 1), 1, &acc);
  tm_value *s = L.args[0];
  tm_value *c0 = lw_affine(F, load_index(F, S->col, L.iv), S->block, 0);
  if (X->base) c0 = lw_add_idx(F, c0, X->base);
  tm_value *v0 = lw_affine(F, L.iv, S->block, 0);
  tm_value *xi[LW_MAX_RANK];
  for (int i = 0; i + 1 < X->n; i++) xi[i] = X->idx[i];
  for (int64_t j = 0; j < S->block; j++) {
    xi[X->n - 1] = lw_affine(F, c0, 1, j);
    tm_value *vi = lw_affine(F, v0, 1, j);
    if (flt) {
      tm_value *xv = lw_load(F, X->mem, X->n, xi);
      s = lw_addf(F, s, lw_mulf(F, xv, lw_load(F, S->val, 1, &vi)));
    } else {
      tm_value *wv = lw_int_to(F, lw_load(F, S->val, 1, &vi), acc->type);
      if (S->w_off) wv = lw_addi(F, wv, lw_cint(F, acc->type, S->w_off));
      tm_value *xv = lw_int_to(F, lw_load(F, X->mem, X->n, xi), acc->type);
      if (X->off) xv = lw_addi(F, xv, lw_cint(F, acc->type, X->off));
      s = lw_addi(F, s, lw_muli(F, wv, xv));
    }
  }
  return lw_for_end(F, &L, 1, &s)[0];
}
