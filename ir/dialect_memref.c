/* ir/dialect_memref.c — the memref dialect of the lowered level, expanded from
 * ir/ops_memref.def.  Verifiers mirror MLIR 19's MemRefOps.td constraints and
 * MemRefOps.cpp, with MLIR's messages. */
#include "ir/dialect_lowered.h"

/* ---------------------------------------------------------------- helpers ------- */
static bool is_index(const tm_type *t) { return t && t->kind == TM_TYPE_INDEX; }

static bool is_static_memref(const tm_type *t) { return tm_low_memref(t) && tm_type_is_static(t); }

/* operands [first, noperands) are indices */
static int check_indices(tm_ctx *ctx, const tm_op *op, int first) {
  for (int i = first; i < op->noperands; i++)
    if (tm_low_check_operand(ctx, op, i, is_index, "variadic of index")) return -1;
  return 0;
}

static tm_op *enclosing_module(const tm_op *op) {
  tm_op *m = tm_op_parent(op);
  while (m && !tm_op_is(m, "builtin.module")) m = tm_op_parent(m);
  return m;
}

/* The memref.global a get_global names, or NULL. */
static tm_op *lookup_global(const tm_op *op) {
  const tm_attr *name = tm_op_attr(op, "name");
  tm_op *m = enclosing_module(op);
  if (!name || name->kind != TM_ATTR_SYMREF || !m) return NULL;
  tm_op *g = tm_module_lookup(m, name->u.str.data);
  return g && tm_op_is(g, "memref.global") ? g : NULL;
}

static const tm_type *global_type(const tm_op *g) {
  const tm_attr *t = tm_op_attr(g, "type");
  return t && t->kind == TM_ATTR_TYPE ? t->type : NULL;
}

/* ------------------------------------------------------------ load, store ------- */
static int verify_load(tm_ctx *ctx, tm_op *op) {
  if (tm_low_check_operand(ctx, op, 0, tm_low_memref, "memref of any type values") || check_indices(ctx, op, 1)) return -1;
  const tm_type *m = tm_low_operand_type(op, 0);
  if (op->noperands - 1 != m->rank)
    return tm_op_error(ctx, op, "incorrect number of indices for load, expected %d but got %d", m->rank, op->noperands - 1);
  if (op->results[0].type != m->elem)
    return tm_op_error(ctx, op, "failed to verify that result type matches element type of 'memref'");
  return 0;
}

static int infer_load(tm_ctx *ctx, tm_op *op, const tm_type **rt) {
  const tm_type *m = tm_low_operand_type(op, 0);
  if (!tm_low_memref(m)) return tm_op_error(ctx, op, "operand #0 must be memref of any type values");
  rt[0] = m->elem;
  return 0;
}

static int verify_store(tm_ctx *ctx, tm_op *op) {
  if (tm_low_check_operand(ctx, op, 1, tm_low_memref, "memref of any type values") || check_indices(ctx, op, 2)) return -1;
  const tm_type *m = tm_low_operand_type(op, 1);
  if (op->noperands - 2 != m->rank) return tm_op_error(ctx, op, "store index operand count not equal to memref rank");
  if (tm_low_operand_type(op, 0) != m->elem)
    return tm_op_error(ctx, op, "failed to verify that type of 'value' matches element type of 'memref'");
  return 0;
}

/* ------------------------------------------------------------ buffers ----------- */
static int verify_alloca(tm_ctx *ctx, tm_op *op) {
  if (tm_low_check_result(ctx, op, 0, tm_low_memref, "memref of any type values")) return -1;
  if (!tm_type_is_static(op->results[0].type))
    return tm_op_error(ctx, op, "dimension operand count does not equal memref dynamic dimension count");
  const tm_attr *a = tm_op_attr(op, "alignment");
  if (a && (a != tm_low_i64_attr(op, "alignment") || a->u.i < 0))
    return tm_op_error(ctx, op, "attribute 'alignment' failed to satisfy constraint: 64-bit signless integer attribute "
                                "whose minimum value is 0");
  return 0;
}

static bool is_byte_buffer(const tm_type *t) {
  return tm_low_memref(t) && t->rank == 1 && tm_low_is_signless(t->elem) && t->elem->width == 8;
}

static int verify_view(tm_ctx *ctx, tm_op *op) {
  if (tm_low_check_operand(ctx, op, 0, is_byte_buffer, "1D memref of 8-bit signless integer values") ||
      tm_low_check_operand(ctx, op, 1, is_index, "index") || check_indices(ctx, op, 2) ||
      tm_low_check_result(ctx, op, 0, tm_low_memref, "memref of any type values"))
    return -1;
  const tm_type *rt = op->results[0].type;
  int ndynamic = 0;
  for (int i = 0; i < rt->rank; i++) ndynamic += rt->dims[i] < 0;
  if (op->noperands - 2 != ndynamic)
    return tm_op_error(ctx, op, "incorrect number of size operands for type '%s'", tm_type_str(ctx, rt));
  return 0;
}

static int verify_global(tm_ctx *ctx, tm_op *op) {
  tm_op *p = tm_op_parent(op);
  if (!p || !tm_op_is(p, "builtin.module")) return tm_op_error(ctx, op, "symbol's parent must have the SymbolTable trait");
  const char *vis = tm_op_attr_str(op, "sym_visibility", NULL);
  if (vis && strcmp(vis, "public") && strcmp(vis, "private") && strcmp(vis, "nested"))
    return tm_op_error(ctx, op, "visibility expected to be one of [\"public\", \"private\", \"nested\"], but got \"%s\"", vis);
  const tm_type *t = global_type(op);
  if (!tm_low_memref(t)) return tm_op_error(ctx, op, "attribute 'type' failed to satisfy constraint: memref type attribute");
  if (!tm_type_is_static(t))
    return tm_op_error(ctx, op, "type should be static shaped memref, but got '%s'", tm_type_str(ctx, t));
  const tm_attr *init = tm_op_attr(op, "initial_value");
  if (init && init->kind != TM_ATTR_UNIT) {
    if (init->kind != TM_ATTR_DENSE)
      return tm_op_error(ctx, op, "initial value should be a unit or elements attribute, but got %s", tm_attr_str(ctx, init));
    const tm_type *want = tm_type_tensor(ctx, t->elem, t->rank, t->dims);
    if (init->type != want)
      return tm_op_error(ctx, op, "initial value expected to be of type '%s', but was of type '%s'", tm_type_str(ctx, want),
                         tm_type_str(ctx, init->type));
  }
  const tm_attr *a = tm_op_attr(op, "alignment");
  if (a && a != tm_low_i64_attr(op, "alignment"))
    return tm_op_error(ctx, op, "attribute 'alignment' failed to satisfy constraint: 64-bit signless integer attribute");
  if (a && (a->u.i <= 0 || (a->u.i & (a->u.i - 1))))
    return tm_op_error(ctx, op, "alignment attribute value %lld is not a power of 2", (long long)a->u.i);
  return 0;
}

static int verify_get_global(tm_ctx *ctx, tm_op *op) {
  if (tm_low_check_result(ctx, op, 0, is_static_memref, "statically shaped memref of any type values")) return -1;
  tm_op *g = lookup_global(op);
  const tm_attr *name = tm_op_attr(op, "name");
  if (!g) return tm_op_error(ctx, op, "'%s' does not reference a valid global memref", name->u.str.data);
  const tm_type *t = global_type(g);
  if (t && t != op->results[0].type)
    return tm_op_error(ctx, op, "result type '%s' does not match type '%s' of the global memref @%s",
                       tm_type_str(ctx, op->results[0].type), tm_type_str(ctx, t), name->u.str.data);
  return 0;
}

/* the global's type */
static int infer_get_global(tm_ctx *ctx, tm_op *op, const tm_type **rt) {
  tm_op *g = lookup_global(op);
  rt[0] = g ? global_type(g) : NULL;
  return rt[0] ? 0 : tm_op_error(ctx, op, "does not reference a valid global memref");
}

/* -------------------------------------------------------------- copy ------------ */
static int verify_copy(tm_ctx *ctx, tm_op *op) {
  for (int i = 0; i < 2; i++)
    if (tm_low_check_operand(ctx, op, i, tm_low_memref, "ranked or unranked memref of any type values")) return -1;
  const tm_type *s = tm_low_operand_type(op, 0), *t = tm_low_operand_type(op, 1);
  if (s->elem != t->elem) return tm_op_error(ctx, op, "requires the same element type for all operands");
  bool same = s->rank == t->rank;
  for (int i = 0; same && i < s->rank; i++) same = s->dims[i] == t->dims[i] || s->dims[i] < 0 || t->dims[i] < 0;
  return same ? 0 : tm_op_error(ctx, op, "requires the same shape for all operands");
}

/* ----------------------------------------------------------- collapse_shape ----- */
/* Checks the reassociation against the source and computes the collapsed type: each
 * group's size is the product of its source dimensions, '?' if one of them is. */
static int infer_collapse_shape(tm_ctx *ctx, tm_op *op, const tm_type **rt) {
  const tm_type *src = tm_low_operand_type(op, 0);
  const tm_attr *r = tm_op_attr(op, "reassociation");
  if (!tm_low_memref(src)) return tm_op_error(ctx, op, "operand #0 must be memref of any type values");
  bool ok = r && r->kind == TM_ATTR_ARRAY;
  for (int g = 0; ok && g < r->u.array.n; g++) {
    const tm_attr *grp = r->u.array.elts[g];
    ok = grp && grp->kind == TM_ATTR_ARRAY;
    for (int k = 0; ok && k < grp->u.array.n; k++) ok = tm_low_is_i64(grp->u.array.elts[k]);
  }
  if (!ok)
    return tm_op_error(ctx, op,
                       "attribute 'reassociation' failed to satisfy constraint: Array of 64-bit integer array attributes");
  int ngroups = r->u.array.n;
  int64_t *dims = TM_NEW_ARRAY(tm_ctx_arena(ctx), int64_t, ngroups > 0 ? ngroups : 1);
  int64_t next = 0; /* the source dimension the next group must start at */
  for (int g = 0; g < ngroups; g++) {
    const tm_attr *grp = r->u.array.elts[g];
    dims[g] = 1;
    for (int k = 0; k < grp->u.array.n; k++, next++) {
      int64_t d = grp->u.array.elts[k]->u.i;
      if (d < 0 || d >= src->rank) return tm_op_error(ctx, op, "reassociation index %lld is out of bounds", (long long)d);
      if (d != next) return tm_op_error(ctx, op, "reassociation indices must be contiguous");
      if (dims[g] == TM_DYNAMIC || src->dims[d] < 0) dims[g] = TM_DYNAMIC;
      else if (__builtin_mul_overflow(dims[g], src->dims[d], &dims[g]))
        return tm_op_error(ctx, op, "collapsed dim (%d) is too large", g);
    }
  }
  if (next != src->rank)
    return tm_op_error(ctx, op, "expanded rank (%d) inconsistent with number of reassociation indices (%lld)", src->rank,
                       (long long)next);
  rt[0] = tm_type_memref(ctx, src->elem, ngroups, dims);
  return 0;
}

static int verify_collapse_shape(tm_ctx *ctx, tm_op *op) {
  if (tm_low_check_operand(ctx, op, 0, tm_low_memref, "memref of any type values") ||
      tm_low_check_result(ctx, op, 0, tm_low_memref, "memref of any type values"))
    return -1;
  const tm_type *want, *rt = op->results[0].type;
  if (infer_collapse_shape(ctx, op, &want)) return -1;
  if (rt->rank != want->rank)
    return tm_op_error(ctx, op, "invalid number of reassociation groups: found %d, expected %d", want->rank, rt->rank);
  for (int i = 0; i < rt->rank; i++) {
    if ((rt->dims[i] < 0) != (want->dims[i] < 0))
      return tm_op_error(ctx, op, "collapsed dim (%d) must be dynamic if and only if reassociation group is dynamic", i);
    if (rt->dims[i] != want->dims[i])
      return tm_op_error(ctx, op, "collapsed dim size (%lld) must equal reassociation group size (%lld)",
                         (long long)rt->dims[i], (long long)want->dims[i]);
  }
  if (rt != want)
    return tm_op_error(ctx, op, "expected collapsed type to be '%s' but found '%s'", tm_type_str(ctx, want),
                       tm_type_str(ctx, rt));
  return 0;
}

/* -------------------------------------------------------------------- table ------- */
#define TM_ATTRDEF_OF(key) MEMREF_ATTR_##key
#define MEMREF_ATTR_

#define TM_LOWERED_OP(...) TM_LOWERED_ATTRDEFS(__VA_ARGS__)
#include "ir/ops_memref.def"
#undef TM_LOWERED_OP

const tm_opdef tm_memref_dialect_ops[] = {
#define TM_LOWERED_OP(...) TM_LOWERED_OPDEF("memref", __VA_ARGS__)
#include "ir/ops_memref.def"
#undef TM_LOWERED_OP
};
const int tm_memref_dialect_nops = (int)TM_COUNTOF(tm_memref_dialect_ops);
