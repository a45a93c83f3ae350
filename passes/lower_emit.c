/* passes/lower_emit.c — building lowered ops: hoisted constants, arith/memref ops, scf
 * loops and ifs, constant globals, and the fixed-point helpers (TFLite's
 * MultiplyByQuantizedMultiplier and gemmlowp's primitives) as private functions. */
#include <stdlib.h>
#include <string.h>

#include "passes/lowering.h"

/* ------------------------------------------------------------------ types ------- */
const tm_type *lw_i1(lw_fn *F) { return tm_type_int(F->ctx, 1); }
const tm_type *lw_i8(lw_fn *F) { return tm_type_int(F->ctx, 8); }
const tm_type *lw_i32(lw_fn *F) { return tm_type_int(F->ctx, 32); }
const tm_type *lw_i64(lw_fn *F) { return tm_type_int(F->ctx, 64); }
const tm_type *lw_f32(lw_fn *F) { return tm_type_float(F->ctx, 32); }
const tm_type *lw_index(lw_fn *F) { return tm_type_index(F->ctx); }

void lw_fn_init(lw_fn *F, lw_module *mod, tm_op *func) {
  memset(F, 0, sizeof *F);
  F->ctx = mod->ctx;
  F->mod = mod;
  F->entry = tm_func_entry(func);
  F->b = tm_builder_at_end(F->ctx, F->entry);
  F->loc = func->loc;
}

/* -------------------------------------------------------------------- ops ------- */
tm_value *lw_op(lw_fn *F, const char *name, const tm_type *rt, int n, tm_value *const *operands, int nattrs,
                const tm_named_attr *attrs) {
  tm_op_state st = {.name = name, .loc = F->loc, .noperands = n, .operands = operands, .nresults = rt ? 1 : 0,
                    .result_types = rt ? &rt : NULL, .nattrs = nattrs, .attrs = attrs};
  F->b.loc = F->loc;
  tm_op *op = tm_build(&F->b, &st);
  return rt ? tm_op_result(op, 0) : NULL;
}

tm_value *lw_op2(lw_fn *F, const char *name, tm_value *a, tm_value *b) {
  tm_value *ops[] = {a, b};
  return lw_op(F, name, a->type, 2, ops, 0, NULL);
}

tm_value *lw_cmpi(lw_fn *F, int pred, tm_value *a, tm_value *b) {
  tm_value *ops[] = {a, b};
  tm_named_attr attr = {tm_intern_cstr(F->ctx, "predicate"), tm_attr_int(F->ctx, NULL, pred)};
  return lw_op(F, "arith.cmpi", lw_i1(F), 2, ops, 1, &attr);
}

tm_value *lw_cmpf(lw_fn *F, int pred, tm_value *a, tm_value *b) {
  tm_value *ops[] = {a, b};
  tm_named_attr attr = {tm_intern_cstr(F->ctx, "predicate"), tm_attr_int(F->ctx, NULL, pred)};
  return lw_op(F, "arith.cmpf", lw_i1(F), 2, ops, 1, &attr);
}

tm_value *lw_select(lw_fn *F, tm_value *c, tm_value *a, tm_value *b) {
  tm_value *ops[] = {c, a, b};
  return lw_op(F, "arith.select", a->type, 3, ops, 0, NULL);
}

tm_value *lw_cast(lw_fn *F, const char *name, tm_value *v, const tm_type *to) {
  return lw_op(F, name, to, 1, &v, 0, NULL);
}

tm_value *lw_int_to(lw_fn *F, tm_value *v, const tm_type *to) {
  if (v->type == to) return v;
  return lw_cast(F, v->type->width < to->width ? "arith.extsi" : "arith.trunci", v, to);
}

tm_value *lw_math(lw_fn *F, const char *name, tm_value *v) { return lw_op(F, name, v->type, 1, &v, 0, NULL); }

/* -------------------------------------------------------------- constants ------- */
static uint64_t hash_const(const tm_type *t, uint64_t bits) {
  uint64_t h = (uint64_t)(uintptr_t)t * 0x9E3779B97F4A7C15ull ^ bits * 0xC2B2AE3D27D4EB4Full;
  return h ^ (h >> 29);
}

static void const_table_grow(lw_fn *F) {
  int cap = F->const_cap ? F->const_cap * 2 : 64;
  lw_const *t = TM_NEW_ARRAY(tm_ctx_arena(F->ctx), lw_const, cap);
  for (int i = 0; i < F->const_cap; i++) {
    if (!F->consts[i].value) continue;
    uint64_t h = hash_const(F->consts[i].type, F->consts[i].bits) & (uint64_t)(cap - 1);
    while (t[h].value) h = (h + 1) & (uint64_t)(cap - 1);
    t[h] = F->consts[i];
  }
  F->consts = t;
  F->const_cap = cap;
}

/* The hoisted constant of type t with the given attribute (bits identifies it). */
static tm_value *constant(lw_fn *F, const tm_type *t, uint64_t bits, const tm_attr *value) {
  if ((F->nconsts + 1) * 2 > F->const_cap) const_table_grow(F);
  uint64_t mask = (uint64_t)(F->const_cap - 1), h = hash_const(t, bits) & mask;
  for (; F->consts[h].value; h = (h + 1) & mask)
    if (F->consts[h].type == t && F->consts[h].bits == bits) return F->consts[h].value;
  tm_named_attr attr = {tm_intern_cstr(F->ctx, "value"), value};
  tm_op_state st = {.name = "arith.constant", .loc = tm_loc_unknown(F->ctx), .nresults = 1, .result_types = &t,
                    .nattrs = 1, .attrs = &attr};
  tm_op *op = tm_op_create(F->ctx, &st);
  if (F->last_const) tm_op_insert_after(F->last_const, op);
  else tm_block_prepend(F->entry, op);
  F->last_const = op;
  F->consts[h] = (lw_const){t, bits, tm_op_result(op, 0)};
  F->nconsts++;
  return tm_op_result(op, 0);
}

/* Constants print in a fixed order, whatever order kernels made them in: index first,
 * then integers by width, then floats; by value within a type. */
static int type_rank(const tm_type *t) {
  if (t->kind == TM_TYPE_INDEX) return 0;
  if (t->kind == TM_TYPE_INT) return (int)t->width;
  return 1000 + (int)t->width;
}

static int cmp_const(const void *pa, const void *pb) {
  const lw_const *a = pa, *b = pb;
  int ra = type_rank(a->type), rb = type_rank(b->type);
  if (ra != rb) return ra < rb ? -1 : 1;
  if (a->type->kind == TM_TYPE_FLOAT) {
    float fa, fb;
    uint32_t ba = (uint32_t)a->bits, bb = (uint32_t)b->bits;
    memcpy(&fa, &ba, 4);
    memcpy(&fb, &bb, 4);
    if (fa != fb) return fa < fb ? -1 : 1;
    return ba < bb ? -1 : ba > bb;
  }
  int64_t va = (int64_t)a->bits, vb = (int64_t)b->bits;
  return va < vb ? -1 : va > vb;
}

void lw_fn_finish(lw_fn *F) {
  if (!F->nconsts) return;
  lw_const *all = TM_NEW_ARRAY(tm_ctx_arena(F->ctx), lw_const, F->nconsts);
  int n = 0;
  for (int i = 0; i < F->const_cap; i++)
    if (F->consts[i].value) all[n++] = F->consts[i];
  qsort(all, (size_t)n, sizeof *all, cmp_const);
  tm_op *prev = NULL;
  for (int i = 0; i < n; i++) {
    tm_op *op = all[i].value->def;
    tm_op_remove(op);
    if (prev) tm_op_insert_after(prev, op);
    else tm_block_prepend(F->entry, op);
    prev = op;
  }
  F->last_const = prev;
}

tm_value *lw_cint(lw_fn *F, const tm_type *t, int64_t v) {
  if (t->kind == TM_TYPE_INT && t->width < 64) { /* sign-extend into the type's range */
    uint64_t m = (UINT64_C(1) << t->width) - 1;
    uint64_t u = (uint64_t)v & m;
    v = (u >> (t->width - 1)) & 1 ? (int64_t)(u | ~m) : (int64_t)u;
  }
  return constant(F, t, (uint64_t)v, tm_attr_int(F->ctx, t, v));
}
tm_value *lw_cidx(lw_fn *F, int64_t v) { return lw_cint(F, lw_index(F), v); }
tm_value *lw_ci32(lw_fn *F, int64_t v) { return lw_cint(F, lw_i32(F), v); }
tm_value *lw_ci64(lw_fn *F, int64_t v) { return lw_cint(F, lw_i64(F), v); }

tm_value *lw_cf32(lw_fn *F, float v) {
  uint32_t bits;
  memcpy(&bits, &v, 4);
  return constant(F, lw_f32(F), bits, tm_attr_float(F->ctx, lw_f32(F), (double)v));
}

/* ----------------------------------------------------------------- memory ------- */
tm_value *lw_load(lw_fn *F, tm_value *mem, int n, tm_value *const *idx) {
  tm_value *ops[LW_MAX_RANK + 1] = {mem};
  for (int i = 0; i < n; i++) ops[i + 1] = idx[i];
  return lw_op(F, "memref.load", mem->type->elem, n + 1, ops, 0, NULL);
}

void lw_store(lw_fn *F, tm_value *v, tm_value *mem, int n, tm_value *const *idx) {
  tm_value *ops[LW_MAX_RANK + 2] = {v, mem};
  for (int i = 0; i < n; i++) ops[i + 2] = idx[i];
  lw_op(F, "memref.store", NULL, n + 2, ops, 0, NULL);
}

tm_value *lw_get_global(lw_fn *F, tm_op *global) {
  const tm_attr *name = tm_op_attr(global, "sym_name");
  const tm_attr *type = tm_op_attr(global, "type");
  tm_named_attr attr = {tm_intern_cstr(F->ctx, "name"), tm_attr_symref(F->ctx, name->u.str.data, name->u.str.len)};
  return lw_op(F, "memref.get_global", type->type, 0, NULL, 1, &attr);
}

/* A symbol name not yet taken in the module: base, or base_<n>. */
static const char *fresh_name(lw_module *M, const char *base) {
  const char *name = base;
  while (tm_module_lookup(M->module, name)) name = tm_arena_printf(M->ctx, "%s_%d", base, ++M->nglobals);
  return name;
}

tm_op *lw_global(lw_module *M, const char *base, const tm_attr *dense, const tm_loc *loc) {
  tm_ctx *ctx = M->ctx;
  const tm_type *t = dense->type;
  const tm_type *mt = tm_type_memref(ctx, t->elem, t->rank, t->dims);
  tm_named_attr attrs[] = {
      {tm_intern_cstr(ctx, "alignment"), tm_attr_int(ctx, NULL, 16)},
      {tm_intern_cstr(ctx, "constant"), tm_attr_unit(ctx)},
      {tm_intern_cstr(ctx, "initial_value"), dense},
      {tm_intern_cstr(ctx, "sym_name"), tm_attr_cstr(ctx, fresh_name(M, base))},
      {tm_intern_cstr(ctx, "sym_visibility"), tm_attr_cstr(ctx, "private")},
      {tm_intern_cstr(ctx, "type"), tm_attr_type(ctx, mt)},
  };
  tm_op_state st = {.name = "memref.global", .loc = loc, .nattrs = (int)TM_COUNTOF(attrs), .attrs = attrs};
  tm_op *g = tm_op_create(ctx, &st);
  if (M->anchor) tm_op_insert_before(M->anchor, g);
  else tm_block_append(tm_module_body(M->module), g);
  return g;
}

tm_op *lw_global_i8(lw_module *M, const char *base, int64_t n, const void *bytes, const tm_loc *loc) {
  const tm_type *t = tm_type_tensor(M->ctx, tm_type_int(M->ctx, 8), 1, &n);
  return lw_global(M, base, tm_attr_dense(M->ctx, t, false, bytes, (size_t)n), loc);
}

tm_op *lw_global_i32(lw_module *M, const char *base, int64_t n, const int32_t *vals, const tm_loc *loc) {
  const tm_type *t = tm_type_tensor(M->ctx, tm_type_int(M->ctx, 32), 1, &n);
  return lw_global(M, base, tm_attr_dense(M->ctx, t, false, vals, (size_t)n * 4), loc);
}

/* ------------------------------------------------------------------ loops ------- */
void lw_for_begin(lw_fn *F, lw_for *L, tm_value *lb, tm_value *ub, tm_value *step, int ninits, tm_value *const *inits) {
  tm_value *ops[3 + LW_FOR_MAX_CARRIED];
  const tm_type *rts[LW_FOR_MAX_CARRIED];
  ops[0] = lb, ops[1] = ub, ops[2] = step;
  for (int i = 0; i < ninits; i++) ops[3 + i] = inits[i], rts[i] = inits[i]->type;
  tm_op_state st = {.name = "scf.for", .loc = F->loc, .noperands = 3 + ninits, .operands = ops, .nresults = ninits,
                    .result_types = rts, .nregions = 1};
  F->b.loc = F->loc;
  L->op = tm_build(&F->b, &st);
  tm_block *body = tm_block_create(F->ctx);
  L->iv = tm_block_add_arg(F->ctx, body, lb->type, F->loc);
  L->nargs = ninits;
  L->args = ninits ? TM_NEW_ARRAY(tm_ctx_arena(F->ctx), tm_value *, ninits) : NULL;
  for (int i = 0; i < ninits; i++) L->args[i] = tm_block_add_arg(F->ctx, body, inits[i]->type, F->loc);
  tm_region_add_block(&L->op->regions[0], body);
  L->saved = F->b;
  F->b = tm_builder_at_end(F->ctx, body);
}

void lw_for_n(lw_fn *F, lw_for *L, int64_t n, int ninits, tm_value *const *inits) {
  lw_for_begin(F, L, lw_cidx(F, 0), lw_cidx(F, n), lw_cidx(F, 1), ninits, inits);
}

tm_value **lw_for_end(lw_fn *F, lw_for *L, int n, tm_value *const *yields) {
  lw_op(F, "scf.yield", NULL, n, yields, 0, NULL);
  F->b = L->saved;
  if (!L->op->nresults) return NULL;
  tm_value **res = TM_NEW_ARRAY(tm_ctx_arena(F->ctx), tm_value *, L->op->nresults);
  for (int i = 0; i < L->op->nresults; i++) res[i] = tm_op_result(L->op, i);
  return res;
}

void lw_if_begin(lw_fn *F, lw_if *I, tm_value *cond, int nres, const tm_type *const *types) {
  tm_op_state st = {.name = "scf.if", .loc = F->loc, .noperands = 1, .operands = &cond, .nresults = nres,
                    .result_types = types, .nregions = 2};
  F->b.loc = F->loc;
  I->op = tm_build(&F->b, &st);
  tm_block *then = tm_block_create(F->ctx);
  tm_region_add_block(&I->op->regions[0], then);
  I->saved = F->b;
  F->b = tm_builder_at_end(F->ctx, then);
}

void lw_if_else(lw_fn *F, lw_if *I, int n, tm_value *const *yields) {
  lw_op(F, "scf.yield", NULL, n, yields, 0, NULL);
  tm_block *els = tm_block_create(F->ctx);
  tm_region_add_block(&I->op->regions[1], els);
  F->b = tm_builder_at_end(F->ctx, els);
}

tm_value **lw_if_end(lw_fn *F, lw_if *I, int n, tm_value *const *yields) {
  if (I->op->regions[1].first) lw_op(F, "scf.yield", NULL, n, yields, 0, NULL);
  else lw_op(F, "scf.yield", NULL, 0, NULL, 0, NULL); /* then region of an if without else */
  F->b = I->saved;
  if (!I->op->nresults) return NULL;
  tm_value **res = TM_NEW_ARRAY(tm_ctx_arena(F->ctx), tm_value *, I->op->nresults);
  for (int i = 0; i < I->op->nresults; i++) res[i] = tm_op_result(I->op, i);
  return res;
}

void lw_nest_begin(lw_fn *F, lw_nest *N, int rank, const int64_t *dims) {
  N->rank = rank;
  for (int i = 0; i < rank; i++) {
    N->looped[i] = dims[i] != 1;
    if (N->looped[i]) {
      lw_for_n(F, &N->loops[i], dims[i], 0, NULL);
      N->iv[i] = N->loops[i].iv;
    } else {
      N->iv[i] = lw_cidx(F, 0);
    }
  }
}

void lw_nest_end(lw_fn *F, lw_nest *N) {
  for (int i = N->rank - 1; i >= 0; i--)
    if (N->looped[i]) lw_for_end(F, &N->loops[i], 0, NULL);
}

/* --------------------------------------------------------- index arithmetic ------- */
static bool const_of(tm_value *v, int64_t *out) {
  if (!v->def || !tm_op_is(v->def, "arith.constant")) return false;
  const tm_attr *a = tm_op_attr(v->def, "value");
  if (!a || a->kind != TM_ATTR_INT) return false;
  *out = a->u.i;
  return true;
}

tm_value *lw_affine(lw_fn *F, tm_value *iv, int64_t mul, int64_t add) {
  int64_t c;
  if (const_of(iv, &c)) return lw_cidx(F, c * mul + add);
  tm_value *v = iv;
  if (mul != 1) v = lw_muli(F, v, lw_cidx(F, mul));
  if (add != 0) v = lw_addi(F, v, lw_cidx(F, add));
  return v;
}

tm_value *lw_add_idx(lw_fn *F, tm_value *a, tm_value *b) {
  int64_t ca, cb;
  if (const_of(a, &ca) && const_of(b, &cb)) return lw_cidx(F, ca + cb);
  if (const_of(a, &ca) && ca == 0) return b;
  if (const_of(b, &cb) && cb == 0) return a;
  return lw_addi(F, a, b);
}

/* ------------------------------------------------------------- clamping ------- */
tm_value *lw_clamp_i32(lw_fn *F, tm_value *v, int32_t lo, int32_t hi) {
  if (lo != INT32_MIN) v = lw_maxsi(F, v, lw_ci32(F, lo));
  if (hi != INT32_MAX) v = lw_minsi(F, v, lw_ci32(F, hi));
  return v;
}

tm_value *lw_clamp_f(lw_fn *F, tm_value *v, tm_value *lo, tm_value *hi) {
  /* std::max(v, lo) is (v < lo) ? lo : v; std::min(v, hi) is (hi < v) ? hi : v. */
  if (lo) v = lw_select(F, lw_cmpf(F, LW_FOLT, v, lo), lo, v);
  if (hi) v = lw_select(F, lw_cmpf(F, LW_FOLT, hi, v), hi, v);
  return v;
}

/* --------------------------------------------------- fixed-point helpers ------- */
/* Inline bodies: each takes and returns i32 values. */

/* SaturatingRoundingDoublingHighMul: (a * b + nudge) / 2^31 on i64, truncating, with
 * nudge = ab >= 0 ? 2^30 : 1 - 2^30; INT32_MIN * INT32_MIN saturates to INT32_MAX. */
static tm_value *emit_srdhm(lw_fn *F, tm_value *a, tm_value *b) {
  const tm_type *i64 = lw_i64(F);
  tm_value *a64 = lw_cast(F, "arith.extsi", a, i64);
  tm_value *ab = lw_muli(F, a64, lw_cast(F, "arith.extsi", b, i64));
  tm_value *nudge = lw_select(F, lw_cmpi(F, LW_SGE, ab, lw_ci64(F, 0)), lw_ci64(F, 1 << 30), lw_ci64(F, 1 - (1 << 30)));
  tm_value *high = lw_divsi(F, lw_addi(F, ab, nudge), lw_ci64(F, INT64_C(1) << 31));
  tm_value *r = lw_cast(F, "arith.trunci", high, lw_i32(F));
  tm_value *min = lw_ci32(F, INT32_MIN);
  tm_value *same = lw_cmpi(F, LW_EQ, a, b);
  tm_value *overflow = lw_andi(F, same, lw_cmpi(F, LW_EQ, a, min));
  return lw_select(F, overflow, lw_ci32(F, INT32_MAX), r);
}

/* RoundingDivideByPOT: (x >> e) + ((x & mask) > (mask >> 1) + (x < 0)), mask = 2^e - 1. */
static tm_value *emit_rdbp(lw_fn *F, tm_value *x, tm_value *e) {
  tm_value *one = lw_ci32(F, 1);
  tm_value *mask = lw_subi(F, lw_shli(F, one, e), one); /* 1 << 31 wraps to INT32_MIN: mask INT32_MAX */
  tm_value *remainder = lw_andi(F, x, mask);
  tm_value *neg = lw_cast(F, "arith.extui", lw_cmpi(F, LW_SLT, x, lw_ci32(F, 0)), lw_i32(F));
  tm_value *threshold = lw_addi(F, lw_shrsi(F, mask, one), neg);
  tm_value *up = lw_cast(F, "arith.extui", lw_cmpi(F, LW_SGT, remainder, threshold), lw_i32(F));
  return lw_addi(F, lw_shrsi(F, x, e), up);
}

/* MultiplyByQuantizedMultiplier(x, q, shift) = rdbp(srdhm(x << max(shift, 0), q), max(-shift, 0)). */
static tm_value *emit_mbqm(lw_fn *F, tm_value *x, tm_value *q, tm_value *shift) {
  tm_value *zero = lw_ci32(F, 0);
  tm_value *left = lw_maxsi(F, shift, zero);
  tm_value *right = lw_maxsi(F, lw_subi(F, zero, shift), zero);
  return emit_rdbp(F, emit_srdhm(F, lw_shli(F, x, left), q), right);
}

/* Count leading zeros of a non-zero i32: a binary search of shifts. */
static tm_value *emit_clz(lw_fn *F, tm_value *x) {
  tm_value *n = lw_ci32(F, 0);
  for (int s = 16; s >= 1; s /= 2) {
    /* if (x >> (32 - s)) == 0 (unsigned): n += s, x <<= s */
    tm_value *top = lw_shrui(F, x, lw_ci32(F, 32 - s));
    tm_value *empty = lw_cmpi(F, LW_EQ, top, lw_ci32(F, 0));
    n = lw_select(F, empty, lw_addi(F, n, lw_ci32(F, s)), n);
    x = lw_select(F, empty, lw_shli(F, x, lw_ci32(F, s)), x);
  }
  return n;
}

/* SaturatingRoundingMultiplyByPOT<e> for e > 0: a left shift saturating at the int32 range. */
static tm_value *emit_sat_shl(lw_fn *F, tm_value *x, int e) {
  int32_t threshold = (int32_t)((INT64_C(1) << (31 - e)) - 1);
  tm_value *r = lw_shli(F, x, lw_ci32(F, e));
  r = lw_select(F, lw_cmpi(F, LW_SGT, x, lw_ci32(F, threshold)), lw_ci32(F, INT32_MAX), r);
  return lw_select(F, lw_cmpi(F, LW_SLT, x, lw_ci32(F, -threshold)), lw_ci32(F, INT32_MIN), r);
}

/* SRDHM in a helper run once per row (GetReciprocal's): with cold ops (cold-percent) a cold
 * call of __tm_srdhm, LLVM keeping one copy, else inline. */
static tm_value *row_srdhm(lw_fn *F, tm_value *a, tm_value *b) {
  if (!(F->mod->cold_percent > 0) || F->mod->inline_helpers) return emit_srdhm(F, a, b);
  F->cold = true;
  tm_value *ab[] = {a, b};
  return lw_helper_call(F, LW_HELPER_SRDHM, 2, ab);
}

/* gemmlowp's one_over_one_plus_x_for_x_in_0_1 (Newton-Raphson in Q2.29), as
 * tm_fx_one_over_one_plus_x_for_x_in_0_1 in lower_quant.c computes it. */
static tm_value *emit_reciprocal(lw_fn *F, tm_value *a) {
  const tm_type *i64 = lw_i64(F);
  /* RoundingHalfSum(a, INT32_MAX) = (a + b + sign(a + b)) / 2 on i64 */
  tm_value *sum = lw_addi(F, lw_cast(F, "arith.extsi", a, i64), lw_ci64(F, INT32_MAX));
  tm_value *sign = lw_select(F, lw_cmpi(F, LW_SGE, sum, lw_ci64(F, 0)), lw_ci64(F, 1), lw_ci64(F, -1));
  tm_value *half = lw_cast(F, "arith.trunci", lw_divsi(F, lw_addi(F, sum, sign), lw_ci64(F, 2)), lw_i32(F));
  tm_value *x = lw_addi(F, lw_ci32(F, 1515870810), row_srdhm(F, half, lw_ci32(F, -1010580540)));
  /* the three Newton steps: with cold ops (-Os) a loop kept rolled (tm.rolled), their
   * code once (resnet -100 bytes, nine instructions a softmax row more) */
  bool rolled = F->mod->cold_percent > 0 && !F->mod->inline_helpers;
  lw_for L;
  if (rolled) {
    lw_for_n(F, &L, 3, 1, &x);
    tm_op_set_attr(F->ctx, L.op, "tm.rolled", tm_attr_unit(F->ctx));
    x = L.args[0];
  }
  for (int i = 0; i < (rolled ? 1 : 3); i++) {
    tm_value *one_minus = lw_subi(F, lw_ci32(F, 1 << 29), row_srdhm(F, half, x));
    x = lw_addi(F, x, emit_sat_shl(F, row_srdhm(F, x, one_minus), 2));
  }
  if (rolled) x = lw_for_end(F, &L, 1, &x)[0];
  return emit_sat_shl(F, x, 1);
}

static const struct {
  const char *name;
  int nargs;
} helper_info[LW_HELPER_COUNT] = {
    [LW_HELPER_MBQM] = {"__tm_mbqm", 3},
    [LW_HELPER_SRDHM] = {"__tm_srdhm", 2},
    [LW_HELPER_RDBP] = {"__tm_rdbp", 2},
    [LW_HELPER_CLZ] = {"__tm_clz", 1},
    [LW_HELPER_RECIPROCAL] = {"__tm_one_over_one_plus_x", 1},
};

static tm_value *emit_helper(lw_fn *F, lw_helper h, tm_value *const *a) {
  switch (h) {
  case LW_HELPER_MBQM: return emit_mbqm(F, a[0], a[1], a[2]);
  case LW_HELPER_SRDHM: return emit_srdhm(F, a[0], a[1]);
  case LW_HELPER_RDBP: return emit_rdbp(F, a[0], a[1]);
  case LW_HELPER_CLZ: return emit_clz(F, a[0]);
  case LW_HELPER_RECIPROCAL: return emit_reciprocal(F, a[0]);
  case LW_HELPER_COUNT: break;
  }
  return NULL;
}

/* The private helper function, built on first use. */
static tm_op *helper_func(lw_module *M, lw_helper h) {
  if (M->helpers[h]) return M->helpers[h];
  tm_ctx *ctx = M->ctx;
  const tm_type *i32 = tm_type_int(ctx, 32);
  const tm_type *ins[3] = {i32, i32, i32};
  const tm_type *ft = tm_type_func(ctx, helper_info[h].nargs, ins, 1, &i32);
  const char *name = helper_info[h].name;
  tm_op *existing = tm_module_lookup(M->module, name);
  if (existing && tm_op_is(existing, "func.func") && tm_func_type(existing) == ft) return M->helpers[h] = existing;
  tm_op *f = tm_func_create(ctx, fresh_name(M, name), ft, tm_loc_unknown(ctx));
  tm_op_set_attr(ctx, f, "sym_visibility", tm_attr_cstr(ctx, "private"));
  if (M->anchor) tm_op_insert_before(M->anchor, f);
  else tm_block_append(tm_module_body(M->module), f);
  M->helpers[h] = f;
  lw_fn H;
  lw_fn_init(&H, M, f);
  H.loc = tm_loc_unknown(ctx);
  tm_value *r = emit_helper(&H, h, tm_func_entry(f)->args);
  lw_op(&H, "func.return", NULL, 1, &r, 0, NULL);
  lw_fn_finish(&H);
  return f;
}

tm_value *lw_helper_call(lw_fn *F, lw_helper h, int n, tm_value *const *args) {
  if (F->mod->inline_helpers) return emit_helper(F, h, args);
  tm_op *f = helper_func(F->mod, h);
  const tm_attr *name = tm_op_attr(f, "sym_name");
  tm_named_attr attrs[] = {{tm_intern_cstr(F->ctx, "callee"), tm_attr_symref(F->ctx, name->u.str.data, name->u.str.len)},
                           {tm_intern_cstr(F->ctx, "tm.cold"), tm_attr_unit(F->ctx)}};
  return lw_op(F, "func.call", lw_i32(F), n, args, F->cold ? 2 : 1, attrs);
}

int64_t lw_op_work(lw_module *M, const tm_op *op) {
  tm_cost cost = {0};
  if (op->def && op->def->cost && !op->def->cost(M->ctx, op, &cost)) return 0; /* tm.const */
  int64_t work = cost.macs;
  for (int i = 0; i < op->nresults; i++) {
    int64_t n = tm_type_numel(op->results[i].type);
    if (n > 0) work += n; /* static: lower-to-loops refuses other shapes */
  }
  return work;
}

bool lw_op_is_cold(const lw_lower *W, const tm_op *op) {
  return W->M->cold_percent > 0 && W->work > 0 &&
         (double)lw_op_work(W->M, op) < W->M->cold_percent / 100 * (double)W->work;
}

tm_value *lw_mbqm(lw_fn *F, tm_value *x, tm_value *q, tm_value *shift) {
  tm_value *a[] = {x, q, shift};
  return lw_helper_call(F, LW_HELPER_MBQM, 3, a);
}

tm_value *lw_srdhm(lw_fn *F, tm_value *x, tm_value *y) {
  tm_value *a[] = {x, y};
  return lw_helper_call(F, LW_HELPER_SRDHM, 2, a);
}

tm_value *lw_rdbp(lw_fn *F, tm_value *x, tm_value *e) {
  tm_value *a[] = {x, e};
  return lw_helper_call(F, LW_HELPER_RDBP, 2, a);
}
