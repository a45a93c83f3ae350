/* passes/patch_based.c — patch-based execution (MCUNetV2) at the tm level.
 *
 * The first stage of a CNN (a chain of conv2d / depthwise_conv2d / pooling / unary
 * elementwise ops starting at a function argument) holds the largest activations.  This
 * pass computes the stage's last output in P x P spatial patches: for each patch it slices
 * the receptive field of the patch out of the input (tm.strided_slice), runs every op of
 * the chain on its window with padding = "valid", inserting an explicit tm.pad (which
 * fills with the zero point) only where a border patch reaches the image's padding, and
 * assembles the patches with tm.concat (along W per row of patches, then along H).  The
 * overlapping receptive fields are recomputed; the arithmetic of every output element is
 * unchanged, so the result is bit-exact.  Pools are only accepted where they need no
 * padding (their padded windows are clipped, not zero-filled).
 *
 * split = K takes the first K ops of the chain, patches = P makes P x P patches; 0 (the
 * default for both) searches K and P for the lowest activation peak (the print-cost
 * estimate: most bytes live at one op in program order; the function's arguments are
 * left out unless count-inputs, as plan-memory keeps them outside the arena) whose
 * recomputed MACs stay within max-recompute percent of the function's MACs; of equal
 * peaks the fewest MACs win. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "passes/passes.h"

/* The search stops at SEARCH_OPS ops per candidate (patches x patches x split): beyond,
 * the copies cost more than the memory saved, and the search stays fast. */
enum { MAX_CHAIN = 64, MAX_PATCHES = 16, SEARCH_OPS = 2048 };

typedef struct {
  tm_op *op;
  bool window;            /* conv / depthwise / pool; else pointwise */
  int64_t k[2], s[2], d[2], pb[2], in[2], out[2]; /* per spatial dim (H, W) */
} stage_op;

typedef struct {
  int n;
  stage_op ops[MAX_CHAIN];
} chain;

static void int_pair(const tm_op *op, const char *name, int64_t v[2]) {
  v[0] = v[1] = 1;
  int n = 0;
  const tm_attr *a = tm_op_attr(op, name);
  if (a) tm_attr_get_int_array(a, 2, v, &n);
}

static bool is_rank4_static(const tm_type *t) { return t && t->kind == TM_TYPE_TENSOR && t->rank == 4 && tm_type_is_static(t); }

/* TFLite's padding before the first element (as passes/lower_nn.c). */
static int64_t pad_before(int64_t s, int64_t d, int64_t in, int64_t k, int64_t out) {
  int64_t total = (out - 1) * s + (k - 1) * d + 1 - in;
  return total > 0 ? total / 2 : 0;
}

/* Fills *so for op if it can be part of a stage; false otherwise. */
static bool stage_op_of(tm_op *op, stage_op *so) {
  if (op->nresults != 1 || op->noperands < 1) return false;
  const tm_type *x = tm_op_operand(op, 0)->type, *y = op->results[0].type;
  if (!is_rank4_static(x) || !is_rank4_static(y) || x->dims[0] != y->dims[0]) return false;
  *so = (stage_op){.op = op};
  for (int i = 0; i < 2; i++) so->in[i] = x->dims[1 + i], so->out[i] = y->dims[1 + i];
  bool conv = tm_op_is(op, "tm.conv2d"), dw = tm_op_is(op, "tm.depthwise_conv2d");
  bool pool = tm_op_is(op, "tm.max_pool2d") || tm_op_is(op, "tm.avg_pool2d");
  if (conv || dw) {
    const tm_type *w = tm_op_operand(op, 1)->type;
    if (!is_rank4_static(w)) return false;
    so->k[0] = w->dims[1], so->k[1] = w->dims[2];
    int_pair(op, "dilation", so->d);
  } else if (pool) {
    int_pair(op, "filter", so->k);
    so->d[0] = so->d[1] = 1;
  } else if (tm_op_has_trait(op, TM_TRAIT_ELEMENTWISE) && op->noperands == 1) {
    for (int i = 0; i < 2; i++) so->k[i] = so->s[i] = so->d[i] = 1;
    return so->in[0] == so->out[0] && so->in[1] == so->out[1];
  } else {
    return false;
  }
  so->window = true;
  int_pair(op, "stride", so->s);
  bool same = !strcmp(tm_op_attr_str(op, "padding", "valid"), "same");
  for (int i = 0; i < 2; i++) {
    if (so->k[i] < 1 || so->s[i] < 1 || so->d[i] < 1) return false;
    so->pb[i] = same ? pad_before(so->s[i], so->d[i], so->in[i], so->k[i], so->out[i]) : 0;
    /* A pool's padded window is clipped, not zero-filled: accept only unpadded pools. */
    int64_t reach = (so->out[i] - 1) * so->s[i] - so->pb[i] + (so->k[i] - 1) * so->d[i] + 1;
    if (pool && (so->pb[i] > 0 || reach > so->in[i])) return false;
  }
  return true;
}

/* The chain of stage ops starting at the first non-constant op of body, which must read
 * a block argument; each link's result has its next link as only user. */
static void find_chain(tm_block *body, chain *c) {
  c->n = 0;
  tm_op *op = body->first;
  while (op && tm_op_has_trait(op, TM_TRAIT_CONSTANT)) op = op->next;
  if (!op || op->noperands < 1 || tm_op_operand(op, 0)->def) return;
  while (op && c->n < MAX_CHAIN && stage_op_of(op, &c->ops[c->n])) {
    c->n++;
    tm_value *r = tm_op_result(op, 0);
    if (!tm_value_has_one_use(r)) break;
    tm_op *next = r->uses->user;
    if (next->block != body || r->uses->index != 0) break;
    op = next;
  }
}

/* ---------------------------------------------------------------- transform ------ */
typedef struct {
  int64_t lo[2], hi[2];         /* window of the op's output */
  int64_t ilo[2], ihi[2];       /* window of its input actually read (clipped) */
  int64_t plo[2], phi[2];       /* explicit padding around the clipped input window */
} window;

/* Windows of ops 0..K-1 for the output window [lo, hi) of op K-1, back to front. */
static void windows_for(const chain *c, int K, const int64_t lo[2], const int64_t hi[2], window *w) {
  int64_t a[2] = {lo[0], lo[1]}, b[2] = {hi[0], hi[1]};
  for (int j = K - 1; j >= 0; j--) {
    const stage_op *so = &c->ops[j];
    for (int i = 0; i < 2; i++) {
      w[j].lo[i] = a[i], w[j].hi[i] = b[i];
      int64_t s = a[i] * so->s[i] - so->pb[i];
      int64_t e = (b[i] - 1) * so->s[i] - so->pb[i] + (so->k[i] - 1) * so->d[i] + 1;
      w[j].ilo[i] = s < 0 ? 0 : s, w[j].ihi[i] = e > so->in[i] ? so->in[i] : e;
      w[j].plo[i] = s < 0 ? -s : 0, w[j].phi[i] = e > so->in[i] ? e - so->in[i] : 0;
      a[i] = w[j].ilo[i], b[i] = w[j].ihi[i];
    }
  }
}

static const tm_type *with_hw(tm_ctx *ctx, const tm_type *t, int64_t h, int64_t w) {
  int64_t d[4] = {t->dims[0], h, w, t->dims[3]};
  return tm_type_tensor(ctx, t->elem, 4, d);
}

static tm_value *build1(tm_builder *b, const char *name, tm_value *x, const tm_type *rt, int nattrs,
                        const tm_named_attr *attrs) {
  tm_op_state st = {.name = name, .loc = b->loc, .noperands = 1, .operands = &x, .nresults = 1,
                    .result_types = &rt, .nattrs = nattrs, .attrs = attrs};
  return tm_op_result(tm_build(b, &st), 0);
}

/* One patch: slice, then per op optional pad + a clone with padding "valid". */
static tm_value *build_patch(tm_ctx *ctx, tm_builder *b, const chain *c, int K, const window *w) {
  tm_value *x = tm_op_operand(c->ops[0].op, 0);
  const tm_type *xt = x->type;
  if (w[0].ilo[0] > 0 || w[0].ilo[1] > 0 || w[0].ihi[0] < xt->dims[1] || w[0].ihi[1] < xt->dims[2]) {
    int64_t bg[4] = {0, w[0].ilo[0], w[0].ilo[1], 0}, en[4] = {xt->dims[0], w[0].ihi[0], w[0].ihi[1], xt->dims[3]};
    int64_t st[4] = {1, 1, 1, 1};
    tm_named_attr a[3] = {{"begin", tm_attr_int_array(ctx, 4, bg)}, {"end", tm_attr_int_array(ctx, 4, en)},
                          {"strides", tm_attr_int_array(ctx, 4, st)}};
    x = build1(b, "tm.strided_slice", x, with_hw(ctx, xt, w[0].ihi[0] - w[0].ilo[0], w[0].ihi[1] - w[0].ilo[1]), 3, a);
  }
  for (int j = 0; j < K; j++) {
    const window *wj = &w[j];
    if (wj->plo[0] || wj->phi[0] || wj->plo[1] || wj->phi[1]) {
      int64_t p[4][2] = {{0, 0}, {wj->plo[0], wj->phi[0]}, {wj->plo[1], wj->phi[1]}, {0, 0}};
      const tm_attr *pairs[4];
      for (int i = 0; i < 4; i++) pairs[i] = tm_attr_int_array(ctx, 2, p[i]);
      tm_named_attr a = {"paddings", tm_attr_array(ctx, 4, pairs)};
      int64_t h = wj->ihi[0] - wj->ilo[0] + wj->plo[0] + wj->phi[0];
      int64_t wd = wj->ihi[1] - wj->ilo[1] + wj->plo[1] + wj->phi[1];
      x = build1(b, "tm.pad", x, with_hw(ctx, x->type, h, wd), 1, &a);
    }
    tm_op *op = tm_op_clone(ctx, c->ops[j].op);
    tm_op_set_operand(op, 0, x);
    if (c->ops[j].window) tm_op_set_attr(ctx, op, "padding", tm_attr_cstr(ctx, "valid"));
    op->results[0].type = with_hw(ctx, op->results[0].type, wj->hi[0] - wj->lo[0], wj->hi[1] - wj->lo[1]);
    tm_op_insert_before(b->before, op);
    x = tm_op_result(op, 0);
  }
  return x;
}

static tm_value *concat(tm_ctx *ctx, tm_builder *b, int n, tm_value **parts, int axis) {
  if (n == 1) return parts[0];
  int64_t d[4];
  for (int i = 0; i < 4; i++) d[i] = parts[0]->type->dims[i];
  for (int p = 1; p < n; p++) d[axis] += parts[p]->type->dims[axis];
  const tm_type *rt = tm_type_tensor(ctx, parts[0]->type->elem, 4, d);
  tm_named_attr a = {"axis", tm_attr_int(ctx, NULL, axis)};
  tm_op_state st = {.name = "tm.concat", .loc = b->loc, .noperands = n, .operands = parts, .nresults = 1,
                    .result_types = &rt, .nattrs = 1, .attrs = &a};
  return tm_op_result(tm_build(b, &st), 0);
}

/* Replaces ops 0..K-1 of the chain by their P x P patch computation. */
static void patchify(tm_ctx *ctx, const chain *c, int K, int P) {
  tm_op *last = c->ops[K - 1].op;
  tm_builder b = tm_builder_before(ctx, last);
  b.loc = last->loc;
  const int64_t *out = c->ops[K - 1].out;
  window w[MAX_CHAIN];
  tm_value *rows[MAX_PATCHES], *cols[MAX_PATCHES];
  for (int ph = 0; ph < P; ph++) {
    for (int pw = 0; pw < P; pw++) {
      int64_t lo[2] = {ph * out[0] / P, pw * out[1] / P}, hi[2] = {(ph + 1) * out[0] / P, (pw + 1) * out[1] / P};
      windows_for(c, K, lo, hi, w);
      cols[pw] = build_patch(ctx, &b, c, K, w);
    }
    rows[ph] = concat(ctx, &b, P, cols, 2);
  }
  tm_value *all = concat(ctx, &b, P, rows, 1);
  tm_value_replace_all_uses(tm_op_result(last, 0), all);
  for (int j = K - 1; j >= 0; j--) tm_op_erase(c->ops[j].op);
}

/* ---------------------------------------------------------------- estimates ------ */
static bool is_view(const tm_op *op) { return tm_op_is(op, "tm.reshape") || tm_op_is(op, "tm.squeeze"); }

static int index_of(tm_op *const *order, int n, const tm_op *op) {
  for (int i = 0; i < n; i++)
    if (tm_op_is_ancestor(order[i], op)) return i;
  return -1;
}

static int last_use(const tm_value *v, tm_op *const *order, int n) {
  int last = -1;
  for (const tm_use *u = v->uses; u; u = u->next) {
    int i = is_view(u->user) ? last_use(&u->user->results[0], order, n) : index_of(order, n, u->user);
    if (i > last) last = i;
  }
  return last;
}

static int64_t value_bytes(const tm_value *v) {
  int64_t b = tm_type_is_shaped(v->type) ? tm_type_bytes(v->type) : 0;
  return b > 0 ? b : 0;
}

/* The activation peak of body in program order (as print-cost; the arguments only if
 * args) and its total MACs. */
static int64_t estimate(tm_ctx *ctx, tm_block *body, bool args, int64_t *macs) {
  int n = 0;
  TM_FOREACH_OP(op, body) n++;
  tm_op **order = TM_NEW_ARRAY(tm_ctx_arena(ctx), tm_op *, n ? n : 1);
  int64_t *live = TM_NEW_ARRAY(tm_ctx_arena(ctx), int64_t, n ? n : 1);
  n = 0;
  TM_FOREACH_OP(op, body) order[n++] = op;
  for (int a = 0; a < (args ? body->nargs : 0); a++) {
    int end = last_use(body->args[a], order, n);
    for (int i = 0; i <= end; i++) live[i] += value_bytes(body->args[a]);
  }
  *macs = 0;
  for (int i = 0; i < n; i++) {
    tm_op *op = order[i];
    if (tm_op_has_trait(op, TM_TRAIT_CONSTANT)) continue;
    for (int r = 0; r < op->nresults && !is_view(op); r++) {
      int end = last_use(&op->results[r], order, n);
      for (int j = i; j <= (end < i ? i : end); j++) live[j] += value_bytes(&op->results[r]);
    }
    tm_cost cost = {0};
    if (op->def && op->def->cost && op->def->cost(ctx, op, &cost)) *macs += cost.macs;
  }
  int64_t peak = 0;
  for (int i = 0; i < n; i++)
    if (live[i] > peak) peak = live[i];
  return peak;
}

/* Peak and MACs of func after patchify(K, P), measured on a copy. */
static int64_t try_split(tm_ctx *ctx, tm_op *func, int K, int P, bool args, int64_t *macs) {
  tm_op *copy = tm_op_clone(ctx, func);
  chain c;
  find_chain(tm_func_entry(copy), &c);
  patchify(ctx, &c, K, P);
  int64_t peak = estimate(ctx, tm_func_entry(copy), args, macs);
  tm_op_erase(copy);
  return peak;
}

/* ---------------------------------------------------------------------- pass ----- */
static int run_func(tm_ctx *ctx, tm_op *func, const tm_pass_options *opts) {
  tm_block *body = tm_func_entry(func);
  if (!body) return 0;
  int K = (int)tm_pass_opt_int(opts, "split"), P = (int)tm_pass_opt_int(opts, "patches");
  double budget = tm_pass_opt_float(opts, "max-recompute");
  bool args = tm_pass_opt_bool(opts, "count-inputs");
  chain c;
  find_chain(body, &c);
  if (K > c.n)
    return tm_op_error(ctx, func, "patch-based: split=%d but the first stage has only %d op%s", K, c.n,
                       c.n == 1 ? "" : "s");
  if (K > 0 && P > 0 && (P > c.ops[K - 1].out[0] || P > c.ops[K - 1].out[1]))
    return tm_op_error(ctx, func, "patch-based: %dx%d patches exceed the %" PRId64 "x%" PRId64 " output of the stage",
                       P, P, c.ops[K - 1].out[0], c.ops[K - 1].out[1]);
  if (c.n == 0) {
    if (tm_pass_opt_bool(opts, "report"))
      tm_emit(ctx, TM_DIAG_REMARK, func->loc, "patch-based: no first stage (conv/pool chain from an argument)");
    return 0;
  }
  int64_t macs0, peak0 = estimate(ctx, body, args, &macs0);
  int bestK = 0, bestP = 0;
  int64_t best_peak = peak0, best_macs = macs0;
  for (int k = K ? K : 1; k <= (K ? K : c.n); k++) {
    int64_t limit = c.ops[k - 1].out[0] < c.ops[k - 1].out[1] ? c.ops[k - 1].out[0] : c.ops[k - 1].out[1];
    if (limit > MAX_PATCHES) limit = MAX_PATCHES;
    for (int p = P ? P : 2; p <= (P ? P : limit); p++) {
      bool explicit_choice = K && P;
      if (!explicit_choice && p * p * k > SEARCH_OPS) break;
      int64_t m, peak = try_split(ctx, func, k, p, args, &m);
      if (!explicit_choice && (double)(m - macs0) > budget / 100.0 * (double)macs0) continue;
      if (explicit_choice || peak < best_peak || (peak == best_peak && bestK && m < best_macs))
        bestK = k, bestP = p, best_peak = peak, best_macs = m;
    }
  }
  if (!bestK) {
    if (tm_pass_opt_bool(opts, "report"))
      tm_emit(ctx, TM_DIAG_REMARK, func->loc, "patch-based: no split lowers the activation peak of %" PRId64 " bytes",
              peak0);
    return 0;
  }
  find_chain(body, &c);
  patchify(ctx, &c, bestK, bestP);
  if (tm_pass_opt_bool(opts, "report"))
    tm_emit(ctx, TM_DIAG_REMARK, func->loc,
            "patch-based: first %d op%s in %dx%d patches; activation peak %" PRId64 " -> %" PRId64
            " bytes; MACs %" PRId64 " -> %" PRId64 " (+%.2f%%)",
            bestK, bestK == 1 ? "" : "s", bestP, bestP, peak0, best_peak, macs0, best_macs,
            macs0 ? 100.0 * (double)(best_macs - macs0) / (double)macs0 : 0.0);
  return 0;
}

static int run(tm_ctx *ctx, tm_op *root, const tm_pass_options *opts) {
  if (tm_op_is(root, "func.func")) return run_func(ctx, root, opts);
  int rc = 0;
  for (tm_block *b = root->nregions ? root->regions[0].first : NULL; b; b = b->next)
    TM_FOREACH_OP(op, b)
      if (tm_op_is(op, "func.func") && run_func(ctx, op, opts)) rc = -1;
  return rc;
}

static const tm_pass_option options[] = {
    {"split", TM_OPT_INT, "0", "ops of the first stage computed in patches (0: search)", 0, MAX_CHAIN},
    {"patches", TM_OPT_INT, "0", "patches per spatial dimension, P x P in all (0: search)", 0, MAX_PATCHES},
    {"max-recompute", TM_OPT_FLOAT, "20", "search: extra MACs allowed, in percent of the function's MACs", 0, 0},
    {"count-inputs", TM_OPT_BOOL, "false",
     "search: count the function's arguments in the peak (when the caller's buffers are in the arena)", 0, 0},
    {"report", TM_OPT_BOOL, "false", "remark with the chosen split, the activation peak and the extra MACs", 0, 0},
};

TM_REGISTER_PASS(patch_based, "patch-based",
                 "Compute the first stage of a CNN in spatial patches (MCUNetV2) to lower the activation peak", run,
                 TM_PASS_OPTIONS(options));
