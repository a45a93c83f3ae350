// The greedy rewrite driver, infer-shapes and pipeline verification, on IR that the
// driver cannot feed them: unverified input (infer-shapes exists to fix result types
// the tm verifier rejects) and C patterns that only a unit test can register.
#include <string>

#include "ir_test_util.h"

extern "C" {
#include "frontend/frontend.h"
#include "passes/passes.h"
}

class Passes : public IrTest {
 protected:
  // Parsed, not verified.
  tm_op *parse(const char *text) {
    tm_parse_options opt = {};
    opt.allow_unregistered = true;
    tm_op *m = tm_parse_module(ctx, "t.tir", text, strlen(text), &opt);
    EXPECT_NE(m, nullptr) << all_diags();
    return m;
  }
  int run(tm_op *m, const char *pipeline) {
    tm_pipeline *p = tm_pipeline_new(ctx);
    if (tm_pipeline_parse(p, pipeline, "<pass-pipeline>")) return -1;
    tm_pass_run_config cfg = {};
    cfg.verify_each = true;
    return tm_pipeline_run(p, m, &cfg);
  }
  std::string str(const tm_op *op) { return tm_op_str(ctx, op, nullptr); }
  static bool contains(const std::string &s, const std::string &part) { return s.find(part) != std::string::npos; }
};

// ------------------------------------------------------------------ infer-shapes ---

TEST_F(Passes, InferShapesRefinesResultsAndSignature) {
  tm_op *m = parse(
      "func.func @f(%a: tensor<2x3xf32>) -> tensor<?x3xf32> {\n"
      "  %0 = \"tm.relu\"(%a) : (tensor<2x3xf32>) -> tensor<?x3xf32>\n"
      "  %1 = \"tm.tanh\"(%0) : (tensor<?x3xf32>) -> tensor<?x?xf32>\n"
      "  return %1 : tensor<?x?xf32>\n"
      "}\n");
  ASSERT_NE(tm_verify(ctx, m), 0);  // the tm verifier wants static results
  diags.clear();
  ASSERT_EQ(run(m, "infer-shapes"), 0) << all_diags();
  std::string s = str(m);
  EXPECT_TRUE(contains(s, "func.func @f(%arg0: tensor<2x3xf32>) -> tensor<2x3xf32>")) << s;
  EXPECT_TRUE(contains(s, "(tensor<2x3xf32>) -> tensor<2x3xf32>")) << s;
  EXPECT_FALSE(contains(s, "?")) << s;
  EXPECT_TRUE(diags.empty()) << all_diags();
}

TEST_F(Passes, InferShapesFollowsCallsToLaterFunctions) {
  tm_op *m = parse(
      "func.func @caller(%a: tensor<2x3xf32>) -> tensor<?x3xf32> {\n"
      "  %0 = \"func.call\"(%a) {callee = @callee} : (tensor<2x3xf32>) -> tensor<?x3xf32>\n"
      "  return %0 : tensor<?x3xf32>\n"
      "}\n"
      "func.func @callee(%a: tensor<2x3xf32>) -> tensor<?x3xf32> {\n"
      "  %0 = \"tm.relu\"(%a) : (tensor<2x3xf32>) -> tensor<?x3xf32>\n"
      "  return %0 : tensor<?x3xf32>\n"
      "}\n");
  ASSERT_EQ(run(m, "infer-shapes"), 0) << all_diags();
  std::string s = str(m);
  EXPECT_TRUE(contains(s, "@caller(%arg0: tensor<2x3xf32>) -> tensor<2x3xf32>")) << s;
  EXPECT_TRUE(contains(s, "@callee(%arg0: tensor<2x3xf32>) -> tensor<2x3xf32>")) << s;
  EXPECT_FALSE(contains(s, "?")) << s;
}

TEST_F(Passes, InferShapesConflictIsALocatedError) {
  tm_op *m = parse(
      "func.func @f(%a: tensor<2x3xf32>) -> tensor<4x3xf32> {\n"
      "  %0 = \"tm.relu\"(%a) : (tensor<2x3xf32>) -> tensor<4x3xf32>\n"
      "  return %0 : tensor<4x3xf32>\n"
      "}\n");
  EXPECT_NE(run(m, "infer-shapes"), 0);
  ASSERT_EQ(diags.size(), 1u) << all_diags();
  EXPECT_EQ(diags[0].message,
            "'tm.relu' op inferred type tensor<2x3xf32> of result #0 conflicts with its declared type tensor<4x3xf32>");
  const tm_loc *l = tm_loc_find_file(diags[0].loc);
  ASSERT_NE(l, nullptr);
  EXPECT_EQ(l->line, 2);
}

TEST_F(Passes, InferShapesReturnConflictIsALocatedError) {
  tm_op *m = parse(
      "func.func @f(%a: tensor<2x3xf32>) -> tensor<4x3xf32> {\n"
      "  %0 = \"tm.relu\"(%a) : (tensor<2x3xf32>) -> tensor<?x3xf32>\n"
      "  return %0 : tensor<?x3xf32>\n"
      "}\n");
  EXPECT_NE(run(m, "infer-shapes"), 0);
  ASSERT_EQ(diags.size(), 1u) << all_diags();
  EXPECT_EQ(diags[0].message,
            "'func.return' op type tensor<2x3xf32> of return operand #0 conflicts with the function's result type "
            "tensor<4x3xf32>");
  EXPECT_EQ(tm_loc_find_file(diags[0].loc)->line, 3);
}

// A function pass that changes a signature breaks the callers it cannot see: the module
// is verified after the nested pipeline.
TEST_F(Passes, NestedPipelineIsVerifiedOnItsParent) {
  tm_op *m = parse(
      "func.func @caller(%a: tensor<2x3xf32>) -> tensor<?x3xf32> {\n"
      "  %0 = \"func.call\"(%a) {callee = @callee} : (tensor<2x3xf32>) -> tensor<?x3xf32>\n"
      "  return %0 : tensor<?x3xf32>\n"
      "}\n"
      "func.func @callee(%a: tensor<2x3xf32>) -> tensor<?x3xf32> {\n"
      "  %0 = \"tm.relu\"(%a) : (tensor<2x3xf32>) -> tensor<?x3xf32>\n"
      "  return %0 : tensor<?x3xf32>\n"
      "}\n");
  EXPECT_NE(run(m, "builtin.module(func.func(infer-shapes))"), 0);
  EXPECT_TRUE(saw("verification failed after the 'func.func' pipeline")) << all_diags();
}

// verify-each checks what every pass leaves behind (here: a use before its definition
// that the pass did not cause, as no registered pass breaks the IR), and a failed pass
// is dumped as such.
TEST_F(Passes, VerifyEachStopsAfterTheFirstPassAndDumpsIt) {
  tm_op *m = parse(
      "%0 = \"test.a\"(%1) : (i32) -> i32\n"
      "%1 = \"test.b\"() : () -> i32\n");
  tm_pipeline *p = tm_pipeline_new(ctx);
  ASSERT_EQ(tm_pipeline_parse(p, "dce,cse", "<pass-pipeline>"), 0);
  FILE *dump = tmpfile();
  ASSERT_NE(dump, nullptr);
  tm_pass_run_config cfg = {};
  cfg.verify_each = true;
  cfg.print_after_all = true;
  cfg.dump_file = dump;
  EXPECT_NE(tm_pipeline_run(p, m, &cfg), 0);
  EXPECT_TRUE(saw("verification failed after pass 'dce'")) << all_diags();
  EXPECT_FALSE(saw("after pass 'cse'")) << all_diags();
  rewind(dump);
  std::string text;
  for (int c; (c = fgetc(dump)) != EOF;) text += (char)c;
  fclose(dump);
  EXPECT_TRUE(contains(text, "// -----// IR Dump After Dce Failed (dce) //----- //\n")) << text;
  EXPECT_FALSE(contains(text, "(cse)")) << text;

  diags.clear();
  cfg.verify_each = false;
  cfg.print_after_all = false;
  EXPECT_EQ(tm_pipeline_run(p, m, &cfg), 0) << all_diags();
}

// ----------------------------------------------------------------- greedy driver ---

static bool set_x_1(tm_rewriter *rw, tm_op *op) {
  if (tm_op_attr(op, "x")) return false;
  tm_rw_set_attr(rw, op, "x", tm_attr_int(rw->ctx, nullptr, 1));
  return true;
}
static bool set_x_2(tm_rewriter *rw, tm_op *op) {
  if (tm_op_attr(op, "x")) return false;
  tm_rw_set_attr(rw, op, "x", tm_attr_int(rw->ctx, nullptr, 2));
  return true;
}

TEST_F(Passes, GreedyAppliesTheHighestBenefitFirst) {
  tm_op *m = parse("\"test.a\"() : () -> ()\n\"test.b\"() : () -> ()\n");
  const tm_pattern pats[] = {
      {"test.a", set_x_1, 1, "low"},
      {"test.a", set_x_2, 2, "high"},
      {nullptr, set_x_1, 0, "any"},
  };
  bool changed = false;
  EXPECT_EQ(tm_apply_patterns_greedily(ctx, m, pats, 3, nullptr, &changed), 0);
  EXPECT_TRUE(changed);
  std::string s = str(m);
  EXPECT_TRUE(contains(s, "\"test.a\"() {x = 2}")) << s;
  EXPECT_TRUE(contains(s, "\"test.b\"() {x = 1}")) << s;  // root NULL matches any op
}

// test.b(test.a) -> test.c: the pattern erases test.a, which is still queued.
static bool fuse_ab(tm_rewriter *rw, tm_op *op) {
  tm_value *in = tm_op_operand(op, 0);
  if (!in->def || !tm_op_is(in->def, "test.a")) return false;
  tm_op *a = in->def;
  tm_op_state st = {};
  st.name = "test.c";
  st.loc = op->loc;
  st.nresults = 1;
  const tm_type *t = op->results[0].type;
  st.result_types = &t;
  tm_op *c = tm_rw_create_before(rw, op, &st);
  tm_value *v = tm_op_result(c, 0);
  tm_rw_replace_op(rw, op, &v);
  tm_rw_erase_op(rw, a);
  return true;
}

TEST_F(Passes, GreedyForgetsErasedOps) {
  tm_op *m = parse(
      "%0 = \"test.a\"() : () -> i32\n"
      "%1 = \"test.b\"(%0) : (i32) -> i32\n"
      "\"test.use\"(%1) : (i32) -> ()\n");
  const tm_pattern pats[] = {{"test.b", fuse_ab, 1, "fuse"}};
  EXPECT_EQ(tm_apply_patterns_greedily(ctx, m, pats, 1, nullptr, nullptr), 0);
  std::string s = str(m);
  EXPECT_FALSE(contains(s, "test.a")) << s;
  EXPECT_FALSE(contains(s, "test.b")) << s;
  EXPECT_TRUE(contains(s, "\"test.use\"(%0)")) << s;
  EXPECT_EQ(tm_verify(ctx, m), 0) << all_diags();
}

static bool flip(tm_rewriter *rw, tm_op *op) {
  const tm_attr *a = tm_op_attr(op, "flag");
  tm_rw_set_attr(rw, op, "flag", tm_attr_bool(rw->ctx, !(a && a->u.b)));
  return true;
}

TEST_F(Passes, GreedyStopsPatternsThatNeverConverge) {
  tm_op *m = parse("\"test.a\"() : () -> ()\n");
  const tm_pattern pats[] = {{"test.a", flip, 1, "flip"}};
  tm_greedy_config cfg = {};
  EXPECT_EQ(tm_apply_patterns_greedily(ctx, m, pats, 1, &cfg, nullptr), 1);
  EXPECT_TRUE(diags.empty()) << all_diags();  // not strict: silent
  cfg.strict = true;
  cfg.max_iterations = 3;
  EXPECT_EQ(tm_apply_patterns_greedily(ctx, m, pats, 1, &cfg, nullptr), 1);
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags[0].severity, TM_DIAG_WARNING);
  EXPECT_TRUE(saw("did not converge after 3 iterations (rewrite limit reached")) << all_diags();
}

TEST_F(Passes, GreedyErasesDeadPureOpsButNotTheRest) {
  tm_op *m = parse(
      "%0 = \"tm.const\"() {value = dense<1.0> : tensor<2xf32>} : () -> tensor<2xf32>\n"
      "%1 = \"tm.relu\"(%0) : (tensor<2xf32>) -> tensor<2xf32>\n"
      "%2 = \"test.effect\"() : () -> i32\n");
  tm_greedy_config cfg = {};  // no folding: only dead ops go
  bool changed = false;
  EXPECT_EQ(tm_apply_patterns_greedily(ctx, m, nullptr, 0, &cfg, &changed), 0);
  EXPECT_TRUE(changed);
  std::string s = str(m);
  EXPECT_FALSE(contains(s, "tm.")) << s;
  EXPECT_TRUE(contains(s, "test.effect")) << s;
}

// ------------------------------------------------------------------------ options ---

static int noop(tm_ctx *, tm_op *, const tm_pass_options *) { return 0; }

static const tm_pass_option kinds[] = {
    {"flag", TM_OPT_BOOL, nullptr, "a bool", 0, 0},
    {"n", TM_OPT_INT, "7", "an int in [1, 10]", 1, 10},
    {"scale", TM_OPT_FLOAT, "0.25", "a float", 0, 0},
    {"name", TM_OPT_STRING, "dflt", "a string", 0, 0},
    {"sizes", TM_OPT_INT_LIST, "4,5", "ints >= 0", 0, INT64_MAX},
};
static const tm_pass_info kinds_pass = {"kinds", "every option kind", noop, kinds, (int)TM_COUNTOF(kinds)};

TEST_F(Passes, OptionsOfEveryKindWithDefaults) {
  const tm_pass_options *o = tm_pass_options_parse(ctx, &kinds_pass, "", "<test>");
  ASSERT_NE(o, nullptr) << all_diags();
  EXPECT_FALSE(tm_pass_opt_bool(o, "flag"));
  EXPECT_EQ(tm_pass_opt_int(o, "n"), 7);
  EXPECT_EQ(tm_pass_opt_float(o, "scale"), 0.25);
  EXPECT_STREQ(tm_pass_opt_str(o, "name"), "dflt");
  int n = 0;
  const int64_t *sizes = tm_pass_opt_int_list(o, "sizes", &n);
  ASSERT_EQ(n, 2);
  EXPECT_EQ(sizes[0], 4);
  EXPECT_EQ(sizes[1], 5);

  o = tm_pass_options_parse(ctx, &kinds_pass, " flag n=0x3 scale=-1.5e2  name='a b' sizes=1,2,3 ", "<test>");
  ASSERT_NE(o, nullptr) << all_diags();
  EXPECT_TRUE(tm_pass_opt_bool(o, "flag"));
  EXPECT_EQ(tm_pass_opt_int(o, "n"), 3);
  EXPECT_EQ(tm_pass_opt_float(o, "scale"), -150.0);
  EXPECT_STREQ(tm_pass_opt_str(o, "name"), "a b");
  sizes = tm_pass_opt_int_list(o, "sizes", &n);
  ASSERT_EQ(n, 3);
  EXPECT_EQ(sizes[2], 3);
  // Unknown names and wrong kinds answer zero values.
  EXPECT_EQ(tm_pass_opt_int(o, "scale"), 0);
  EXPECT_STREQ(tm_pass_opt_str(o, "nope"), "");
  EXPECT_EQ(tm_pass_opt_int_list(o, "n", &n), nullptr);
  EXPECT_EQ(n, 0);
  EXPECT_TRUE(diags.empty()) << all_diags();
}

TEST_F(Passes, BadOptionValuesAreLocated) {
  struct {
    const char *text, *message;
    int col;
  } cases[] = {
      {"n=11", "invalid value '11' for option 'n' of pass 'kinds': expected an integer in [1, 10]", 3},
      {"n=99999999999999999999", "invalid value '99999999999999999999' for option 'n' of pass 'kinds': expected an integer", 3},
      {"scale=abc", "invalid value 'abc' for option 'scale' of pass 'kinds': expected a number", 7},
      {"scale=inf", "invalid value 'inf' for option 'scale' of pass 'kinds': expected a number", 7},
      {"sizes=1,,2", "invalid value '1,,2' for option 'sizes' of pass 'kinds': expected a comma-separated list of integers", 7},
      {"sizes=1,-2", "invalid value '1,-2' for option 'sizes' of pass 'kinds': expected integers >= 0", 7},
      {"flag=yes", "invalid value 'yes' for option 'flag' of pass 'kinds': expected 'true' or 'false'", 6},
      {"name", "option 'name' of pass 'kinds' needs a value: name=<string>", 1},
      {"flag name=\"x", "unterminated quoted option value", 11},
      {"sizes=[1", "unbalanced brackets in option value", 7},
      {"x=1", "unknown option 'x' for pass 'kinds'; valid options: flag, n, scale, name, sizes", 1},
  };
  for (const auto &c : cases) {
    diags.clear();
    EXPECT_EQ(tm_pass_options_parse(ctx, &kinds_pass, c.text, "<test>"), nullptr) << c.text;
    ASSERT_EQ(diags.size(), 1u) << c.text << "\n" << all_diags();
    EXPECT_EQ(diags[0].message, c.message) << c.text;
    const tm_loc *l = tm_loc_find_file(diags[0].loc);
    ASSERT_NE(l, nullptr);
    EXPECT_STREQ(l->file, "<test>");
    EXPECT_EQ(l->col, c.col) << c.text;
  }
}
