/* ir/dialect_arith.c — the arith dialect of the lowered level, expanded from
 * ir/ops_arith.def.  Verifiers mirror MLIR 19's ODS constraints and verify() methods
 * (ArithOps.td, ArithOps.cpp), with MLIR's messages where a test may look for them. */
#include "ir/dialect_lowered.h"

/* ------------------------------------------------------------------ constant ------ */
/* The type an attribute denotes: bool attributes are i1 integers in MLIR. */
static const tm_type *value_type(tm_ctx *ctx, const tm_attr *v) {
  if (!v) return NULL;
  switch (v->kind) {
  case TM_ATTR_BOOL: return tm_type_int(ctx, 1);
  case TM_ATTR_INT:
  case TM_ATTR_FLOAT:
  case TM_ATTR_DENSE: return v->type;
  default: return NULL;
  }
}

/* MLIR's parser takes -2^(w-1) .. 2^w - 1 for iw; an attribute built through the API
 * might not fit, and would not print as valid MLIR. */
static bool int_fits(int64_t v, unsigned width) {
  if (width >= 64) return true;
  if (width == 0) return v == 0;
  return v >= -(INT64_C(1) << (width - 1)) && v <= (int64_t)((UINT64_C(1) << width) - 1);
}

static int verify_constant(tm_ctx *ctx, tm_op *op) {
  const tm_attr *v = tm_op_attr(op, "value");
  const tm_type *rt = op->results[0].type;
  if (value_type(ctx, v) != rt) return tm_op_error(ctx, op, "failed to verify that all of {value, result} have same type");
  if (rt->kind == TM_TYPE_INT && rt->signedness != TM_SIGNLESS)
    return tm_op_error(ctx, op, "integer return type must be signless");
  const tm_type *s = tm_low_scalar(rt);
  if (!tm_low_int_like(rt) && !tm_low_float_like(rt)) /* MLIR takes more: tinyml's backends do not */
    return tm_op_error(ctx, op, "result must be a signless integer, index or float, or a tensor of them, but got '%s'",
                       tm_type_str(ctx, rt));
  if (v->kind == TM_ATTR_INT && s->kind == TM_TYPE_INT && !int_fits(v->u.i, s->width))
    return tm_op_error(ctx, op, "value %lld does not fit in '%s'", (long long)v->u.i, tm_type_str(ctx, rt));
  return 0;
}

static int infer_constant(tm_ctx *ctx, tm_op *op, const tm_type **rt) {
  rt[0] = value_type(ctx, tm_op_attr(op, "value"));
  return rt[0] ? 0 : tm_op_error(ctx, op, "value must be an integer, float, or elements attribute");
}

/* --------------------------------------------------------------- compare -------- */
static int verify_cmp(tm_ctx *ctx, tm_op *op, int64_t max_predicate, const char *cases, tm_low_type_pred ok,
                      const char *what) {
  const tm_attr *p = tm_low_i64_attr(op, "predicate");
  if (!p || p->u.i < 0 || p->u.i > max_predicate)
    return tm_op_error(ctx, op, "attribute 'predicate' failed to satisfy constraint: allowed 64-bit signless integer cases: %s",
                       cases);
  if (tm_low_check_operand(ctx, op, 0, ok, what) || tm_low_check_operand(ctx, op, 1, ok, what) ||
      tm_low_check_result(ctx, op, 0, tm_low_bool_like, "bool-like"))
    return -1;
  const tm_type *lhs = tm_low_operand_type(op, 0);
  if (tm_low_operand_type(op, 1) != lhs) return tm_op_error(ctx, op, "requires all operands to have the same type");
  if (!tm_low_same_shape(ctx, lhs, op->results[0].type))
    return tm_op_error(ctx, op, "failed to verify that result type has i1 element type and same shape as operands");
  return 0;
}

static int verify_cmpi(tm_ctx *ctx, tm_op *op) {
  return verify_cmp(ctx, op, 9, "0, 1, 2, 3, 4, 5, 6, 7, 8, 9", tm_low_int_like, "signless-integer-like");
}

static int verify_cmpf(tm_ctx *ctx, tm_op *op) {
  return verify_cmp(ctx, op, 15, "0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15", tm_low_float_like,
                    "floating-point-like");
}

static int infer_cmp(tm_ctx *ctx, tm_op *op, const tm_type **rt) {
  const tm_type *lhs = tm_low_operand_type(op, 0);
  if (!lhs) return tm_op_error(ctx, op, "expected 2 operands");
  rt[0] = tm_type_with_elem(ctx, lhs, tm_type_int(ctx, 1));
  return 0;
}

static int verify_select(tm_ctx *ctx, tm_op *op) {
  if (tm_low_check_operand(ctx, op, 0, tm_low_bool_like, "bool-like")) return -1;
  const tm_type *c = tm_low_operand_type(op, 0), *t = tm_low_operand_type(op, 1);
  if (tm_low_operand_type(op, 2) != t || op->results[0].type != t)
    return tm_op_error(ctx, op, "failed to verify that all of {true_value, false_value, result} have same type");
  if (tm_type_is_shaped(c) && !tm_low_same_shape(ctx, c, t))
    return tm_op_error(ctx, op, "failed to verify that condition is signless i1 or has matching shape");
  return 0;
}

static int infer_select(tm_ctx *ctx, tm_op *op, const tm_type **rt) {
  rt[0] = tm_low_operand_type(op, 1);
  return rt[0] ? 0 : tm_op_error(ctx, op, "expected 3 operands");
}

/* ------------------------------------------------------------------ casts ------- */
/* The operand and result classes, equal shapes, then the op's own compatibility. */
static int verify_cast(tm_ctx *ctx, tm_op *op, tm_low_type_pred in_ok, const char *in_what, tm_low_type_pred out_ok,
                       const char *out_what, bool (*compatible)(const tm_op *op, const tm_type *in, const tm_type *out)) {
  if (tm_low_check_operand(ctx, op, 0, in_ok, in_what) || tm_low_check_result(ctx, op, 0, out_ok, out_what)) return -1;
  const tm_type *in = tm_low_operand_type(op, 0), *out = op->results[0].type;
  if (!tm_low_same_shape(ctx, in, out))
    return tm_op_error(ctx, op, "failed to verify that input and output have the same tensor dimensions");
  if (!compatible(op, tm_low_scalar(in), tm_low_scalar(out)))
    return tm_op_error(ctx, op, "operand type '%s' and result type '%s' are cast incompatible", tm_type_str(ctx, in),
                       tm_type_str(ctx, out));
  return 0;
}

/* extsi, extui widen; trunci narrows (extf and truncf likewise). */
static bool width_changes_right(const tm_op *op, const tm_type *in, const tm_type *out) {
  bool narrow = tm_op_is(op, "arith.trunci") || tm_op_is(op, "arith.truncf");
  return narrow ? out->width < in->width : out->width > in->width;
}

static bool any_widths(const tm_op *op, const tm_type *in, const tm_type *out) {
  (void)op, (void)in, (void)out;
  return true;
}

static bool same_width(const tm_op *op, const tm_type *in, const tm_type *out) {
  (void)op;
  return in->width == out->width;
}

/* exactly one side is index */
static bool one_index(const tm_op *op, const tm_type *in, const tm_type *out) {
  (void)op;
  return (in->kind == TM_TYPE_INDEX) != (out->kind == TM_TYPE_INDEX);
}

/* bitcast: integers or floats; MLIR's index would have no width to compare. */
static bool int_or_float_like(const tm_type *t) { return tm_low_fixed_int_like(t) || tm_low_float_like(t); }

static int verify_ext_trunc(tm_ctx *ctx, tm_op *op) {
  return verify_cast(ctx, op, tm_low_fixed_int_like, "signless-fixed-width-integer-like", tm_low_fixed_int_like,
                     "signless-fixed-width-integer-like", width_changes_right);
}

static int verify_ext_trunc_f(tm_ctx *ctx, tm_op *op) {
  return verify_cast(ctx, op, tm_low_float_like, "floating-point-like", tm_low_float_like, "floating-point-like",
                     width_changes_right);
}

static int verify_int_to_float(tm_ctx *ctx, tm_op *op) {
  return verify_cast(ctx, op, tm_low_fixed_int_like, "signless-fixed-width-integer-like", tm_low_float_like,
                     "floating-point-like", any_widths);
}

static int verify_float_to_int(tm_ctx *ctx, tm_op *op) {
  return verify_cast(ctx, op, tm_low_float_like, "floating-point-like", tm_low_fixed_int_like,
                     "signless-fixed-width-integer-like", any_widths);
}

static int verify_index_cast(tm_ctx *ctx, tm_op *op) {
  return verify_cast(ctx, op, tm_low_int_like, "signless-integer-like", tm_low_int_like, "signless-integer-like",
                     one_index);
}

static int verify_bitcast(tm_ctx *ctx, tm_op *op) {
  return verify_cast(ctx, op, int_or_float_like, "signless-integer-or-float-like", int_or_float_like,
                     "signless-integer-or-float-like", same_width);
}

/* -------------------------------------------------------------------- table ------- */
#define TM_ATTRDEF_OF(key) ARITH_ATTR_##key
#define ARITH_ATTR_

#define TM_LOWERED_OP(...) TM_LOWERED_ATTRDEFS(__VA_ARGS__)
#include "ir/ops_arith.def"
#undef TM_LOWERED_OP

const tm_opdef tm_arith_dialect_ops[] = {
#define TM_LOWERED_OP(...) TM_LOWERED_OPDEF("arith", __VA_ARGS__)
#include "ir/ops_arith.def"
#undef TM_LOWERED_OP
};
const int tm_arith_dialect_nops = (int)TM_COUNTOF(tm_arith_dialect_ops);
