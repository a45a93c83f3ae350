/* passes/lower_requant.c — the per-output-channel requantization of the integer kernels,
 * MultiplyByQuantizedMultiplier(acc, q[c], shift[c]) + zp: its tables and the operations
 * that apply it.
 *
 * When the weights and bias are constants, the kernel knows a bound B[c] >= |acc| for
 * every channel, and most channels then take a short form with TFLite's bits (about 7
 * instructions on a DSP core instead of 17).  For q >= 0, shift = -r <= 0, B < 2^30:
 *   SaturatingRoundingDoublingHighMul(acc, q) = (acc * q + nudge) / 2^31 (truncating) is
 *     floor((acc * q + 2^30) / 2^31) for either sign (it cannot saturate: q != INT_MIN),
 *     = floor((2 acc * q + 2^31) / 2^32): the high word of one 32x32 product plus a
 *     constant (SMMULR on Arm), 2 acc fitting in 32 bits;
 *   RoundingDivideByPOT(h, r), r >= 1: (h >> r) + ((h & mask) > (mask >> 1) + (h < 0)),
 *     i.e. round half up for h >= 0 and half down for h < 0, is floor((h + 2^(r-1) +
 *     (h >> 31)) / 2^r) (h >> 31 = -1 for h < 0).  acc >> 31 serves as well (one
 *     multiply fewer): h has acc's sign except h = 0 for a small negative acc, where
 *     either term gives 0.  Adding zp there gives + zp: (h + addend + (acc >> 31)) >> r
 *     with addend = 2^(r-1) + zp * 2^r, when no sum leaves the int32 range (|h| <=
 *     B q / 2^31 + 1); else zp is added after.
 * Otherwise (unknown bound, a left shift, int64 accumulators) the generic helpers. */
#include <stdlib.h>
#include <string.h>

#include "passes/lowering.h"

void lw_requant_init(lw_lower *W, lw_requant *r, int64_t n, bool wide) {
  *r = (lw_requant){.n = n, .wide = wide};
  r->q = TM_NEW_ARRAY(tm_ctx_arena(W->ctx), int32_t, n);
  r->shift = TM_NEW_ARRAY(tm_ctx_arena(W->ctx), int32_t, n);
}

int lw_requant_set(lw_lower *W, tm_op *op, lw_requant *r, int64_t i, double m) {
  int shift;
  if (lw_qmul(W, op, m, &r->q[i], &shift)) return -1;
  r->shift[i] = shift;
  if (r->wide) {
    /* MultiplyByQuantizedMultiplier(int64_t x, ...): the multiplier reduced to 16 bits,
     * a single rounding shift by 15 - shift (shift in [-31, 7]). */
    if (shift < -31 || shift > 7 || r->q[i] < 0)
      return lw_unsupported(W, op, "requantization multiplier %g is out of range", m);
    r->q[i] = r->q[i] < 0x7FFF0000 ? (r->q[i] + (1 << 15)) >> 16 : 0x7FFF;
    r->shift[i] = 15 - shift;
  }
  return 0;
}

void lw_requant_bound_weights(lw_lower *W, lw_requant *r, const tm_value *w, const tm_value *b, bool depthwise,
                              int64_t xmax) {
  const tm_attr *wv = tm_value_const(w), *bv = b ? tm_value_const(b) : NULL;
  if (!wv || (b && !bv) || lw_is_packed_i4(w)) return;
  int64_t n = r->n, per = tm_type_numel(w->type) / n;
  int64_t *bound = TM_NEW_ARRAY(tm_ctx_arena(W->ctx), int64_t, n);
  for (int64_t c = 0; c < n; c++) {
    int64_t s = 0;
    /* depthwise filters are [1, KH, KW, O]: channel c every n-th value; others [O, ...] */
    for (int64_t i = 0; i < per; i++) s += llabs(tm_dense_get_int(wv, depthwise ? i * n + c : c * per + i));
    bound[c] = s * xmax + (bv ? llabs(tm_dense_get_int(bv, c)) : 0);
    if (!s) lw_requant_fix(W, r, c, bv ? (int32_t)tm_dense_get_int(bv, c) : 0);
  }
  r->bound = bound;
}

void lw_requant_fix(lw_lower *W, lw_requant *r, int64_t c, int32_t acc) {
  if (!r->fixed) {
    r->fixed = TM_NEW_ARRAY(tm_ctx_arena(W->ctx), int32_t, r->n);
    r->fixed_mask = TM_NEW_ARRAY(tm_ctx_arena(W->ctx), bool, r->n);
    memset((bool *)r->fixed_mask, 0, (size_t)r->n * sizeof(bool));
  }
  ((int32_t *)r->fixed)[c] = acc, ((bool *)r->fixed_mask)[c] = true;
}

static bool is_fixed(const lw_requant *r, int64_t c) { return r->fixed_mask && r->fixed_mask[c]; }

/* The multiplier and right shift of channel c in the short form.  A channel of
 * multiplier 0 (QuantizeMultiplier(0) = (0, 0)) gives h = 0 with any shift, so it takes
 * the others' kind: one form for all channels, one loop body.  So does a fixed channel,
 * whose sums may be too large for 2 acc (TFLite models give dead channels biases of
 * 2^30): with a multiplier chosen for its constant sum (fixed_multipliers), or with
 * multiplier 0 and its result in its addend. */
static int32_t q_of(const lw_requant *r, int64_t c) {
  return is_fixed(r, c) ? (r->fixed_q ? r->fixed_q[c] : 0) : r->q[c];
}
static int64_t rshift_of(const lw_requant *r, int64_t c) {
  return !is_fixed(r, c) && r->q[c] ? -(int64_t)r->shift[c] : r->round;
}

/* Whether every channel takes the short form (and r->round: with a rounding shift), and
 * whether zp fits in the addend. */
static bool short_form(lw_requant *r, int64_t zp, bool *fold_zp) {
  if (r->wide || !r->bound) return false;
  r->round = false;
  for (int64_t c = 0; c < r->n; c++)
    if (!is_fixed(r, c) && r->q[c]) {
      r->round = r->shift[c] < 0;
      break;
    }
  *fold_zp = true;
  for (int64_t c = 0; c < r->n; c++) {
    int64_t rr = rshift_of(r, c);
    if (is_fixed(r, c)) { /* h = 0; addend 2^r k + 2^(r-1) (+ zp 2^r), r <= 1 */
      int64_t k = tm_fx_mbqm(r->fixed[c], r->q[c], r->shift[c]);
      if (llabs(k) + llabs(zp) + 1 > (INT32_MAX >> 2)) return false;
      continue;
    }
    if (r->q[c] < 0 || rr < 0 || (rr > 0) != r->round || r->bound[c] >= INT64_C(1) << 30) return false;
    int64_t h = ((r->bound[c] * r->q[c]) >> 31) + 1, half = rr ? INT64_C(1) << (rr - 1) : 0;
    if (h + half + 1 > INT32_MAX) return false;
    if (h + half + llabs(zp) * (INT64_C(1) << rr) + 1 > INT32_MAX) *fold_zp = false;
  }
  return true;
}

static int32_t addend(const lw_requant *r, int64_t c) {
  int64_t rr = rshift_of(r, c), a = rr ? INT64_C(1) << (rr - 1) : 0;
  if (is_fixed(r, c) && !r->fixed_q) a += tm_fx_mbqm(r->fixed[c], r->q[c], r->shift[c]) * (INT64_C(1) << rr);
  return (int32_t)(a + (r->zp_folded ? r->zp * (INT64_C(1) << rr) : 0));
}

/* What the short form (emit_short, then + zp) computes for the sum acc with multiplier q,
 * right shift rr and addend add. */
static int64_t short_value(const lw_requant *r, int32_t acc, int32_t q, int64_t rr, int64_t add) {
  int32_t a2 = (int32_t)((uint32_t)acc << 1);
  int64_t h = ((int64_t)a2 * q + (INT64_C(1) << 31)) >> 32, v = h + add;
  if (r->round) v = (v + (acc < 0 ? -1 : 0)) >> rr;
  return v + (r->zp_folded ? 0 : r->zp);
}

/* Multipliers for the fixed channels that give their constant results through the path
 * of the others (right shift r->round, the addend every channel of that shift has), so
 * that the addends can go by shift: h = hi32(2 acc q + 2^31) is then the result (times
 * 2, less the sign term, with a rounding shift of 1), q about h 2^32 / 2 acc.  NULL when
 * some fixed channel has none (its 2 acc too small for its result). */
static int32_t *fixed_multipliers(lw_lower *W, const lw_requant *r) {
  int32_t *fq = TM_NEW_ARRAY(tm_ctx_arena(W->ctx), int32_t, r->n);
  int64_t rr = r->round, add = (rr ? 1 : 0) + (r->zp_folded ? r->zp * (INT64_C(1) << rr) : 0);
  for (int64_t c = 0; c < r->n; c++) {
    fq[c] = 0;
    if (!is_fixed(r, c)) continue;
    int32_t acc = r->fixed[c], a2 = (int32_t)((uint32_t)acc << 1);
    int64_t want = tm_fx_mbqm(acc, r->q[c], r->shift[c]) + r->zp;
    int64_t h = rr ? 2 * (want - r->zp) - (acc < 0 ? -1 : 0) : want - r->zp;
    bool found = short_value(r, acc, 0, rr, add) == want;
    if (llabs(h) > INT64_C(1) << 30) a2 = 0; /* beyond any 32-bit q */
    for (int64_t q0 = a2 ? h * (INT64_C(1) << 32) / a2 : 0, d = -2; !found && a2 && d <= 2; d++)
      if (q0 + d >= INT32_MIN && q0 + d <= INT32_MAX && short_value(r, acc, (int32_t)(q0 + d), rr, add) == want)
        fq[c] = (int32_t)(q0 + d), found = true;
    if (!found) return NULL;
  }
  return fq;
}

struct lw_addends {
  int64_t zp; /* folded into the addends, or 0 */
  tm_op *global;
  int32_t add[32];
  int64_t used; /* entries [0, used) some channel reads (lw_requant_trim_addends) */
  struct lw_addends *next;
};

/* The module's table of addend(shift) for r's zero point (folded or not), 32 entries
 * until lw_requant_trim_addends; r's channels' shifts are marked used. */
static tm_op *addends_by_shift(lw_lower *W, const lw_requant *r) {
  lw_module *M = W->M;
  int64_t zp = r->zp_folded ? r->zp : 0;
  struct lw_addends *a = M->addends;
  while (a && a->zp != zp) a = a->next;
  if (!a) {
    a = TM_NEW(tm_ctx_arena(W->ctx), struct lw_addends);
    *a = (struct lw_addends){.zp = zp, .next = M->addends};
    for (int64_t rr = 0; rr < 32; rr++) {
      int64_t v = (rr ? INT64_C(1) << (rr - 1) : 0) + zp * (INT64_C(1) << rr);
      a->add[rr] = v >= INT32_MIN && v <= INT32_MAX ? (int32_t)v : 0; /* shifts no channel has */
    }
    lw_fn *F = lw_fn_of(W);
    a->global = lw_global_i32(M, "requant_addend_by_shift", 32, a->add, F->loc);
    M->addends = a;
  }
  for (int64_t c = 0; c < r->n; c++)
    if (rshift_of(r, c) >= a->used) a->used = rshift_of(r, c) + 1;
  return a->global;
}

static bool retype_get_global(tm_op *op, void *user) {
  const tm_op *g = user;
  const tm_attr *name = tm_op_attr(op, "name"), *sym = tm_op_attr(g, "sym_name");
  if (tm_op_is(op, "memref.get_global") && name && sym && name->u.str.len == sym->u.str.len &&
      !memcmp(name->u.str.data, sym->u.str.data, sym->u.str.len))
    op->results[0].type = tm_op_attr(g, "type")->type;
  return true;
}

/* All to one length, the largest shift any channel has + 1: blocks that differ only in
 * their zero point keep one type, which outline-repeated-loops needs to share them. */
void lw_requant_trim_addends(lw_module *M) {
  int64_t used = 0;
  for (struct lw_addends *a = M->addends; a; a = a->next) used = a->used > used ? a->used : used;
  if (used < 1 || used >= 32) return;
  const tm_type *t = tm_type_tensor(M->ctx, tm_type_int(M->ctx, 32), 1, &used);
  for (struct lw_addends *a = M->addends; a; a = a->next) {
    tm_op_set_attr(M->ctx, a->global, "initial_value", tm_attr_dense(M->ctx, t, false, a->add, (size_t)used * 4));
    tm_op_set_attr(M->ctx, a->global, "type", tm_attr_type(M->ctx, tm_type_memref(M->ctx, t->elem, 1, &used)));
    tm_op_walk(M->module, retype_get_global, a->global);
  }
}

void lw_requant_materialize(lw_lower *W, lw_requant *r, const char *base, int64_t zp) {
  r->zp = zp;
  r->short_form = short_form(r, zp, &r->zp_folded);
  r->round &= r->short_form;
  if (r->short_form && r->fixed) r->fixed_q = fixed_multipliers(W, r);
  r->use_add = r->short_form && r->round;
  r->uniform = true;
  for (int64_t i = 0; i < r->n; i++) {
    r->uniform &= r->q[i] == r->q[0] && r->shift[i] == r->shift[0] && !(r->short_form && is_fixed(r, i));
    r->use_add |= r->short_form && addend(r, i) != 0;
  }
  if (r->uniform) return;
  lw_fn *F = lw_fn_of(W);
  tm_ctx *ctx = W->ctx;
  const int32_t *q = r->q;
  if (r->short_form && r->fixed) {
    int32_t *qe = TM_NEW_ARRAY(tm_ctx_arena(ctx), int32_t, r->n);
    for (int64_t c = 0; c < r->n; c++) qe[c] = q_of(r, c);
    q = qe;
  }
  r->qg = lw_get_global(F, lw_global_i32(W->M, tm_arena_printf(ctx, "%s_multiplier", base), r->n, q, F->loc));
  if (!r->short_form) {
    r->sg = lw_get_global(F, lw_global_i32(W->M, tm_arena_printf(ctx, "%s_shift", base), r->n, r->shift, F->loc));
    return;
  }
  /* right shifts as bytes (0..31) */
  int8_t *rs = TM_NEW_ARRAY(tm_ctx_arena(ctx), int8_t, r->n);
  for (int64_t c = 0; c < r->n; c++) rs[c] = (int8_t)rshift_of(r, c);
  r->sg = lw_get_global(F, lw_global_i8(W->M, tm_arena_printf(ctx, "%s_rshift", base), r->n, rs, F->loc));
  /* the addends: a channel's depends on it only through its right shift, unless a fixed
   * channel has its result in its addend; so one table by shift (32 words, cut to the
   * shifts in use at the end), shared by every requantization to this zero point, read at
   * the shift just loaded (vww: 11 kB of addends by channel become 128 bytes, no
   * instruction more) */
  if (!r->fixed || r->fixed_q) {
    r->ag_by_shift = true;
    r->ag = lw_get_global(F, addends_by_shift(W, r));
    return;
  }
  int32_t *add = TM_NEW_ARRAY(tm_ctx_arena(ctx), int32_t, r->n);
  for (int64_t c = 0; c < r->n; c++) add[c] = addend(r, c);
  r->ag = lw_get_global(F, lw_global_i32(W->M, tm_arena_printf(ctx, "%s_addend", base), r->n, add, F->loc));
}

void lw_requant_params(lw_fn *F, const lw_requant *r, tm_value *ch, lw_rq_ch *p) {
  *p = (lw_rq_ch){0};
  if (r->wide) {
    const tm_type *i64 = lw_i64(F);
    p->q = r->uniform ? lw_ci64(F, r->q[0]) : lw_cast(F, "arith.extsi", lw_load(F, r->qg, 1, &ch), i64);
    p->s = r->uniform ? lw_ci64(F, r->shift[0]) : lw_cast(F, "arith.extsi", lw_load(F, r->sg, 1, &ch), i64);
    return;
  }
  p->q = r->uniform ? lw_ci32(F, r->q[0]) : lw_load(F, r->qg, 1, &ch);
  if (!r->short_form) {
    p->s = r->uniform ? lw_ci32(F, r->shift[0]) : lw_load(F, r->sg, 1, &ch);
    return;
  }
  p->s = r->uniform ? lw_ci32(F, (int32_t)rshift_of(r, 0)) : lw_int_to(F, lw_load(F, r->sg, 1, &ch), lw_i32(F));
  tm_value *ai = r->ag_by_shift ? lw_cast(F, "arith.index_cast", p->s, lw_index(F)) : ch;
  p->add = r->uniform ? lw_ci32(F, addend(r, 0)) : lw_load(F, r->ag, 1, &ai);
}

/* The short form (above): hi32(2 acc * q + 2^31), then, when `round`, the rounding shift
 * by s with the addend; else h + add (add NULL: h). */
static tm_value *emit_short(lw_fn *F, tm_value *acc, tm_value *q, tm_value *s, tm_value *add, bool round) {
  const tm_type *i64 = lw_i64(F), *i32 = lw_i32(F);
  tm_value *a2 = lw_cast(F, "arith.extsi", lw_shli(F, acc, lw_ci32(F, 1)), i64);
  tm_value *prod = lw_muli(F, a2, lw_cast(F, "arith.extsi", q, i64)), *h;
  if (F->mod->kernels == LW_KERNELS_SCALAR) {
    /* the rounding's carry is the low word's top bit: hi + (lo >> 31), unsigned (RV32:
     * MULH, MUL, SRLI, ADD; the +2^31 would take an ADD and an SLTU for the carry) */
    tm_value *lo = lw_cast(F, "arith.trunci", prod, i32);
    tm_value *carry = lw_shrui(F, lo, lw_ci32(F, 31)); /* one statement each: the IR's order */
    h = lw_addi(F, lw_cast(F, "arith.trunci", lw_shrsi(F, prod, lw_ci64(F, 32)), i32), carry);
  } else {
    h = lw_cast(F, "arith.trunci", lw_shrsi(F, lw_addi(F, prod, lw_ci64(F, INT64_C(1) << 31)), lw_ci64(F, 32)), i32);
  }
  if (round) {
    tm_value *t = lw_addi(F, h, add); /* one statement each: the IR's order is the compiler's */
    return lw_shrsi(F, lw_addi(F, t, lw_shrsi(F, acc, lw_ci32(F, 31))), s);
  }
  return add ? lw_addi(F, h, add) : h;
}

static tm_value *apply_short(lw_fn *F, const lw_requant *r, const lw_rq_ch *p, tm_value *acc) {
  return emit_short(F, acc, p->q, p->s, r->use_add ? p->add : NULL, r->round);
}

tm_value *lw_mbqm_bounded(lw_fn *F, tm_value *x, int64_t bound, int32_t q, int shift) {
  int32_t sh = shift;
  lw_requant r = {.n = 1, .q = &q, .shift = &sh, .bound = &bound};
  bool fold;
  if (!short_form(&r, 0, &fold)) return lw_mbqm(F, x, lw_ci32(F, q), lw_ci32(F, shift));
  return emit_short(F, x, lw_ci32(F, q), lw_ci32(F, -shift), shift < 0 ? lw_ci32(F, 1 << (-shift - 1)) : NULL, shift < 0);
}

tm_value *lw_requant_apply(lw_fn *F, const lw_requant *r, const lw_rq_ch *p, tm_value *acc, int32_t lo, int32_t hi,
                           const tm_type *to) {
  tm_value *v;
  if (r->wide) {
    /* (x * q16 + 2^(total_shift - 1)) >> total_shift, kept to 32 bits */
    tm_value *round = r->uniform ? lw_ci64(F, INT64_C(1) << (r->shift[0] - 1))
                                 : lw_shli(F, lw_ci64(F, 1), lw_subi(F, p->s, lw_ci64(F, 1)));
    v = lw_cast(F, "arith.trunci", lw_shrsi(F, lw_addi(F, lw_muli(F, acc, p->q), round), p->s), lw_i32(F));
  } else if (r->short_form) {
    v = apply_short(F, r, p, acc);
  } else {
    v = lw_mbqm(F, acc, p->q, p->s);
  }
  if (r->zp && !(r->short_form && r->zp_folded)) v = lw_addi(F, v, lw_ci32(F, (int32_t)r->zp));
  return lw_int_to(F, lw_clamp_i32(F, v, lo, hi), to);
}

tm_value *lw_requantize(lw_fn *F, const lw_requant *r, tm_value *ch, tm_value *acc, int32_t lo, int32_t hi,
                        const tm_type *to) {
  lw_rq_ch p;
  lw_requant_params(F, r, ch, &p);
  return lw_requant_apply(F, r, &p, acc, lo, hi, to);
}
