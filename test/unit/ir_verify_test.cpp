// The structural verifier and the builtin/func op verifiers.
#include "ir_test_util.h"

class Verify : public IrTest {
 protected:
  void SetUp() override {
    IrTest::SetUp();
    module = tm_module_create(ctx, nullptr);
  }
  // func.func @name(i32) -> i32 whose entry block is returned in *entry (no terminator).
  tm_op *func(const char *name, tm_block **entry) {
    tm_op *f = make_func(module, name, {i32()}, {i32()});
    *entry = tm_func_entry(f);
    return f;
  }
  tm_op *ret(tm_block *b, std::vector<tm_value *> vals) {
    tm_op *r = make("func.return", vals);
    tm_block_append(b, r);
    return r;
  }
  int verify() { return tm_verify(ctx, module); }
  tm_op *module = nullptr;
};

TEST_F(Verify, ValidFunctionPasses) {
  tm_block *e;
  func("f", &e);
  tm_op *a = make("test.a", {e->args[0]}, {i32()});
  tm_block_append(e, a);
  ret(e, {tm_op_result(a, 0)});
  EXPECT_EQ(verify(), 0) << all_diags();
  EXPECT_TRUE(diags.empty());
  EXPECT_EQ(tm_ctx_error_count(ctx), 0);
}

TEST_F(Verify, UseBeforeDef) {
  tm_block *e;
  func("f", &e);
  tm_op *a = make("test.a", {}, {i32()});
  tm_op *b = make("test.b", {tm_op_result(a, 0)}, {i32()});
  tm_block_append(e, b);  // b before a
  tm_block_append(e, a);
  ret(e, {e->args[0]});
  EXPECT_NE(verify(), 0);
  EXPECT_TRUE(saw("'test.b' op operand #0 does not dominate this use")) << all_diags();
  EXPECT_EQ(diags[0].loc, b->loc);
}

TEST_F(Verify, SelfUseDoesNotDominate) {
  tm_block *e;
  func("f", &e);
  tm_op *a = make("test.a", {}, {i32()});
  tm_block_append(e, a);
  tm_value *self[] = {tm_op_result(a, 0)};
  tm_op_set_operands(ctx, a, 1, self);
  ret(e, {e->args[0]});
  EXPECT_NE(verify(), 0);
  EXPECT_TRUE(saw("does not dominate")) << all_diags();
}

TEST_F(Verify, NestedRegionSeesEnclosingValues) {
  tm_block *e;
  func("f", &e);
  tm_op *a = make("test.a", {}, {i32()});
  tm_op *n = make("test.nest", {}, {}, 1);
  tm_block_append(e, a);
  tm_block_append(e, n);
  tm_block *nb = tm_block_create(ctx);
  tm_region_add_block(&n->regions[0], nb);
  tm_block_append(nb, make("test.use", {tm_op_result(a, 0), e->args[0]}));
  ret(e, {e->args[0]});
  EXPECT_EQ(verify(), 0) << all_diags();
}

TEST_F(Verify, NestedValueNotVisibleAfterRegion) {
  tm_block *e;
  func("f", &e);
  tm_op *n = make("test.nest", {}, {}, 1);
  tm_block_append(e, n);
  tm_block *nb = tm_block_create(ctx);
  tm_region_add_block(&n->regions[0], nb);
  tm_op *inner = make("test.inner", {}, {i32()});
  tm_block_append(nb, inner);
  tm_block_append(e, make("test.later", {tm_op_result(inner, 0)}));
  ret(e, {e->args[0]});
  EXPECT_NE(verify(), 0);
  EXPECT_TRUE(saw("'test.later' op operand #0 does not dominate this use")) << all_diags();
}

TEST_F(Verify, UseAcrossIsolatedRegion) {
  tm_block *e1, *e2;
  func("f", &e1);
  ret(e1, {e1->args[0]});
  func("g", &e2);
  ret(e2, {e1->args[0]});  // @g returns @f's argument
  EXPECT_NE(verify(), 0);
  EXPECT_TRUE(saw("does not dominate")) << all_diags();
}

TEST_F(Verify, IsolatedOpCannotCaptureOuterValue) {
  tm_block *e;
  func("f", &e);
  // A func.func nested inside a region of an unregistered op inside @f.
  tm_op *n = make("test.nest", {}, {}, 1);
  tm_block_append(e, n);
  tm_block *nb = tm_block_create(ctx);
  tm_region_add_block(&n->regions[0], nb);
  const tm_type *res[] = {i32()};
  const tm_type *ft = tm_type_func(ctx, 0, nullptr, 1, res);
  tm_op *inner = tm_func_create(ctx, "inner", ft, nullptr);
  tm_block_append(nb, inner);
  tm_op *cap = make("func.return", {e->args[0]});
  tm_block_append(tm_func_entry(inner), cap);
  ret(e, {e->args[0]});
  EXPECT_NE(verify(), 0);
  EXPECT_TRUE(saw("'func.return' op using value defined outside the region")) << all_diags();
}

TEST_F(Verify, MissingTerminator) {
  tm_block *e;
  func("f", &e);
  tm_op *a = make("test.a", {}, {i32()});
  tm_block_append(e, a);
  // As in MLIR, an unregistered last op might be a terminator.
  EXPECT_EQ(verify(), 0) << all_diags();
  tm_op *inner = tm_module_create(ctx, nullptr);
  tm_block_append(e, inner);
  EXPECT_NE(verify(), 0);
  EXPECT_TRUE(saw("block with no terminator, has 'builtin.module' operation")) << all_diags();
  diags.clear();
  tm_op_erase(inner);
  tm_op_erase(a);
  EXPECT_NE(verify(), 0);
  EXPECT_TRUE(saw("empty block: expect at least a terminator")) << all_diags();
}

TEST_F(Verify, TerminatorMustBeLast) {
  tm_block *e;
  func("f", &e);
  ret(e, {e->args[0]});
  tm_block_append(e, make("test.after"));
  EXPECT_NE(verify(), 0);
  EXPECT_TRUE(saw("'func.return' op must be the last operation in the parent block")) << all_diags();
}

TEST_F(Verify, WrongOperandCountOfRegisteredOp) {
  tm_block *e;
  func("f", &e);
  tm_op *m2 = make("builtin.module", {e->args[0]}, {}, 1);  // modules take no operands
  tm_block_append(e, m2);
  ret(e, {e->args[0]});
  EXPECT_NE(verify(), 0);
  EXPECT_TRUE(saw("'builtin.module' op expected 0 operands, but found 1")) << all_diags();
}

TEST_F(Verify, WrongRegionCount) {
  tm_block *e;
  func("f", &e);
  tm_block_append(e, make("builtin.module", {}, {}, 0));
  ret(e, {e->args[0]});
  EXPECT_NE(verify(), 0);
  EXPECT_TRUE(saw("expected 1 regions, but found 0")) << all_diags();
}

TEST_F(Verify, MissingRequiredAttribute) {
  tm_block *e;
  tm_op *f = func("f", &e);
  ret(e, {e->args[0]});
  tm_op_remove_attr(f, "sym_name");
  EXPECT_NE(verify(), 0);
  EXPECT_TRUE(saw("'func.func' op requires attribute 'sym_name'")) << all_diags();
}

TEST_F(Verify, WrongAttributeKind) {
  tm_block *e;
  tm_op *f = func("f", &e);
  ret(e, {e->args[0]});
  tm_op_set_attr(ctx, f, "function_type", tm_attr_cstr(ctx, "(i32) -> i32"));
  EXPECT_NE(verify(), 0);
  EXPECT_TRUE(saw("'func.func' op attribute 'function_type' must be a type attribute")) << all_diags();
}

TEST_F(Verify, EntryBlockMustMatchSignature) {
  tm_block *e;
  func("f", &e);
  ret(e, {e->args[0]});
  tm_block_add_arg(ctx, e, f32(), nullptr);
  EXPECT_NE(verify(), 0);
  EXPECT_TRUE(saw("entry block must have 1 arguments to match function signature")) << all_diags();
}

TEST_F(Verify, ReturnArityMismatch) {
  tm_block *e;
  func("f", &e);
  ret(e, {});
  EXPECT_NE(verify(), 0);
  EXPECT_TRUE(saw("'func.return' op has 0 operands, but enclosing function (@f) returns 1")) << all_diags();
}

TEST_F(Verify, DeclarationMustNotBePublic) {
  const tm_type *ft = tm_type_func(ctx, 0, nullptr, 0, nullptr);
  tm_op_state st = {};
  st.name = "func.func";
  tm_named_attr attrs[] = {{"sym_name", tm_attr_cstr(ctx, "decl")}, {"function_type", tm_attr_type(ctx, ft)}};
  st.nattrs = 2;
  st.attrs = attrs;
  st.nregions = 1;
  tm_op *d = tm_op_create(ctx, &st);
  tm_block_append(tm_module_body(module), d);
  EXPECT_NE(verify(), 0);
  EXPECT_TRUE(saw("symbol declaration cannot have public visibility")) << all_diags();
  diags.clear();
  tm_op_set_attr(ctx, d, "sym_visibility", tm_attr_cstr(ctx, "private"));
  EXPECT_EQ(verify(), 0) << all_diags();
}

TEST_F(Verify, CallChecksCallee) {
  tm_block *e;
  func("f", &e);
  const tm_type *ft = tm_type_func(ctx, 0, nullptr, 0, nullptr);
  tm_op *g = tm_func_create(ctx, "g", ft, nullptr);
  tm_block_append(tm_module_body(module), g);
  tm_block_append(tm_func_entry(g), make("func.return"));
  tm_op *ok = make("func.call", {e->args[0]}, {i32()}, 0, {{"callee", tm_attr_symref(ctx, "f", 1)}});
  tm_block_append(e, ok);
  ret(e, {tm_op_result(ok, 0)});
  EXPECT_EQ(verify(), 0) << all_diags();

  tm_op *bad = make("func.call", {}, {}, 0, {{"callee", tm_attr_symref(ctx, "nope", 4)}});
  tm_op_insert_before(ok, bad);
  tm_op *arity = make("func.call", {}, {}, 0, {{"callee", tm_attr_symref(ctx, "f", 1)}});
  tm_op_insert_before(ok, arity);
  tm_op *kind = make("func.call", {}, {}, 0, {{"callee", tm_attr_cstr(ctx, "g")}});
  tm_op_insert_before(ok, kind);
  EXPECT_NE(verify(), 0);
  EXPECT_TRUE(saw("'@nope' does not reference a valid function")) << all_diags();
  EXPECT_TRUE(saw("incorrect number of operands for callee")) << all_diags();
  EXPECT_TRUE(saw("attribute 'callee' must be a symbol reference")) << all_diags();
}

TEST_F(Verify, ReportsEveryError) {
  tm_block *e;
  func("f", &e);
  tm_op *a = make("test.a", {}, {i32()});
  tm_block_append(e, make("test.u1", {tm_op_result(a, 0)}));
  tm_block_append(e, make("test.u2", {tm_op_result(a, 0)}));
  tm_block_append(e, a);
  ret(e, {e->args[0]});
  EXPECT_NE(verify(), 0);
  EXPECT_EQ(tm_ctx_error_count(ctx), 2) << all_diags();
}

TEST_F(Verify, WeirdButConstructibleIrDoesNotCrash) {
  tm_block *e;
  func("f", &e);
  tm_op *nul = make("test.null", {nullptr}, {nullptr});  // null operand, untyped result
  tm_block_append(e, nul);
  tm_block_append(e, make("func.return", {e->args[0], e->args[0]}));  // wrong arity
  tm_block_append(e, make("func.return"));                          // return with 0 results
  tm_op *stray = make("func.return");                               // no parent at all
  tm_block_append(e, make("func.call"));                            // no callee
  tm_op *bad_mod = tm_module_create(ctx, nullptr);                  // module with two blocks
  tm_region_add_block(&bad_mod->regions[0], tm_block_create(ctx));
  tm_block_append(e, bad_mod);
  EXPECT_NE(verify(), 0);
  EXPECT_TRUE(saw("operand #0 is null")) << all_diags();
  EXPECT_TRUE(saw("result #0 has no type")) << all_diags();
  EXPECT_TRUE(saw("requires attribute 'callee'")) << all_diags();
  EXPECT_TRUE(saw("expects region to have 0 or 1 blocks")) << all_diags();
  EXPECT_NE(tm_verify(ctx, stray), 0);
  EXPECT_TRUE(saw("expects parent op 'func.func'")) << all_diags();
  EXPECT_NE(tm_verify(ctx, nullptr), 0);
}

TEST_F(Verify, DetectsCorruptedUseList) {
  tm_block *e;
  func("f", &e);
  tm_op *a = make("test.a", {}, {i32()});
  tm_block_append(e, a);
  tm_op *u = make("test.u", {tm_op_result(a, 0)});
  tm_block_append(e, u);
  ret(e, {e->args[0]});
  EXPECT_EQ(verify(), 0) << all_diags();
  u->operands[0].index = 5;  // simulate a bug in a pass
  EXPECT_NE(verify(), 0);
  EXPECT_TRUE(saw("inconsistent")) << all_diags();
  u->operands[0].index = 0;
}

TEST_F(Verify, OpVerifierHookRunsAndCanFail) {
  tm_opdef *d = tm_opdef_mut(ctx, "func.return");
  ASSERT_NE(d, nullptr);
  d->verify = [](tm_ctx *c, tm_op *op) { return tm_op_error(c, op, "custom failure"); };
  tm_block *e;
  func("f", &e);
  ret(e, {e->args[0]});
  EXPECT_NE(verify(), 0);
  EXPECT_TRUE(saw("'func.return' op custom failure")) << all_diags();
}

TEST_F(Verify, SymbolRedefinition) {
  tm_block *e1, *e2;
  func("f", &e1);
  ret(e1, {e1->args[0]});
  tm_op *again = func("f", &e2);
  ret(e2, {e2->args[0]});
  EXPECT_NE(verify(), 0);
  EXPECT_TRUE(saw("redefinition of symbol named 'f'")) << all_diags();
  ASSERT_FALSE(diags.empty());
  EXPECT_EQ(diags[0].loc, again->loc);
}

TEST_F(Verify, DeepNestingIsReportedNotFatal) {
  tm_block *e;
  func("f", &e);
  ret(e, {e->args[0]});
  tm_op *top = make("test.nest", {}, {}, 1);
  tm_op_insert_before(e->last, top);
  tm_op *cur = top;
  for (int i = 0; i < 1200; i++) {
    tm_block *b = tm_block_create(ctx);
    tm_region_add_block(&cur->regions[0], b);
    tm_op *n = make("test.nest", {}, {}, 1);
    tm_block_append(b, n);
    cur = n;
  }
  EXPECT_NE(verify(), 0);
  EXPECT_TRUE(saw("nested too deeply")) << all_diags();
  // Walks and clones of such IR still work (bounded only by the stack).
  int count = 0;
  tm_op_walk(top, [](tm_op *, void *u) { ++*static_cast<int *>(u); return true; }, &count);
  EXPECT_EQ(count, 1201);
  EXPECT_NE(tm_op_clone(ctx, top), nullptr);
}
