/* ir/rewrite.c — IR mutation through a rewriter, so drivers hear about every change. */
#include "ir/ir_internal.h"

static void notify_inserted(tm_rewriter *rw, tm_op *op) {
  if (rw->listener.inserted) rw->listener.inserted(rw->listener.user, op);
}

static void notify_modified(tm_rewriter *rw, tm_op *op) {
  if (rw->listener.modified) rw->listener.modified(rw->listener.user, op);
}

tm_rewriter tm_rewriter_make(tm_ctx *ctx) {
  tm_rewriter rw = {.ctx = ctx};
  return rw;
}

tm_op *tm_rw_create_before(tm_rewriter *rw, tm_op *pos, const tm_op_state *st) {
  tm_builder b = tm_builder_before(rw->ctx, pos);
  tm_op *op = tm_build(&b, st);
  notify_inserted(rw, op);
  return op;
}

tm_op *tm_rw_const_before(tm_rewriter *rw, tm_op *pos, const tm_attr *value,
                          const tm_type *result_type, const tm_loc *loc) {
  tm_builder b = tm_builder_before(rw->ctx, pos);
  if (loc) b.loc = loc;
  tm_op *op = tm_build_const(&b, value, result_type);
  if (op) notify_inserted(rw, op);
  return op;
}

/* Each user is told after its operand changed; a user with several uses hears it
 * several times, which drivers treat as idempotent. */
void tm_rw_replace_all_uses(tm_rewriter *rw, tm_value *from, tm_value *to) {
  if (!from || from == to) return;
  TM_FOREACH_USE(u, from) {
    tm_op *user = u->user;
    tm_op_set_operand(user, (int)u->index, to);
    notify_modified(rw, user);
  }
}

static bool notify_erased(tm_op *op, void *user) {
  tm_rewriter *rw = user;
  rw->listener.erased(rw->listener.user, op);
  return true;
}

void tm_rw_erase_op(tm_rewriter *rw, tm_op *op) {
  if (!op) return;
  /* Nested ops die too; drivers may hold them in a worklist. */
  if (rw->listener.erased) tm_op_walk_post(op, notify_erased, rw);
  tm_op_erase(op);
}

void tm_rw_replace_op(tm_rewriter *rw, tm_op *op, tm_value *const *values) {
  if (!op) return;
  for (int i = 0; i < op->nresults; i++) tm_rw_replace_all_uses(rw, &op->results[i], values ? values[i] : NULL);
  tm_rw_erase_op(rw, op);
}

void tm_rw_set_operand(tm_rewriter *rw, tm_op *op, int i, tm_value *v) {
  tm_op_set_operand(op, i, v);
  notify_modified(rw, op);
}

void tm_rw_set_attr(tm_rewriter *rw, tm_op *op, const char *name, const tm_attr *value) {
  tm_op_set_attr(rw->ctx, op, name, value);
  notify_modified(rw, op);
}

void tm_rw_modified(tm_rewriter *rw, tm_op *op) { notify_modified(rw, op); }
