// Ops, blocks, regions, use lists, clone, walk, builder, rewriter, locations, diagnostics.
#include <cstdio>
#include <cstring>

#include "ir_test_util.h"

using Ops = IrTest;

namespace {
std::vector<tm_op *> ops_of(tm_block *b) {
  std::vector<tm_op *> v;
  for (tm_op *o = b->first; o; o = o->next) v.push_back(o);
  return v;
}
}  // namespace

TEST_F(Ops, CreateCopiesStateAndSortsAttrs) {
  tm_op *a = make("test.a", {}, {i32(), f32()});
  std::vector<tm_named_attr> attrs = {{"z", tm_attr_unit(ctx)}, {"a", tm_attr_int(ctx, nullptr, 1)},
                                      {"m", tm_attr_cstr(ctx, "s")}, {"a", tm_attr_int(ctx, nullptr, 2)}};
  tm_op *b = make("test.b", {&a->results[0], &a->results[1]}, {}, 2, attrs);
  EXPECT_EQ(b->def, nullptr);
  EXPECT_EQ(b->noperands, 2);
  EXPECT_EQ(tm_op_operand(b, 1), tm_op_result(a, 1));
  EXPECT_EQ(tm_op_result(a, 1)->def, a);
  EXPECT_EQ(tm_op_result(a, 1)->index, 1u);
  ASSERT_EQ(b->nattrs, 3);  // the repeated name keeps its last value
  EXPECT_STREQ(b->attrs[0].name, "a");
  EXPECT_STREQ(b->attrs[1].name, "m");
  EXPECT_STREQ(b->attrs[2].name, "z");
  EXPECT_EQ(tm_op_attr_int(b, "a", 0), 2);
  EXPECT_EQ(b->nregions, 2);
  EXPECT_EQ(b->regions[1].op, b);
  EXPECT_EQ(b->loc, tm_loc_unknown(ctx));
  EXPECT_EQ(make("func.return")->def, tm_opdef_lookup(ctx, "func.return"));
}

TEST_F(Ops, AttrSetRemoveAndTypedGetters) {
  tm_op *op = make("test.op");
  tm_op_set_attr(ctx, op, "k", tm_attr_int(ctx, nullptr, 5));
  tm_op_set_attr(ctx, op, "f", tm_attr_float(ctx, nullptr, 2.5));
  tm_op_set_attr(ctx, op, "s", tm_attr_cstr(ctx, "str"));
  for (int i = 0; i < 20; i++)  // growth past the initial capacity
    tm_op_set_attr(ctx, op, ("x" + std::to_string(i)).c_str(), tm_attr_unit(ctx));
  EXPECT_EQ(op->nattrs, 23);
  for (int i = 1; i < op->nattrs; i++) EXPECT_LT(strcmp(op->attrs[i - 1].name, op->attrs[i].name), 0);
  EXPECT_EQ(tm_op_attr_int(op, "k", -1), 5);
  EXPECT_EQ(tm_op_attr_int(op, "s", -1), -1);  // ill-kinded: default
  EXPECT_DOUBLE_EQ(tm_op_attr_float(op, "f", 0), 2.5);
  EXPECT_DOUBLE_EQ(tm_op_attr_float(op, "k", 0), 5.0);
  EXPECT_STREQ(tm_op_attr_str(op, "s", "d"), "str");
  EXPECT_STREQ(tm_op_attr_str(op, "missing", "d"), "d");
  tm_op_set_attr(ctx, op, "k", tm_attr_int(ctx, nullptr, 6));
  EXPECT_EQ(tm_op_attr_int(op, "k", -1), 6);
  EXPECT_TRUE(tm_op_remove_attr(op, "k"));
  EXPECT_FALSE(tm_op_remove_attr(op, "k"));
  EXPECT_EQ(tm_op_attr(op, "k"), nullptr);
  EXPECT_EQ(op->nattrs, 22);
}

TEST_F(Ops, InsertMoveRemoveErase) {
  tm_block *b = tm_block_create(ctx);
  tm_op *a = make("test.a"), *c = make("test.c"), *d = make("test.d");
  tm_block_append(b, a);
  tm_block_append(b, d);
  tm_op_insert_before(d, c);
  tm_op *z = make("test.z");
  tm_block_prepend(b, z);
  EXPECT_EQ(ops_of(b), (std::vector<tm_op *>{z, a, c, d}));
  tm_op_move_before(d, a);
  EXPECT_EQ(ops_of(b), (std::vector<tm_op *>{z, d, a, c}));
  tm_op_insert_after(c, z);
  EXPECT_EQ(ops_of(b), (std::vector<tm_op *>{d, a, c, z}));
  EXPECT_TRUE(tm_op_is_before_in_block(a, z));
  EXPECT_FALSE(tm_op_is_before_in_block(z, a));
  tm_op_remove(a);
  EXPECT_EQ(a->block, nullptr);
  EXPECT_EQ(ops_of(b), (std::vector<tm_op *>{d, c, z}));
  tm_op_erase(z);
  EXPECT_EQ(b->last, c);
  tm_op_erase(d);
  tm_op_erase(c);
  EXPECT_EQ(b->first, nullptr);
  EXPECT_EQ(b->last, nullptr);
}

TEST_F(Ops, InsertIntoOwnRegionIsRefused) {
  tm_op *outer = make("test.outer", {}, {}, 1);
  tm_block *b = tm_block_create(ctx);
  tm_region_add_block(&outer->regions[0], b);
  tm_op *inner = make("test.inner");
  tm_block_append(b, inner);
  tm_op_insert_before(inner, outer);  // would make outer its own ancestor
  EXPECT_EQ(outer->block, nullptr);
  tm_block_append(b, outer);
  EXPECT_EQ(outer->block, nullptr);
  EXPECT_TRUE(tm_op_is_ancestor(outer, inner));
  EXPECT_TRUE(tm_op_is_ancestor(inner, inner));
  EXPECT_FALSE(tm_op_is_ancestor(inner, outer));
  EXPECT_EQ(tm_op_parent(inner), outer);
}

TEST_F(Ops, UseListsAndReplaceAllUses) {
  tm_op *a = make("test.a", {}, {i32()});
  tm_op *b = make("test.b", {}, {i32()});
  tm_value *va = tm_op_result(a, 0), *vb = tm_op_result(b, 0);
  tm_op *u1 = make("test.u", {va, va});
  tm_op *u2 = make("test.u", {va, vb});
  EXPECT_EQ(tm_value_num_uses(va), 3);
  EXPECT_FALSE(tm_value_has_one_use(va));
  EXPECT_TRUE(tm_value_has_one_use(vb));
  tm_value_replace_uses_except(va, vb, u2);
  EXPECT_EQ(tm_value_num_uses(va), 1);
  EXPECT_EQ(tm_op_operand(u1, 0), vb);
  EXPECT_EQ(tm_op_operand(u1, 1), vb);
  EXPECT_EQ(tm_op_operand(u2, 0), va);
  tm_value_replace_all_uses(va, vb);
  EXPECT_FALSE(tm_value_has_uses(va));
  EXPECT_EQ(tm_value_num_uses(vb), 4);
  for (tm_use *u = vb->uses; u; u = u->next) {
    EXPECT_EQ(u->value, vb);
    EXPECT_EQ(&u->user->operands[u->index], u);
  }
  tm_op_set_operand(u2, 1, va);
  EXPECT_EQ(tm_value_num_uses(va), 1);
  tm_op_erase(u1);  // drops its uses
  EXPECT_EQ(tm_value_num_uses(vb), 1);
}

TEST_F(Ops, SetOperandsGrowsAndShrinks) {
  tm_op *a = make("test.a", {}, {i32(), i32(), i32()});
  tm_op *u = make("test.u", {tm_op_result(a, 0)});
  tm_value *three[] = {tm_op_result(a, 1), tm_op_result(a, 2), tm_op_result(a, 1)};
  tm_op_set_operands(ctx, u, 3, three);
  EXPECT_EQ(u->noperands, 3);
  EXPECT_FALSE(tm_value_has_uses(tm_op_result(a, 0)));
  EXPECT_EQ(tm_value_num_uses(tm_op_result(a, 1)), 2);
  tm_op_set_operands(ctx, u, 1, three + 2);
  EXPECT_EQ(u->noperands, 1);
  EXPECT_EQ(tm_value_num_uses(tm_op_result(a, 1)), 1);
  EXPECT_FALSE(tm_value_has_uses(tm_op_result(a, 2)));
}

TEST_F(Ops, ReplaceOp) {
  tm_block *b = tm_block_create(ctx);
  tm_op *a = make("test.a", {}, {i32()});
  tm_op *old = make("test.old", {tm_op_result(a, 0)}, {i32()});
  tm_op *user = make("test.user", {tm_op_result(old, 0)});
  for (tm_op *o : {a, old, user}) tm_block_append(b, o);
  tm_value *repl[] = {tm_op_result(a, 0)};
  tm_op_replace(old, repl);
  EXPECT_EQ(tm_op_operand(user, 0), tm_op_result(a, 0));
  EXPECT_EQ(tm_value_num_uses(tm_op_result(a, 0)), 1);
  EXPECT_EQ(ops_of(b), (std::vector<tm_op *>{a, user}));
}

TEST_F(Ops, BlockArgs) {
  tm_block *b = tm_block_create(ctx);
  for (int i = 0; i < 10; i++) tm_block_add_arg(ctx, b, i32(), nullptr);
  EXPECT_EQ(b->nargs, 10);
  EXPECT_EQ(b->args[9]->index, 9u);
  EXPECT_EQ(b->args[9]->block, b);
  EXPECT_EQ(b->args[9]->def, nullptr);
  tm_value *keep = b->args[5];
  tm_block_erase_arg(b, 2);
  EXPECT_EQ(b->nargs, 9);
  EXPECT_EQ(b->args[4], keep);
  EXPECT_EQ(keep->index, 4u);
}

TEST_F(Ops, CloneRemapsNestedValues) {
  tm_op *outside = make("test.outside", {}, {i32()});
  tm_op *outer = make("test.outer", {tm_op_result(outside, 0)}, {f32()}, 1,
                      {{"attr", tm_attr_int(ctx, nullptr, 3)}});
  tm_block *body = tm_block_create(ctx);
  tm_region_add_block(&outer->regions[0], body);
  tm_value *arg = tm_block_add_arg(ctx, body, i32(), nullptr);
  tm_op *x = make("test.x", {arg, tm_op_result(outside, 0)}, {i32()});
  tm_block_append(body, x);
  tm_op *nested = make("test.nested", {}, {}, 1);
  tm_block_append(body, nested);
  tm_block *nb = tm_block_create(ctx);
  tm_region_add_block(&nested->regions[0], nb);
  tm_op *y = make("test.y", {tm_op_result(x, 0), arg});
  tm_block_append(nb, y);

  tm_op *c = tm_op_clone(ctx, outer);
  EXPECT_EQ(c->block, nullptr);
  EXPECT_EQ(tm_op_operand(c, 0), tm_op_result(outside, 0));  // outside operand kept
  EXPECT_EQ(tm_op_attr_int(c, "attr", 0), 3);
  EXPECT_EQ(c->results[0].type, f32());
  tm_block *cb = c->regions[0].first;
  ASSERT_NE(cb, nullptr);
  ASSERT_NE(cb, body);
  ASSERT_EQ(cb->nargs, 1);
  tm_op *cx = cb->first;
  ASSERT_NE(cx, x);
  EXPECT_EQ(tm_op_operand(cx, 0), cb->args[0]);
  EXPECT_EQ(tm_op_operand(cx, 1), tm_op_result(outside, 0));
  tm_op *cy = cx->next->regions[0].first->first;
  EXPECT_EQ(tm_op_operand(cy, 0), tm_op_result(cx, 0));
  EXPECT_EQ(tm_op_operand(cy, 1), cb->args[0]);
  EXPECT_EQ(tm_value_num_uses(tm_op_result(outside, 0)), 4);  // outer, x, and their clones
  EXPECT_EQ(tm_value_num_uses(arg), 2);                        // originals untouched
}

namespace {
struct WalkLog {
  std::vector<std::string> names;
  const char *erase = nullptr;
  const char *stop = nullptr;
};
bool log_op(tm_op *op, void *user) {
  auto *w = static_cast<WalkLog *>(user);
  w->names.push_back(op->name);
  if (w->erase && tm_op_is(op, w->erase)) tm_op_erase(op);
  return !(w->stop && tm_op_is(op, w->stop));
}
}  // namespace

class Walk : public IrTest {
 protected:
  // root { a; n { b; c }; d }
  void SetUp() override {
    IrTest::SetUp();
    root = make("test.root", {}, {}, 1);
    tm_block *rb = tm_block_create(ctx);
    tm_region_add_block(&root->regions[0], rb);
    tm_block_append(rb, make("test.a"));
    tm_op *n = make("test.n", {}, {}, 1);
    tm_block_append(rb, n);
    tm_block *nb = tm_block_create(ctx);
    tm_region_add_block(&n->regions[0], nb);
    tm_block_append(nb, make("test.b"));
    tm_block_append(nb, make("test.c"));
    tm_block_append(rb, make("test.d"));
  }
  tm_op *root = nullptr;
};

TEST_F(Walk, PreAndPostOrder) {
  WalkLog pre, post;
  EXPECT_TRUE(tm_op_walk(root, log_op, &pre));
  EXPECT_EQ(pre.names, (std::vector<std::string>{"test.root", "test.a", "test.n", "test.b", "test.c", "test.d"}));
  EXPECT_TRUE(tm_op_walk_post(root, log_op, &post));
  EXPECT_EQ(post.names, (std::vector<std::string>{"test.a", "test.b", "test.c", "test.n", "test.d", "test.root"}));
}

TEST_F(Walk, EraseCurrentOp) {
  WalkLog w;
  w.erase = "test.n";  // its body is not visited after the erase
  EXPECT_TRUE(tm_op_walk(root, log_op, &w));
  EXPECT_EQ(w.names, (std::vector<std::string>{"test.root", "test.a", "test.n", "test.d"}));
  WalkLog again;
  tm_op_walk(root, log_op, &again);
  EXPECT_EQ(again.names, (std::vector<std::string>{"test.root", "test.a", "test.d"}));
  WalkLog post;
  post.erase = "test.a";
  EXPECT_TRUE(tm_op_walk_post(root, log_op, &post));
  EXPECT_EQ(post.names, (std::vector<std::string>{"test.a", "test.d", "test.root"}));
}

TEST_F(Walk, Stop) {
  WalkLog w;
  w.stop = "test.b";
  EXPECT_FALSE(tm_op_walk(root, log_op, &w));
  EXPECT_EQ(w.names.back(), "test.b");
  EXPECT_EQ(w.names.size(), 4u);
  WalkLog p;
  p.stop = "test.c";
  EXPECT_FALSE(tm_op_walk_post(root, log_op, &p));
  EXPECT_EQ(p.names, (std::vector<std::string>{"test.a", "test.b", "test.c"}));
}

TEST_F(Ops, Builder) {
  tm_block *b = tm_block_create(ctx);
  tm_builder end = tm_builder_at_end(ctx, b);
  end.loc = tm_loc_name(ctx, "here", nullptr);
  tm_op_state st = {};
  st.name = "test.first";
  tm_op *first = tm_build(&end, &st);
  st.name = "test.last";
  tm_op *last = tm_build(&end, &st);
  EXPECT_EQ(first->loc, end.loc);
  tm_builder mid = tm_builder_before(ctx, last);
  EXPECT_EQ(mid.loc, last->loc);
  st.name = "test.mid";
  st.loc = tm_loc_file(ctx, "x.tir", 1, 2);
  tm_op *m = tm_build(&mid, &st);
  EXPECT_EQ(m->loc, st.loc);  // an explicit loc wins over the builder's
  EXPECT_EQ(ops_of(b), (std::vector<tm_op *>{first, m, last}));
}

namespace {
struct Events {
  std::vector<std::string> log;
};
void on_inserted(void *u, tm_op *op) { static_cast<Events *>(u)->log.push_back(std::string("inserted ") + op->name); }
void on_erased(void *u, tm_op *op) {
  // Called before the unlink: the op is still in its block.
  static_cast<Events *>(u)->log.push_back(std::string("erased ") + op->name + (op->block ? "" : " (detached!)"));
}
void on_modified(void *u, tm_op *op) { static_cast<Events *>(u)->log.push_back(std::string("modified ") + op->name); }
}  // namespace

TEST_F(Ops, RewriterNotifiesListener) {
  tm_block *b = tm_block_create(ctx);
  tm_op *a = make("test.a", {}, {i32()});
  tm_op *old = make("test.old", {}, {i32()}, 1);
  tm_block *ob = tm_block_create(ctx);
  tm_region_add_block(&old->regions[0], ob);
  tm_block_append(ob, make("test.inner"));
  tm_op *user = make("test.user", {tm_op_result(old, 0)});
  for (tm_op *o : {a, old, user}) tm_block_append(b, o);

  Events ev;
  tm_rewriter rw = tm_rewriter_make(ctx);
  rw.listener = {on_inserted, on_erased, on_modified, &ev};
  tm_op_state st = {};
  st.name = "test.new";
  const tm_type *rt[] = {i32()};
  st.nresults = 1;
  st.result_types = rt;
  tm_op *n = tm_rw_create_before(&rw, old, &st);
  EXPECT_EQ(n->next, old);
  tm_value *repl[] = {tm_op_result(n, 0)};
  tm_rw_replace_op(&rw, old, repl);
  EXPECT_EQ(tm_op_operand(user, 0), tm_op_result(n, 0));
  tm_rw_set_attr(&rw, user, "x", tm_attr_unit(ctx));
  tm_rw_set_operand(&rw, user, 0, tm_op_result(a, 0));
  tm_rw_replace_all_uses(&rw, tm_op_result(a, 0), tm_op_result(n, 0));
  tm_rw_modified(&rw, a);
  tm_rw_erase_op(&rw, a);
  EXPECT_EQ(ev.log, (std::vector<std::string>{"inserted test.new", "modified test.user", "erased test.inner",
                                              "erased test.old", "modified test.user", "modified test.user",
                                              "modified test.user", "modified test.a", "erased test.a"}));
  EXPECT_EQ(ops_of(b), (std::vector<tm_op *>{n, user}));
  tm_rewriter quiet = tm_rewriter_make(ctx);  // no listener: must not crash
  tm_rw_set_attr(&quiet, user, "y", tm_attr_unit(ctx));
  tm_rw_erase_op(&quiet, user);
}

TEST_F(Ops, Registry) {
  EXPECT_NE(tm_opdef_lookup(ctx, "builtin.module"), nullptr);
  EXPECT_NE(tm_opdef_lookup(ctx, "func.call"), nullptr);
  EXPECT_EQ(tm_opdef_lookup(ctx, "test.nothing"), nullptr);
  ASSERT_GE(tm_opdef_count(ctx), 4);
  for (int i = 0; i < tm_opdef_count(ctx); i++)
    EXPECT_EQ(tm_opdef_lookup(ctx, tm_opdef_at(ctx, i)->name), tm_opdef_at(ctx, i));
  EXPECT_EQ(tm_opdef_at(ctx, -1), nullptr);
  EXPECT_EQ(tm_opdef_at(ctx, tm_opdef_count(ctx)), nullptr);
  const tm_opdef *f = tm_opdef_lookup(ctx, "func.func");
  ASSERT_NE(tm_opdef_attr(f, "sym_name"), nullptr);
  EXPECT_TRUE(tm_opdef_attr(f, "sym_name")->required);
  EXPECT_EQ(tm_opdef_attr(f, "nope"), nullptr);
  tm_op *ret = make("func.return");
  EXPECT_TRUE(tm_op_has_trait(ret, TM_TRAIT_TERMINATOR));
  EXPECT_FALSE(tm_op_has_trait(make("test.x"), TM_TRAIT_TERMINATOR));
}

TEST_F(Ops, ModuleAndFuncHelpers) {
  tm_op *m = tm_module_create(ctx, nullptr);
  ASSERT_NE(tm_module_body(m), nullptr);
  tm_op *f = make_func(m, "main", {i32(), f32()}, {f32()});
  make_func(m, "other", {}, {});
  EXPECT_EQ(tm_module_lookup(m, "main"), f);
  EXPECT_EQ(tm_module_lookup(m, "missing"), nullptr);
  EXPECT_EQ(tm_func_type(f)->ninputs, 2);
  tm_block *entry = tm_func_entry(f);
  ASSERT_NE(entry, nullptr);
  ASSERT_EQ(entry->nargs, 2);
  EXPECT_EQ(entry->args[1]->type, f32());
  EXPECT_STREQ(tm_op_attr_str(f, "sym_name", ""), "main");
}

TEST_F(Ops, Locations) {
  const tm_loc *f = tm_loc_file(ctx, "m.tir", 3, 8);
  EXPECT_EQ(f->kind, TM_LOC_FILE);
  EXPECT_EQ(f->file, tm_intern_cstr(ctx, "m.tir"));
  EXPECT_EQ(tm_loc_find_file(f), f);
  const tm_loc *n = tm_loc_name(ctx, "conv", f);
  EXPECT_EQ(tm_loc_find_file(n), f);
  EXPECT_EQ(tm_loc_find_file(tm_loc_name(ctx, "x", nullptr)), nullptr);
  const tm_loc *parts[] = {tm_loc_unknown(ctx), n};
  const tm_loc *fu = tm_loc_fused(ctx, 2, parts);
  EXPECT_EQ(fu->nlocs, 2);
  EXPECT_EQ(tm_loc_find_file(fu), f);
  const tm_loc *g = tm_loc_file(ctx, "g.tir", 1, 1);
  const tm_loc *cs = tm_loc_callsite(ctx, tm_loc_unknown(ctx), g);
  EXPECT_EQ(tm_loc_find_file(cs), g);
  EXPECT_EQ(tm_loc_find_file(tm_loc_callsite(ctx, f, g)), f);  // callee first
  EXPECT_EQ(tm_loc_find_file(tm_loc_unknown(ctx)), nullptr);
  EXPECT_EQ(tm_loc_unknown(ctx), tm_loc_unknown(ctx));
}

TEST_F(Ops, DiagnosticsCountAndHandler) {
  tm_error(ctx, nullptr, "first %d", 1);
  tm_warning(ctx, nullptr, "warn");
  tm_op *op = make("test.op");
  EXPECT_EQ(tm_op_error(ctx, op, "bad %s", "thing"), -1);
  EXPECT_EQ(tm_ctx_error_count(ctx), 2);
  ASSERT_EQ(diags.size(), 3u);
  EXPECT_EQ(diags[0].message, "first 1");
  EXPECT_EQ(diags[1].severity, TM_DIAG_WARNING);
  EXPECT_EQ(diags[2].message, "'test.op' op bad thing");
  EXPECT_EQ(diags[2].loc, op->loc);
}

namespace {
std::string print_diag(tm_ctx *ctx, tm_diag_severity sev, const tm_loc *loc, const char *msg) {
  char *buf = nullptr;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  tm_diag d = {sev, loc, msg};
  tm_diag_print(ctx, &d, f);
  fclose(f);
  std::string s(buf, len);
  free(buf);
  return s;
}
}  // namespace

TEST_F(Ops, DiagnosticPrintingWithSourceAndCaret) {
  static const char text[] = "module {\n\tfoo bar\r\n}\n";
  tm_ctx_add_source(ctx, "m.tir", text, sizeof text - 1);
  const char *line;
  size_t len;
  ASSERT_TRUE(tm_ctx_source_line(ctx, "m.tir", 2, &line, &len));
  EXPECT_EQ(std::string(line, len), "\tfoo bar");  // CR stripped
  EXPECT_FALSE(tm_ctx_source_line(ctx, "m.tir", 99, &line, &len));
  EXPECT_FALSE(tm_ctx_source_line(ctx, "other.tir", 1, &line, &len));
  EXPECT_EQ(print_diag(ctx, TM_DIAG_ERROR, tm_loc_file(ctx, "m.tir", 2, 6), "boom"),
            "m.tir:2:6: error: boom\n\tfoo bar\n\t    ^\n");
  EXPECT_EQ(print_diag(ctx, TM_DIAG_NOTE, tm_loc_name(ctx, "n", tm_loc_file(ctx, "m.tir", 1, 1)), "see"),
            "m.tir:1:1: note: see\nmodule {\n^\n");
  // Column past the end of the line: no caret, no out-of-bounds read.
  EXPECT_EQ(print_diag(ctx, TM_DIAG_ERROR, tm_loc_file(ctx, "m.tir", 3, 50), "x"), "m.tir:3:50: error: x\n}\n");
  EXPECT_EQ(print_diag(ctx, TM_DIAG_ERROR, tm_loc_file(ctx, "nofile.tir", 4, 2), "y"), "nofile.tir:4:2: error: y\n");
  EXPECT_EQ(print_diag(ctx, TM_DIAG_ERROR, tm_loc_unknown(ctx), "u"), "<unknown>: error: u\n");
  EXPECT_EQ(print_diag(ctx, TM_DIAG_WARNING, tm_loc_name(ctx, "conv1", nullptr), "w"), "conv1: warning: w\n");
}

TEST_F(Ops, SourceChunkKeepsWholeBuffer) {
  static const char text[] = "a\nb\n// -----\nc\n";
  tm_ctx_add_source(ctx, "s.tir", text, sizeof text - 1);
  tm_ctx_add_source(ctx, "s.tir", text + 13, 2);  // a split-input chunk of the same buffer
  const char *line;
  size_t len;
  ASSERT_TRUE(tm_ctx_source_line(ctx, "s.tir", 4, &line, &len));
  EXPECT_EQ(std::string(line, len), "c");
}

TEST_F(Ops, SourceChunkWithFirstLine) {
  static const char chunk[] = "x\ny\n";
  tm_ctx_add_source_at(ctx, "c.tir", chunk, sizeof chunk - 1, 10);
  const char *line;
  size_t len;
  ASSERT_TRUE(tm_ctx_source_line(ctx, "c.tir", 11, &line, &len));
  EXPECT_EQ(std::string(line, len), "y");
  EXPECT_FALSE(tm_ctx_source_line(ctx, "c.tir", 9, &line, &len));
  EXPECT_FALSE(tm_ctx_source_line(ctx, "c.tir", 1000, &line, &len));
  static const char other[] = "z\n";
  tm_ctx_add_source_at(ctx, "c.tir", other, 2, 20);  // a later chunk replaces it
  ASSERT_TRUE(tm_ctx_source_line(ctx, "c.tir", 20, &line, &len));
  EXPECT_EQ(std::string(line, len), "z");
  EXPECT_FALSE(tm_ctx_source_line(ctx, "c.tir", 11, &line, &len));
}
