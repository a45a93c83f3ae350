/* passes/low_rank.c — low-rank factorization of fully_connected and conv2d weights.
 *
 * fully_connected [O, I] and 1x1 conv2d [O, 1, 1, I] weights W are factorized by
 * truncated SVD, W ≈ U_r · (S_r V_r^T): a first layer with weights S_r V_r^T [r, I] and
 * no bias, then a second with U_r [O, r], the original bias and fused activation.
 * k×k conv2d [O, KH, KW, C] is factorized by Tucker-2 on the channel dimensions (a
 * truncated HOSVD: the leading left singular vectors of the output- and input-channel
 * unfoldings): a 1x1 conv C -> r_in, the k×k conv r_in -> r_out with the original
 * padding, stride and dilation, a 1x1 conv r_out -> O with the bias and activation.
 * Padding commutes with the first 1x1 conv because it has no bias (zeros stay zeros).
 *
 * Ranks come from an energy threshold (the smallest r whose singular values hold that
 * fraction of the squared energy), a fixed rank, or a parameter / MAC budget, per layer or
 * for all layers together (global: one energy threshold, the largest that fits).
 * A layer is factorized only when that saves parameters.  Float (f32) graphs only: the
 * pass runs before quantize, and rejects quantized weights.  Numerics are in double;
 * the SVDs are LAPACK's dgesdd. */
#include <inttypes.h>
#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "passes/passes.h"

typedef enum { BY_ENERGY, BY_RANK, BY_PARAMS, BY_MACS } rank_rule;

typedef struct lr_state {
  tm_ctx *ctx;
  tm_arena *tmp; /* SVD workspaces, freed when the pass ends */
  rank_rule rule;
  double energy, budget;
  int64_t rank;
  const char *ops;
  bool kxk, report, global;
  int64_t params[2], macs[2]; /* report totals: before, after */
} lr_state;

/* One factorizable layer: weights as doubles, O x (KH*KW*C) row-major (OHWI). */
typedef struct layer {
  tm_op *op;
  bool tucker;
  int64_t O, KH, KW, C;
  int64_t in_pixels, out_pixels; /* MACs: input and output positions (FC: the batch) */
  double *w;
  int k_out, k_in;                 /* number of singular values of each unfolding */
  double *s_out, *u_out, *vt_out;  /* W as O x KH*KW*C: S, U [O x k_out], V^T [k_out x KH*KW*C] */
  double *s_in, *u_in;             /* Tucker: the C x O*KH*KW unfolding's S and U [C x k_in] */
  double *e_out, *e_in;            /* energy fractions of the first r singular values, r = 0..k */
} layer;

/* ------------------------------------------------------------------ linear algebra -- */
/* Thin SVD of the row-major m x n matrix a (destroyed): s[k], u [m x k], vt [k x n],
 * k = min(m, n); vt may be NULL when only U is wanted. */
static int svd(lr_state *s, const tm_op *op, double *a, int64_t m, int64_t n, double *sv, double *u, double *vt) {
  int64_t k = m < n ? m : n;
  double *vtbuf = vt ? vt : TM_NEW_ARRAY(s->tmp, double, k * n);
  lapack_int info = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'S', (lapack_int)m, (lapack_int)n, a, (lapack_int)n, sv, u,
                                   (lapack_int)k, vtbuf, (lapack_int)n);
  if (info) return tm_op_error(s->ctx, op, "low-rank: the SVD of the %" PRId64 "x%" PRId64 " weights failed (LAPACK dgesdd info %d)", m, n, (int)info);
  return 0;
}

/* Singular vectors are defined up to sign; make each column of u (rows x k, row-major)
 * have a positive largest entry, flipping the matching row of vt (n wide, may be NULL),
 * so that the output does not depend on the LAPACK implementation. */
static void fix_signs(double *u, int64_t rows, int k, double *vt, int64_t n) {
  for (int i = 0; i < k; i++) {
    int64_t big = 0;
    for (int64_t r = 1; r < rows; r++)
      if (fabs(u[r * k + i]) > fabs(u[big * k + i])) big = r;
    if (u[big * k + i] >= 0) continue;
    for (int64_t r = 0; r < rows; r++) u[r * k + i] = -u[r * k + i];
    for (int64_t j = 0; vt && j < n; j++) vt[i * n + j] = -vt[i * n + j];
  }
}

/* cum[r] = fraction of the squared energy held by the first r of k singular values. */
static double *energy_fractions(lr_state *s, const double *sv, int k) {
  double *cum = TM_NEW_ARRAY(s->tmp, double, k + 1), total = 0;
  for (int i = 0; i < k; i++) cum[i + 1] = total += sv[i] * sv[i];
  for (int i = 0; i <= k; i++) cum[i] = total > 0 ? cum[i] / total : 1;
  return cum;
}

/* The smallest rank holding fraction e; e = 1 keeps the numerical rank (what remains is
 * below double rounding). */
static int energy_rank(const double *cum, int k, double e) {
  int r = 1;
  while (r < k && cum[r] < e) r++;
  return r;
}

/* ------------------------------------------------------------------- cost model ----- */
static int64_t params_of(const layer *l, int64_t r_out, int64_t r_in) {
  if (!l->tucker) return r_out * (l->O + l->C);
  return l->C * r_in + l->KH * l->KW * r_in * r_out + r_out * l->O;
}

/* The first 1x1 conv of Tucker-2 runs at the input resolution, the rest at the output's. */
static int64_t macs_of(const layer *l, int64_t r_out, int64_t r_in) {
  if (!l->tucker) return l->out_pixels * r_out * (l->O + l->C);
  return l->in_pixels * l->C * r_in + l->out_pixels * (l->KH * l->KW * r_in * r_out + r_out * l->O);
}

static int64_t orig_params(const layer *l) { return l->O * l->KH * l->KW * l->C; }
static int64_t orig_macs(const layer *l) { return l->out_pixels * orig_params(l); }

/* The ranks the rule gives (r_in unused for SVD layers).  Under a budget, the pair
 * within it whose unfoldings keep the most energy (product of the two fractions). */
static bool choose_ranks(const lr_state *s, const layer *l, int *r_out, int *r_in) {
  *r_in = 0;
  switch (s->rule) {
  case BY_ENERGY:
    *r_out = energy_rank(l->e_out, l->k_out, s->energy);
    if (l->tucker) *r_in = energy_rank(l->e_in, l->k_in, s->energy);
    return true;
  case BY_RANK:
    *r_out = (int)(s->rank < l->k_out ? s->rank : l->k_out);
    if (l->tucker) *r_in = (int)(s->rank < l->k_in ? s->rank : l->k_in);
    return true;
  case BY_PARAMS:
  case BY_MACS: {
    double best = -1;
    for (int ro = 1; ro <= l->k_out; ro++)
      for (int ri = l->tucker ? 1 : 0; ri <= (l->tucker ? l->k_in : 0); ri++) {
        bool fits = s->rule == BY_PARAMS ? params_of(l, ro, ri) <= s->budget * (double)orig_params(l)
                                         : macs_of(l, ro, ri) <= s->budget * (double)orig_macs(l);
        double e = l->e_out[ro] * (l->tucker ? l->e_in[ri] : 1);
        if (fits && e > best) best = e, *r_out = ro, *r_in = ri;
      }
    return best >= 0;
  }
  }
  return false;
}

/* ------------------------------------------------------------------ factorization -- */
static tm_value *const_f32(lr_state *s, tm_builder *b, int rank, const int64_t *dims, const double *v) {
  const tm_type *t = tm_type_tensor(s->ctx, tm_type_float(s->ctx, 32), rank, dims);
  int64_t n = tm_type_numel(t);
  float *f = TM_NEW_ARRAY(s->tmp, float, n);
  for (int64_t i = 0; i < n; i++) f[i] = (float)v[i];
  return tm_op_result(tm_build_const(b, tm_attr_dense(s->ctx, t, false, f, (size_t)n * sizeof(float)), t), 0);
}

/* `type` with its last dimension replaced by c. */
static const tm_type *with_channels(lr_state *s, const tm_type *type, int64_t c) {
  int64_t dims[8];
  for (int d = 0; d < type->rank; d++) dims[d] = type->dims[d];
  dims[type->rank - 1] = c;
  return tm_type_tensor(s->ctx, type->elem, type->rank, dims);
}

/* A copy of `like` (same name and attributes) on new operands; `plain` makes it a 1x1
 * stage without padding, stride and dilation; `act` keeps the fused activation. */
static tm_value *build_layer(lr_state *s, tm_builder *b, const tm_op *like, tm_value *x, tm_value *w, tm_value *bias,
                             const tm_type *rt, bool plain, bool act) {
  tm_value *ops[3] = {x, w, bias};
  tm_op_state st = {.name = like->name, .loc = like->loc, .noperands = bias ? 3 : 2, .operands = ops,
                    .nresults = 1, .result_types = &rt};
  b->loc = like->loc;
  tm_op *op = tm_build(b, &st);
  for (int i = 0; i < like->nattrs; i++) {
    const char *n = like->attrs[i].name;
    if ((!act && !strcmp(n, "fused_activation")) || (plain && (!strcmp(n, "stride") || !strcmp(n, "dilation"))))
      continue;
    tm_op_set_attr(s->ctx, op, n, plain && !strcmp(n, "padding") ? tm_attr_cstr(s->ctx, "valid") : like->attrs[i].value);
  }
  return tm_op_result(op, 0);
}

/* Relative Frobenius error of the Tucker-2 reconstruction W' = U_out G U_in^T. */
static double tucker_error(lr_state *s, const layer *l, const double *core, int r_out, int r_in) {
  int64_t K = l->KH * l->KW;
  double *g = TM_NEW_ARRAY(s->tmp, double, r_in); /* (U_out G)[o, k, :] */
  double err = 0, norm = 0;
  for (int64_t o = 0; o < l->O; o++)
    for (int64_t k = 0; k < K; k++) {
      for (int ri = 0; ri < r_in; ri++) {
        g[ri] = 0;
        for (int ro = 0; ro < r_out; ro++) g[ri] += l->u_out[o * l->k_out + ro] * core[((int64_t)ro * K + k) * r_in + ri];
      }
      for (int64_t c = 0; c < l->C; c++) {
        double x = 0, w = l->w[(o * K + k) * l->C + c];
        for (int ri = 0; ri < r_in; ri++) x += g[ri] * l->u_in[c * l->k_in + ri];
        err += (w - x) * (w - x), norm += w * w;
      }
    }
  return norm > 0 ? sqrt(err / norm) : 0;
}

/* Replaces l->op by its factorization; returns the relative reconstruction error. */
static double factorize(lr_state *s, layer *l, int r_out, int r_in) {
  tm_op *op = l->op;
  tm_builder b = tm_builder_before(s->ctx, op);
  tm_value *x = tm_op_operand(op, 0), *bias = op->noperands > 2 ? tm_op_operand(op, 2) : NULL;
  const tm_type *rt = op->results[0].type;
  bool conv = tm_op_is(op, "tm.conv2d");
  int64_t K = l->KH * l->KW, n = K * l->C;
  double err;
  tm_value *y;
  if (!l->tucker) {
    /* First: S_r V_r^T [r, C]; second: U_r [O, r]. */
    double *a = TM_NEW_ARRAY(s->tmp, double, (int64_t)r_out * n), *u = TM_NEW_ARRAY(s->tmp, double, l->O * r_out);
    for (int64_t i = 0; i < r_out; i++)
      for (int64_t j = 0; j < n; j++) a[i * n + j] = l->s_out[i] * l->vt_out[i * n + j];
    for (int64_t o = 0; o < l->O; o++)
      for (int64_t i = 0; i < r_out; i++) u[o * r_out + i] = l->u_out[o * l->k_out + i];
    int64_t d1[4] = {r_out, 1, 1, l->C}, d2[4] = {l->O, 1, 1, r_out}, f1[2] = {r_out, l->C}, f2[2] = {l->O, r_out};
    tm_value *w1 = const_f32(s, &b, conv ? 4 : 2, conv ? d1 : f1, a);
    tm_value *w2 = const_f32(s, &b, conv ? 4 : 2, conv ? d2 : f2, u);
    tm_value *h = build_layer(s, &b, op, x, w1, NULL, with_channels(s, rt, r_out), false, false);
    y = build_layer(s, &b, op, h, w2, bias, rt, conv, true);
    err = sqrt(fmax(0, 1 - l->e_out[r_out]));
  } else {
    /* core[ro, k, ri] = sum_{o,c} U_out[o, ro] W[o, k, c] U_in[c, ri] */
    double *wc = TM_NEW_ARRAY(s->tmp, double, l->O * K * r_in);
    for (int64_t o = 0; o < l->O; o++)
      for (int64_t k = 0; k < K; k++)
        for (int ri = 0; ri < r_in; ri++) {
          double acc = 0;
          for (int64_t c = 0; c < l->C; c++) acc += l->w[(o * K + k) * l->C + c] * l->u_in[c * l->k_in + ri];
          wc[(o * K + k) * r_in + ri] = acc;
        }
    double *core = TM_NEW_ARRAY(s->tmp, double, (int64_t)r_out * K * r_in);
    for (int ro = 0; ro < r_out; ro++)
      for (int64_t o = 0; o < l->O; o++) {
        double u = l->u_out[o * l->k_out + ro];
        for (int64_t j = 0; j < K * r_in; j++) core[ro * K * r_in + j] += u * wc[o * K * r_in + j];
      }
    double *f1 = TM_NEW_ARRAY(s->tmp, double, (int64_t)r_in * l->C), *f3 = TM_NEW_ARRAY(s->tmp, double, l->O * r_out);
    for (int ri = 0; ri < r_in; ri++)
      for (int64_t c = 0; c < l->C; c++) f1[ri * l->C + c] = l->u_in[c * l->k_in + ri];
    for (int64_t o = 0; o < l->O; o++)
      for (int ro = 0; ro < r_out; ro++) f3[o * r_out + ro] = l->u_out[o * l->k_out + ro];
    int64_t d1[4] = {r_in, 1, 1, l->C}, d2[4] = {r_out, l->KH, l->KW, r_in}, d3[4] = {l->O, 1, 1, r_out};
    tm_value *w1 = const_f32(s, &b, 4, d1, f1), *w2 = const_f32(s, &b, 4, d2, core), *w3 = const_f32(s, &b, 4, d3, f3);
    tm_value *h1 = build_layer(s, &b, op, x, w1, NULL, with_channels(s, x->type, r_in), true, false);
    tm_value *h2 = build_layer(s, &b, op, h1, w2, NULL, with_channels(s, rt, r_out), false, false);
    y = build_layer(s, &b, op, h2, w3, bias, rt, true, true);
    err = tucker_error(s, l, core, r_out, r_in);
  }
  tm_value *wv = tm_op_operand(op, 1);
  tm_op_replace(op, &y);
  if (wv->def && !tm_value_has_uses(wv)) tm_op_erase(wv->def);
  return err;
}

/* ---------------------------------------------------------------------- layers ----- */
static bool listed(const char *list, const char *name) {
  size_t n = strlen(name);
  for (const char *p = list; *p;) {
    const char *e = strchr(p, ',');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    if (len == n && !strncmp(p, name, n)) return true;
    p = e ? e + 1 : p + len;
  }
  return false;
}

/* Fills l for op; returns 1 if it is a layer to consider, 0 to leave it, -1 on error. */
static int describe(lr_state *s, tm_op *op, layer *l) {
  bool fc = tm_op_is(op, "tm.fully_connected"), conv = tm_op_is(op, "tm.conv2d");
  if (!(fc || conv) || !listed(s->ops, op->name) || op->noperands < 2 || op->nresults != 1) return 0;
  tm_value *x = tm_op_operand(op, 0), *w = tm_op_operand(op, 1);
  const tm_attr *wa = tm_value_const(w);
  const tm_type *we = tm_type_elem(w->type);
  if (we->kind == TM_TYPE_QUANT || tm_type_elem(x->type)->kind == TM_TYPE_QUANT)
    return tm_op_error(s->ctx, op, "low-rank: quantized '%s'; low-rank factorizes float graphs: run it before quantize", op->name);
  if (we->kind != TM_TYPE_FLOAT || we->width != 32)
    return tm_op_error(s->ctx, op, "low-rank: '%s' weights must be f32, got %s", op->name, tm_type_str(s->ctx, we));
  /* Weights computed at run time, or shapes not known: nothing to factorize. */
  const tm_type *rt = op->results[0].type;
  if (!wa || !tm_type_is_static(w->type) || !tm_type_is_static(x->type) || !tm_type_is_static(rt) ||
      w->type->rank != (fc ? 2 : 4) || rt->rank < 1 || rt->rank > 8 || x->type->rank > 8)
    return 0;
  *l = (layer){.op = op, .O = w->type->dims[0], .KH = 1, .KW = 1, .C = w->type->dims[w->type->rank - 1]};
  if (conv) l->KH = w->type->dims[1], l->KW = w->type->dims[2];
  l->tucker = l->KH * l->KW > 1;
  if (l->tucker && !s->kxk) return 0;
  int64_t K = l->KH * l->KW, n = K * l->C;
  /* Bounds that keep the cost arithmetic in int64 (and LAPACK in 32-bit dimensions);
   * beyond them a layer is far too big for a microcontroller anyway. */
  int64_t wn = tm_type_numel(w->type), xn = tm_type_numel(x->type), rn = tm_type_numel(rt);
  if (wn < 1 || wn > (1 << 24) || xn < 1 || xn > INT32_MAX || rn < 1 || rn > INT32_MAX || l->O < 1 || l->C < 1) return 0;
  l->out_pixels = rn / l->O;
  l->in_pixels = xn / l->C;
  l->w = TM_NEW_ARRAY(s->tmp, double, l->O * n);
  for (int64_t i = 0; i < l->O * n; i++)
    if (!isfinite(l->w[i] = tm_dense_get_float(wa, i)))
      return tm_op_error(s->ctx, op, "low-rank: '%s' weights hold a non-finite value at %" PRId64, op->name, i);
  l->k_out = (int)(l->O < n ? l->O : n);
  l->s_out = TM_NEW_ARRAY(s->tmp, double, l->k_out);
  l->u_out = TM_NEW_ARRAY(s->tmp, double, l->O * l->k_out);
  l->vt_out = TM_NEW_ARRAY(s->tmp, double, (int64_t)l->k_out * n);
  double *a = TM_NEW_ARRAY(s->tmp, double, l->O * n);
  memcpy(a, l->w, sizeof(double) * (size_t)(l->O * n));
  if (svd(s, op, a, l->O, n, l->s_out, l->u_out, l->vt_out)) return -1;
  fix_signs(l->u_out, l->O, l->k_out, l->vt_out, n);
  l->e_out = energy_fractions(s, l->s_out, l->k_out);
  if (l->tucker) {
    /* The input-channel unfolding: M[c, (o, k)] = W[o, k, c]. */
    int64_t m = l->O * K;
    l->k_in = (int)(l->C < m ? l->C : m);
    l->s_in = TM_NEW_ARRAY(s->tmp, double, l->k_in);
    l->u_in = TM_NEW_ARRAY(s->tmp, double, l->C * l->k_in);
    for (int64_t c = 0; c < l->C; c++)
      for (int64_t j = 0; j < m; j++) a[c * m + j] = l->w[j * l->C + c];
    if (svd(s, op, a, l->C, m, l->s_in, l->u_in, NULL)) return -1;
    fix_signs(l->u_in, l->C, l->k_in, NULL, 0);
    l->e_in = energy_fractions(s, l->s_in, l->k_in);
  }
  return 1;
}

static const char *shape_str(lr_state *s, const layer *l) {
  if (tm_op_is(l->op, "tm.fully_connected")) return tm_arena_printf(s->ctx, "%" PRId64 "x%" PRId64, l->O, l->C);
  return tm_arena_printf(s->ctx, "%" PRId64 "x%" PRId64 "x%" PRId64 "x%" PRId64, l->O, l->KH, l->KW, l->C);
}

/* Weights (macs: MACs) of the layers with ranks from energy threshold e; layers that
 * would not save weights keep theirs. */
static double total_at(const layer *ls, int n, double e, bool macs) {
  double t = 0;
  for (int i = 0; i < n; i++) {
    const layer *l = &ls[i];
    int ro = energy_rank(l->e_out, l->k_out, e), ri = l->tucker ? energy_rank(l->e_in, l->k_in, e) : 0;
    bool saves = params_of(l, ro, ri) < orig_params(l);
    t += (double)(macs ? (saves ? macs_of(l, ro, ri) : orig_macs(l)) : (saves ? params_of(l, ro, ri) : orig_params(l)));
  }
  return t;
}

/* global=true: the largest energy threshold, common to all layers, whose total weights
 * (or MACs) fit the budget; bisection, as the totals grow with the threshold. */
static int global_energy(lr_state *s, tm_op *func, const layer *ls, int n, double *energy) {
  bool macs = s->rule == BY_MACS;
  double orig = 0;
  for (int i = 0; i < n; i++) orig += (double)(macs ? orig_macs(&ls[i]) : orig_params(&ls[i]));
  double limit = s->budget * orig;
  if (total_at(ls, n, 0, macs) > limit)
    return tm_op_error(s->ctx, func, "low-rank: no energy threshold meets %s=%g: rank 1 everywhere keeps %.1f%% of the %s",
                       macs ? "mac-budget" : "param-budget", s->budget, 100 * total_at(ls, n, 0, macs) / orig,
                       macs ? "MACs" : "weights");
  double lo = 0, hi = 1;
  if (total_at(ls, n, 1, macs) <= limit) lo = 1;
  for (int it = 0; it < 60 && lo < 1; it++) {
    double mid = (lo + hi) / 2;
    if (total_at(ls, n, mid, macs) <= limit) lo = mid;
    else hi = mid;
  }
  *energy = lo;
  return 0;
}

static int low_rank_func(lr_state *s, tm_op *func) {
  tm_block *body = tm_func_entry(func);
  if (!body) return 0;
  int nops = 0, n = 0;
  TM_FOREACH_OP(op, body) nops++;
  layer *ls = TM_NEW_ARRAY(s->tmp, layer, nops + 1);
  int *index = TM_NEW_ARRAY(s->tmp, int, nops + 1);
  int i = 0;
  TM_FOREACH_OP(op, body) {
    int st = describe(s, op, &ls[n]);
    if (st < 0) return -1;
    if (st) index[n++] = i;
    i++;
  }
  lr_state fs = *s; /* this function's rule: a global budget becomes an energy threshold */
  if (s->global && (s->rule == BY_PARAMS || s->rule == BY_MACS) && n) {
    if (global_energy(s, func, ls, n, &fs.energy)) return -1;
    fs.rule = BY_ENERGY;
  }
  if (s->report) {
    fprintf(stderr, "low-rank report for \"%s\"", tm_op_attr_str(func, "sym_name", "?"));
    if (fs.rule != s->rule) fprintf(stderr, " (global %s: energy threshold %.6f)", s->rule == BY_MACS ? "mac-budget" : "param-budget", fs.energy);
    fprintf(stderr, "\n  %-4s %-20s %-14s %-8s %-22s %-26s %s\n", "op", "name", "weights", "rank", "params", "MACs", "rel. error");
  }
  for (int j = 0; j < n; j++) {
    layer *l = &ls[j];
    int r_out = 0, r_in = 0;
    bool ok = choose_ranks(&fs, l, &r_out, &r_in);
    int64_t p0 = orig_params(l), m0 = orig_macs(l);
    int64_t p1 = ok ? params_of(l, r_out, r_in) : p0, m1 = ok ? macs_of(l, r_out, r_in) : m0;
    bool saves = ok && p1 < p0;
    const char *name = l->op->name, *shape = shape_str(s, l);
    double err = saves ? factorize(s, l, r_out, r_in) : 0;
    if (!saves) p1 = p0, m1 = m0;
    s->params[0] += p0, s->params[1] += p1, s->macs[0] += m0, s->macs[1] += m1;
    if (!s->report) continue;
    const char *rank = !ok ? "-" : l->tucker ? tm_arena_printf(s->ctx, "%d,%d", r_out, r_in) : tm_arena_printf(s->ctx, "%d", r_out);
    fprintf(stderr, "  %-4d %-20s %-14s %-8s %-22s %-26s ", index[j], name, shape, rank,
            tm_arena_printf(s->ctx, "%" PRId64 " -> %" PRId64, p0, p1), tm_arena_printf(s->ctx, "%" PRId64 " -> %" PRId64, m0, m1));
    if (saves) fprintf(stderr, "%.4g\n", err);
    else fprintf(stderr, "kept (%s)\n", ok ? "no parameter saving" : "no rank fits the budget");
  }
  return 0;
}

static int run(tm_ctx *ctx, tm_op *root, const tm_pass_options *opts) {
  lr_state s = {.ctx = ctx, .ops = tm_pass_opt_str(opts, "ops"), .kxk = tm_pass_opt_bool(opts, "kxk"),
                .report = tm_pass_opt_bool(opts, "report"), .global = tm_pass_opt_bool(opts, "global")};
  double energy = tm_pass_opt_float(opts, "energy"), pb = tm_pass_opt_float(opts, "param-budget"),
         mb = tm_pass_opt_float(opts, "mac-budget");
  int64_t rank = tm_pass_opt_int(opts, "rank");
  int nrules = (energy != 0) + (rank != 0) + (pb != 0) + (mb != 0);
  if (nrules > 1) return tm_op_error(ctx, root, "low-rank: give one of energy, rank, param-budget and mac-budget");
  if (energy != 0 && !(energy > 0 && energy <= 1))
    return tm_op_error(ctx, root, "low-rank: energy must be in (0, 1], got %g", energy);
  if ((pb != 0 && !(pb > 0 && pb < 1)) || (mb != 0 && !(mb > 0 && mb < 1)))
    return tm_op_error(ctx, root, "low-rank: a budget must be a fraction in (0, 1), got %g", pb != 0 ? pb : mb);
  if (s.global && pb == 0 && mb == 0) return tm_op_error(ctx, root, "low-rank: global needs param-budget or mac-budget");
  for (const char *p = s.ops; *p;) {
    const char *e = strchr(p, ',');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    if (!((len == 18 && !strncmp(p, "tm.fully_connected", len)) || (len == 9 && !strncmp(p, "tm.conv2d", len))))
      return tm_op_error(ctx, root, "low-rank: cannot factorize '%.*s' (ops: tm.fully_connected, tm.conv2d)", (int)len, p);
    p = e ? e + 1 : p + len;
  }
  s.rule = rank ? BY_RANK : pb != 0 ? BY_PARAMS : mb != 0 ? BY_MACS : BY_ENERGY;
  s.energy = energy != 0 ? energy : 0.99;
  s.rank = rank;
  s.budget = pb != 0 ? pb : mb;
  s.tmp = tm_arena_new();
  int status = 0;
  if (tm_op_is(root, "func.func")) {
    status = low_rank_func(&s, root);
  } else if (tm_op_is(root, "builtin.module")) {
    TM_FOREACH_OP(op, tm_module_body(root))
      if (!status && tm_op_is(op, "func.func")) status = low_rank_func(&s, op);
  }
  if (!status && s.report && s.params[0])
    fprintf(stderr, "  total: params %" PRId64 " -> %" PRId64 " (%.1f%%), MACs %" PRId64 " -> %" PRId64 " (%.1f%%)\n",
            s.params[0], s.params[1], 100.0 * (double)s.params[1] / (double)s.params[0], s.macs[0], s.macs[1],
            100.0 * (double)s.macs[1] / (double)(s.macs[0] ? s.macs[0] : 1));
  tm_arena_free(s.tmp);
  return status;
}

static const tm_pass_option options[] = {
    {"energy", TM_OPT_FLOAT, NULL, "keep the smallest rank whose singular values hold this fraction of the squared "
                                   "energy (the default rule, 0.99)", 0, 0},
    {"rank", TM_OPT_INT, NULL, "a fixed rank (clamped to each layer's full rank)", 0, 1 << 20},
    {"param-budget", TM_OPT_FLOAT, NULL, "per layer: the most energy within this fraction of its weights", 0, 0},
    {"mac-budget", TM_OPT_FLOAT, NULL, "per layer: the most energy within this fraction of its MACs", 0, 0},
    {"global", TM_OPT_BOOL, "false", "param-budget / mac-budget: a budget for all layers together, met by the "
                                     "largest energy threshold common to all", 0, 0},
    {"ops", TM_OPT_STRING, "tm.fully_connected,tm.conv2d", "ops to factorize, comma-separated", 0, 0},
    {"kxk", TM_OPT_BOOL, "true", "also factorize k x k conv2d (Tucker-2); false: only fully_connected and 1x1", 0, 0},
    {"report", TM_OPT_BOOL, "false", "print per-layer ranks, parameters, MACs and reconstruction errors to stderr", 0, 0},
};

TM_REGISTER_PASS(low_rank, "low-rank", "Factorize fully_connected and conv2d weights into low-rank layer pairs (SVD, Tucker-2)",
                 run, TM_PASS_OPTIONS(options));
