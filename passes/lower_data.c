/* passes/lower_data.c — kernels of the data-movement ops: reshape and squeeze (views),
 * transpose, concat, pad, strided_slice (copy loops).  Quantized data is copied as stored:
 * these ops never rescale (their result quantization is the input's). */
#include <string.h>

#include "passes/lowering.h"

/* reshape, squeeze: the same bytes seen with the new shape.  A returned result, and
 * buffers that are not raw allocations (arguments, globals, out-params), which cannot be
 * viewed, are copied instead. */
int lw_lower_reshape(lw_lower *W, tm_op *op) {
  lw_fn *F = lw_fn_of(W);
  tm_value *x = tm_op_operand(op, 0), *y = tm_op_result(op, 0);
  const tm_type *mt = lw_memref_of(W->ctx, y->type);
  lw_buf src = lw_in_buf(W, x);
  if (src.raw && !lw_is_returned(W, y)) {
    tm_value *ops[] = {src.raw, lw_cidx(F, 0)};
    lw_bind(W, y, (lw_buf){lw_op(F, "memref.view", mt, 2, ops, 0, NULL), src.raw});
    return 0;
  }
  lw_out(W, y);
  lw_buf dst = lw_in_buf(W, y);
  tm_value *ops[] = {lw_flat(W, src), NULL};
  ops[1] = lw_flat(W, dst);
  lw_op(F, "memref.copy", NULL, 2, ops, 0, NULL);
  return 0;
}

/* out[i...] = in[j...] with j[perm[i]] = i[i]. */
int lw_lower_transpose(lw_lower *W, tm_op *op) {
  lw_fn *F = lw_fn_of(W);
  tm_value *x = tm_op_operand(op, 0), *y = tm_op_result(op, 0);
  int64_t perm[LW_MAX_RANK];
  int n = 0;
  if (!tm_attr_get_int_array(tm_op_attr(op, "perm"), LW_MAX_RANK, perm, &n) || n != y->type->rank)
    return lw_unsupported(W, op, "bad 'perm'");
  tm_value *xm = lw_in(W, x), *ym = lw_out(W, y);
  lw_nest N;
  lw_nest_begin(F, &N, y->type->rank, y->type->dims);
  tm_value *xi[LW_MAX_RANK];
  for (int i = 0; i < n; i++) xi[perm[i]] = N.iv[i];
  lw_store(F, lw_load(F, xm, n, xi), ym, n, N.iv);
  lw_nest_end(F, &N);
  return 0;
}

/* Each input is copied to its offset along the axis. */
int lw_lower_concat(lw_lower *W, tm_op *op) {
  lw_fn *F = lw_fn_of(W);
  tm_value *y = tm_op_result(op, 0);
  if (strcmp(tm_op_attr_str(op, "fused_activation", "none"), "none"))
    return lw_unsupported(W, op, "a fused activation on concat is not supported");
  int rank = y->type->rank;
  int64_t axis = tm_op_attr_int(op, "axis", 0);
  if (axis < 0) axis += rank;
  tm_value **ins = TM_NEW_ARRAY(tm_ctx_arena(W->ctx), tm_value *, op->noperands);
  for (int k = 0; k < op->noperands; k++) ins[k] = lw_in(W, tm_op_operand(op, k));
  tm_value *ym = lw_out(W, y);
  int64_t offset = 0;
  for (int k = 0; k < op->noperands; k++) {
    const tm_type *t = tm_op_operand(op, k)->type;
    lw_nest N;
    lw_nest_begin(F, &N, rank, t->dims);
    tm_value *yi[LW_MAX_RANK];
    for (int i = 0; i < rank; i++) yi[i] = i == axis && offset ? lw_affine(F, N.iv[i], 1, offset) : N.iv[i];
    lw_store(F, lw_load(F, ins[k], rank, N.iv), ym, rank, yi);
    lw_nest_end(F, &N);
    offset += t->dims[axis];
  }
  return 0;
}

/* Fill with the real value 0 (the zero point), then copy the input to its offset. */
int lw_lower_pad(lw_lower *W, tm_op *op) {
  lw_fn *F = lw_fn_of(W);
  tm_value *x = tm_op_operand(op, 0), *y = tm_op_result(op, 0);
  int rank = y->type->rank;
  const tm_attr *p = tm_op_attr(op, "paddings");
  int64_t before[LW_MAX_RANK];
  for (int i = 0; i < rank; i++) {
    int64_t pair[2] = {0, 0};
    int n = 0;
    if (!p || p->kind != TM_ATTR_ARRAY || i >= p->u.array.n ||
        !tm_attr_get_int_array(p->u.array.elts[i], 2, pair, &n) || n != 2)
      return lw_unsupported(W, op, "bad 'paddings'");
    before[i] = pair[0];
  }
  lw_quant q = lw_quant_of(y->type);
  const tm_type *et = q.storage;
  if (et->kind == TM_TYPE_FLOAT && et->width != 32) return lw_unsupported(W, op, "only f32 floats are supported");
  tm_value *fill = et->kind == TM_TYPE_FLOAT ? lw_cf32(F, 0.0f) : lw_cint(F, et, q.quantized ? q.zp : 0);
  tm_value *xm = lw_in(W, x), *ym = lw_out(W, y);
  lw_nest N;
  lw_nest_begin(F, &N, rank, y->type->dims);
  lw_store(F, fill, ym, rank, N.iv);
  lw_nest_end(F, &N);
  lw_nest_begin(F, &N, rank, x->type->dims);
  tm_value *yi[LW_MAX_RANK];
  for (int i = 0; i < rank; i++) yi[i] = before[i] ? lw_affine(F, N.iv[i], 1, before[i]) : N.iv[i];
  lw_store(F, lw_load(F, xm, rank, N.iv), ym, rank, yi);
  lw_nest_end(F, &N);
  return 0;
}

/* TFLite's strided_slice_logic.h start index per dimension; the result type gives the
 * sizes.  in[start + stride * i] for kept dimensions, in[start] for shrunk ones. */
int lw_lower_strided_slice(lw_lower *W, tm_op *op) {
  lw_fn *F = lw_fn_of(W);
  tm_value *x = tm_op_operand(op, 0), *y = tm_op_result(op, 0);
  int rank = x->type->rank;
  int64_t begin[LW_MAX_RANK], strides[LW_MAX_RANK];
  int nb = 0, ns = 0;
  if (!tm_attr_get_int_array(tm_op_attr(op, "begin"), LW_MAX_RANK, begin, &nb) ||
      !tm_attr_get_int_array(tm_op_attr(op, "strides"), LW_MAX_RANK, strides, &ns) || nb != rank || ns != rank)
    return lw_unsupported(W, op, "bad 'begin' or 'strides'");
  int64_t begin_mask = tm_op_attr_int(op, "begin_mask", 0), shrink = tm_op_attr_int(op, "shrink_axis_mask", 0);
  tm_value *xm = lw_in(W, x), *ym = lw_out(W, y);
  lw_nest N;
  lw_nest_begin(F, &N, y->type->rank, y->type->dims);
  tm_value *xi[LW_MAX_RANK];
  int k = 0;
  for (int i = 0; i < rank; i++) {
    int64_t d = x->type->dims[i], s = strides[i], start = begin[i];
    if (shrink >> i & 1) {
      xi[i] = lw_cidx(F, start < 0 ? start + d : start);
      continue;
    }
    if (begin_mask >> i & 1) {
      start = s > 0 ? 0 : d - 1;
    } else {
      if (start < 0) start += d;
      int64_t lo = s > 0 ? 0 : -1, hi = s > 0 ? d : d - 1;
      start = start < lo ? lo : start > hi ? hi : start;
    }
    xi[i] = lw_affine(F, N.iv[k++], s, start);
  }
  lw_store(F, lw_load(F, xm, rank, xi), ym, N.rank, N.iv);
  lw_nest_end(F, &N);
  return 0;
}
