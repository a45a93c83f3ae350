/* ir/dialect_builtin.c — builtin.module and the func dialect (func, return, call),
 * plus the module/function helpers of ir.h. */
#include <string.h>

#include "ir/dialects.h"
#include "ir/ir_internal.h"

/* ------------------------------------------------------------ helpers -------- */
tm_block *tm_module_body(tm_op *module) {
  return module && module->nregions > 0 ? module->regions[0].first : NULL;
}

static bool sym_is(const tm_op *op, const char *name) {
  const tm_attr *a = tm_op_attr(op, "sym_name");
  return a && a->kind == TM_ATTR_STRING && strcmp(a->u.str.data, name) == 0;
}

tm_op *tm_module_lookup(tm_op *module, const char *sym_name) {
  tm_block *body = tm_module_body(module);
  if (!body || !sym_name) return NULL;
  for (tm_op *o = body->first; o; o = o->next)
    if (sym_is(o, sym_name)) return o;
  return NULL;
}

tm_op *tm_module_create(tm_ctx *ctx, const tm_loc *loc) {
  tm_op_state st = {.name = "builtin.module", .loc = loc, .nregions = 1};
  tm_op *m = tm_op_create(ctx, &st);
  tm_region_add_block(&m->regions[0], tm_block_create(ctx));
  return m;
}

tm_op *tm_func_create(tm_ctx *ctx, const char *name, const tm_type *func_type, const tm_loc *loc) {
  tm_named_attr attrs[] = {
      {"function_type", tm_attr_type(ctx, func_type)},
      {"sym_name", tm_attr_cstr(ctx, name)},
  };
  tm_op_state st = {.name = "func.func", .loc = loc, .nattrs = 2, .attrs = attrs, .nregions = 1};
  tm_op *f = tm_op_create(ctx, &st);
  tm_block *entry = tm_block_create(ctx);
  if (func_type && func_type->kind == TM_TYPE_FUNC)
    for (int i = 0; i < func_type->ninputs; i++) tm_block_add_arg(ctx, entry, func_type->inputs[i], f->loc);
  tm_region_add_block(&f->regions[0], entry);
  return f;
}

const tm_type *tm_func_type(const tm_op *func) {
  const tm_attr *a = tm_op_attr(func, "function_type");
  return a && a->kind == TM_ATTR_TYPE && a->type && a->type->kind == TM_TYPE_FUNC ? a->type : NULL;
}

tm_block *tm_func_entry(const tm_op *func) {
  return func && func->nregions > 0 ? func->regions[0].first : NULL;
}

static const char *sym_name(const tm_op *op) { return tm_op_attr_str(op, "sym_name", "?"); }

/* ----------------------------------------------------------- verifiers -------- */
static int verify_module(tm_ctx *ctx, tm_op *op) {
  int n = 0;
  for (tm_block *b = op->regions[0].first; b; b = b->next) n++;
  if (n > 1) return tm_op_error(ctx, op, "expects region to have 0 or 1 blocks");
  tm_block *body = op->regions[0].first;
  if (!body) return 0;
  if (body->nargs) return tm_op_error(ctx, op, "expects the body block to have no arguments");
  /* sym_name strings are interned, so the string pointer identifies the symbol. */
  tm_ptrmap seen = {0};
  int rc = 0;
  for (tm_op *o = body->first; o; o = o->next) {
    const tm_attr *a = tm_op_attr(o, "sym_name");
    if (!a || a->kind != TM_ATTR_STRING) continue;
    if (tm_ptrmap_get(&seen, a->u.str.data)) {
      tm_error(ctx, o->loc, "redefinition of symbol named '%s'", a->u.str.data);
      rc = -1;
    }
    tm_ptrmap_set(&seen, a->u.str.data, o);
  }
  tm_ptrmap_free(&seen);
  return rc;
}

static int verify_func(tm_ctx *ctx, tm_op *op) {
  const tm_type *ft = tm_func_type(op);
  if (!ft) return tm_op_error(ctx, op, "requires 'function_type' to be a function type");
  const char *vis = tm_op_attr_str(op, "sym_visibility", NULL);
  if (vis && strcmp(vis, "public") && strcmp(vis, "private") && strcmp(vis, "nested"))
    return tm_op_error(ctx, op, "visibility expected to be one of [\"public\", \"private\", \"nested\"], but got \"%s\"", vis);
  tm_block *entry = tm_func_entry(op);
  if (!entry) {
    if (!vis || strcmp(vis, "public") == 0)
      return tm_op_error(ctx, op, "symbol declaration cannot have public visibility");
    return 0;
  }
  if (entry->nargs != ft->ninputs)
    return tm_op_error(ctx, op, "entry block must have %d arguments to match function signature", ft->ninputs);
  for (int i = 0; i < ft->ninputs; i++)
    if (entry->args[i]->type != ft->inputs[i])
      return tm_op_error(ctx, op,
                         "type of entry block argument #%d(%s) must match the type of the corresponding "
                         "argument in function signature(%s)",
                         i, tm_type_str(ctx, entry->args[i]->type), tm_type_str(ctx, ft->inputs[i]));
  return 0;
}

static int verify_return(tm_ctx *ctx, tm_op *op) {
  tm_op *f = tm_op_parent(op);
  if (!f || !tm_op_is(f, "func.func")) return tm_op_error(ctx, op, "expects parent op 'func.func'");
  const tm_type *ft = tm_func_type(f);
  if (!ft) return 0; /* the function's own verifier reports it */
  if (op->noperands != ft->nresults)
    return tm_op_error(ctx, op, "has %d operands, but enclosing function (@%s) returns %d", op->noperands,
                       sym_name(f), ft->nresults);
  for (int i = 0; i < op->noperands; i++) {
    const tm_type *t = op->operands[i].value->type;
    if (t != ft->results[i])
      return tm_op_error(ctx, op, "type of return operand %d (%s) doesn't match function result type (%s) in function @%s",
                         i, tm_type_str(ctx, t), tm_type_str(ctx, ft->results[i]), sym_name(f));
  }
  return 0;
}

static int verify_call(tm_ctx *ctx, tm_op *op) {
  const tm_attr *callee = tm_op_attr(op, "callee");
  tm_op *m = tm_op_parent(op);
  while (m && !tm_op_is(m, "builtin.module")) m = tm_op_parent(m);
  tm_op *f = m ? tm_module_lookup(m, callee->u.str.data) : NULL;
  if (!f || !tm_op_is(f, "func.func"))
    return tm_op_error(ctx, op, "'@%s' does not reference a valid function", callee->u.str.data);
  const tm_type *ft = tm_func_type(f);
  if (!ft) return 0;
  if (op->noperands != ft->ninputs) return tm_op_error(ctx, op, "incorrect number of operands for callee");
  for (int i = 0; i < op->noperands; i++) {
    const tm_type *t = op->operands[i].value->type;
    if (t != ft->inputs[i])
      return tm_op_error(ctx, op, "operand type mismatch: expected operand type %s, but provided %s for operand number %d",
                         tm_type_str(ctx, ft->inputs[i]), tm_type_str(ctx, t), i);
  }
  if (op->nresults != ft->nresults) return tm_op_error(ctx, op, "incorrect number of results for callee");
  for (int i = 0; i < op->nresults; i++)
    if (op->results[i].type != ft->results[i])
      return tm_op_error(ctx, op, "result type mismatch at index %d", i);
  return 0;
}

/* ------------------------------------------------------------- tables -------- */
static const tm_attrdef module_attrs[] = {
    {"sym_name", TM_AK_STRING, false, NULL, "Optional module name"},
};
static const tm_attrdef func_attrs[] = {
    {"arg_attrs", TM_AK_ARRAY, false, NULL, "Per-argument attribute dictionaries"},
    {"function_type", TM_AK_TYPE, true, NULL, "The signature"},
    {"res_attrs", TM_AK_ARRAY, false, NULL, "Per-result attribute dictionaries"},
    {"sym_name", TM_AK_STRING, true, NULL, "Symbol name"},
    {"sym_visibility", TM_AK_STRING, false, NULL, "public, private or nested"},
};
static const tm_attrdef call_attrs[] = {
    {"callee", TM_AK_SYMREF, true, NULL, "The called function"},
};

const tm_opdef tm_builtin_dialect_ops[] = {
    {.name = "builtin.module",
     .summary = "A top-level container of functions",
     .nregions = 1,
     .traits = TM_TRAIT_ISOLATED,
     .attrs = module_attrs,
     .nattrs = TM_COUNTOF(module_attrs),
     .verify = verify_module},
    {.name = "func.func",
     .summary = "A function",
     .nregions = 1,
     .traits = TM_TRAIT_ISOLATED | TM_TRAIT_SYMBOL,
     .attrs = func_attrs,
     .nattrs = TM_COUNTOF(func_attrs),
     .verify = verify_func},
    {.name = "func.return",
     .summary = "Return from a function",
     .max_operands = -1,
     .traits = TM_TRAIT_TERMINATOR | TM_TRAIT_PURE,
     .verify = verify_return},
    {.name = "func.call",
     .summary = "Call a function of the module",
     .max_operands = -1,
     .max_results = -1,
     .attrs = call_attrs,
     .nattrs = TM_COUNTOF(call_attrs),
     .verify = verify_call},
};
const int tm_builtin_dialect_nops = TM_COUNTOF(tm_builtin_dialect_ops);
