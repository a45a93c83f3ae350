/* passes/reorder_memory.c — reorder-for-memory: a topological order of each function's
 * ops that lowers the peak of live activation bytes, for plan-memory to exploit.
 *
 * Where the graph branches (residual blocks, parallel convolutions) several orders are
 * valid and their peaks differ: finishing one branch before starting the other frees its
 * intermediates early.  The pass models memory per op: an op's result bytes are live from
 * the op to its last consumer (to the end if returned), function arguments from the start
 * to their last consumer, constants cost nothing (they stay in flash).  The peak of an
 * order is the most bytes live while one op runs (its operands and results included).
 *
 * It schedules greedily twice — by least growth of live bytes after the op, and depth
 * first (the ready op consuming the latest result, then least growth) — and keeps the
 * order with the lowest peak, only if it beats the current one: otherwise nothing moves.
 * Dependencies are the operands (uses in nested regions count for the op holding them);
 * ops with side effects keep their relative order.  The terminator stays last. */
#include <inttypes.h>
#include <string.h>

#include "passes/passes.h"

typedef struct node {
  tm_op *op;
  int64_t bytes;     /* its activation results */
  int *preds, npreds; /* distinct producers in the block */
  int nusers;        /* distinct consumers in the block */
  bool pinned;       /* used by the terminator: live to the end */
} node;

typedef struct graph {
  tm_ctx *ctx;
  tm_block *body;
  node *nodes;
  int n;
  int64_t *arg_bytes; /* per block argument, 0 if unused */
  int *arg_users;
  int **succs, *nsuccs;
} graph;

/* The ops scheduled: all but the terminator. */
static int count_ops(tm_block *b) {
  int n = 0;
  TM_FOREACH_OP(op, b) n += !(op == b->last && tm_op_has_trait(op, TM_TRAIT_TERMINATOR));
  return n;
}

static int64_t value_bytes(const tm_value *v) {
  const tm_type *t = v->type;
  if ((t->kind != TM_TYPE_TENSOR && t->kind != TM_TYPE_MEMREF) || !tm_type_is_static(t)) return 0;
  int64_t b = tm_type_bytes(t);
  return b > 0 ? b : 0;
}

static int index_of(const graph *g, const tm_op *op) {
  while (op && op->block != g->body) op = tm_op_parent(op);
  for (int i = 0; op && i < g->n; i++)
    if (g->nodes[i].op == op) return i;
  return -1; /* the terminator or outside */
}

typedef struct dep_scan {
  graph *g;
  int self;
  int *preds, npreds, cap;
} dep_scan;

static void add_pred(dep_scan *s, int p) {
  for (int i = 0; i < s->npreds; i++)
    if (s->preds[i] == p) return;
  if (s->npreds == s->cap) {
    s->cap = s->cap ? 2 * s->cap : 8;
    int *grown = TM_NEW_ARRAY(tm_ctx_arena(s->g->ctx), int, s->cap);
    if (s->npreds) memcpy(grown, s->preds, sizeof *grown * (size_t)s->npreds);
    s->preds = grown;
  }
  s->preds[s->npreds++] = p;
}

static bool scan_operands(tm_op *op, void *user) {
  dep_scan *s = user;
  for (int i = 0; i < op->noperands; i++) {
    tm_value *v = op->operands[i].value;
    if (v->def) {
      int p = index_of(s->g, v->def);
      if (p >= 0 && p != s->self) add_pred(s, p);
    }
  }
  return true;
}

static bool arg_used_by(const tm_value *arg, const tm_op *op) {
  for (tm_use *u = arg->uses; u; u = u->next) {
    const tm_op *user = u->user;
    while (user && user != op) user = tm_op_parent(user);
    if (user) return true;
  }
  return false;
}

static int build(graph *g) {
  tm_arena *a = tm_ctx_arena(g->ctx);
  g->n = count_ops(g->body);
  g->nodes = TM_NEW_ARRAY(a, node, g->n + 1);
  int i = 0;
  TM_FOREACH_OP(op, g->body) if (i < g->n) g->nodes[i++].op = op;
  int last_effect = -1;
  for (i = 0; i < g->n; i++) {
    node *nd = &g->nodes[i];
    dep_scan s = {.g = g, .self = i};
    tm_op_walk(nd->op, scan_operands, &s);
    /* side effects in their original order */
    if (!tm_op_has_trait(nd->op, TM_TRAIT_PURE) || nd->op->nregions) {
      if (last_effect >= 0) add_pred(&s, last_effect);
      last_effect = i;
    }
    nd->preds = s.preds;
    nd->npreds = s.npreds;
    if (!tm_op_has_trait(nd->op, TM_TRAIT_CONSTANT))
      for (int r = 0; r < nd->op->nresults; r++) nd->bytes += value_bytes(&nd->op->results[r]);
    for (int r = 0; r < nd->op->nresults; r++) /* used by the terminator */
      for (tm_use *u = nd->op->results[r].uses; u; u = u->next)
        if (index_of(g, u->user) < 0) nd->pinned = true;
  }
  g->succs = TM_NEW_ARRAY(a, int *, g->n + 1);
  g->nsuccs = TM_NEW_ARRAY(a, int, g->n + 1);
  for (i = 0; i < g->n; i++)
    for (int k = 0; k < g->nodes[i].npreds; k++) g->nodes[g->nodes[i].preds[k]].nusers++;
  for (i = 0; i < g->n; i++) g->succs[i] = TM_NEW_ARRAY(a, int, g->nodes[i].nusers + 1);
  for (i = 0; i < g->n; i++)
    for (int k = 0; k < g->nodes[i].npreds; k++) {
      int p = g->nodes[i].preds[k];
      g->succs[p][g->nsuccs[p]++] = i;
    }
  g->arg_bytes = TM_NEW_ARRAY(a, int64_t, g->body->nargs + 1);
  g->arg_users = TM_NEW_ARRAY(a, int, g->body->nargs + 1);
  for (int k = 0; k < g->body->nargs; k++) {
    g->arg_bytes[k] = value_bytes(g->body->args[k]);
    for (i = 0; i < g->n; i++) g->arg_users[k] += arg_used_by(g->body->args[k], g->nodes[i].op);
  }
  return 0;
}

/* ------------------------------------------------------------------ simulation ---- */
typedef struct sim {
  const graph *g;
  int *left;       /* consumers not yet run, per node */
  int *arg_left;
  int64_t live, peak;
} sim;

static void sim_init(sim *s, const graph *g) {
  s->g = g;
  s->left = TM_NEW_ARRAY(tm_ctx_arena(g->ctx), int, g->n + 1);
  s->arg_left = TM_NEW_ARRAY(tm_ctx_arena(g->ctx), int, g->body->nargs + 1);
  s->live = s->peak = 0;
  for (int i = 0; i < g->n; i++) s->left[i] = g->nodes[i].nusers;
  for (int k = 0; k < g->body->nargs; k++) {
    s->arg_left[k] = g->arg_users[k];
    if (g->arg_users[k]) s->live += g->arg_bytes[k];
  }
  s->peak = s->live;
}

/* Bytes freed once op i runs: producers (and arguments) it consumes last, and its own
 * results if nothing uses them. */
static int64_t freed_by(const sim *s, int i) {
  const graph *g = s->g;
  const node *nd = &g->nodes[i];
  int64_t f = 0;
  for (int k = 0; k < nd->npreds; k++) {
    const node *p = &g->nodes[nd->preds[k]];
    if (s->left[nd->preds[k]] == 1 && !p->pinned) f += p->bytes;
  }
  for (int k = 0; k < g->body->nargs; k++)
    if (s->arg_left[k] == 1 && arg_used_by(g->body->args[k], nd->op)) f += g->arg_bytes[k];
  if (!nd->nusers && !nd->pinned) f += nd->bytes;
  return f;
}

static void sim_step(sim *s, int i) {
  const graph *g = s->g;
  const node *nd = &g->nodes[i];
  int64_t f = freed_by(s, i);
  s->live += nd->bytes;
  if (s->live > s->peak) s->peak = s->live;
  s->live -= f;
  for (int k = 0; k < nd->npreds; k++) s->left[nd->preds[k]]--;
  for (int k = 0; k < g->body->nargs; k++)
    if (s->arg_left[k] && arg_used_by(g->body->args[k], nd->op)) s->arg_left[k]--;
}

static int64_t peak_of(const graph *g, const int *order) {
  sim s;
  sim_init(&s, g);
  for (int t = 0; t < g->n; t++) sim_step(&s, order[t]);
  return s.peak;
}

/* ------------------------------------------------------------------ scheduling ---- */
typedef enum { LEAST_GROWTH, DEPTH_FIRST } rule;

static void schedule(const graph *g, rule how, int *order) {
  sim s;
  sim_init(&s, g);
  int *waiting = TM_NEW_ARRAY(tm_ctx_arena(g->ctx), int, g->n + 1);
  bool *done = TM_NEW_ARRAY(tm_ctx_arena(g->ctx), bool, g->n + 1);
  for (int i = 0; i < g->n; i++) waiting[i] = g->nodes[i].npreds;
  int last = -1;
  for (int t = 0; t < g->n; t++) {
    int best = -1;
    int64_t best_growth = 0;
    bool best_follows = false;
    for (int i = 0; i < g->n; i++) {
      if (done[i] || waiting[i]) continue;
      int64_t growth = g->nodes[i].bytes - freed_by(&s, i);
      bool follows = false;
      for (int k = 0; how == DEPTH_FIRST && last >= 0 && k < g->nodes[i].npreds; k++)
        follows |= g->nodes[i].preds[k] == last && g->nodes[last].bytes > 0;
      bool better = best < 0 || (follows && !best_follows) ||
                    (follows == best_follows && growth < best_growth); /* ties: the earlier op */
      if (better) best = i, best_growth = growth, best_follows = follows;
    }
    order[t] = best;
    done[best] = true;
    sim_step(&s, best);
    if (g->nodes[best].bytes > 0) last = best;
    for (int k = 0; k < g->nsuccs[best]; k++) waiting[g->succs[best][k]]--;
  }
}

static int reorder_func(tm_ctx *ctx, tm_op *func, bool verbose) {
  tm_block *body = tm_func_entry(func);
  if (!body || body->next) return 0; /* one block: a CFG keeps its order */
  graph gr = {.ctx = ctx, .body = body}, *g = &gr;
  if (build(g) || g->n < 2) return 0;
  int *current = TM_NEW_ARRAY(tm_ctx_arena(ctx), int, g->n + 1), *best = current;
  for (int i = 0; i < g->n; i++) current[i] = i;
  int64_t before = peak_of(g, current), best_peak = before;
  for (int how = LEAST_GROWTH; how <= DEPTH_FIRST; how++) {
    int *order = TM_NEW_ARRAY(tm_ctx_arena(ctx), int, g->n + 1);
    schedule(g, (rule)how, order);
    int64_t peak = peak_of(g, order);
    if (peak < best_peak) best = order, best_peak = peak;
  }
  if (verbose)
    tm_note(ctx, func->loc, "reorder-for-memory: estimated peak %" PRId64 " -> %" PRId64 " bytes (%s)", before, best_peak,
            best == current ? "order kept" : "reordered");
  if (best == current) return 0;
  tm_op *term = body->last && index_of(g, body->last) < 0 ? body->last : NULL;
  for (int t = 0; t < g->n; t++) { /* appending in the new order, before the terminator */
    tm_op *op = g->nodes[best[t]].op;
    tm_op_remove(op);
    if (term) tm_op_insert_before(term, op);
    else tm_block_append(body, op);
  }
  return 0;
}

static const tm_pass_option options[] = {
    {.name = "verbose", .kind = TM_OPT_BOOL, .default_value = "false",
     .help = "Note each function's estimated peak before and after"},
};

static int run(tm_ctx *ctx, tm_op *root, const tm_pass_options *opts) {
  bool verbose = tm_pass_opt_bool(opts, "verbose");
  if (tm_op_is(root, "func.func")) return reorder_func(ctx, root, verbose);
  TM_FOREACH_OP(op, tm_module_body(root))
    if (tm_op_is(op, "func.func") && reorder_func(ctx, op, verbose)) return -1;
  return 0;
}

TM_REGISTER_PASS(reorder_memory, "reorder-for-memory",
                 "Reorder ops (a topological order) to lower the peak of live activation bytes", run,
                 TM_PASS_OPTIONS(options));
