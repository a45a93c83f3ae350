/* backends/llvm/translate.c — a planned lowered module (docs/lowered.md) as an LLVM module.
 *
 * memrefs become `ptr`s to their first element (static shapes, row-major): memref.view is
 * a GEP over i8 by the byte shift, memref.load/store an inbounds GEP by the linearized
 * index.  `index` is the target's pointer-sized integer.  scf.for / scf.if / scf.while
 * become blocks with phis for the induction variable and the carried values.  arith ops
 * map to the LLVM instruction with MLIR's semantics (wrapping integers, IEEE floats, poison
 * where MLIR has poison), math ops to LLVM intrinsics or libm.  memref.globals become
 * private LLVM globals (constants in flash), func.funcs internal functions (the module's
 * `__tm_*` helpers alwaysinline, outline-repeated-loops' tm.outlined ones noinline), both
 * named NAME.sym, and NAME_invoke the one exported
 * symbol.  docs/llvm-backend.md has the whole mapping. */
#include <string.h>

#include <llvm-c/DebugInfo.h>

#include "backends/llvm/llvm_backend.h"

#define MAX_NESTING 256
#define MAX_ELEMS ((int64_t)1 << 31)

/* ------------------------------------------------------------------ state --------- */
typedef struct lvalue {
  LLVMValueRef v;
  bool invariant; /* a memref into a constant global: its loads are !invariant.load */
} lvalue;

typedef struct func_entry {
  tm_op *op;
  LLVMValueRef fn;
  bool defined;
} func_entry;

/* The bytes [lo, hi) of a function argument a view covers, at constant offsets. */
typedef struct region {
  const tm_value *base;
  int64_t lo, hi;
  LLVMValueRef scope, noalias; /* !{its scope}, !{the scopes of the regions it cannot overlap} */
} region;

typedef struct tr {
  tm_ctx *ctx;
  tm_op *module;
  const char *name;
  const tm_llvm_config *cfg;
  LLVMContextRef lc;
  LLVMModuleRef m;
  LLVMBuilderRef b;
  LLVMTypeRef ptr, index;
  LLVMValueRef fn;          /* the function being built */
  LLVMBasicBlockRef allocas; /* its entry block: memref.alloca goes here, outside any loop */
  unsigned invariant_kind, loop_kind, scope_kind, noalias_kind;
  tm_ptrmap regions; /* a memref value -> its region + 1 (find_regions; -Os only) */
  struct region *reg;
  int nreg, regcap;
  const tm_block *entry; /* the function's */
  LLVMValueRef empty_md;
  tm_ptrmap vals;  /* tm_value -> lvalue */
  tm_ptrmap syms;  /* memref.global op -> LLVMValueRef, func.func op -> func_entry */
  func_entry **funcs;
  int nfuncs, funcs_cap;
  int depth;
} tr;

static int unsupported_type(tr *t, const tm_op *op, const tm_type *ty) {
  return tm_op_error(t->ctx, op, "the LLVM backend does not support values of type '%s'", tm_type_str(t->ctx, ty));
}

/* i1/i8/i16/i32/i64, index, f16/f32/f64; NULL otherwise. */
static LLVMTypeRef scalar_type(tr *t, const tm_type *ty) {
  if (ty->kind == TM_TYPE_INDEX) return t->index;
  if (ty->kind == TM_TYPE_INT && (ty->width == 1 || ty->width == 8 || ty->width == 16 || ty->width == 32 || ty->width == 64))
    return LLVMIntTypeInContext(t->lc, ty->width);
  if (ty->kind == TM_TYPE_FLOAT && ty->width == 16) return LLVMHalfTypeInContext(t->lc);
  if (ty->kind == TM_TYPE_FLOAT && ty->width == 32) return LLVMFloatTypeInContext(t->lc);
  if (ty->kind == TM_TYPE_FLOAT && ty->width == 64) return LLVMDoubleTypeInContext(t->lc);
  return NULL;
}

/* Static shapes small enough for a 32-bit index, of a supported element type. */
static int check_memref(tr *t, const tm_op *op, const tm_type *ty) {
  if (ty->kind != TM_TYPE_MEMREF || !scalar_type(t, ty->elem)) return unsupported_type(t, op, ty);
  if (!tm_type_is_static(ty))
    return tm_op_error(t->ctx, op, "the LLVM backend needs static shapes, but got '%s'", tm_type_str(t->ctx, ty));
  if (tm_type_numel(ty) >= MAX_ELEMS || tm_type_bytes(ty) >= MAX_ELEMS)
    return tm_op_error(t->ctx, op, "buffer '%s' is too large", tm_type_str(t->ctx, ty));
  return 0;
}

static LLVMTypeRef value_type(tr *t, const tm_type *ty) {
  return ty->kind == TM_TYPE_MEMREF ? t->ptr : scalar_type(t, ty);
}

static lvalue *lookup(tr *t, const tm_value *v) { return tm_ptrmap_get(&t->vals, v); }

static LLVMValueRef V(tr *t, const tm_value *v) {
  lvalue *lv = lookup(t, v);
  return lv ? lv->v : NULL;
}

static LLVMValueRef operand(tr *t, const tm_op *op, int i) { return V(t, op->operands[i].value); }

static bool invariant(tr *t, const tm_value *v) {
  lvalue *lv = lookup(t, v);
  return lv && lv->invariant;
}

static void bind(tr *t, const tm_value *v, LLVMValueRef x, bool inv) {
  lvalue *lv = TM_NEW(tm_ctx_arena(t->ctx), lvalue);
  lv->v = x;
  lv->invariant = inv;
  tm_ptrmap_set(&t->vals, v, lv);
}

static void set_result(tr *t, tm_op *op, LLVMValueRef x) { bind(t, &op->results[0], x, false); }

static LLVMValueRef const_int(LLVMTypeRef ty, int64_t v) { return LLVMConstInt(ty, (unsigned long long)v, 1); }

/* An nuw/nsw flag on x if the builder produced an instruction rather than a folded constant. */
static LLVMValueRef no_wrap(LLVMValueRef x, bool nuw, bool nsw) {
  if (LLVMIsAInstruction(x)) {
    if (nuw) LLVMSetNUW(x, 1);
    if (nsw) LLVMSetNSW(x, 1);
  }
  return x;
}

static bool const_value(LLVMValueRef v, int64_t *out) {
  if (!v || !LLVMIsAConstantInt(v)) return false;
  *out = LLVMConstIntGetSExtValue(v);
  return true;
}

static unsigned abi_align(tr *t, LLVMTypeRef ty) { return LLVMABIAlignmentOfType(t->cfg->layout, ty); }

/* ------------------------------------------------------------ attributes ---------- */
static void fn_attr(tr *t, LLVMValueRef fn, const char *name) {
  unsigned k = LLVMGetEnumAttributeKindForName(name, strlen(name));
  LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, LLVMCreateEnumAttribute(t->lc, k, 0));
}

static void fn_str_attr(tr *t, LLVMValueRef fn, const char *key, const char *value) {
  LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex,
                          LLVMCreateStringAttribute(t->lc, key, (unsigned)strlen(key), value, (unsigned)strlen(value)));
}

/* Every function we define: no exceptions (no unwind tables, no personality routine to
 * link), the target's CPU and features so that llc on the .ll agrees with us. */
static void target_attrs(tr *t, LLVMValueRef fn) {
  fn_attr(t, fn, "nounwind");
  if (t->cfg->cpu && *t->cfg->cpu) fn_str_attr(t, fn, "target-cpu", t->cfg->cpu);
  if (t->cfg->features && *t->cfg->features) fn_str_attr(t, fn, "target-features", t->cfg->features);
  if (t->cfg->size_attr) fn_attr(t, fn, t->cfg->size_attr);
}

static LLVMBasicBlockRef new_block(tr *t, const char *name) { return LLVMAppendBasicBlockInContext(t->lc, t->fn, name); }

static LLVMValueRef call_intrinsic(tr *t, const char *name, LLVMTypeRef overload, LLVMValueRef *args, unsigned n) {
  unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
  LLVMValueRef fn = LLVMGetIntrinsicDeclaration(t->m, id, &overload, 1);
  LLVMTypeRef fty = LLVMIntrinsicGetType(t->lc, id, &overload, 1);
  return LLVMBuildCall2(t->b, fty, fn, args, n, "");
}

/* libm's float function `name` (f32) or its double version. */
static LLVMValueRef call_libm(tr *t, const char *name, LLVMTypeRef ty, LLVMValueRef x) {
  bool f64 = LLVMGetTypeKind(ty) == LLVMDoubleTypeKind;
  const char *sym = f64 ? tm_arena_printf(t->ctx, "%.*s", (int)strlen(name) - 1, name) : name;
  LLVMTypeRef fty = LLVMFunctionType(ty, &ty, 1, 0);
  LLVMValueRef fn = LLVMGetNamedFunction(t->m, sym);
  if (!fn) {
    fn = LLVMAddFunction(t->m, sym, fty);
    fn_attr(t, fn, "nounwind");
  }
  return LLVMBuildCall2(t->b, fty, fn, &x, 1, "");
}

/* ------------------------------------------------------------------ symbols ------- */
/* NAME.sym: a C symbol cannot contain the dot, so no module symbol takes the name of a
 * function LLVM calls (memcpy, expf, __aeabi_*) or of an intrinsic (llvm.*). */
static const char *local_name(tr *t, const tm_op *op) {
  return tm_arena_printf(t->ctx, "%s.%s", t->name, tm_op_attr_str(op, "sym_name", "anonymous"));
}

static tm_op *symbol_op(tr *t, const tm_op *op, const char *attr) {
  const tm_attr *a = tm_op_attr(op, attr);
  return a && a->kind == TM_ATTR_SYMREF ? tm_module_lookup(t->module, a->u.str.data) : NULL;
}

static bool dense_all_zero(const tm_attr *init, int64_t n, bool is_float) {
  for (int64_t i = 0; i < n; i++) {
    if (is_float) {
      double d = tm_dense_get_float(init, i);
      if (d != 0.0 || 1.0 / d < 0) return false; /* -0.0 is not zero bits */
    } else if (tm_dense_get_int(init, i) != 0) {
      return false;
    }
  }
  return true;
}

static LLVMValueRef global_initializer(tr *t, const tm_attr *init, LLVMTypeRef elem, LLVMTypeRef arr, int64_t n) {
  bool is_float = LLVMGetTypeKind(elem) != LLVMIntegerTypeKind;
  if (!init || n == 0 || dense_all_zero(init, n, is_float)) return LLVMConstNull(arr);
  /* Weights are mostly i8: their bytes are the array as they are. */
  if (!is_float && LLVMGetIntTypeWidth(elem) == 8 && !init->u.dense.splat && init->u.dense.nbytes == (size_t)n)
    return LLVMConstStringInContext2(t->lc, (const char *)init->u.dense.data, (size_t)n, 1);
  LLVMValueRef *els = TM_NEW_ARRAY(tm_ctx_arena(t->ctx), LLVMValueRef, n);
  for (int64_t i = 0; i < n; i++)
    els[i] = is_float ? LLVMConstReal(elem, tm_dense_get_float(init, i)) : const_int(elem, tm_dense_get_int(init, i));
  return LLVMConstArray2(elem, els, (uint64_t)n);
}

static LLVMValueRef get_global(tr *t, tm_op *g) {
  LLVMValueRef gv = tm_ptrmap_get(&t->syms, g);
  if (gv) return gv;
  const tm_attr *ta = tm_op_attr(g, "type");
  const tm_type *ty = ta && ta->kind == TM_ATTR_TYPE ? ta->type : NULL;
  if (!ty) return tm_op_error(t->ctx, g, "memref.global without a type"), NULL;
  if (check_memref(t, g, ty)) return NULL;
  LLVMTypeRef elem = scalar_type(t, ty->elem);
  int64_t n = tm_type_numel(ty);
  LLVMTypeRef arr = LLVMArrayType2(elem, (uint64_t)n);
  const tm_attr *init = tm_op_attr(g, "initial_value");
  if (init && init->kind != TM_ATTR_DENSE) init = NULL;
  gv = LLVMAddGlobal(t->m, arr, local_name(t, g));
  LLVMSetInitializer(gv, global_initializer(t, init, elem, arr, n));
  LLVMSetLinkage(gv, LLVMPrivateLinkage);
  bool constant = tm_op_attr(g, "constant") != NULL;
  LLVMSetGlobalConstant(gv, constant);
  if (constant) LLVMSetUnnamedAddress(gv, LLVMGlobalUnnamedAddr);
  int64_t align = tm_op_attr_int(g, "alignment", 0);
  unsigned natural = abi_align(t, elem);
  LLVMSetAlignment(gv, align > natural && align <= (1 << 16) ? (unsigned)align : natural);
  tm_ptrmap_set(&t->syms, g, gv);
  return gv;
}

static LLVMTypeRef func_type(tr *t, tm_op *f) {
  const tm_type *ft = tm_func_type(f);
  if (!ft) return tm_op_error(t->ctx, f, "func.func without a function_type"), NULL;
  if (ft->nresults > 1) return tm_op_error(t->ctx, f, "the LLVM backend supports functions with at most one result"), NULL;
  LLVMTypeRef *params = TM_NEW_ARRAY(tm_ctx_arena(t->ctx), LLVMTypeRef, ft->ninputs + 1);
  for (int i = 0; i < ft->ninputs; i++) {
    const tm_type *pt = ft->inputs[i];
    if (pt->kind == TM_TYPE_MEMREF) {
      if (check_memref(t, f, pt)) return NULL;
    } else if (!scalar_type(t, pt)) {
      return unsupported_type(t, f, pt), NULL;
    }
    params[i] = value_type(t, pt);
  }
  LLVMTypeRef ret = LLVMVoidTypeInContext(t->lc);
  if (ft->nresults && !(ret = value_type(t, ft->results[0]))) return unsupported_type(t, f, ft->results[0]), NULL;
  return LLVMFunctionType(ret, params, (unsigned)ft->ninputs, 0);
}

/* The LLVM function of a func.func, declared on first use; its body is built later. */
static func_entry *get_function(tr *t, tm_op *f) {
  func_entry *fe = tm_ptrmap_get(&t->syms, f);
  if (fe) return fe;
  if (!tm_func_entry(f))
    return tm_op_error(t->ctx, f, "the LLVM backend needs a body for '%s'", tm_op_attr_str(f, "sym_name", "?")), NULL;
  LLVMTypeRef fty = func_type(t, f);
  if (!fty) return NULL;
  fe = TM_NEW(tm_ctx_arena(t->ctx), func_entry);
  fe->op = f;
  fe->fn = LLVMAddFunction(t->m, local_name(t, f), fty);
  LLVMSetLinkage(fe->fn, LLVMInternalLinkage);
  target_attrs(t, fe->fn);
  /* outline-repeated-loops' shared code: inlined back, it would be copied again */
  if (tm_op_attr(f, "tm.outlined")) fn_attr(t, fe->fn, "noinline");
  const tm_attr *ro = tm_op_attr(f, "tm.readonly_args"); /* constant globals in every call */
  for (int i = 0; ro && ro->kind == TM_ATTR_ARRAY && i < ro->u.array.n; i++) {
    const tm_attr *e = ro->u.array.elts[i];
    if (e->kind != TM_ATTR_INT || e->u.i < 0 || e->u.i >= (int64_t)LLVMCountParams(fe->fn)) continue;
    for (int k = 0; k < 2; k++) {
      const char *a = k ? "readonly" : "noalias";
      LLVMAddAttributeAtIndex(fe->fn, (unsigned)e->u.i + 1,
                              LLVMCreateEnumAttribute(t->lc, LLVMGetEnumAttributeKindForName(a, strlen(a)), 0));
    }
  }
  if (t->nfuncs == t->funcs_cap) {
    t->funcs_cap = t->funcs_cap ? 2 * t->funcs_cap : 8;
    func_entry **grown = TM_NEW_ARRAY(tm_ctx_arena(t->ctx), func_entry *, t->funcs_cap);
    if (t->nfuncs) memcpy(grown, t->funcs, sizeof *grown * (size_t)t->nfuncs);
    t->funcs = grown;
  }
  t->funcs[t->nfuncs++] = fe;
  tm_ptrmap_set(&t->syms, f, fe);
  return fe;
}

/* ------------------------------------------------------------------ op table ------ */
typedef struct row row;
typedef int (*op_fn)(tr *t, tm_op *op, const row *r);
struct row {
  const char *name;
  op_fn fn;
  int arg;          /* an LLVMOpcode, a predicate table or a variant */
  const char *func; /* intrinsic or libm function */
};

static int translate_block(tr *t, tm_block *b);

static LLVMTypeRef result_type(tr *t, tm_op *op) {
  LLVMTypeRef ty = value_type(t, op->results[0].type);
  if (!ty) unsupported_type(t, op, op->results[0].type);
  return ty;
}

static int emit_binary(tr *t, tm_op *op, const row *r) {
  if (!result_type(t, op)) return -1;
  set_result(t, op, LLVMBuildBinOp(t->b, (LLVMOpcode)r->arg, operand(t, op, 0), operand(t, op, 1), ""));
  return 0;
}

/* Division by a power-of-two constant as the shifts LLVM itself would pick: exact for
 * every dividend, and no libcall even where the division is i64 on a 32-bit core (the
 * requantization's divsi by 2^31) or at -O0. */
enum { DIV_S, REM_S, DIV_U, REM_U };

static int emit_divrem(tr *t, tm_op *op, const row *r) {
  LLVMTypeRef ty = result_type(t, op);
  if (!ty) return -1;
  LLVMValueRef x = operand(t, op, 0), d = operand(t, op, 1), q = NULL;
  unsigned w = LLVMGetIntTypeWidth(ty);
  bool is_signed = r->arg == DIV_S || r->arg == REM_S, is_div = r->arg == DIV_S || r->arg == DIV_U;
  if (d && LLVMIsAConstantInt(d) && w > 1) {
    uint64_t c = is_signed ? (uint64_t)LLVMConstIntGetSExtValue(d) : LLVMConstIntGetZExtValue(d);
    bool pow2 = c && !(c & (c - 1)) && (!is_signed || (int64_t)c > 0);
    if (pow2) {
      unsigned k = 0;
      while ((c >> k) != 1) k++;
      if (!is_signed) {
        q = is_div ? LLVMBuildLShr(t->b, x, const_int(ty, k), "") : LLVMBuildAnd(t->b, x, const_int(ty, (int64_t)(c - 1)), "");
      } else if (k == 0) {
        q = is_div ? x : LLVMConstNull(ty);
      } else { /* round toward zero: add 2^k - 1 to negative dividends first */
        LLVMValueRef sign = LLVMBuildAShr(t->b, x, const_int(ty, w - 1), "");
        LLVMValueRef bias = LLVMBuildLShr(t->b, sign, const_int(ty, w - k), "");
        LLVMValueRef quot = LLVMBuildAShr(t->b, LLVMBuildAdd(t->b, x, bias, ""), const_int(ty, k), "");
        q = is_div ? quot : LLVMBuildSub(t->b, x, LLVMBuildShl(t->b, quot, const_int(ty, k), ""), "");
      }
    }
  }
  if (!q) {
    static const LLVMOpcode ops[] = {[DIV_S] = LLVMSDiv, [REM_S] = LLVMSRem, [DIV_U] = LLVMUDiv, [REM_U] = LLVMURem};
    q = LLVMBuildBinOp(t->b, ops[r->arg], x, d, "");
  }
  set_result(t, op, q);
  return 0;
}

static int emit_intrinsic2(tr *t, tm_op *op, const row *r) {
  LLVMTypeRef ty = result_type(t, op);
  if (!ty) return -1;
  LLVMValueRef args[] = {operand(t, op, 0), operand(t, op, 1)};
  set_result(t, op, call_intrinsic(t, r->func, ty, args, 2));
  return 0;
}

/* arith.maximumf / minimumf (IEEE 754-2019): NaN if either is NaN (a + b, as the C
 * backend), -0 < +0.  Spelled out: llvm.maximum has no soft-float lowering. */
static int emit_fminmax(tr *t, tm_op *op, const row *r) {
  LLVMTypeRef ty = result_type(t, op);
  if (!ty) return -1;
  bool max = r->arg;
  LLVMValueRef a = operand(t, op, 0), b = operand(t, op, 1);
  LLVMTypeRef ity = LLVMIntTypeInContext(t->lc, LLVMGetTypeKind(ty) == LLVMHalfTypeKind ? 16
                                                : LLVMGetTypeKind(ty) == LLVMFloatTypeKind ? 32 : 64);
  LLVMValueRef pick = LLVMBuildSelect(t->b, LLVMBuildFCmp(t->b, max ? LLVMRealOGT : LLVMRealOLT, a, b, ""), a, b, "");
  /* equal: +0 and -0 differ only in the sign bit, which max clears and min sets */
  LLVMValueRef ia = LLVMBuildBitCast(t->b, a, ity, ""), ib = LLVMBuildBitCast(t->b, b, ity, "");
  LLVMValueRef eqv = LLVMBuildBitCast(t->b, max ? LLVMBuildAnd(t->b, ia, ib, "") : LLVMBuildOr(t->b, ia, ib, ""), ty, "");
  pick = LLVMBuildSelect(t->b, LLVMBuildFCmp(t->b, LLVMRealOEQ, a, b, ""), eqv, pick, "");
  LLVMValueRef nan = LLVMBuildFAdd(t->b, a, b, "");
  set_result(t, op, LLVMBuildSelect(t->b, LLVMBuildFCmp(t->b, LLVMRealUNO, a, b, ""), nan, pick, ""));
  return 0;
}

static int emit_negf(tr *t, tm_op *op, const row *r) {
  (void)r;
  if (!result_type(t, op)) return -1;
  set_result(t, op, LLVMBuildFNeg(t->b, operand(t, op, 0), ""));
  return 0;
}

enum { CMP_INT, CMP_FLOAT };

static int emit_cmp(tr *t, tm_op *op, const row *r) {
  /* MLIR's predicate numbers (docs/lowered.md) to LLVM's */
  static const LLVMIntPredicate ipred[] = {LLVMIntEQ,  LLVMIntNE,  LLVMIntSLT, LLVMIntSLE, LLVMIntSGT,
                                           LLVMIntSGE, LLVMIntULT, LLVMIntULE, LLVMIntUGT, LLVMIntUGE};
  static const LLVMRealPredicate fpred[] = {
      LLVMRealPredicateFalse, LLVMRealOEQ, LLVMRealOGT, LLVMRealOGE, LLVMRealOLT, LLVMRealOLE,
      LLVMRealONE,            LLVMRealORD, LLVMRealUEQ, LLVMRealUGT, LLVMRealUGE, LLVMRealULT,
      LLVMRealULE,            LLVMRealUNE, LLVMRealUNO, LLVMRealPredicateTrue};
  if (!value_type(t, op->operands[0].value->type)) return unsupported_type(t, op, op->operands[0].value->type);
  if (!result_type(t, op)) return -1;
  int64_t p = tm_op_attr_int(op, "predicate", -1);
  int64_t n = r->arg == CMP_INT ? (int64_t)TM_COUNTOF(ipred) : (int64_t)TM_COUNTOF(fpred);
  if (p < 0 || p >= n) return tm_op_error(t->ctx, op, "unknown predicate %lld", (long long)p);
  LLVMValueRef a = operand(t, op, 0), b = operand(t, op, 1);
  set_result(t, op, r->arg == CMP_INT ? LLVMBuildICmp(t->b, ipred[p], a, b, "") : LLVMBuildFCmp(t->b, fpred[p], a, b, ""));
  return 0;
}

static int emit_select(tr *t, tm_op *op, const row *r) {
  (void)r;
  if (!result_type(t, op)) return -1;
  set_result(t, op, LLVMBuildSelect(t->b, operand(t, op, 0), operand(t, op, 1), operand(t, op, 2), ""));
  lookup(t, &op->results[0])->invariant = invariant(t, op->operands[1].value) && invariant(t, op->operands[2].value);
  return 0;
}

/* arg: the LLVM cast; index_cast (arg 0) sign-extends or truncates, whichever fits. */
static int emit_cast(tr *t, tm_op *op, const row *r) {
  LLVMTypeRef to = result_type(t, op);
  LLVMValueRef x = operand(t, op, 0);
  if (!to) return -1;
  if (!value_type(t, op->operands[0].value->type)) return unsupported_type(t, op, op->operands[0].value->type);
  LLVMOpcode c = (LLVMOpcode)r->arg;
  if (!r->arg) {
    unsigned from_w = LLVMGetIntTypeWidth(LLVMTypeOf(x)), to_w = LLVMGetIntTypeWidth(to);
    if (from_w == to_w) return set_result(t, op, x), 0;
    c = from_w < to_w ? LLVMSExt : LLVMTrunc;
  }
  set_result(t, op, LLVMBuildCast(t->b, c, x, to, ""));
  return 0;
}

static int emit_constant(tr *t, tm_op *op, const row *r) {
  (void)r;
  const tm_attr *v = tm_op_attr(op, "value");
  LLVMTypeRef ty = scalar_type(t, op->results[0].type);
  if (!ty || !v || (v->kind != TM_ATTR_INT && v->kind != TM_ATTR_FLOAT && v->kind != TM_ATTR_BOOL))
    return tm_op_error(t->ctx, op, "the LLVM backend supports scalar constants only");
  bool is_float = op->results[0].type->kind == TM_TYPE_FLOAT;
  if (v->kind == TM_ATTR_FLOAT) {
    /* arith.constant's verifier ties a float attribute to a float result. */
    set_result(t, op, LLVMConstReal(ty, v->u.f));
    return 0;
  }
  int64_t i = v->kind == TM_ATTR_BOOL ? v->u.b : v->u.i;
  set_result(t, op, is_float ? LLVMConstReal(ty, (double)i) : const_int(ty, i));
  return 0;
}

/* math: r->func is the intrinsic, or (arg MATH_LIBM) the libm float function. */
enum { MATH_INTRINSIC, MATH_LIBM, MATH_RSQRT, MATH_ABSI };

static int emit_math(tr *t, tm_op *op, const row *r) {
  LLVMTypeRef ty = result_type(t, op);
  if (!ty) return -1;
  LLVMValueRef x = operand(t, op, 0), y;
  switch (r->arg) {
  case MATH_INTRINSIC: y = call_intrinsic(t, r->func, ty, &x, 1); break;
  case MATH_LIBM:
    if (LLVMGetTypeKind(ty) == LLVMHalfTypeKind) { /* through float: libm has no half functions */
      LLVMTypeRef f32 = LLVMFloatTypeInContext(t->lc);
      y = LLVMBuildFPTrunc(t->b, call_libm(t, r->func, f32, LLVMBuildFPExt(t->b, x, f32, "")), ty, "");
    } else {
      y = call_libm(t, r->func, ty, x);
    }
    break;
  case MATH_RSQRT: y = LLVMBuildFDiv(t->b, LLVMConstReal(ty, 1.0), call_intrinsic(t, "llvm.sqrt", ty, &x, 1), ""); break;
  default: { /* MATH_ABSI: INT_MIN stays INT_MIN, so not poison */
    LLVMValueRef args[] = {x, LLVMConstInt(LLVMInt1TypeInContext(t->lc), 0, 0)};
    y = call_intrinsic(t, "llvm.abs", ty, args, 2);
    break;
  }
  }
  set_result(t, op, y);
  return 0;
}

/* ------------------------------------------------------------------ memref -------- */
/* &m[i0][i1]...: an inbounds GEP by i0 * s0 + i1 * s1 + ... (row-major strides of the
 * static shape).  In-bounds subscripts make every step nuw and nsw. */
static LLVMValueRef element_ptr(tr *t, const tm_op *op, int mem, int first, LLVMTypeRef *elem) {
  const tm_type *ty = op->operands[mem].value->type;
  *elem = scalar_type(t, ty->elem);
  LLVMValueRef base = operand(t, op, mem), lin = NULL;
  if (ty->rank == 0) return base;
  int64_t stride = 1, c;
  for (int d = ty->rank - 1; d >= 0; d--) {
    LLVMValueRef ix = operand(t, op, first + d);
    LLVMValueRef term = stride == 1 ? ix : no_wrap(LLVMBuildMul(t->b, ix, const_int(t->index, stride), ""), true, true);
    stride *= ty->dims[d];
    if (lin && const_value(term, &c) && c == 0) continue;
    lin = lin && !(const_value(lin, &c) && c == 0) ? no_wrap(LLVMBuildAdd(t->b, term, lin, ""), true, true) : term;
  }
  return LLVMBuildInBoundsGEP2(t->b, *elem, base, &lin, 1, "");
}

static int check_indices(tr *t, const tm_op *op, int mem, int first) {
  const tm_type *ty = op->operands[mem].value->type;
  if (check_memref(t, op, ty)) return -1;
  if (op->noperands - first != ty->rank) return tm_op_error(t->ctx, op, "expected %d indices", ty->rank);
  return 0;
}

/* ---- alias scopes: which views of an argument cannot overlap ------------------------
 * The planned buffers are views of the arena at constant offsets, so two views whose
 * bytes are disjoint cannot alias, but LLVM sees only `arena + offset + index`.
 * Optimizing for size it will not add run-time overlap checks either, so it keeps
 * loops such as MVE's im2col copies scalar.  When optimizing for size, each view of a
 * function argument at a constant offset (and views of it at constant offsets,
 * collapses) is a region [lo, hi) of that argument's bytes; its loads and stores get
 * !alias.scope (the region's scope) and !noalias (the scopes of the regions of the
 * same argument disjoint from it).  In-place views overlap and stay may-alias; views at
 * a variable offset get no scope.  At -O2 LLVM checks at run time; there the scopes
 * moved Cortex-M4 instructions -1.1 % (vww) to +2.9 % (kws), so they are not written. */

static int region_of(tr *t, const tm_value *v) { return (int)(intptr_t)tm_ptrmap_get(&t->regions, v) - 1; }

static bool is_entry_arg(const tm_block *entry, const tm_value *v) {
  for (int i = 0; i < entry->nargs; i++)
    if (entry->args[i] == v) return true;
  return false;
}

static bool find_region(tm_op *op, void *user) {
  tr *t = user;
  if (!op->nresults || op->results[0].type->kind != TM_TYPE_MEMREF || !op->noperands) return true;
  const tm_value *src = tm_op_operand(op, 0);
  int from = region_of(t, src);
  if (tm_op_is(op, "memref.collapse_shape")) {
    if (from >= 0) tm_ptrmap_set(&t->regions, &op->results[0], (void *)(intptr_t)(from + 1));
    return true;
  }
  int64_t bytes = tm_type_bytes(op->results[0].type);
  const tm_attr *c = tm_op_is(op, "memref.view") ? tm_value_const(tm_op_operand(op, 1)) : NULL;
  if (!c || c->kind != TM_ATTR_INT || bytes < 0) return true;
  region r;
  if (from >= 0) r = (region){.base = t->reg[from].base, .lo = t->reg[from].lo + c->u.i};
  else if (is_entry_arg(t->entry, src)) r = (region){.base = src, .lo = c->u.i};
  else return true;
  r.hi = r.lo + bytes;
  if (t->nreg == t->regcap) {
    t->regcap = t->regcap ? 2 * t->regcap : 64;
    region *n = TM_NEW_ARRAY(tm_ctx_arena(t->ctx), region, t->regcap);
    for (int i = 0; i < t->nreg; i++) n[i] = t->reg[i];
    t->reg = n;
  }
  t->reg[t->nreg++] = r;
  tm_ptrmap_set(&t->regions, &op->results[0], (void *)(intptr_t)t->nreg);
  return true;
}

/* A distinct node whose first operand is itself (a scope, a domain, a loop ID). */
static LLVMMetadataRef self_node(tr *t, LLVMMetadataRef *rest, int n) {
  LLVMMetadataRef ops[3] = {LLVMTemporaryMDNode(t->lc, NULL, 0)};
  for (int i = 0; i < n; i++) ops[1 + i] = rest[i];
  LLVMMetadataRef id = LLVMMDNodeInContext2(t->lc, ops, (size_t)n + 1);
  LLVMMetadataReplaceAllUsesWith(ops[0], id);
  return id;
}

/* The function's regions and their scope lists (one domain a function). */
static void find_regions(tr *t, tm_op *f) {
  tm_arena *ar = tm_ctx_arena(t->ctx);
  t->regions = (tm_ptrmap){.arena = ar};
  t->nreg = 0;
  if (!t->cfg->size_attr) return;
  tm_op_walk(f, find_region, t);
  if (!t->nreg) return;
  LLVMMetadataRef domain = self_node(t, NULL, 0);
  LLVMMetadataRef *scope = TM_NEW_ARRAY(ar, LLVMMetadataRef, t->nreg), *list = TM_NEW_ARRAY(ar, LLVMMetadataRef, t->nreg);
  for (int i = 0; i < t->nreg; i++) {
    scope[i] = self_node(t, &domain, 1);
    t->reg[i].scope = LLVMMetadataAsValue(t->lc, LLVMMDNodeInContext2(t->lc, &scope[i], 1));
  }
  for (int i = 0; i < t->nreg; i++) {
    const region *a = &t->reg[i];
    int n = 0;
    for (int j = 0; j < t->nreg; j++) {
      const region *b = &t->reg[j];
      if (b->base == a->base && (b->hi <= a->lo || a->hi <= b->lo)) list[n++] = scope[j];
    }
    t->reg[i].noalias = LLVMMetadataAsValue(t->lc, LLVMMDNodeInContext2(t->lc, list, (size_t)n));
  }
}

/* --check-alias-regions: before an access of `bytes` at p through mem, its offset from the
 * region's argument must lie in [lo, hi - bytes], or llvm.trap: the scopes' premise,
 * that the lowering reads and writes a view only within its bytes, checked at run time. */
static void check_region(tr *t, const tm_value *mem, LLVMValueRef p, int64_t bytes) {
  int r = region_of(t, mem);
  if (r < 0 || !t->cfg->check_regions) return;
  const region *g = &t->reg[r];
  LLVMValueRef off = LLVMBuildSub(t->b, LLVMBuildPtrToInt(t->b, p, t->index, ""),
                                  LLVMBuildPtrToInt(t->b, V(t, g->base), t->index, ""), "");
  /* off - lo > hi - bytes - lo, unsigned: below lo wraps around */
  LLVMValueRef rel = LLVMBuildSub(t->b, off, LLVMConstInt(t->index, (unsigned long long)g->lo, 0), "");
  LLVMValueRef last = LLVMConstInt(t->index, (unsigned long long)(g->hi - g->lo - bytes), 0);
  LLVMValueRef out = LLVMBuildICmp(t->b, LLVMIntUGT, rel, last, "");
  LLVMBasicBlockRef trap = new_block(t, "region.trap"), ok = new_block(t, "region.ok");
  LLVMBuildCondBr(t->b, out, trap, ok);
  LLVMPositionBuilderAtEnd(t->b, trap);
  LLVMTypeRef vt = LLVMFunctionType(LLVMVoidTypeInContext(t->lc), NULL, 0, 0);
  unsigned id = LLVMLookupIntrinsicID("llvm.trap", 9);
  LLVMBuildCall2(t->b, vt, LLVMGetIntrinsicDeclaration(t->m, id, NULL, 0), NULL, 0, "");
  LLVMBuildUnreachable(t->b);
  LLVMPositionBuilderAtEnd(t->b, ok);
}

static void scope_access(tr *t, LLVMValueRef inst, const tm_value *mem) {
  int r = region_of(t, mem);
  if (r < 0) return;
  LLVMSetMetadata(inst, t->scope_kind, t->reg[r].scope);
  LLVMSetMetadata(inst, t->noalias_kind, t->reg[r].noalias);
}

static int emit_load(tr *t, tm_op *op, const row *r) {
  (void)r;
  if (check_indices(t, op, 0, 1)) return -1;
  LLVMTypeRef elem;
  LLVMValueRef p = element_ptr(t, op, 0, 1, &elem);
  check_region(t, op->operands[0].value, p, (int64_t)LLVMABISizeOfType(t->cfg->layout, elem));
  LLVMValueRef ld = LLVMBuildLoad2(t->b, elem, p, "");
  LLVMSetAlignment(ld, abi_align(t, elem));
  scope_access(t, ld, op->operands[0].value);
  if (invariant(t, op->operands[0].value)) LLVMSetMetadata(ld, t->invariant_kind, t->empty_md);
  set_result(t, op, ld);
  return 0;
}

static int emit_store(tr *t, tm_op *op, const row *r) {
  (void)r;
  if (check_indices(t, op, 1, 2)) return -1;
  if (invariant(t, op->operands[1].value)) return tm_op_error(t->ctx, op, "writes to a constant memref.global");
  LLVMTypeRef elem;
  LLVMValueRef p = element_ptr(t, op, 1, 2, &elem);
  check_region(t, op->operands[1].value, p, (int64_t)LLVMABISizeOfType(t->cfg->layout, elem));
  LLVMValueRef st = LLVMBuildStore(t->b, operand(t, op, 0), p);
  LLVMSetAlignment(st, abi_align(t, elem));
  scope_access(t, st, op->operands[1].value);
  return 0;
}

static int emit_view(tr *t, tm_op *op, const row *r) {
  (void)r;
  if (check_memref(t, op, op->results[0].type)) return -1;
  LLVMValueRef base = operand(t, op, 0), shift = operand(t, op, 1);
  int64_t c;
  LLVMValueRef p = const_value(shift, &c) && c == 0
                       ? base
                       : LLVMBuildInBoundsGEP2(t->b, LLVMInt8TypeInContext(t->lc), base, &shift, 1, "");
  /* A view into the arena at a constant offset is laundered (the same pointer; we attach
   * no invariant.group metadata): LLVM then keeps the view in one register and addresses
   * its elements from it ([view, #i]), where it would fold the offset into every access
   * (arena + offset + i), beyond Thumb-2's immediates, and keep one address register per
   * access live across loops (kws' 1x1 conv: 42 stack accesses per channel block, now
   * 10).  CodeGenPrepare removes the call. */
  if (p != base && !invariant(t, op->operands[0].value)) {
    LLVMTypeRef pt = LLVMTypeOf(p);
    p = call_intrinsic(t, "llvm.launder.invariant.group", pt, &p, 1);
  }
  bind(t, &op->results[0], p, invariant(t, op->operands[0].value));
  return 0;
}

static int emit_collapse(tr *t, tm_op *op, const row *r) {
  (void)r;
  if (check_memref(t, op, op->results[0].type)) return -1;
  bind(t, &op->results[0], operand(t, op, 0), invariant(t, op->operands[0].value));
  return 0;
}

static int emit_get_global(tr *t, tm_op *op, const row *r) {
  (void)r;
  tm_op *g = symbol_op(t, op, "name");
  if (!g || !tm_op_is(g, "memref.global")) return tm_op_error(t->ctx, op, "does not reference a memref.global");
  LLVMValueRef gv = get_global(t, g);
  if (!gv) return -1;
  bind(t, &op->results[0], gv, tm_op_attr(g, "constant") != NULL);
  return 0;
}

/* In the entry block, so a loop does not grow the stack. */
static int emit_alloca(tr *t, tm_op *op, const row *r) {
  (void)r;
  const tm_type *ty = op->results[0].type;
  if (check_memref(t, op, ty)) return -1;
  LLVMTypeRef elem = scalar_type(t, ty->elem);
  LLVMBuilderRef ab = LLVMCreateBuilderInContext(t->lc);
  LLVMPositionBuilderAtEnd(ab, t->allocas);
  LLVMValueRef a = LLVMBuildAlloca(ab, LLVMArrayType2(elem, (uint64_t)tm_type_numel(ty)), "");
  LLVMDisposeBuilder(ab);
  int64_t align = tm_op_attr_int(op, "alignment", 0);
  unsigned natural = abi_align(t, elem);
  LLVMSetAlignment(a, align > natural && align <= (1 << 16) ? (unsigned)align : natural);
  set_result(t, op, a);
  return 0;
}

static int emit_copy(tr *t, tm_op *op, const row *r) {
  (void)r;
  const tm_type *ty = op->operands[0].value->type;
  if (check_memref(t, op, ty) || check_memref(t, op, op->operands[1].value->type)) return -1;
  if (invariant(t, op->operands[1].value)) return tm_op_error(t->ctx, op, "writes to a constant memref.global");
  unsigned align = abi_align(t, scalar_type(t, ty->elem));
  LLVMBuildMemCpy(t->b, operand(t, op, 1), align, operand(t, op, 0), align, const_int(t->index, tm_type_bytes(ty)));
  return 0;
}

/* ------------------------------------------------------------------ scf ----------- */

/* Blocks made before a region was translated go after that region's blocks. */
static void move_to_end(tr *t, LLVMBasicBlockRef bb) { LLVMMoveBasicBlockAfter(bb, LLVMGetLastBasicBlock(t->fn)); }

static int check_terminator(tr *t, const tm_op *op, const tm_block *b, const char *name, int n) {
  if (!b || !b->last || !tm_op_is(b->last, name) || b->last->noperands != n)
    return tm_op_error(t->ctx, op, "a region of '%s' must end in %s with %d values", op->name, name, n);
  return 0;
}

static LLVMValueRef *new_values(tr *t, int n) { return TM_NEW_ARRAY(tm_ctx_arena(t->ctx), LLVMValueRef, n + 1); }

/* Counts a body's ops; stops (false) at a loop inside. */
static bool count_ops(tm_op *op, void *user) {
  ++*(int *)user;
  return !tm_op_is(op, "scf.for");
}

/* Optimizing for size, LLVM unrolls no loop (ARM's cost model returns first), and the
 * kernels' short innermost loops (a fully_connected sink's 4 channels, a word loop of 4
 * trips) then pay a compare, a branch and an induction step per trip for a body of a few
 * instructions: micro_speech at -Os took 832K instructions, 655K unrolled.  Those of at
 * most SHORT_LOOP_TRIPS constant trips, with no loop inside and at most SHORT_LOOP_OPS
 * ops are unrolled all the same (llvm.loop.unroll.full); longer bodies grow the code for
 * little (vww: all 4-trip loops took 14 kB more, at most 64 ops 0.4 kB). */
enum { SHORT_LOOP_TRIPS = 4, SHORT_LOOP_OPS = 64 };

static bool short_loop(tm_op *op, LLVMValueRef lb, LLVMValueRef ub, LLVMValueRef step) {
  int64_t l, u, s;
  if (!const_value(lb, &l) || !const_value(ub, &u) || !const_value(step, &s) || s <= 0 || u <= l ||
      (u - l + s - 1) / s > SHORT_LOOP_TRIPS)
    return false;
  int n = 0;
  for (tm_op *o = op->regions[0].first->first; o; o = o->next)
    if (!tm_op_walk(o, count_ops, &n)) return false;
  return n <= SHORT_LOOP_OPS;
}

/* !{!self, !{!"llvm.loop.unroll.full"}} or !{!self, !{!"llvm.loop.unroll.disable"}} */
static LLVMValueRef unroll_hint(tr *t, const char *what) {
  LLVMMetadataRef name = LLVMMDStringInContext2(t->lc, what, strlen(what));
  LLVMMetadataRef hint = LLVMMDNodeInContext2(t->lc, &name, 1);
  return LLVMMetadataAsValue(t->lc, self_node(t, &hint, 1));
}

static int emit_for(tr *t, tm_op *op, const row *r) {
  (void)r;
  tm_block *body = op->regions[0].first;
  int n = op->nresults;
  if (!body || body->nargs != 1 + n || check_terminator(t, op, body, "scf.yield", n))
    return tm_op_error(t->ctx, op, "malformed scf.for body");
  LLVMValueRef lb = operand(t, op, 0), ub = operand(t, op, 1), step = operand(t, op, 2);
  LLVMTypeRef ivt = LLVMTypeOf(lb);
  /* iv + step cannot wrap when ub - 1 + step fits (iv < ub, step > 0): known constants
   * give LLVM's loop passes the nsw (and, from lb >= 0, nuw) they need */
  int64_t cub, cstep, clb;
  unsigned w = LLVMGetIntTypeWidth(ivt);
  int64_t tmax = w >= 64 ? INT64_MAX : (int64_t)((UINT64_C(1) << (w - 1)) - 1);
  bool nsw = const_value(ub, &cub) && const_value(step, &cstep) && cstep > 0 && cub <= tmax - (cstep - 1);
  bool nuw = nsw && const_value(lb, &clb) && clb >= 0;

  LLVMBasicBlockRef pre = LLVMGetInsertBlock(t->b), header = new_block(t, "for.header"), bb = new_block(t, "for.body"),
                    exit = new_block(t, "for.end");
  LLVMBuildBr(t->b, header);
  LLVMPositionBuilderAtEnd(t->b, header);
  LLVMValueRef iv = LLVMBuildPhi(t->b, ivt, "iv");
  LLVMAddIncoming(iv, &lb, &pre, 1);
  LLVMValueRef *carried = new_values(t, n);
  for (int i = 0; i < n; i++) {
    LLVMTypeRef ty = value_type(t, op->results[i].type);
    if (!ty) return unsupported_type(t, op, op->results[i].type);
    carried[i] = LLVMBuildPhi(t->b, ty, "");
    LLVMValueRef init = operand(t, op, 3 + i);
    LLVMAddIncoming(carried[i], &init, &pre, 1);
  }
  LLVMBuildCondBr(t->b, LLVMBuildICmp(t->b, LLVMIntSLT, iv, ub, ""), bb, exit);

  LLVMPositionBuilderAtEnd(t->b, bb);
  bind(t, body->args[0], iv, false);
  for (int i = 0; i < n; i++) bind(t, body->args[1 + i], carried[i], false);
  if (translate_block(t, body)) return -1;
  LLVMBasicBlockRef latch = LLVMGetInsertBlock(t->b);
  LLVMValueRef next = no_wrap(LLVMBuildAdd(t->b, iv, step, "iv.next"), nuw, nsw);
  LLVMAddIncoming(iv, &next, &latch, 1);
  for (int i = 0; i < n; i++) {
    LLVMValueRef y = operand(t, body->last, i);
    LLVMAddIncoming(carried[i], &y, &latch, 1);
  }
  LLVMValueRef back = LLVMBuildBr(t->b, header);
  /* tm.rolled: a loop the lowering wants kept (epilogue-loop, GetReciprocal's and the
   * computed softmax's steps at -Os) */
  if (tm_op_attr(op, "tm.rolled"))
    LLVMSetMetadata(back, t->loop_kind, unroll_hint(t, "llvm.loop.unroll.disable"));
  else if (t->cfg->size_attr && short_loop(op, lb, ub, step))
    LLVMSetMetadata(back, t->loop_kind, unroll_hint(t, "llvm.loop.unroll.full"));
  move_to_end(t, exit);
  LLVMPositionBuilderAtEnd(t->b, exit);
  for (int i = 0; i < n; i++) bind(t, &op->results[i], carried[i], false);
  return 0;
}

static int emit_if(tr *t, tm_op *op, const row *r) {
  (void)r;
  int n = op->nresults;
  tm_block *then_b = op->regions[0].first, *else_b = op->regions[1].first;
  if (check_terminator(t, op, then_b, "scf.yield", n) || (else_b && check_terminator(t, op, else_b, "scf.yield", n)))
    return -1;
  if (!else_b && n) return tm_op_error(t->ctx, op, "scf.if with results needs an else region");
  bool has_else = else_b && (else_b->first != else_b->last || n);
  LLVMBasicBlockRef then_bb = new_block(t, "if.then"), else_bb = has_else ? new_block(t, "if.else") : NULL,
                    end = new_block(t, "if.end");
  LLVMBuildCondBr(t->b, operand(t, op, 0), then_bb, has_else ? else_bb : end);
  LLVMBasicBlockRef from[2];
  LLVMValueRef *vals[2] = {new_values(t, n), new_values(t, n)};
  tm_block *regions[2] = {then_b, else_b};
  LLVMBasicBlockRef starts[2] = {then_bb, else_bb};
  for (int k = 0; k < (has_else ? 2 : 1); k++) {
    move_to_end(t, starts[k]);
    LLVMPositionBuilderAtEnd(t->b, starts[k]);
    if (translate_block(t, regions[k])) return -1;
    for (int i = 0; i < n; i++) vals[k][i] = operand(t, regions[k]->last, i);
    from[k] = LLVMGetInsertBlock(t->b);
    LLVMBuildBr(t->b, end);
  }
  move_to_end(t, end);
  LLVMPositionBuilderAtEnd(t->b, end);
  for (int i = 0; i < n; i++) {
    LLVMTypeRef ty = value_type(t, op->results[i].type);
    if (!ty) return unsupported_type(t, op, op->results[i].type);
    LLVMValueRef phi = LLVMBuildPhi(t->b, ty, "");
    LLVMValueRef in[2] = {vals[0][i], vals[1][i]};
    LLVMAddIncoming(phi, in, from, 2);
    bind(t, &op->results[i], phi, false);
  }
  return 0;
}

static int emit_while(tr *t, tm_op *op, const row *r) {
  (void)r;
  tm_block *before = op->regions[0].first, *after = op->regions[1].first;
  int n = op->noperands, m = op->nresults;
  if (!before || !after || before->nargs != n || after->nargs != m ||
      check_terminator(t, op, before, "scf.condition", 1 + m) || check_terminator(t, op, after, "scf.yield", n))
    return tm_op_error(t->ctx, op, "malformed scf.while");
  LLVMBasicBlockRef pre = LLVMGetInsertBlock(t->b), head = new_block(t, "while.cond");
  LLVMBuildBr(t->b, head);
  LLVMPositionBuilderAtEnd(t->b, head);
  LLVMValueRef *carried = new_values(t, n);
  for (int i = 0; i < n; i++) {
    LLVMTypeRef ty = value_type(t, before->args[i]->type);
    if (!ty) return unsupported_type(t, op, before->args[i]->type);
    carried[i] = LLVMBuildPhi(t->b, ty, "");
    LLVMValueRef init = operand(t, op, i);
    LLVMAddIncoming(carried[i], &init, &pre, 1);
    bind(t, before->args[i], carried[i], false);
  }
  if (translate_block(t, before)) return -1;
  tm_op *cond = before->last;
  LLVMBasicBlockRef body = new_block(t, "while.body"), exit = new_block(t, "while.end");
  LLVMBuildCondBr(t->b, operand(t, cond, 0), body, exit);
  LLVMPositionBuilderAtEnd(t->b, body);
  /* the condition block dominates the body and the exit: the forwarded values need no phis */
  for (int i = 0; i < m; i++) {
    bind(t, after->args[i], operand(t, cond, 1 + i), false);
    bind(t, &op->results[i], operand(t, cond, 1 + i), false);
  }
  if (translate_block(t, after)) return -1;
  LLVMBasicBlockRef latch = LLVMGetInsertBlock(t->b);
  for (int i = 0; i < n; i++) {
    LLVMValueRef y = operand(t, after->last, i);
    LLVMAddIncoming(carried[i], &y, &latch, 1);
  }
  LLVMBuildBr(t->b, head);
  move_to_end(t, exit);
  LLVMPositionBuilderAtEnd(t->b, exit);
  return 0;
}

/* ------------------------------------------------------------------ func ---------- */
static int emit_call(tr *t, tm_op *op, const row *r) {
  (void)r;
  tm_op *f = symbol_op(t, op, "callee");
  if (!f || !tm_op_is(f, "func.func")) return tm_op_error(t->ctx, op, "does not call a func.func of the module");
  if (op->nresults > 1) return tm_op_error(t->ctx, op, "the LLVM backend supports calls with at most one result");
  func_entry *fe = get_function(t, f);
  if (!fe) return -1;
  LLVMValueRef *args = new_values(t, op->noperands);
  for (int i = 0; i < op->noperands; i++) args[i] = operand(t, op, i);
  LLVMTypeRef fty = LLVMGlobalGetValueType(fe->fn);
  if (LLVMCountParamTypes(fty) != (unsigned)op->noperands)
    return tm_op_error(t->ctx, op, "calls '%s' with %d arguments", tm_op_attr_str(f, "sym_name", "?"), op->noperands);
  LLVMValueRef c = LLVMBuildCall2(t->b, fty, fe->fn, args, (unsigned)op->noperands, "");
  /* a cold op's helper call (lower-to-loops' cold-percent) stays a call: the helpers are
   * alwaysinline for the hot kernels, where a call would cost more than their code */
  if (tm_op_attr(op, "tm.cold"))
    LLVMAddCallSiteAttribute(c, LLVMAttributeFunctionIndex,
                             LLVMCreateEnumAttribute(t->lc, LLVMGetEnumAttributeKindForName("noinline", 8), 0));
  if (op->nresults) set_result(t, op, c);
  return 0;
}

static int emit_return(tr *t, tm_op *op, const row *r) {
  (void)r;
  LLVMTypeRef ret = LLVMGetReturnType(LLVMGlobalGetValueType(t->fn));
  bool is_void = LLVMGetTypeKind(ret) == LLVMVoidTypeKind;
  if (op->noperands != (is_void ? 0 : 1)) return tm_op_error(t->ctx, op, "returns %d values", op->noperands);
  if (is_void) LLVMBuildRetVoid(t->b);
  else LLVMBuildRet(t->b, operand(t, op, 0));
  return 0;
}

/* ------------------------------------------------------------------ armdsp -------- */
/* The Arm DSP instructions (ir/ops_armdsp.def): llvm.arm.* intrinsics on DSP targets;
 * elsewhere (host tests, other cores) plain IR with the same results. */
enum { DSP_SXTB16, DSP_SMLAD, DSP_USADA8 };

static LLVMValueRef call_arm(tr *t, const char *name, LLVMValueRef *args, unsigned n) {
  unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
  LLVMValueRef fn = LLVMGetIntrinsicDeclaration(t->m, id, NULL, 0);
  return LLVMBuildCall2(t->b, LLVMIntrinsicGetType(t->lc, id, NULL, 0), fn, args, n, "");
}

/* sext(lo16(x)) or, hi, sext(hi16(x)) as i32 */
static LLVMValueRef half(tr *t, LLVMValueRef x, bool hi) {
  LLVMTypeRef i32 = LLVMInt32TypeInContext(t->lc);
  if (hi) return LLVMBuildAShr(t->b, x, const_int(i32, 16), "");
  return LLVMBuildSExt(t->b, LLVMBuildTrunc(t->b, x, LLVMInt16TypeInContext(t->lc), ""), i32, "");
}

static int emit_armdsp(tr *t, tm_op *op, const row *r) {
  LLVMTypeRef i32 = LLVMInt32TypeInContext(t->lc);
  LLVMValueRef a = operand(t, op, 0), x;
  if (r->arg == DSP_SXTB16) {
    int64_t rot = tm_op_attr_int(op, "rotate", 0);
    if (rot) { /* the rotate pattern LLVM folds into SXTB16's ROR #n */
      LLVMValueRef right = LLVMBuildLShr(t->b, a, const_int(i32, rot), "");
      a = LLVMBuildOr(t->b, right, LLVMBuildShl(t->b, a, const_int(i32, 32 - rot), ""), "");
    }
    if (t->cfg->dsp) {
      x = call_arm(t, "llvm.arm.sxtb16", &a, 1);
    } else {
      LLVMTypeRef i8 = LLVMInt8TypeInContext(t->lc);
      LLVMValueRef lo = LLVMBuildSExt(t->b, LLVMBuildTrunc(t->b, a, i8, ""), i32, "");
      LLVMValueRef a16 = LLVMBuildLShr(t->b, a, const_int(i32, 16), "");
      LLVMValueRef hi = LLVMBuildSExt(t->b, LLVMBuildTrunc(t->b, a16, i8, ""), i32, "");
      x = LLVMBuildOr(t->b, LLVMBuildAnd(t->b, lo, const_int(i32, 0xFFFF), ""),
                      LLVMBuildShl(t->b, hi, const_int(i32, 16), ""), "");
    }
  } else if (t->cfg->dsp) {
    LLVMValueRef args[] = {a, operand(t, op, 1), operand(t, op, 2)};
    x = call_arm(t, r->arg == DSP_SMLAD ? "llvm.arm.smlad" : "llvm.arm.usada8", args, 3);
  } else if (r->arg == DSP_USADA8) { /* byte by byte: |x - y| as a select */
    LLVMValueRef b = operand(t, op, 1), m = const_int(i32, 255);
    x = operand(t, op, 2);
    for (int i = 0; i < 32; i += 8) {
      LLVMValueRef xa = LLVMBuildAnd(t->b, LLVMBuildLShr(t->b, a, const_int(i32, i), ""), m, "");
      LLVMValueRef xb = LLVMBuildAnd(t->b, LLVMBuildLShr(t->b, b, const_int(i32, i), ""), m, "");
      LLVMValueRef d = LLVMBuildSub(t->b, xa, xb, "");
      LLVMValueRef neg = LLVMBuildICmp(t->b, LLVMIntSLT, d, const_int(i32, 0), "");
      x = LLVMBuildAdd(t->b, x, LLVMBuildSelect(t->b, neg, LLVMBuildNeg(t->b, d, ""), d, ""), "");
    }
  } else { /* products of i16 halves fit in i32; the sums wrap like the instruction's */
    LLVMValueRef b = operand(t, op, 1);
    x = LLVMBuildAdd(t->b, operand(t, op, 2), LLVMBuildMul(t->b, half(t, a, false), half(t, b, false), ""), "");
    x = LLVMBuildAdd(t->b, x, LLVMBuildMul(t->b, half(t, a, true), half(t, b, true), ""), "");
  }
  set_result(t, op, x);
  return 0;
}

/* armdsp.load_word (arg 32): four bytes from the element's address, an unaligned i32
 * load (LDR allows it on v7-M).  armdsp.load_pair (arg 64): the 8-aligned i64 element,
 * volatile, which ARM's instruction selection keeps one LDRD (a plain i64 load becomes two
 * LDRs that the load/store optimizer pairs only sometimes); nothing else is lost, each pair
 * is read once where it is used. */
static int emit_armdsp_load(tr *t, tm_op *op, const row *r) {
  if (check_indices(t, op, 0, 1)) return -1;
  LLVMTypeRef elem;
  bool pair = r->arg == 64;
  LLVMValueRef p = element_ptr(t, op, 0, 1, &elem);
  check_region(t, op->operands[0].value, p, r->arg / 8);
  LLVMValueRef ld = LLVMBuildLoad2(t->b, LLVMIntTypeInContext(t->lc, (unsigned)r->arg), p, "");
  LLVMSetAlignment(ld, pair ? 8 : 1);
  if (pair) LLVMSetVolatile(ld, 1);
  else if (invariant(t, op->operands[0].value)) LLVMSetMetadata(ld, t->invariant_kind, t->empty_md);
  scope_access(t, ld, op->operands[0].value);
  set_result(t, op, ld);
  return 0;
}

/* `lanes` bytes of a 1-D i8 memref from an index as <16 x i8>: a plain load, or a
 * masked one for a tail (MVE's predicated VLDRB; the other lanes are 0 and not read). */
static LLVMValueRef bytes16(tr *t, const tm_op *op, int mem, int64_t lanes) {
  LLVMTypeRef elem, v16 = LLVMVectorType(LLVMInt8TypeInContext(t->lc), 16);
  LLVMValueRef p = element_ptr(t, op, mem, mem + 1, &elem);
  if (lanes == 16) {
    LLVMValueRef ld = LLVMBuildLoad2(t->b, v16, p, "");
    LLVMSetAlignment(ld, 1);
    if (invariant(t, op->operands[mem].value)) LLVMSetMetadata(ld, t->invariant_kind, t->empty_md);
    return ld;
  }
  LLVMTypeRef i1 = LLVMInt1TypeInContext(t->lc), types[] = {v16, LLVMTypeOf(p)};
  LLVMValueRef on[16];
  for (int j = 0; j < 16; j++) on[j] = LLVMConstInt(i1, j < lanes, 0);
  unsigned id = LLVMLookupIntrinsicID("llvm.masked.load", 16);
  LLVMValueRef args[] = {p, const_int(LLVMInt32TypeInContext(t->lc), 1), LLVMConstVector(on, 16), LLVMConstNull(v16)};
  return LLVMBuildCall2(t->b, LLVMIntrinsicGetType(t->lc, id, types, 2), LLVMGetIntrinsicDeclaration(t->m, id, types, 2),
                        args, 4, "");
}

/* armdsp.vmladava: on MVE targets @llvm.arm.mve.vmldava (VMLAVA.S8) of two <16 x i8>
 * loads; elsewhere acc + reduce.add(sext a * sext b), whatever the target does with
 * vectors (the host's SIMD, or scalar code). */
static int emit_vmladava(tr *t, tm_op *op, const row *r) {
  (void)r;
  if (check_memref(t, op, op->operands[1].value->type) || check_memref(t, op, op->operands[3].value->type)) return -1;
  int64_t lanes = tm_op_attr_int(op, "lanes", 16);
  /* MVE: the instruction itself, on the bytes.  The pattern below also selects VMLAVA.S8,
   * but LICM hoists a small layer's loads with their sign extensions out of its pixel
   * loop, 4 Q registers a vector, which then spill and multiply in 32-bit lanes
   * (micro_speech 616,812 instructions and a 1,136-byte frame, against 367,375 and 216;
   * resnet 5.33M against 4.98M) */
  if (t->cfg->mve) {
    LLVMTypeRef i32 = LLVMInt32TypeInContext(t->lc), v16 = LLVMVectorType(LLVMInt8TypeInContext(t->lc), 16);
    LLVMValueRef a = bytes16(t, op, 1, lanes);
    LLVMValueRef args[] = {const_int(i32, 0), const_int(i32, 0), const_int(i32, 0), operand(t, op, 0),
                           a, bytes16(t, op, 3, lanes)};
    unsigned id = LLVMLookupIntrinsicID("llvm.arm.mve.vmldava", 20);
    set_result(t, op, LLVMBuildCall2(t->b, LLVMIntrinsicGetType(t->lc, id, &v16, 1),
                                     LLVMGetIntrinsicDeclaration(t->m, id, &v16, 1), args, 6, ""));
    return 0;
  }
  LLVMTypeRef v32 = LLVMVectorType(LLVMInt32TypeInContext(t->lc), 16);
  LLVMValueRef a = LLVMBuildSExt(t->b, bytes16(t, op, 1, lanes), v32, "");
  LLVMValueRef b = LLVMBuildSExt(t->b, bytes16(t, op, 3, lanes), v32, "");
  unsigned id = LLVMLookupIntrinsicID("llvm.vector.reduce.add", 22);
  LLVMValueRef prod = LLVMBuildMul(t->b, a, b, "");
  LLVMValueRef sum = LLVMBuildCall2(t->b, LLVMIntrinsicGetType(t->lc, id, &v32, 1),
                                    LLVMGetIntrinsicDeclaration(t->m, id, &v32, 1), &prod, 1, "");
  set_result(t, op, LLVMBuildAdd(t->b, operand(t, op, 0), sum, ""));
  return 0;
}

static const row rows[] = {
    {"arith.constant", emit_constant, 0, NULL},
    {"arith.addi", emit_binary, LLVMAdd, NULL},
    {"arith.subi", emit_binary, LLVMSub, NULL},
    {"arith.muli", emit_binary, LLVMMul, NULL},
    {"arith.divsi", emit_divrem, DIV_S, NULL},
    {"arith.divui", emit_divrem, DIV_U, NULL},
    {"arith.remsi", emit_divrem, REM_S, NULL},
    {"arith.remui", emit_divrem, REM_U, NULL},
    {"arith.andi", emit_binary, LLVMAnd, NULL},
    {"arith.ori", emit_binary, LLVMOr, NULL},
    {"arith.xori", emit_binary, LLVMXor, NULL},
    {"arith.shli", emit_binary, LLVMShl, NULL},
    {"arith.shrsi", emit_binary, LLVMAShr, NULL},
    {"arith.shrui", emit_binary, LLVMLShr, NULL},
    {"arith.maxsi", emit_intrinsic2, 0, "llvm.smax"},
    {"arith.minsi", emit_intrinsic2, 0, "llvm.smin"},
    {"arith.maxui", emit_intrinsic2, 0, "llvm.umax"},
    {"arith.minui", emit_intrinsic2, 0, "llvm.umin"},
    {"arith.addf", emit_binary, LLVMFAdd, NULL},
    {"arith.subf", emit_binary, LLVMFSub, NULL},
    {"arith.mulf", emit_binary, LLVMFMul, NULL},
    {"arith.divf", emit_binary, LLVMFDiv, NULL},
    {"arith.maximumf", emit_fminmax, 1, NULL},
    {"arith.minimumf", emit_fminmax, 0, NULL},
    {"arith.negf", emit_negf, 0, NULL},
    {"arith.cmpi", emit_cmp, CMP_INT, NULL},
    {"arith.cmpf", emit_cmp, CMP_FLOAT, NULL},
    {"arith.select", emit_select, 0, NULL},
    {"arith.extsi", emit_cast, LLVMSExt, NULL},
    {"arith.extui", emit_cast, LLVMZExt, NULL},
    {"arith.trunci", emit_cast, LLVMTrunc, NULL},
    {"arith.sitofp", emit_cast, LLVMSIToFP, NULL},
    {"arith.uitofp", emit_cast, LLVMUIToFP, NULL},
    {"arith.fptosi", emit_cast, LLVMFPToSI, NULL},
    {"arith.fptoui", emit_cast, LLVMFPToUI, NULL},
    {"arith.extf", emit_cast, LLVMFPExt, NULL},
    {"arith.truncf", emit_cast, LLVMFPTrunc, NULL},
    {"arith.index_cast", emit_cast, 0, NULL},
    {"arith.bitcast", emit_cast, LLVMBitCast, NULL},
    {"math.exp", emit_math, MATH_INTRINSIC, "llvm.exp"},
    {"math.log", emit_math, MATH_INTRINSIC, "llvm.log"},
    {"math.sqrt", emit_math, MATH_INTRINSIC, "llvm.sqrt"},
    {"math.absf", emit_math, MATH_INTRINSIC, "llvm.fabs"},
    {"math.tanh", emit_math, MATH_LIBM, "tanhf"},
    {"math.rsqrt", emit_math, MATH_RSQRT, NULL},
    {"math.absi", emit_math, MATH_ABSI, NULL},
    {"armdsp.sxtb16", emit_armdsp, DSP_SXTB16, NULL},
    {"armdsp.smlad", emit_armdsp, DSP_SMLAD, NULL},
    {"armdsp.usada8", emit_armdsp, DSP_USADA8, NULL},
    {"armdsp.load_word", emit_armdsp_load, 32, NULL},
    {"armdsp.load_pair", emit_armdsp_load, 64, NULL},
    {"armdsp.vmladava", emit_vmladava, 0, NULL},
    {"memref.load", emit_load, 0, NULL},
    {"memref.store", emit_store, 0, NULL},
    {"memref.view", emit_view, 0, NULL},
    {"memref.collapse_shape", emit_collapse, 0, NULL},
    {"memref.get_global", emit_get_global, 0, NULL},
    {"memref.alloca", emit_alloca, 0, NULL},
    {"memref.copy", emit_copy, 0, NULL},
    {"scf.for", emit_for, 0, NULL},
    {"scf.if", emit_if, 0, NULL},
    {"scf.while", emit_while, 0, NULL},
    {"func.call", emit_call, 0, NULL},
    {"func.return", emit_return, 0, NULL},
};

static const row *row_of(const tm_op *op) {
  for (size_t i = 0; i < TM_COUNTOF(rows); i++)
    if (!strcmp(rows[i].name, op->name)) return &rows[i];
  return NULL;
}

static int translate_op(tr *t, tm_op *op) {
  const row *r = row_of(op);
  if (!r) {
    const char *hint = !strncmp(op->name, "tm.", 3)            ? " (run lower-to-loops first)"
                       : tm_op_is(op, "memref.alloc")          ? " (run plan-memory first)"
                                                               : "";
    return tm_op_error(t->ctx, op, "the LLVM backend does not support '%s'%s", op->name, hint);
  }
  for (int i = 0; i < op->nresults; i++)
    if (op->results[i].type->kind == TM_TYPE_TENSOR) return unsupported_type(t, op, op->results[i].type);
  for (int i = 0; i < op->noperands; i++)
    if (!V(t, op->operands[i].value)) return tm_op_error(t->ctx, op, "operand %d has no LLVM value", i);
  return r->fn(t, op, r);
}

/* All ops of b but a trailing scf.yield / scf.condition, which the parent op reads. */
static int translate_block(tr *t, tm_block *b) {
  if (++t->depth > MAX_NESTING) return tm_error(t->ctx, tm_loc_unknown(t->ctx), "regions nest too deeply"), -1;
  for (tm_op *op = b->first; op; op = op->next) {
    if (op == b->last && (tm_op_is(op, "scf.yield") || tm_op_is(op, "scf.condition"))) break;
    if (translate_op(t, op)) return -1;
  }
  t->depth--;
  return 0;
}

/* arena, in0.., out0..: the names NAME_invoke's loads have too. */
static void name_model_param(tr *t, LLVMValueRef p, const tm_model_info *mi, int i) {
  int k = i - mi->has_arena;
  const char *n = k < 0 ? "arena"
                  : k < mi->ninputs ? tm_arena_printf(t->ctx, "in%d", k)
                                    : tm_arena_printf(t->ctx, "out%d", k - mi->ninputs);
  LLVMSetValueName2(p, n, strlen(n));
}

/* mi: set for the model function. */
static int define_function(tr *t, func_entry *fe, const tm_model_info *mi) {
  tm_op *f = fe->op;
  tm_block *entry = tm_func_entry(f);
  fe->defined = true;
  if (!entry || entry->next) return tm_op_error(t->ctx, f, "the LLVM backend needs function bodies of one block");
  if (!entry->last || !tm_op_is(entry->last, "func.return")) return tm_op_error(t->ctx, f, "the body must end in func.return");
  t->fn = fe->fn;
  t->entry = entry;
  find_regions(t, f);
  t->allocas = new_block(t, "entry");
  LLVMBasicBlockRef body = new_block(t, "body");
  for (int i = 0; i < entry->nargs; i++) {
    LLVMValueRef p = LLVMGetParam(fe->fn, (unsigned)i);
    if (mi) name_model_param(t, p, mi, i);
    bind(t, entry->args[i], p, false);
  }
  LLVMPositionBuilderAtEnd(t->b, body);
  if (translate_block(t, entry)) return -1;
  LLVMPositionBuilderAtEnd(t->b, t->allocas);
  LLVMBuildBr(t->b, body);
  return 0;
}

/* ------------------------------------------------------------------ NAME_invoke --- */
static LLVMValueRef any(tr *t, LLVMValueRef acc, LLVMValueRef cond) {
  return acc ? LLVMBuildOr(t->b, acc, cond, "") : cond;
}

/* Copies between arena + io->offset and array[i] when the array and the entry are not
 * NULL; the builder ends in the block after. */
static void copy_if_given(tr *t, LLVMValueRef arena, LLVMValueRef array, int i, const tm_model_io *io, bool in) {
  LLVMBasicBlockRef load = new_block(t, ""), copy = new_block(t, ""), next = new_block(t, "");
  LLVMBuildCondBr(t->b, LLVMBuildIsNull(t->b, array, ""), next, load);
  LLVMPositionBuilderAtEnd(t->b, load);
  LLVMValueRef ix = const_int(t->index, i);
  LLVMValueRef p = LLVMBuildLoad2(t->b, t->ptr, LLVMBuildInBoundsGEP2(t->b, t->ptr, array, &ix, 1, ""), "");
  LLVMSetAlignment(p, abi_align(t, t->ptr));
  LLVMBuildCondBr(t->b, LLVMBuildIsNull(t->b, p, ""), next, copy);
  LLVMPositionBuilderAtEnd(t->b, copy);
  LLVMValueRef off = const_int(t->index, io->offset);
  LLVMValueRef at = LLVMBuildInBoundsGEP2(t->b, LLVMInt8TypeInContext(t->lc), arena, &off, 1, "");
  LLVMValueRef bytes = const_int(t->index, io->bytes);
  if (in) LLVMBuildMemCpy(t->b, at, 16, p, 1, bytes);
  else LLVMBuildMemCpy(t->b, p, 1, at, 16, bytes);
  LLVMBuildBr(t->b, next);
  LLVMPositionBuilderAtEnd(t->b, next);
}

/* Inputs and outputs in the arena: only the arena is required; given inputs are copied
 * in, the model runs on arena + offset, given outputs are copied out. */
static void define_invoke_io(tr *t, const tm_model_info *mi, LLVMValueRef model, LLVMBasicBlockRef entry,
                             LLVMBasicBlockRef fail) {
  LLVMValueRef arena = LLVMGetParam(t->fn, 0), inputs = LLVMGetParam(t->fn, 1), outputs = LLVMGetParam(t->fn, 2);
  LLVMBasicBlockRef run = new_block(t, "run");
  LLVMPositionBuilderAtEnd(t->b, entry);
  LLVMValueRef bits = LLVMBuildPtrToInt(t->b, arena, t->index, "");
  LLVMValueRef bad = LLVMBuildIsNull(t->b, arena, "");
  bad = any(t, bad, LLVMBuildIsNotNull(t->b, LLVMBuildAnd(t->b, bits, const_int(t->index, 15), ""), ""));
  LLVMBuildCondBr(t->b, bad, fail, run);
  LLVMPositionBuilderAtEnd(t->b, run);
  for (int i = 0; i < mi->ninputs; i++) copy_if_given(t, arena, inputs, i, &mi->inputs[i], true);
  int nargs = mi->has_arena + mi->ninputs + mi->noutputs, k = 0;
  LLVMValueRef *args = new_values(t, nargs);
  args[k++] = arena;
  for (int side = 0; side < 2; side++)
    for (int i = 0; i < (side ? mi->noutputs : mi->ninputs); i++) {
      LLVMValueRef off = const_int(t->index, (side ? mi->outputs : mi->inputs)[i].offset);
      args[k++] = LLVMBuildInBoundsGEP2(t->b, LLVMInt8TypeInContext(t->lc), arena, &off, 1, "");
    }
  LLVMBuildCall2(t->b, LLVMGlobalGetValueType(model), model, args, (unsigned)nargs, "");
  for (int i = 0; i < mi->noutputs; i++) copy_if_given(t, arena, outputs, i, &mi->outputs[i], false);
  LLVMBuildRet(t->b, const_int(LLVMInt32TypeInContext(t->lc), 0));
}

/* Checks the pointers as the C backend does (NULL arrays or entries, a misaligned arena:
 * -1), loads them and calls the model function. */
static void define_invoke(tr *t, const tm_model_info *mi, LLVMValueRef invoke, LLVMValueRef model) {
  LLVMTypeRef i32 = LLVMInt32TypeInContext(t->lc);
  LLVMValueRef arena = LLVMGetParam(invoke, 0), inputs = LLVMGetParam(invoke, 1), outputs = LLVMGetParam(invoke, 2);
  LLVMSetValueName2(arena, "arena", 5);
  LLVMSetValueName2(inputs, "inputs", 6);
  LLVMSetValueName2(outputs, "outputs", 7);
  t->fn = invoke;
  LLVMBasicBlockRef entry = new_block(t, "entry"), fail = new_block(t, "fail");
  LLVMPositionBuilderAtEnd(t->b, fail);
  LLVMBuildRet(t->b, const_int(i32, -1));
  if (mi->io_in_arena) {
    define_invoke_io(t, mi, model, entry, fail);
    return;
  }
  LLVMBasicBlockRef load = new_block(t, "load"), run = new_block(t, "run");
  LLVMMoveBasicBlockAfter(fail, run); /* the error path last */

  LLVMPositionBuilderAtEnd(t->b, entry);
  LLVMValueRef bad = NULL;
  if (mi->ninputs) bad = any(t, bad, LLVMBuildIsNull(t->b, inputs, ""));
  if (mi->noutputs) bad = any(t, bad, LLVMBuildIsNull(t->b, outputs, ""));
  if (mi->arena_bytes) {
    LLVMValueRef bits = LLVMBuildPtrToInt(t->b, arena, t->index, "");
    bad = any(t, bad, LLVMBuildIsNull(t->b, arena, ""));
    bad = any(t, bad, LLVMBuildIsNotNull(t->b, LLVMBuildAnd(t->b, bits, const_int(t->index, 15), ""), ""));
  }
  if (bad) LLVMBuildCondBr(t->b, bad, fail, load);
  else LLVMBuildBr(t->b, load);

  LLVMPositionBuilderAtEnd(t->b, load);
  int nargs = mi->has_arena + mi->ninputs + mi->noutputs;
  LLVMValueRef *args = new_values(t, nargs);
  int k = 0;
  if (mi->has_arena) args[k++] = arena;
  bad = NULL;
  for (int side = 0; side < 2; side++) {
    int n = side ? mi->noutputs : mi->ninputs;
    for (int i = 0; i < n; i++) {
      LLVMValueRef ix = const_int(t->index, i);
      LLVMValueRef slot = LLVMBuildInBoundsGEP2(t->b, t->ptr, side ? outputs : inputs, &ix, 1, "");
      LLVMValueRef p = LLVMBuildLoad2(t->b, t->ptr, slot, tm_arena_printf(t->ctx, "%s%d", side ? "out" : "in", i));
      LLVMSetAlignment(p, abi_align(t, t->ptr));
      bad = any(t, bad, LLVMBuildIsNull(t->b, p, ""));
      args[k++] = p;
    }
  }
  if (bad) LLVMBuildCondBr(t->b, bad, fail, run);
  else LLVMBuildBr(t->b, run);
  LLVMPositionBuilderAtEnd(t->b, run);
  LLVMBuildCall2(t->b, LLVMGlobalGetValueType(model), model, args, (unsigned)nargs, "");
  LLVMBuildRet(t->b, LLVMConstNull(i32));
}

LLVMModuleRef tm_llvm_translate(tm_ctx *ctx, const tm_model_info *mi, tm_op *module, const char *name,
                                LLVMContextRef lc, const tm_llvm_config *cfg) {
  tm_arena *ar = tm_ctx_arena(ctx);
  tr st = {.ctx = ctx, .module = module, .name = name, .cfg = cfg, .lc = lc, .vals = {.arena = ar}, .syms = {.arena = ar}},
     *t = &st;
  t->m = LLVMModuleCreateWithNameInContext(name, lc);
  LLVMSetTarget(t->m, cfg->triple);
  LLVMSetModuleDataLayout(t->m, cfg->layout);
  if (cfg->abi) /* RISC-V reads its ABI from this flag, as clang writes it */
    LLVMAddModuleFlag(t->m, LLVMModuleFlagBehaviorError, "target-abi", 10,
                      LLVMMDStringInContext2(lc, cfg->abi, strlen(cfg->abi)));
  t->b = LLVMCreateBuilderInContext(lc);
  t->ptr = LLVMPointerTypeInContext(lc, 0);
  t->index = LLVMIntPtrTypeInContext(lc, cfg->layout);
  t->invariant_kind = LLVMGetMDKindIDInContext(lc, "invariant.load", 14);
  t->empty_md = LLVMMetadataAsValue(lc, LLVMMDNodeInContext2(lc, NULL, 0));
  t->loop_kind = LLVMGetMDKindIDInContext(lc, "llvm.loop", 9);
  t->scope_kind = LLVMGetMDKindIDInContext(lc, "alias.scope", 11);
  t->noalias_kind = LLVMGetMDKindIDInContext(lc, "noalias", 7);

  /* the one external symbol */
  LLVMTypeRef params[] = {t->ptr, t->ptr, t->ptr};
  LLVMValueRef invoke = LLVMAddFunction(t->m, tm_arena_printf(ctx, "%s_invoke", name),
                                        LLVMFunctionType(LLVMInt32TypeInContext(lc), params, 3, 0));
  target_attrs(t, invoke);
  func_entry *model = get_function(t, mi->func);
  int rc = model ? 0 : -1;
  if (model) {
    if (mi->arena_bytes) { /* NAME_invoke checked it */
      unsigned align = LLVMGetEnumAttributeKindForName("align", 5);
      LLVMAddAttributeAtIndex(model->fn, 1, LLVMCreateEnumAttribute(lc, align, 16));
    }
    for (int i = 0; i < t->nfuncs && !rc; i++) { /* the helpers the model calls, transitively */
      func_entry *fe = t->funcs[i];
      if (fe != model && !strncmp(tm_op_attr_str(fe->op, "sym_name", ""), "__tm_", 5) &&
          !tm_op_attr(fe->op, "tm.outlined"))
        fn_attr(t, fe->fn, "alwaysinline");
      if (!fe->defined) rc = define_function(t, fe, fe == model ? mi : NULL);
    }
  }
  if (!rc) define_invoke(t, mi, invoke, model->fn);
  LLVMDisposeBuilder(t->b);
  if (rc) {
    LLVMDisposeModule(t->m);
    return NULL;
  }
  return t->m;
}
