/* ir/ops.c — values, use lists, ops, blocks, regions, walks and the builder. */
#include <string.h>

#include "ir/ir_internal.h"

/* ------------------------------------------------------------ use lists -------- */
static void use_link(tm_use *u, tm_value *v) {
  u->value = v;
  u->prev = NULL;
  u->next = NULL;
  if (!v) return;
  u->next = v->uses;
  if (v->uses) v->uses->prev = u;
  v->uses = u;
}

static void use_unlink(tm_use *u) {
  if (!u->value) return;
  if (u->prev) u->prev->next = u->next;
  else u->value->uses = u->next;
  if (u->next) u->next->prev = u->prev;
  u->value = NULL;
  u->prev = u->next = NULL;
}

bool tm_value_has_uses(const tm_value *v) { return v && v->uses; }
bool tm_value_has_one_use(const tm_value *v) { return v && v->uses && !v->uses->next; }

int tm_value_num_uses(const tm_value *v) {
  int n = 0;
  for (const tm_use *u = v ? v->uses : NULL; u; u = u->next) n++;
  return n;
}

void tm_value_replace_all_uses(tm_value *from, tm_value *to) { tm_value_replace_uses_except(from, to, NULL); }

void tm_value_replace_uses_except(tm_value *from, tm_value *to, const tm_op *except) {
  if (!from || from == to) return;
  TM_FOREACH_USE(u, from) {
    if (except && u->user == except) continue;
    use_unlink(u);
    use_link(u, to);
  }
}

/* ---------------------------------------------------------------- attrs -------- */
/* Index of name in the sorted attrs, or -(insertion point) - 1. */
static int attr_find(const tm_op *op, const char *name) {
  int lo = 0, hi = op->nattrs - 1;
  while (lo <= hi) {
    int mid = lo + (hi - lo) / 2;
    int c = strcmp(op->attrs[mid].name, name);
    if (c == 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -lo - 1;
}

const tm_attr *tm_op_attr(const tm_op *op, const char *name) {
  if (!op || !name) return NULL;
  int i = attr_find(op, name);
  return i >= 0 ? op->attrs[i].value : NULL;
}

void tm_op_set_attr(tm_ctx *ctx, tm_op *op, const char *name, const tm_attr *value) {
  if (!name) return;
  if (!value) {
    tm_op_remove_attr(op, name);
    return;
  }
  int i = attr_find(op, name);
  if (i >= 0) {
    op->attrs[i].value = value;
    return;
  }
  i = -i - 1;
  if (op->nattrs == op->attr_cap) {
    int ncap = op->attr_cap ? op->attr_cap * 2 : 4;
    tm_named_attr *na = TM_NEW_ARRAY(ctx->arena, tm_named_attr, ncap);
    if (op->nattrs) memcpy(na, op->attrs, (size_t)op->nattrs * sizeof(tm_named_attr));
    op->attrs = na;
    op->attr_cap = ncap;
  }
  memmove(&op->attrs[i + 1], &op->attrs[i], (size_t)(op->nattrs - i) * sizeof(tm_named_attr));
  op->attrs[i].name = tm_intern_cstr(ctx, name);
  op->attrs[i].value = value;
  op->nattrs++;
}

bool tm_op_remove_attr(tm_op *op, const char *name) {
  if (!op || !name) return false;
  int i = attr_find(op, name);
  if (i < 0) return false;
  memmove(&op->attrs[i], &op->attrs[i + 1], (size_t)(op->nattrs - i - 1) * sizeof(tm_named_attr));
  op->nattrs--;
  return true;
}

int64_t tm_op_attr_int(const tm_op *op, const char *name, int64_t dflt) {
  const tm_attr *a = tm_op_attr(op, name);
  return a && a->kind == TM_ATTR_INT ? a->u.i : dflt;
}

/* An integer literal is accepted where a float is wanted: `epsilon = 1` means 1.0. */
double tm_op_attr_float(const tm_op *op, const char *name, double dflt) {
  const tm_attr *a = tm_op_attr(op, name);
  if (a && a->kind == TM_ATTR_FLOAT) return a->u.f;
  if (a && a->kind == TM_ATTR_INT) return (double)a->u.i;
  return dflt;
}

const char *tm_op_attr_str(const tm_op *op, const char *name, const char *dflt) {
  const tm_attr *a = tm_op_attr(op, name);
  return a && a->kind == TM_ATTR_STRING ? a->u.str.data : dflt;
}

/* ------------------------------------------------------------------ ops -------- */
tm_op *tm_op_create(tm_ctx *ctx, const tm_op_state *st) {
  tm_op *op = TM_NEW(ctx->arena, tm_op);
  op->name = tm_intern_cstr(ctx, st->name ? st->name : "");
  op->def = tm_opdef_lookup(ctx, op->name);
  op->loc = st->loc ? st->loc : tm_loc_unknown(ctx);
  int nops = st->noperands > 0 ? st->noperands : 0;
  if (nops) {
    op->operands = TM_NEW_ARRAY(ctx->arena, tm_use, nops);
    op->operand_cap = op->noperands = nops;
    for (int i = 0; i < nops; i++) {
      op->operands[i].user = op;
      op->operands[i].index = (unsigned)i;
      use_link(&op->operands[i], st->operands ? st->operands[i] : NULL);
    }
  }
  int nres = st->nresults > 0 ? st->nresults : 0;
  if (nres) {
    op->results = TM_NEW_ARRAY(ctx->arena, tm_value, nres);
    op->nresults = nres;
    for (int i = 0; i < nres; i++) {
      op->results[i].type = st->result_types ? st->result_types[i] : NULL;
      op->results[i].def = op;
      op->results[i].index = (unsigned)i;
    }
  }
  /* Insertion keeps the array sorted; a repeated name keeps the last value. */
  for (int i = 0; i < st->nattrs && st->attrs; i++)
    tm_op_set_attr(ctx, op, st->attrs[i].name, st->attrs[i].value);
  int nreg = st->nregions > 0 ? st->nregions : 0;
  if (nreg) {
    op->regions = TM_NEW_ARRAY(ctx->arena, tm_region, nreg);
    op->nregions = nreg;
    for (int i = 0; i < nreg; i++) op->regions[i].op = op;
  }
  return op;
}

void tm_op_set_operand(tm_op *op, int i, tm_value *v) {
  if (!op || i < 0 || i >= op->noperands) return;
  use_unlink(&op->operands[i]);
  use_link(&op->operands[i], v);
}

void tm_op_set_operands(tm_ctx *ctx, tm_op *op, int n, tm_value *const *vals) {
  if (n < 0) n = 0;
  for (int i = 0; i < op->noperands; i++) use_unlink(&op->operands[i]);
  if (n > op->operand_cap) {
    /* Uses are linked by address, so the new array is filled only after the old one is
     * unlinked. */
    op->operands = TM_NEW_ARRAY(ctx->arena, tm_use, n);
    op->operand_cap = n;
  }
  op->noperands = n;
  for (int i = 0; i < n; i++) {
    op->operands[i].user = op;
    op->operands[i].index = (unsigned)i;
    use_link(&op->operands[i], vals ? vals[i] : NULL);
  }
}

bool tm_op_is(const tm_op *op, const char *name) { return op && name && strcmp(op->name, name) == 0; }

tm_op *tm_op_parent(const tm_op *op) {
  return op && op->block && op->block->region ? op->block->region->op : NULL;
}

/* An op counts as its own ancestor, as in MLIR. */
bool tm_op_is_ancestor(const tm_op *ancestor, const tm_op *op) {
  for (const tm_op *p = op; p; p = tm_op_parent(p))
    if (p == ancestor) return true;
  return false;
}

bool tm_op_is_before_in_block(const tm_op *a, const tm_op *b) {
  if (!a || !b || a == b || !a->block || a->block != b->block) return false;
  for (const tm_op *p = a->next; p; p = p->next)
    if (p == b) return true;
  return false;
}

/* ---------------------------------------------------------- linking -------- */
static void link_between(tm_block *blk, tm_op *prev, tm_op *next, tm_op *op) {
  op->block = blk;
  op->prev = prev;
  op->next = next;
  if (prev) prev->next = op;
  else blk->first = op;
  if (next) next->prev = op;
  else blk->last = op;
}

void tm_op_remove(tm_op *op) {
  if (!op || !op->block) return;
  tm_block *b = op->block;
  if (op->prev) op->prev->next = op->next;
  else b->first = op->next;
  if (op->next) op->next->prev = op->prev;
  else b->last = op->prev;
  op->block = NULL;
  op->prev = op->next = NULL;
}

/* Inserting an op into its own region would make the tree a cycle. */
static bool insertable(const tm_op *op, const tm_block *blk) {
  if (!op || !blk) return false;
  const tm_op *owner = blk->region ? blk->region->op : NULL;
  return !owner || !tm_op_is_ancestor(op, owner);
}

void tm_op_insert_before(tm_op *pos, tm_op *op) {
  if (!pos || pos == op || !insertable(op, pos->block)) return;
  tm_op_remove(op);
  link_between(pos->block, pos->prev, pos, op);
}

void tm_op_insert_after(tm_op *pos, tm_op *op) {
  if (!pos || pos == op || !insertable(op, pos->block)) return;
  tm_op_remove(op);
  link_between(pos->block, pos, pos->next, op);
}

void tm_op_move_before(tm_op *op, tm_op *pos) { tm_op_insert_before(pos, op); }

void tm_block_append(tm_block *b, tm_op *op) {
  if (!insertable(op, b)) return;
  tm_op_remove(op);
  link_between(b, b->last, NULL, op);
}

void tm_block_prepend(tm_block *b, tm_op *op) {
  if (!insertable(op, b)) return;
  tm_op_remove(op);
  link_between(b, NULL, b->first, op);
}

static void drop_uses(tm_op *op) {
  for (int i = 0; i < op->noperands; i++) use_unlink(&op->operands[i]);
  for (int r = 0; r < op->nregions; r++)
    for (tm_block *b = op->regions[r].first; b; b = b->next)
      for (tm_op *o = b->first; o; o = o->next) drop_uses(o);
}

void tm_op_erase(tm_op *op) {
  if (!op) return;
  tm_op_remove(op);
  drop_uses(op);
}

void tm_op_replace(tm_op *op, tm_value *const *values) {
  if (!op) return;
  for (int i = 0; i < op->nresults; i++) tm_value_replace_all_uses(&op->results[i], values ? values[i] : NULL);
  tm_op_erase(op);
}

/* --------------------------------------------------------------- clone -------- */
static tm_value *mapped(const tm_ptrmap *m, tm_value *v) {
  tm_value *n = tm_ptrmap_get(m, v);
  return n ? n : v;
}

/* First pass: structure and value map; operands still point at the originals. */
static tm_op *clone_shallow(tm_ctx *ctx, const tm_op *op, tm_ptrmap *map) {
  tm_op_state st = {.name = op->name,
                    .loc = op->loc,
                    .noperands = op->noperands,
                    .nresults = op->nresults,
                    .nregions = op->nregions};
  tm_op *n = tm_op_create(ctx, &st);
  for (int i = 0; i < op->noperands; i++) tm_op_set_operand(n, i, op->operands[i].value);
  for (int i = 0; i < op->nresults; i++) {
    n->results[i].type = op->results[i].type;
    tm_ptrmap_set(map, &op->results[i], &n->results[i]);
  }
  if (op->nattrs) {
    n->attrs = TM_NEW_ARRAY(ctx->arena, tm_named_attr, op->nattrs);
    memcpy(n->attrs, op->attrs, (size_t)op->nattrs * sizeof(tm_named_attr));
    n->nattrs = n->attr_cap = op->nattrs;
  }
  n->def = op->def;
  for (int r = 0; r < op->nregions; r++)
    for (const tm_block *b = op->regions[r].first; b; b = b->next) {
      tm_block *nb = tm_block_create(ctx);
      for (int a = 0; a < b->nargs; a++)
        tm_ptrmap_set(map, b->args[a], tm_block_add_arg(ctx, nb, b->args[a]->type, b->args[a]->loc));
      tm_region_add_block(&n->regions[r], nb);
      for (const tm_op *o = b->first; o; o = o->next) tm_block_append(nb, clone_shallow(ctx, o, map));
    }
  return n;
}

static void remap(tm_op *op, const tm_ptrmap *map) {
  for (int i = 0; i < op->noperands; i++) {
    tm_value *v = op->operands[i].value;
    tm_value *m = mapped(map, v);
    if (m != v) tm_op_set_operand(op, i, m);
  }
  for (int r = 0; r < op->nregions; r++)
    for (tm_block *b = op->regions[r].first; b; b = b->next)
      for (tm_op *o = b->first; o; o = o->next) remap(o, map);
}

tm_op *tm_op_clone(tm_ctx *ctx, const tm_op *op) {
  if (!op) return NULL;
  tm_ptrmap map = {0};
  tm_op *n = clone_shallow(ctx, op, &map);
  remap(n, &map);
  tm_ptrmap_free(&map);
  return n;
}

/* ---------------------------------------------------------------- walk -------- */
/* Recursion depth is the IR nesting depth, which the parser bounds. */
bool tm_op_walk(tm_op *op, tm_walk_fn fn, void *user) {
  if (!op) return true;
  tm_block *parent = op->block;
  if (!fn(op, user)) return false;
  /* The callback erased (or moved) op: its body is no longer part of the walk. */
  if (op->block != parent) return true;
  for (int r = 0; r < op->nregions; r++)
    for (tm_block *b = op->regions[r].first; b; b = b->next)
      TM_FOREACH_OP(o, b) {
        if (!tm_op_walk(o, fn, user)) return false;
      }
  return true;
}

bool tm_op_walk_post(tm_op *op, tm_walk_fn fn, void *user) {
  if (!op) return true;
  for (int r = 0; r < op->nregions; r++)
    for (tm_block *b = op->regions[r].first; b; b = b->next)
      TM_FOREACH_OP(o, b) {
        if (!tm_op_walk_post(o, fn, user)) return false;
      }
  return fn(op, user);
}

/* ---------------------------------------------------------- blocks, regions ---- */
tm_block *tm_block_create(tm_ctx *ctx) { return TM_NEW(ctx->arena, tm_block); }

tm_value *tm_block_add_arg(tm_ctx *ctx, tm_block *b, const tm_type *type, const tm_loc *loc) {
  if (b->nargs == b->arg_cap) {
    int ncap = b->arg_cap ? b->arg_cap * 2 : 4;
    tm_value **na = TM_NEW_ARRAY(ctx->arena, tm_value *, ncap);
    if (b->nargs) memcpy(na, b->args, (size_t)b->nargs * sizeof(tm_value *));
    b->args = na;
    b->arg_cap = ncap;
  }
  tm_value *v = TM_NEW(ctx->arena, tm_value);
  v->type = type;
  v->block = b;
  v->index = (unsigned)b->nargs;
  v->loc = loc ? loc : tm_loc_unknown(ctx);
  b->args[b->nargs++] = v;
  return v;
}

void tm_block_erase_arg(tm_block *b, int i) {
  if (!b || i < 0 || i >= b->nargs) return;
  b->args[i]->block = NULL;
  memmove(&b->args[i], &b->args[i + 1], (size_t)(b->nargs - i - 1) * sizeof(tm_value *));
  b->nargs--;
  for (int k = i; k < b->nargs; k++) b->args[k]->index = (unsigned)k;
}

tm_op *tm_block_terminator(const tm_block *b) {
  return b && b->last && tm_op_has_trait(b->last, TM_TRAIT_TERMINATOR) ? b->last : NULL;
}

void tm_region_add_block(tm_region *r, tm_block *b) {
  if (!r || !b || b->region) return;
  b->region = r;
  b->prev = r->last;
  b->next = NULL;
  if (r->last) r->last->next = b;
  else r->first = b;
  r->last = b;
}

tm_block *tm_region_entry(const tm_region *r) { return r ? r->first : NULL; }

/* -------------------------------------------------------------- builder -------- */
tm_builder tm_builder_before(tm_ctx *ctx, tm_op *op) {
  tm_builder b = {ctx, op ? op->block : NULL, op, op ? op->loc : tm_loc_unknown(ctx)};
  return b;
}

tm_builder tm_builder_at_end(tm_ctx *ctx, tm_block *blk) {
  tm_builder b = {ctx, blk, NULL, tm_loc_unknown(ctx)};
  return b;
}

tm_op *tm_build(tm_builder *b, const tm_op_state *st) {
  tm_op_state s = *st;
  if (!s.loc) s.loc = b->loc;
  tm_op *op = tm_op_create(b->ctx, &s);
  if (b->before && b->before->block) tm_op_insert_before(b->before, op);
  else if (b->block) tm_block_append(b->block, op);
  return op;
}
