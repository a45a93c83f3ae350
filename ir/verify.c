/* ir/verify.c — the structural verifier: dominance, isolation, use-list and linkage
 * consistency, registry constraints, terminators; then each op's own verifier. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/ir_internal.h"

/* Far deeper than the parser allows; only keeps API-built IR from exhausting the stack. */
#define TM_VERIFY_MAX_DEPTH 1000

typedef struct vstate {
  tm_ctx *ctx;
  int nerrors;
  /* Visible values -> 1 + depth of the block defining them; NULL once out of scope. */
  tm_ptrmap visible;
  tm_value **stack; /* values in scope, innermost last */
  size_t nstack, stack_cap;
} vstate;

static int op_err(vstate *vs, const tm_op *op, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int op_err(vstate *vs, const tm_op *op, const char *fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  vs->nerrors++;
  return tm_op_error(vs->ctx, op, "%s", buf);
}

static void push_visible(vstate *vs, tm_value *v, int depth) {
  if (vs->nstack == vs->stack_cap) {
    size_t ncap = vs->stack_cap ? vs->stack_cap * 2 : 256;
    tm_value **ns = realloc(vs->stack, ncap * sizeof(tm_value *));
    if (!ns) {
      fputs("tinyml: out of memory\n", stderr);
      abort();
    }
    vs->stack = ns;
    vs->stack_cap = ncap;
  }
  vs->stack[vs->nstack++] = v;
  tm_ptrmap_set(&vs->visible, v, (void *)(uintptr_t)(depth + 1));
}

static void pop_visible(vstate *vs, size_t mark) {
  while (vs->nstack > mark) tm_ptrmap_set(&vs->visible, vs->stack[--vs->nstack], NULL);
}

/* Every use in v's list points back at v from a real operand slot. */
static void check_uses(vstate *vs, const tm_value *v, const tm_op *where) {
  const tm_use *prev = NULL;
  for (const tm_use *u = v->uses; u; prev = u, u = u->next) {
    const tm_op *user = u->user;
    if (u->prev != prev || u->value != v || !user || u->index >= (unsigned)(user->noperands > 0 ? user->noperands : 0) ||
        &user->operands[u->index] != u) {
      op_err(vs, where, "has a value with an inconsistent use list");
      return;
    }
  }
}

static const char *kind_desc(tm_attr_kind_constraint k) {
  switch (k) {
  case TM_AK_ANY: return "any attribute";
  case TM_AK_UNIT: return "a unit attribute";
  case TM_AK_INT: return "an integer attribute";
  case TM_AK_FLOAT: return "a float attribute";
  case TM_AK_BOOL: return "a bool attribute";
  case TM_AK_STRING: return "a string attribute";
  case TM_AK_ARRAY: return "an array attribute";
  case TM_AK_INT_ARRAY: return "an array of integers";
  case TM_AK_DICT: return "a dictionary attribute";
  case TM_AK_TYPE: return "a type attribute";
  case TM_AK_SYMREF: return "a symbol reference";
  case TM_AK_DENSE: return "a dense elements attribute";
  }
  return "?";
}

static bool kind_ok(const tm_attr *a, tm_attr_kind_constraint k) {
  switch (k) {
  case TM_AK_ANY: return true;
  case TM_AK_UNIT: return a->kind == TM_ATTR_UNIT;
  case TM_AK_INT: return a->kind == TM_ATTR_INT;
  case TM_AK_FLOAT: return a->kind == TM_ATTR_FLOAT;
  case TM_AK_BOOL: return a->kind == TM_ATTR_BOOL;
  case TM_AK_STRING: return a->kind == TM_ATTR_STRING;
  case TM_AK_ARRAY: return a->kind == TM_ATTR_ARRAY;
  case TM_AK_INT_ARRAY:
    if (a->kind != TM_ATTR_ARRAY) return false;
    for (int i = 0; i < a->u.array.n; i++)
      if (!a->u.array.elts[i] || a->u.array.elts[i]->kind != TM_ATTR_INT) return false;
    return true;
  case TM_AK_DICT: return a->kind == TM_ATTR_DICT;
  case TM_AK_TYPE: return a->kind == TM_ATTR_TYPE;
  case TM_AK_SYMREF: return a->kind == TM_ATTR_SYMREF;
  case TM_AK_DENSE: return a->kind == TM_ATTR_DENSE;
  }
  return false;
}

static void count_err(vstate *vs, const tm_op *op, const char *what, int n, int min, int max) {
  if (max >= 0 && min == max && n != min)
    op_err(vs, op, "expected %d %s, but found %d", min, what, n);
  else if (n < min)
    op_err(vs, op, "expected at least %d %s, but found %d", min, what, n);
  else if (max >= 0 && n > max)
    op_err(vs, op, "expected at most %d %s, but found %d", max, what, n);
}

/* Registry constraints of one op; its operands and results exist when this runs. */
static void check_def(vstate *vs, tm_op *op) {
  const tm_opdef *d = op->def;
  count_err(vs, op, "operands", op->noperands, d->min_operands, d->max_operands);
  count_err(vs, op, "results", op->nresults, d->min_results, d->max_results);
  if (op->nregions != d->nregions) op_err(vs, op, "expected %d regions, but found %d", d->nregions, op->nregions);
  for (int i = 0; i < d->nattrs; i++) {
    const tm_attrdef *ad = &d->attrs[i];
    const tm_attr *a = tm_op_attr(op, ad->name);
    if (!a) {
      if (ad->required) op_err(vs, op, "requires attribute '%s'", ad->name);
    } else if (!kind_ok(a, ad->kind)) {
      op_err(vs, op, "attribute '%s' must be %s", ad->name, kind_desc(ad->kind));
    }
  }
  if ((d->traits & TM_TRAIT_TERMINATOR) && op->next)
    op_err(vs, op, "must be the last operation in the parent block");
}

static void verify_op(vstate *vs, tm_op *op, int depth, int barrier, bool is_root);

static void verify_block(vstate *vs, tm_op *owner, tm_region *r, tm_block *b, int depth, int barrier) {
  size_t mark = vs->nstack;
  if (b->region != r) op_err(vs, owner, "has a block whose parent link is wrong");
  for (int i = 0; i < b->nargs; i++) {
    tm_value *a = b->args[i];
    if (!a || a->block != b || a->index != (unsigned)i || a->def) {
      op_err(vs, owner, "has a block argument #%d with inconsistent links", i);
      continue;
    }
    if (!a->type) op_err(vs, owner, "has a block argument #%d without a type", i);
    check_uses(vs, a, owner);
    push_visible(vs, a, depth);
  }
  tm_op *prev = NULL;
  for (tm_op *o = b->first; o; prev = o, o = o->next) {
    if (o->block != b || o->prev != prev) {
      op_err(vs, owner, "has a block whose op list is inconsistent");
      break;
    }
    verify_op(vs, o, depth, barrier, false);
    for (int i = 0; i < o->nresults; i++) push_visible(vs, &o->results[i], depth);
  }
  if (!prev && b->last) op_err(vs, owner, "has a block whose op list is inconsistent");
  pop_visible(vs, mark);
}

static void verify_op(vstate *vs, tm_op *op, int depth, int barrier, bool is_root) {
  int before = vs->nerrors;
  if (depth > TM_VERIFY_MAX_DEPTH) {
    op_err(vs, op, "is nested too deeply");
    return;
  }
  for (int i = 0; i < op->noperands; i++) {
    tm_use *u = &op->operands[i];
    tm_value *v = u->value;
    if (u->user != op || u->index != (unsigned)i) {
      op_err(vs, op, "operand #%d has an inconsistent use record", i);
    } else if (!v) {
      op_err(vs, op, "operand #%d is null", i);
    } else if (!is_root) {
      uintptr_t d = (uintptr_t)tm_ptrmap_get(&vs->visible, v);
      if (!d) op_err(vs, op, "operand #%d does not dominate this use", i);
      else if ((int)d - 1 < barrier) op_err(vs, op, "using value defined outside the region");
    }
    if (v && !v->type) op_err(vs, op, "operand #%d has no type", i);
  }
  for (int i = 0; i < op->nresults; i++) {
    tm_value *r = &op->results[i];
    if (r->def != op || r->index != (unsigned)i) op_err(vs, op, "result #%d has inconsistent links", i);
    if (!r->type) op_err(vs, op, "result #%d has no type", i);
    check_uses(vs, r, op);
  }
  if (op->def) check_def(vs, op);
  /* Op verifiers may index operands and attributes the registry promised. */
  if (op->def && op->def->verify && vs->nerrors == before && op->def->verify(vs->ctx, op) != 0) vs->nerrors++;

  int inner_barrier = tm_op_has_trait(op, TM_TRAIT_ISOLATED) ? depth + 1 : barrier;
  bool needs_term = tm_op_is(op, "func.func");
  for (int r = 0; r < op->nregions; r++) {
    tm_region *reg = &op->regions[r];
    if (reg->op != op) op_err(vs, op, "has a region whose parent link is wrong");
    tm_block *prevb = NULL;
    for (tm_block *b = reg->first; b; prevb = b, b = b->next) {
      if (b->prev != prevb) {
        op_err(vs, op, "has a region whose block list is inconsistent");
        break;
      }
      verify_block(vs, op, reg, b, depth + 1, inner_barrier);
      /* As in MLIR, an unregistered last op might be a terminator. */
      if (needs_term && !tm_block_terminator(b) && !(b->last && !b->last->def)) {
        if (!b->last) op_err(vs, op, "empty block: expect at least a terminator");
        else {
          vs->nerrors++;
          tm_error(vs->ctx, b->last->loc, "block with no terminator, has '%s' operation", b->last->name);
        }
      }
    }
  }
}

int tm_verify(tm_ctx *ctx, tm_op *root) {
  if (!root) return -1;
  vstate vs = {.ctx = ctx};
  verify_op(&vs, root, 0, 0, true);
  tm_ptrmap_free(&vs.visible);
  free(vs.stack);
  return vs.nerrors ? -1 : 0;
}
