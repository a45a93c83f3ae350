/* passes/greedy.c — the greedy pattern-rewrite driver (MLIR's
 * applyPatternsAndFoldGreedily): a worklist of ops, each erased if trivially dead,
 * folded, or rewritten by the best matching pattern, until nothing changes.
 *
 * The rewriter's listener keeps the worklist honest: created and modified ops, users of
 * changed values and defining ops of freed operands are (re)queued, erased ops leave
 * the queue.  Erased ops stay allocated (arena), so a stale pointer is never freed
 * memory; still, every popped op is checked to be attached under the root. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passes/passes.h"

static void *xrealloc(void *p, size_t size) {
  p = realloc(p, size ? size : 1);
  if (!p) {
    fputs("tinyml: out of memory\n", stderr);
    abort();
  }
  return p;
}

/* ------------------------------------------------------------------ worklist ------ */
/* A LIFO of ops with an op -> slot index map (open addressing, linear probing,
 * backward-shift deletion) so membership, dedup and removal are O(1). */
typedef struct slot {
  tm_op *op; /* NULL: empty */
  int index; /* into items[] */
} slot;

typedef struct worklist {
  tm_op **items; /* NULL entries were removed */
  int n, cap;
  slot *map;
  size_t mcap, mcount;
} worklist;

static size_t ptr_hash(const void *p) {
  uint64_t x = (uint64_t)(uintptr_t)p;
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  return (size_t)x;
}

static slot *map_find(const worklist *w, const tm_op *op) {
  if (!w->mcap) return NULL;
  size_t mask = w->mcap - 1;
  for (size_t i = ptr_hash(op) & mask;; i = (i + 1) & mask) {
    if (!w->map[i].op) return NULL;
    if (w->map[i].op == op) return &w->map[i];
  }
}

static void map_put(slot *map, size_t cap, tm_op *op, int index) {
  size_t mask = cap - 1, i = ptr_hash(op) & mask;
  while (map[i].op) i = (i + 1) & mask;
  map[i] = (slot){op, index};
}

static void map_delete(worklist *w, slot *s) {
  size_t mask = w->mcap - 1, i = (size_t)(s - w->map);
  w->map[i].op = NULL;
  w->mcount--;
  /* Shift later members of the probe run back so lookups never stop early. */
  for (size_t j = (i + 1) & mask; w->map[j].op; j = (j + 1) & mask) {
    size_t home = ptr_hash(w->map[j].op) & mask;
    bool movable = i <= j ? (home <= i || home > j) : (home <= i && home > j);
    if (movable) {
      w->map[i] = w->map[j];
      w->map[j].op = NULL;
      i = j;
    }
  }
}

static void wl_push(worklist *w, tm_op *op) {
  if (map_find(w, op)) return;
  if ((w->mcount + 1) * 2 > w->mcap) {
    size_t ncap = w->mcap ? w->mcap * 2 : 256;
    slot *nm = xrealloc(NULL, ncap * sizeof(slot));
    memset(nm, 0, ncap * sizeof(slot));
    for (size_t i = 0; i < w->mcap; i++)
      if (w->map[i].op) map_put(nm, ncap, w->map[i].op, w->map[i].index);
    free(w->map);
    w->map = nm;
    w->mcap = ncap;
  }
  if (w->n == w->cap) {
    w->cap = w->cap ? w->cap * 2 : 256;
    w->items = xrealloc(w->items, (size_t)w->cap * sizeof(tm_op *));
  }
  map_put(w->map, w->mcap, op, w->n);
  w->mcount++;
  w->items[w->n++] = op;
}

static void wl_remove(worklist *w, const tm_op *op) {
  slot *s = map_find(w, op);
  if (!s) return;
  w->items[s->index] = NULL;
  map_delete(w, s);
}

static tm_op *wl_pop(worklist *w) {
  while (w->n > 0) {
    tm_op *op = w->items[--w->n];
    if (op) {
      map_delete(w, map_find(w, op));
      return op;
    }
  }
  return NULL;
}

/* ------------------------------------------------------------------- driver ------- */
typedef struct driver {
  tm_ctx *ctx;
  tm_op *root;
  tm_greedy_config cfg;
  const tm_pattern **pats; /* caller's patterns, highest benefit first */
  int npats;
  worklist wl;
  tm_rewriter rw;
  /* scratch, grown on demand */
  const tm_pattern **cands;
  int ncands_cap;
  const tm_attr **consts;
  tm_fold_result *folds;
  tm_value **values;
  int scratch_cap;
} driver;

static void add(driver *d, tm_op *op) {
  if (op && op != d->root) wl_push(&d->wl, op);
}

static void add_users(driver *d, tm_op *op) {
  for (int i = 0; i < op->nresults; i++)
    TM_FOREACH_USE(u, &op->results[i]) add(d, u->user);
}

static void add_operand_defs(driver *d, tm_op *op) {
  for (int i = 0; i < op->noperands; i++) {
    tm_value *v = op->operands[i].value;
    if (v) add(d, v->def);
  }
}

static bool add_walk(tm_op *op, void *user) {
  add(user, op);
  return true;
}

static void on_inserted(void *user, tm_op *op) { tm_op_walk(op, add_walk, user); }

static void on_modified(void *user, tm_op *op) {
  add(user, op);
  add_users(user, op);
  add_operand_defs(user, op);
}

/* Called for every op of an erased tree, innermost first. */
static void on_erased(void *user, tm_op *op) {
  driver *d = user;
  wl_remove(&d->wl, op);
  add_operand_defs(d, op); /* they may have lost their last use */
}

/* Still part of the IR under root (not erased, not detached)? */
static bool attached(const driver *d, const tm_op *op) {
  for (const tm_op *p = op; p; p = tm_op_parent(p))
    if (p == d->root) return true;
  return false;
}

static bool pure_walk(tm_op *op, void *user) {
  (void)user;
  return tm_op_has_trait(op, TM_TRAIT_PURE);
}

/* Pure, unused, not a terminator, and nothing nested with side effects. */
static bool trivially_dead(tm_op *op) {
  if (tm_op_has_trait(op, TM_TRAIT_TERMINATOR)) return false;
  for (int i = 0; i < op->nresults; i++)
    if (tm_value_has_uses(&op->results[i])) return false;
  return tm_op_walk(op, pure_walk, NULL);
}

static void grow_scratch(driver *d, int n) {
  if (n <= d->scratch_cap) return;
  while (d->scratch_cap < n) d->scratch_cap = d->scratch_cap ? d->scratch_cap * 2 : 16;
  size_t cap = (size_t)d->scratch_cap;
  d->consts = xrealloc(d->consts, cap * sizeof(*d->consts));
  d->folds = xrealloc(d->folds, cap * sizeof(*d->folds));
  d->values = xrealloc(d->values, cap * sizeof(*d->values));
}

/* Folding a big constant operand would store a second copy of its data. */
static bool fold_too_big(const driver *d, const tm_op *op) {
  if (d->cfg.max_fold_bytes <= 0) return false;
  bool dense_operand = false;
  for (int i = 0; i < op->noperands; i++) {
    const tm_attr *c = d->consts[i];
    if (c && c->kind == TM_ATTR_DENSE && !c->u.dense.splat) dense_operand = true;
  }
  if (!dense_operand) return false;
  for (int i = 0; i < op->nresults; i++)
    if (tm_type_bytes(op->results[i].type) > d->cfg.max_fold_bytes) return true;
  return false;
}

static bool try_fold(driver *d, tm_op *op) {
  if (!op->def || !op->def->fold || tm_op_has_trait(op, TM_TRAIT_CONSTANT)) return false;
  grow_scratch(d, op->noperands > op->nresults ? op->noperands : op->nresults);
  for (int i = 0; i < op->noperands; i++) d->consts[i] = tm_value_const(op->operands[i].value);
  if (fold_too_big(d, op)) return false;
  memset(d->folds, 0, (size_t)op->nresults * sizeof(*d->folds));
  if (!op->def->fold(d->ctx, op, d->consts, d->folds)) return false;
  /* Folding to its own results means the op was updated in place. */
  int self = 0;
  for (int i = 0; i < op->nresults; i++) self += d->folds[i].value == &op->results[i];
  if (self == op->nresults) {
    tm_rw_modified(&d->rw, op);
    return true;
  }
  for (int i = 0; i < op->nresults; i++) {
    const tm_fold_result *f = &d->folds[i];
    if (f->value ? f->value == &op->results[i] || f->value->type != op->results[i].type : !f->attr) return false;
    if (f->attr && d->cfg.max_fold_bytes > 0 && f->attr->kind == TM_ATTR_DENSE &&
        f->attr->u.dense.nbytes > (uint64_t)d->cfg.max_fold_bytes)
      return false;
  }
  for (int i = 0; i < op->nresults; i++) {
    const tm_fold_result *f = &d->folds[i];
    if (f->value) {
      d->values[i] = f->value;
      continue;
    }
    tm_op *c = tm_rw_const_before(&d->rw, op, f->attr, op->results[i].type, op->loc);
    if (!c) { /* not materializable: drop the constants made so far */
      for (int k = 0; k < i; k++)
        if (!d->folds[k].value) tm_rw_erase_op(&d->rw, d->values[k]->def);
      return false;
    }
    d->values[i] = &c->results[0];
  }
  tm_rw_replace_op(&d->rw, op, d->values);
  return true;
}

static bool try_patterns(driver *d, tm_op *op) {
  int ncanon = d->cfg.use_canonical_patterns && op->def ? op->def->ncanonical_patterns : 0;
  if (d->npats + ncanon > d->ncands_cap) {
    d->ncands_cap = d->npats + ncanon;
    d->cands = xrealloc(d->cands, (size_t)d->ncands_cap * sizeof(*d->cands));
  }
  int n = 0;
  for (int i = 0; i < d->npats; i++)
    if (!d->pats[i]->root || strcmp(d->pats[i]->root, op->name) == 0) d->cands[n++] = d->pats[i];
  /* Merge the op's canonical patterns in by benefit; ties keep the caller's first. */
  for (int i = 0; i < ncanon; i++) {
    const tm_pattern *p = &op->def->canonical_patterns[i];
    int k = n++;
    while (k > 0 && d->cands[k - 1]->benefit < p->benefit) {
      d->cands[k] = d->cands[k - 1];
      k--;
    }
    d->cands[k] = p;
  }
  for (int i = 0; i < n; i++) {
    if (d->cands[i]->fn(&d->rw, op)) {
      if (attached(d, op)) add(d, op);
      return true;
    }
  }
  return false;
}

static bool collect(tm_op *op, void *user) {
  driver *d = user;
  add(d, op);
  return true;
}

/* One sweep: every op, then whatever the rewrites queue.  Returns whether anything
 * changed; *exhausted when the rewrite budget ran out. */
static bool sweep(driver *d, int64_t budget, bool *exhausted) {
  tm_op_walk(d->root, collect, d);
  /* Pop order is program order: reverse the pre-order walk. */
  for (int i = 0, j = d->wl.n - 1; i < j; i++, j--) {
    tm_op *t = d->wl.items[i];
    d->wl.items[i] = d->wl.items[j];
    d->wl.items[j] = t;
  }
  for (int i = 0; i < d->wl.n; i++) map_find(&d->wl, d->wl.items[i])->index = i;

  bool changed = false;
  int64_t rewrites = 0;
  tm_op *op;
  while ((op = wl_pop(&d->wl))) {
    if (!attached(d, op)) continue;
    if (rewrites >= budget) {
      *exhausted = true;
      while (wl_pop(&d->wl)) {}
      return true;
    }
    bool hit;
    if (trivially_dead(op)) {
      tm_rw_erase_op(&d->rw, op);
      hit = true;
    } else {
      hit = (d->cfg.fold && try_fold(d, op)) || try_patterns(d, op);
    }
    if (hit) {
      changed = true;
      rewrites++;
    }
  }
  return changed;
}

static int by_benefit(const void *a, const void *b) {
  const tm_pattern *const *pa = a, *const *pb = b;
  if ((*pa)->benefit != (*pb)->benefit) return (*pa)->benefit > (*pb)->benefit ? -1 : 1;
  return *pa < *pb ? -1 : *pa > *pb; /* stable: array order */
}

static bool count_op(tm_op *op, void *user) {
  (void)op;
  ++*(int64_t *)user;
  return true;
}

int tm_apply_patterns_greedily(tm_ctx *ctx, tm_op *root, const tm_pattern *pats, int n,
                               const tm_greedy_config *cfg, bool *changed) {
  static const tm_greedy_config defaults = {.max_iterations = 10, .fold = true};
  driver d = {.ctx = ctx, .root = root, .cfg = cfg ? *cfg : defaults};
  if (d.cfg.max_iterations <= 0) d.cfg.max_iterations = defaults.max_iterations;
  if (d.cfg.max_rewrites <= 0) {
    int64_t nops = 0;
    tm_op_walk(root, count_op, &nops);
    d.cfg.max_rewrites = 1000 + 64 * nops;
  }
  d.rw = tm_rewriter_make(ctx);
  d.rw.listener = (tm_rewrite_listener){.inserted = on_inserted, .erased = on_erased, .modified = on_modified, .user = &d};
  if (n > 0) {
    d.pats = xrealloc(NULL, (size_t)n * sizeof(*d.pats));
    for (int i = 0; i < n; i++) d.pats[i] = &pats[i];
    qsort(d.pats, (size_t)n, sizeof(*d.pats), by_benefit);
    d.npats = n;
  }

  bool any = false, converged = false, exhausted = false;
  for (int it = 0; it < d.cfg.max_iterations && !exhausted; it++) {
    if (!sweep(&d, d.cfg.max_rewrites, &exhausted)) {
      converged = true;
      break;
    }
    any = true;
  }
  if (!converged && d.cfg.strict)
    tm_warning(ctx, root->loc, "greedy rewriting did not converge after %d iterations%s", d.cfg.max_iterations,
               exhausted ? " (rewrite limit reached: patterns may undo each other)" : "");

  free(d.pats);
  free(d.cands);
  free(d.consts);
  free(d.folds);
  free(d.values);
  free(d.wl.items);
  free(d.wl.map);
  if (changed) *changed = any;
  return converged ? 0 : 1;
}
