// The lowered-level dialects (arith, scf, memref, math) through the API: dialect
// registration, the infer hooks and the checks only API-built IR can reach.  Their
// textual forms and MLIR-equivalent errors are tested in test/lowered/.
#include "ir_test_util.h"

using Lowered = IrTest;

namespace {
tm_named_attr named(tm_ctx *ctx, const char *name, const tm_attr *a) { return {tm_intern_cstr(ctx, name), a}; }
}  // namespace

TEST_F(Lowered, DialectsAreRegistered) {
  for (const char *d : {"arith", "scf", "memref", "math", "tm", "func", "builtin"})
    EXPECT_TRUE(tm_dialect_is_registered(ctx, d, strlen(d))) << d;
  EXPECT_TRUE(tm_dialect_is_registered(ctx, "arith.foo", 5));  // only the first len bytes count
  EXPECT_FALSE(tm_dialect_is_registered(ctx, "arith", 3));     // "ari" is no dialect
  EXPECT_FALSE(tm_dialect_is_registered(ctx, "test", 4));
  EXPECT_FALSE(tm_dialect_is_registered(ctx, "", 0));
  EXPECT_FALSE(tm_dialect_is_registered(ctx, nullptr, 0));
}

TEST_F(Lowered, Traits) {
  EXPECT_TRUE(make("arith.addi", {}, {})->def->traits & TM_TRAIT_PURE);
  EXPECT_TRUE(make("arith.constant")->def->traits & TM_TRAIT_CONSTANT);
  EXPECT_FALSE(make("memref.load")->def->traits & TM_TRAIT_PURE);
  EXPECT_FALSE(make("scf.for")->def->traits & TM_TRAIT_PURE);
  EXPECT_TRUE(make("scf.yield")->def->traits & TM_TRAIT_TERMINATOR);
  EXPECT_TRUE(make("memref.global")->def->traits & TM_TRAIT_SYMBOL);
}

// sum = for i in [0, 4): sum += m[i], built with the builder, verifies and infers.
TEST_F(Lowered, BuiltLoopVerifiesAndInfers) {
  const tm_type *idx = tm_type_index(ctx);
  int64_t four = 4;
  const tm_type *mt = tm_type_memref(ctx, i32(), 1, &four);
  tm_op *module = tm_module_create(ctx, tm_loc_unknown(ctx));
  const tm_type *ins[] = {mt}, *outs[] = {i32()};
  tm_op *f = tm_func_create(ctx, "sum", tm_type_func(ctx, 1, ins, 1, outs), tm_loc_unknown(ctx));
  tm_block_append(tm_module_body(module), f);
  tm_builder b = tm_builder_at_end(ctx, tm_func_entry(f));
  auto constant = [&](const tm_attr *v, const tm_type *t) {
    tm_named_attr a = named(ctx, "value", v);
    tm_op_state st = {};
    st.name = "arith.constant";
    st.nresults = 1;
    st.result_types = &t;
    st.nattrs = 1;
    st.attrs = &a;
    return tm_op_result(tm_build(&b, &st), 0);
  };
  tm_value *lb = constant(tm_attr_int(ctx, idx, 0), idx), *ub = constant(tm_attr_int(ctx, idx, 4), idx);
  tm_value *step = constant(tm_attr_int(ctx, idx, 1), idx), *zero = constant(tm_attr_int(ctx, i32(), 0), i32());
  tm_value *for_operands[] = {lb, ub, step, zero};
  const tm_type *for_results[] = {i32()};
  tm_op_state fs = {};
  fs.name = "scf.for";
  fs.noperands = 4;
  fs.operands = for_operands;
  fs.nresults = 1;
  fs.result_types = for_results;
  fs.nregions = 1;
  tm_op *loop = tm_build(&b, &fs);
  tm_block *body = tm_block_create(ctx);
  tm_value *iv = tm_block_add_arg(ctx, body, idx, tm_loc_unknown(ctx));
  tm_value *acc = tm_block_add_arg(ctx, body, i32(), tm_loc_unknown(ctx));
  tm_region_add_block(&loop->regions[0], body);
  tm_builder in = tm_builder_at_end(ctx, body);
  tm_value *load_operands[] = {tm_func_entry(f)->args[0], iv};
  const tm_type *elem = i32();
  tm_op_state ls = {};
  ls.name = "memref.load";
  ls.noperands = 2;
  ls.operands = load_operands;
  ls.nresults = 1;
  ls.result_types = &elem;
  tm_op *load = tm_build(&in, &ls);
  tm_value *add_operands[] = {acc, tm_op_result(load, 0)};
  tm_op_state as = ls;
  as.name = "arith.addi";
  as.operands = add_operands;
  tm_op *add = tm_build(&in, &as);
  tm_value *sum = tm_op_result(add, 0);
  tm_op_state ys = {};
  ys.name = "scf.yield";
  ys.noperands = 1;
  ys.operands = &sum;
  tm_build(&in, &ys);
  tm_value *result = tm_op_result(loop, 0);
  tm_op_state rs = {};
  rs.name = "func.return";
  rs.noperands = 1;
  rs.operands = &result;
  tm_build(&b, &rs);
  ASSERT_EQ(tm_verify(ctx, module), 0) << all_diags();

  const tm_type *t = nullptr;
  for (tm_op *op : {load, add, loop}) {
    ASSERT_NE(op->def->infer, nullptr) << op->name;
    ASSERT_EQ(op->def->infer(ctx, op, &t), 0) << op->name;
    EXPECT_EQ(t, i32()) << op->name;
  }
  tm_value *cmp_operands[] = {iv, ub};
  tm_named_attr pred = named(ctx, "predicate", tm_attr_int(ctx, nullptr, 2));
  tm_op *cmp = make("arith.cmpi", {cmp_operands[0], cmp_operands[1]}, {tm_type_int(ctx, 1)}, 0, {pred});
  ASSERT_EQ(cmp->def->infer(ctx, cmp, &t), 0);
  EXPECT_EQ(t, tm_type_int(ctx, 1));
  tm_op_erase(cmp);
  tm_op_erase(module);
}

// The parser rejects `300 : i8`; an attribute built through the API must not reach
// the printer either (mlir-opt would reject the text).
TEST_F(Lowered, ConstantOutOfRange) {
  const tm_type *i8 = tm_type_int(ctx, 8);
  tm_op *c = make("arith.constant", {}, {i8}, 0, {named(ctx, "value", tm_attr_int(ctx, i8, 300))});
  EXPECT_NE(tm_verify(ctx, c), 0);
  EXPECT_TRUE(saw("'arith.constant' op value 300 does not fit in 'i8'")) << all_diags();
  diags.clear();
  tm_op *ok = make("arith.constant", {}, {i8}, 0, {named(ctx, "value", tm_attr_int(ctx, i8, 255))});
  EXPECT_EQ(tm_verify(ctx, ok), 0) << all_diags();
}

// get_global infers the global's type through the enclosing module's symbol table.
TEST_F(Lowered, GetGlobalInfersTheGlobalsType) {
  int64_t dims[] = {2, 3};
  const tm_type *mt = tm_type_memref(ctx, f32(), 2, dims);
  tm_op *module = tm_module_create(ctx, tm_loc_unknown(ctx));
  tm_op *g = make("memref.global", {}, {}, 0,
                  {named(ctx, "sym_name", tm_attr_cstr(ctx, "g")), named(ctx, "type", tm_attr_type(ctx, mt))});
  tm_block_append(tm_module_body(module), g);
  tm_op *get = make("memref.get_global", {}, {mt}, 0, {named(ctx, "name", tm_attr_symref(ctx, "g", 1))});
  const tm_type *t = nullptr;
  EXPECT_NE(get->def->infer(ctx, get, &t), 0);  // detached: no module to look in
  tm_block_append(tm_module_body(module), get);
  ASSERT_EQ(get->def->infer(ctx, get, &t), 0) << all_diags();
  EXPECT_EQ(t, mt);
  tm_op_erase(module);
}
