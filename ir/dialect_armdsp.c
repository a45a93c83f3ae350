/* ir/dialect_armdsp.c — the armdsp dialect (Arm M-profile DSP instructions), expanded
 * from ir/ops_armdsp.def.  Operands and results are signless i32 (the instructions'
 * registers); docs/dsp.md. */
#include "ir/dialect_lowered.h"

static bool is_i32(const tm_type *t) { return tm_low_is_signless(t) && t->width == 32; }
static bool is_index(const tm_type *t) { return t && t->kind == TM_TYPE_INDEX; }
static bool is_i8_memref(const tm_type *t) {
  return tm_low_memref(t) && tm_low_is_signless(t->elem) && t->elem->width == 8;
}

static bool is_i64_memref(const tm_type *t) {
  return tm_low_memref(t) && tm_low_is_signless(t->elem) && t->elem->width == 64;
}
static bool is_i64(const tm_type *t) { return tm_low_is_signless(t) && t->width == 64; }

static int check_i32(tm_ctx *ctx, const tm_op *op) {
  for (int i = 0; i < op->noperands; i++)
    if (tm_low_check_operand(ctx, op, i, is_i32, "32-bit signless integer")) return -1;
  return tm_low_check_result(ctx, op, 0, is_i32, "32-bit signless integer");
}

static int verify_sxtb16(tm_ctx *ctx, tm_op *op) {
  if (check_i32(ctx, op)) return -1;
  const tm_attr *r = tm_op_attr(op, "rotate");
  if (r && (r != tm_low_i64_attr(op, "rotate") || (r->u.i != 0 && r->u.i != 8 && r->u.i != 16 && r->u.i != 24)))
    return tm_op_error(ctx, op, "'rotate' must be an i64 of 0, 8, 16 or 24");
  return 0;
}

static int verify_smlad(tm_ctx *ctx, tm_op *op) { return check_i32(ctx, op); }
static int verify_usada8(tm_ctx *ctx, tm_op *op) { return check_i32(ctx, op); }

/* A load's memref, one index per dimension, its result; the memref's rank, or -1. */
static int check_load(tm_ctx *ctx, tm_op *op, bool (*mem)(const tm_type *), const char *mem_what,
                      bool (*res)(const tm_type *), const char *res_what) {
  if (tm_low_check_operand(ctx, op, 0, mem, mem_what)) return -1;
  for (int i = 1; i < op->noperands; i++)
    if (tm_low_check_operand(ctx, op, i, is_index, "index")) return -1;
  if (tm_low_check_result(ctx, op, 0, res, res_what)) return -1;
  const tm_type *m = tm_low_operand_type(op, 0);
  if (op->noperands - 1 != m->rank)
    return tm_op_error(ctx, op, "expected %d indices, but got %d", m->rank, op->noperands - 1);
  return m->rank;
}

/* With constant indices in a static memref: their element's linear index (-1 when some
 * index is not a constant, -2 after an error for an index out of its dimension). */
static int64_t const_element(tm_ctx *ctx, tm_op *op) {
  const tm_type *m = tm_low_operand_type(op, 0);
  if (!tm_type_is_static(m)) return -1;
  int64_t lin = 0;
  for (int d = 0; d < m->rank; d++) {
    const tm_attr *c = tm_value_const(tm_op_operand(op, 1 + d));
    if (!c || c->kind != TM_ATTR_INT) return -1;
    if (c->u.i < 0 || c->u.i >= m->dims[d])
      return tm_op_error(ctx, op, "index %lld is out of bounds for dimension %d", (long long)c->u.i, d), -2;
    lin = lin * m->dims[d] + c->u.i;
  }
  return lin;
}

/* With constant indices, the four bytes must lie inside. */
static int verify_load_word(tm_ctx *ctx, tm_op *op) {
  const char *mem = "memref of 8-bit signless integer values";
  if (check_load(ctx, op, is_i8_memref, mem, is_i32, "32-bit signless integer") < 0) return -1;
  int64_t lin = const_element(ctx, op), n = tm_type_numel(tm_low_operand_type(op, 0));
  if (lin == -2) return -1;
  if (lin >= 0 && lin + 4 > n)
    return tm_op_error(ctx, op, "reads bytes %lld to %lld of a memref of %lld", (long long)lin, (long long)lin + 3,
                       (long long)n);
  return 0;
}

static int verify_load_pair(tm_ctx *ctx, tm_op *op) {
  const char *mem = "memref of 64-bit signless integer values";
  if (check_load(ctx, op, is_i64_memref, mem, is_i64, "64-bit signless integer") < 0) return -1;
  return const_element(ctx, op) == -2 ? -1 : 0;
}

/* The accumulator, two (1-D i8 memref, index) operands whose `lanes` bytes lie inside
 * when the index is a constant, an i32 result. */
static int verify_vmladava(tm_ctx *ctx, tm_op *op) {
  if (tm_low_check_operand(ctx, op, 0, is_i32, "32-bit signless integer") ||
      tm_low_check_result(ctx, op, 0, is_i32, "32-bit signless integer"))
    return -1;
  const tm_attr *l = tm_op_attr(op, "lanes");
  if (l && (l != tm_low_i64_attr(op, "lanes") || l->u.i < 1 || l->u.i > 16))
    return tm_op_error(ctx, op, "'lanes' must be an i64 from 1 to 16");
  int64_t lanes = l ? l->u.i : 16;
  for (int m = 1; m <= 3; m += 2) {
    if (tm_low_check_operand(ctx, op, m, is_i8_memref, "memref of 8-bit signless integer values") ||
        tm_low_check_operand(ctx, op, m + 1, is_index, "index"))
      return -1;
    const tm_type *t = tm_low_operand_type(op, m);
    if (t->rank != 1) return tm_op_error(ctx, op, "operand #%d must be a 1-D memref, but has rank %d", m, t->rank);
    const tm_attr *c = tm_value_const(tm_op_operand(op, m + 1));
    if (c && c->kind == TM_ATTR_INT && tm_type_is_static(t) && (c->u.i < 0 || c->u.i + lanes > t->dims[0]))
      return tm_op_error(ctx, op, "reads bytes %lld to %lld of operand #%d, a memref of %lld", (long long)c->u.i,
                         (long long)(c->u.i + lanes - 1), m, (long long)t->dims[0]);
  }
  return 0;
}

#define TM_ATTRDEF_OF(key) ARMDSP_ATTR_##key
#define ARMDSP_ATTR_

#define TM_LOWERED_OP(...) TM_LOWERED_ATTRDEFS(__VA_ARGS__)
#include "ir/ops_armdsp.def"
#undef TM_LOWERED_OP

const tm_opdef tm_armdsp_dialect_ops[] = {
#define TM_LOWERED_OP(...) TM_LOWERED_OPDEF("armdsp", __VA_ARGS__)
#include "ir/ops_armdsp.def"
#undef TM_LOWERED_OP
};
const int tm_armdsp_dialect_nops = (int)TM_COUNTOF(tm_armdsp_dialect_ops);
