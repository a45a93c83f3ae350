/* ir/dialect_tm.h — (private to ir/dialect_tm*.c) what the tm dialect's files share:
 * size limits and the per-op hooks named in ir/ops.def. */
#ifndef TM_DIALECT_TM_H
#define TM_DIALECT_TM_H

#include "ir/ir.h"

/* tm ops take static tensors of rank <= TM_MAX_RANK with at most TM_MAX_ELEMS elements
 * (every dimension <= TM_MAX_ELEMS too), so shape arithmetic fits int64 easily and
 * element offsets fit the int32 indexing of TFLite kernels. */
#define TM_MAX_RANK 8
#define TM_MAX_ELEMS (INT64_C(1) << 31)

/* ir/dialect_tm_shape.c defines, for every op in ir/ops.def:
 *   verify: element types and attributes that do not shape the result;
 *   infer:  shapes and shape attributes; called with operands already checked to be
 *           static tensors within the limits above;
 *   macs:   multiply-accumulates of a verified op. */
#define TM_OP(name, min_operands, max_operands, results, traits, attrs, verify, infer, fold, \
              macs, patterns, operands, summary)                                           \
  int tm_tmd_##verify(tm_ctx *ctx, tm_op *op);                                             \
  int tm_tmd_##infer(tm_ctx *ctx, tm_op *op, const tm_type **result_types);                \
  int64_t tm_tmd_##macs(const tm_op *op);
#include "ir/ops.def"
#undef TM_OP

/* Checks that a type is a static tensor within the limits, with per-axis quantization
 * matching its shape; reports "<what> #<index> ..." and returns -1 otherwise. */
int tm_tmd_check_tensor(tm_ctx *ctx, const tm_op *op, const tm_type *t, const char *what, int index);

/* a * b, saturating at INT64_MAX (for non-negative costs). */
int64_t tm_tmd_sat_mul(int64_t a, int64_t b);

#endif /* TM_DIALECT_TM_H */
