/* ir/dialect_lowered.h — (private to ir/dialect_{arith,scf,memref,math}.c) what the MLIR
 * dialects of the lowered level share: MLIR 19's type constraints with its diagnostics,
 * and the expansion of their op tables (ir/ops_<dialect>.def).
 *
 * The lowered level is printed for mlir-opt-19 to parse and verify, so these ops accept
 * exactly what MLIR 19 accepts, or less: never more. */
#ifndef TM_DIALECT_LOWERED_H
#define TM_DIALECT_LOWERED_H

#include <string.h>

#include "ir/dialects.h"

/* ------------------------------------------------------------ type classes ------- */
/* MLIR's "-like" constraints: the scalar itself or a tensor of it (MLIR also takes
 * vectors, which tinyml does not have).  Returns the scalar, or NULL. */
static inline const tm_type *tm_low_scalar(const tm_type *t) {
  if (t && t->kind == TM_TYPE_TENSOR) t = t->elem;
  return t && (t->kind == TM_TYPE_INT || t->kind == TM_TYPE_FLOAT || t->kind == TM_TYPE_INDEX) ? t : NULL;
}
static inline bool tm_low_is_signless(const tm_type *s) {
  return s && s->kind == TM_TYPE_INT && s->signedness == TM_SIGNLESS;
}
/* signless-integer-like: signless integers and index */
static inline bool tm_low_int_like(const tm_type *t) {
  const tm_type *s = tm_low_scalar(t);
  return s && (tm_low_is_signless(s) || s->kind == TM_TYPE_INDEX);
}
/* signless-fixed-width-integer-like: no index */
static inline bool tm_low_fixed_int_like(const tm_type *t) { return tm_low_is_signless(tm_low_scalar(t)); }
static inline bool tm_low_float_like(const tm_type *t) {
  const tm_type *s = tm_low_scalar(t);
  return s && s->kind == TM_TYPE_FLOAT;
}
static inline bool tm_low_bool_like(const tm_type *t) {
  const tm_type *s = tm_low_scalar(t);
  return tm_low_is_signless(s) && s->width == 1;
}
/* Both scalars, or tensors of the same shape. */
static inline bool tm_low_same_shape(tm_ctx *ctx, const tm_type *a, const tm_type *b) {
  if (!a || !b || tm_type_is_shaped(a) != tm_type_is_shaped(b)) return false;
  return !tm_type_is_shaped(a) || (a->kind == b->kind && tm_type_with_elem(ctx, a, b->elem) == b);
}
/* A memref whose element type MLIR accepts (quantized elements it does not). */
static inline bool tm_low_memref(const tm_type *t) {
  return t && t->kind == TM_TYPE_MEMREF && tm_low_scalar(t->elem) == t->elem;
}

/* An operand's or a result's type, NULL if the op lacks it (API-built IR). */
static inline const tm_type *tm_low_operand_type(const tm_op *op, int i) {
  return i >= 0 && i < op->noperands && op->operands[i].value ? op->operands[i].value->type : NULL;
}
static inline const tm_type *tm_low_result_type(const tm_op *op, int i) {
  return i >= 0 && i < op->nresults ? op->results[i].type : NULL;
}

typedef bool (*tm_low_type_pred)(const tm_type *t);

/* "operand #1 must be signless-integer-like, but got 'f32'", as MLIR's ODS says it. */
static inline int tm_low_check_operand(tm_ctx *ctx, const tm_op *op, int i, tm_low_type_pred ok, const char *what) {
  const tm_type *t = tm_low_operand_type(op, i);
  if (t && ok(t)) return 0;
  return tm_op_error(ctx, op, "operand #%d must be %s, but got '%s'", i, what, tm_type_str(ctx, t));
}
static inline int tm_low_check_result(tm_ctx *ctx, const tm_op *op, int i, tm_low_type_pred ok, const char *what) {
  const tm_type *t = tm_low_result_type(op, i);
  if (t && ok(t)) return 0;
  return tm_op_error(ctx, op, "result #%d must be %s, but got '%s'", i, what, tm_type_str(ctx, t));
}
/* SameOperandsAndResultType */
static inline int tm_low_check_same_type(tm_ctx *ctx, const tm_op *op) {
  const tm_type *t = tm_low_operand_type(op, 0);
  for (int i = 1; i < op->noperands; i++)
    if (tm_low_operand_type(op, i) != t) return tm_op_error(ctx, op, "requires the same type for all operands and results");
  for (int i = 0; i < op->nresults; i++)
    if (op->results[i].type != t) return tm_op_error(ctx, op, "requires the same type for all operands and results");
  return 0;
}

/* Every operand and result in the class, then all of one type (the elementwise ops). */
static inline int tm_low_verify_same_typed(tm_ctx *ctx, const tm_op *op, tm_low_type_pred ok, const char *what) {
  for (int i = 0; i < op->noperands; i++)
    if (tm_low_check_operand(ctx, op, i, ok, what)) return -1;
  for (int i = 0; i < op->nresults; i++)
    if (tm_low_check_result(ctx, op, i, ok, what)) return -1;
  return tm_low_check_same_type(ctx, op);
}

static inline int tm_low_verify_int_same(tm_ctx *ctx, tm_op *op) {
  return tm_low_verify_same_typed(ctx, op, tm_low_int_like, "signless-integer-like");
}
static inline int tm_low_verify_float_same(tm_ctx *ctx, tm_op *op) {
  return tm_low_verify_same_typed(ctx, op, tm_low_float_like, "floating-point-like");
}

/* infer: the result has the first operand's type */
static inline int tm_low_infer_first(tm_ctx *ctx, tm_op *op, const tm_type **rt) {
  rt[0] = tm_low_operand_type(op, 0);
  return rt[0] ? 0 : tm_op_error(ctx, op, "expected an operand to infer the result type from");
}

/* A 64-bit signless integer attribute (what the generic form of an MLIR I64 property
 * must hold); NULL if absent or of another kind or type. */
static inline bool tm_low_is_i64(const tm_attr *a) {
  return a && a->kind == TM_ATTR_INT && tm_low_is_signless(a->type) && a->type->width == 64;
}
static inline const tm_attr *tm_low_i64_attr(const tm_op *op, const char *name) {
  const tm_attr *a = tm_op_attr(op, name);
  return tm_low_is_i64(a) ? a : NULL;
}

/* The op that ends a block if it is `name`, else NULL. */
static inline tm_op *tm_low_terminator(const tm_block *b, const char *name) {
  return b && b->last && tm_op_is(b->last, name) ? b->last : NULL;
}

/* ------------------------------------------------------------ op tables ---------- */
/* The ops of ir/ops_<dialect>.def are rows
 *   TM_LOWERED_OP(name, min operands, max operands (-1: variadic), min results,
 *                 max results (-1: variadic), regions, traits, ATTRS(attribute keys...),
 *                 verify, infer or NO_INFER, "operand names", summary)
 * and each attribute key k of a dialect is a macro <PREFIX>k expanding to
 *   TM_ATTR(name, kind, REQUIRED | OPTIONAL, default (attribute syntax) or NULL, doc).
 * verify checks everything the registry's counts and attribute kinds do not; infer
 * computes the result types where the operands determine them.
 *
 * A dialect's .c file defines TM_ATTRDEF_OF(key) as <PREFIX>##key and an empty
 * <PREFIX> (for ATTRS()), then expands the .def twice: TM_LOWERED_ATTRDEFS for the
 * attribute arrays, TM_LOWERED_OPDEF for the table. */
#define TM_FE_1(m, x) m(x)
#define TM_FE_2(m, x, ...) m(x) TM_FE_1(m, __VA_ARGS__)
#define TM_FE_3(m, x, ...) m(x) TM_FE_2(m, __VA_ARGS__)
#define TM_FE_4(m, x, ...) m(x) TM_FE_3(m, __VA_ARGS__)
#define TM_FE_5(m, x, ...) m(x) TM_FE_4(m, __VA_ARGS__)
#define TM_FE_6(m, x, ...) m(x) TM_FE_5(m, __VA_ARGS__)
#define TM_FE_7(m, x, ...) m(x) TM_FE_6(m, __VA_ARGS__)
#define TM_FE_8(m, x, ...) m(x) TM_FE_7(m, __VA_ARGS__)
#define TM_FE_PICK(_1, _2, _3, _4, _5, _6, _7, _8, n, ...) n
#define TM_FOR_EACH(m, ...) \
  TM_FE_PICK(__VA_ARGS__, TM_FE_8, TM_FE_7, TM_FE_6, TM_FE_5, TM_FE_4, TM_FE_3, TM_FE_2, TM_FE_1, ~)(m, __VA_ARGS__)
/* ATTRS(...) stays parenthesized so rows can be forwarded through __VA_ARGS__. */
#define ATTRS(...) (__VA_ARGS__)
#define TM_LOWERED_ATTR_LIST(...) TM_FOR_EACH(TM_ATTRDEF_OF, __VA_ARGS__)
#define REQUIRED true
#define OPTIONAL false
#define TM_ATTR(name, kind, required, dflt, doc) {#name, TM_AK_##kind, required, dflt, doc},

#define NONE 0u
#define PURE TM_TRAIT_PURE
#define COMMUTATIVE TM_TRAIT_COMMUTATIVE
#define ELEMENTWISE TM_TRAIT_ELEMENTWISE
#define CONSTANT TM_TRAIT_CONSTANT
#define TERMINATOR TM_TRAIT_TERMINATOR
#define SYMBOL TM_TRAIT_SYMBOL
#define SAME_TYPE TM_TRAIT_SAME_OPERANDS_AND_RESULT_TYPE
#define NO_INFER NULL

/* attribute definitions, NULL-terminated so ops without attributes still get an array */
#define TM_LOWERED_ATTRDEFS(name, min_operands, max_operands, min_results, max_results, regions, traits, attrs, \
                            verify, infer, operands, summary)                                                   \
  static const tm_attrdef attrdefs_##name[] = {TM_LOWERED_ATTR_LIST attrs{NULL, TM_AK_ANY, false, NULL, NULL}};

#define TM_LOWERED_OPDEF(dialect, name_, min_operands_, max_operands_, min_results_, max_results_, regions_, \
                         traits_, attrs_, verify_, infer_, operands_, summary_)                             \
  {.name = dialect "." #name_,                                                                            \
   .summary = summary_,                                                                                   \
   .min_operands = min_operands_,                                                                         \
   .max_operands = max_operands_,                                                                         \
   .min_results = min_results_,                                                                           \
   .max_results = max_results_,                                                                           \
   .nregions = regions_,                                                                                  \
   .traits = traits_,                                                                                     \
   .attrs = attrdefs_##name_,                                                                             \
   .nattrs = (int)TM_COUNTOF(attrdefs_##name_) - 1,                                                       \
   .verify = verify_,                                                                                     \
   .infer = infer_},

#endif /* TM_DIALECT_LOWERED_H */
