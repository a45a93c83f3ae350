// test/unit/interp_test.cpp — the float reference interpreter (passes/interp.h) on small
// graphs with hand-computed results, its observer, and its errors.
#include <cmath>
#include <cstring>
#include <vector>

#include "ir_test_util.h"

extern "C" {
#include "frontend/frontend.h"
#include "passes/interp.h"
}

class InterpTest : public IrTest {
 protected:
  // Parses `body` as the only function of a module and runs it on one input.
  std::vector<float> eval(const char *text, std::vector<float> in, int64_t nout, int *status = nullptr) {
    tm_parse_options opt = {};
    tm_op *m = tm_parse_module(ctx, "t.tir", text, strlen(text), &opt);
    EXPECT_NE(m, nullptr) << all_diags();
    if (!m) return {};
    tm_op *f = tm_module_body(m)->first;
    std::vector<float> out((size_t)nout, NAN);
    const float *ins[] = {in.data()};
    float *outs[] = {out.data()};
    int st = tm_interp_func(ctx, f, ins, outs, observer, this);
    if (status) *status = st;
    else EXPECT_EQ(st, 0) << all_diags();
    return out;
  }

  static void observer(void *user, tm_value *v, float *data, int64_t n) {
    auto *self = static_cast<InterpTest *>(user);
    self->observed++;
    if (self->double_op && v->def && tm_op_is(v->def, self->double_op))
      for (int64_t i = 0; i < n; i++) data[i] *= 2;
  }

  int observed = 0;
  const char *double_op = nullptr;
};

TEST_F(InterpTest, ConvSamePaddingSkipsOutsideTaps) {
  auto y = eval(R"(module { func.func @f(%x: tensor<1x3x3x1xf32>) -> tensor<1x3x3x1xf32> {
    %w = "tm.const"() {value = dense<1.0> : tensor<1x3x3x1xf32>} : () -> tensor<1x3x3x1xf32>
    %b = "tm.const"() {value = dense<0.5> : tensor<1xf32>} : () -> tensor<1xf32>
    %0 = "tm.conv2d"(%x, %w, %b) {padding = "same"} : (tensor<1x3x3x1xf32>, tensor<1x3x3x1xf32>, tensor<1xf32>) -> tensor<1x3x3x1xf32>
    return %0 : tensor<1x3x3x1xf32> } })",
                std::vector<float>(9, 1.0f), 9);
  EXPECT_EQ(y, (std::vector<float>{4.5f, 6.5f, 4.5f, 6.5f, 9.5f, 6.5f, 4.5f, 6.5f, 4.5f}));
  EXPECT_EQ(observed, 1 + 3);  // the argument, two constants, the conv
}

TEST_F(InterpTest, ConvStrideAndValidPadding) {
  std::vector<float> x(16);
  for (int i = 0; i < 16; i++) x[i] = (float)i;
  auto y = eval(R"(module { func.func @f(%x: tensor<1x4x4x1xf32>) -> tensor<1x2x2x2xf32> {
    %w = "tm.const"() {value = dense<[[[[1.0], [0.0]], [[0.0], [0.0]]], [[[0.0], [0.0]], [[0.0], [1.0]]]]> : tensor<2x2x2x1xf32>} : () -> tensor<2x2x2x1xf32>
    %0 = "tm.conv2d"(%x, %w) {padding = "valid", stride = [2, 2], fused_activation = "relu6"} : (tensor<1x4x4x1xf32>, tensor<2x2x2x1xf32>) -> tensor<1x2x2x2xf32>
    return %0 : tensor<1x2x2x2xf32> } })",
                x, 8);
  // Channel 0 takes the window's top-left, channel 1 its bottom-right, clamped to 6.
  EXPECT_EQ(y, (std::vector<float>{0, 5, 2, 6, 6, 6, 6, 6}));
}

TEST_F(InterpTest, DepthwiseMultiplier) {
  auto y = eval(R"(module { func.func @f(%x: tensor<1x1x1x2xf32>) -> tensor<1x1x1x4xf32> {
    %w = "tm.const"() {value = dense<[[[[1.0, 2.0, 3.0, 4.0]]]]> : tensor<1x1x1x4xf32>} : () -> tensor<1x1x1x4xf32>
    %b = "tm.const"() {value = dense<[0.0, 0.0, 0.0, -10.0]> : tensor<4xf32>} : () -> tensor<4xf32>
    %0 = "tm.depthwise_conv2d"(%x, %w, %b) {padding = "valid", depth_multiplier = 2} : (tensor<1x1x1x2xf32>, tensor<1x1x1x4xf32>, tensor<4xf32>) -> tensor<1x1x1x4xf32>
    return %0 : tensor<1x1x1x4xf32> } })",
                {1.0f, 2.0f}, 4);
  EXPECT_EQ(y, (std::vector<float>{1, 2, 6, -2}));
}

TEST_F(InterpTest, FullyConnectedBatchesAndRelu) {
  auto y = eval(R"(module { func.func @f(%x: tensor<2x3xf32>) -> tensor<2x2xf32> {
    %w = "tm.const"() {value = dense<[[1.0, 1.0, 1.0], [1.0, -1.0, 0.0]]> : tensor<2x3xf32>} : () -> tensor<2x3xf32>
    %0 = "tm.fully_connected"(%x, %w) {fused_activation = "relu"} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x2xf32>
    return %0 : tensor<2x2xf32> } })",
                {1, 2, 3, 4, -5, 6}, 4);
  EXPECT_EQ(y, (std::vector<float>{6, 0, 5, 9}));
}

TEST_F(InterpTest, AvgPoolCountsOnlyInBoundsTaps) {
  auto y = eval(R"(module { func.func @f(%x: tensor<1x2x2x1xf32>) -> tensor<1x2x2x1xf32> {
    %0 = "tm.avg_pool2d"(%x) {filter = [2, 2], padding = "same"} : (tensor<1x2x2x1xf32>) -> tensor<1x2x2x1xf32>
    return %0 : tensor<1x2x2x1xf32> } })",
                {1, 2, 3, 4}, 4);
  EXPECT_EQ(y, (std::vector<float>{2.5f, 3.0f, 3.5f, 4.0f}));
}

TEST_F(InterpTest, BroadcastingAndMean) {
  auto y = eval(R"(module { func.func @f(%x: tensor<2x1xf32>) -> tensor<1xf32> {
    %c = "tm.const"() {value = dense<[[1.0, 2.0, 3.0]]> : tensor<1x3xf32>} : () -> tensor<1x3xf32>
    %0 = "tm.mul"(%x, %c) : (tensor<2x1xf32>, tensor<1x3xf32>) -> tensor<2x3xf32>
    %1 = "tm.sub"(%0, %c) : (tensor<2x3xf32>, tensor<1x3xf32>) -> tensor<2x3xf32>
    %2 = "tm.mean"(%1) {axes = [0, 1]} : (tensor<2x3xf32>) -> tensor<1xf32>
    return %2 : tensor<1xf32> } })",
                {2, 3}, 1);
  // x * c - c = [[1, 2, 3], [2, 4, 6]], mean 3.
  EXPECT_FLOAT_EQ(y[0], 3.0f);
}

TEST_F(InterpTest, SoftmaxAndLogistic) {
  auto y = eval(R"(module { func.func @f(%x: tensor<1x3xf32>) -> tensor<1x3xf32> {
    %0 = "tm.softmax"(%x) {beta = 2.0 : f32} : (tensor<1x3xf32>) -> tensor<1x3xf32>
    return %0 : tensor<1x3xf32> } })",
                {0.0f, 0.5f, 1.0f}, 3);
  float e0 = 1.0f, e1 = std::exp(1.0f), e2 = std::exp(2.0f), s = e0 + e1 + e2;
  EXPECT_FLOAT_EQ(y[0], e0 / s);
  EXPECT_FLOAT_EQ(y[2], e2 / s);
  auto z = eval(R"(module { func.func @g(%x: tensor<2xf32>) -> tensor<2xf32> {
    %0 = "tm.logistic"(%x) : (tensor<2xf32>) -> tensor<2xf32>
    return %0 : tensor<2xf32> } })",
                {0.0f, 100.0f}, 2);
  EXPECT_EQ(z, (std::vector<float>{0.5f, 1.0f}));
}

TEST_F(InterpTest, ObserverMayChangeValues) {
  double_op = "tm.relu";
  auto y = eval(R"(module { func.func @f(%x: tensor<2xf32>) -> tensor<2xf32> {
    %0 = "tm.relu"(%x) : (tensor<2xf32>) -> tensor<2xf32>
    %1 = "tm.add"(%0, %x) : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
    return %1 : tensor<2xf32> } })",
                {-1.0f, 3.0f}, 2);
  EXPECT_EQ(y, (std::vector<float>{-1.0f, 9.0f}));
}

TEST_F(InterpTest, UnsupportedOpIsALocatedError) {
  int st = 0;
  eval(R"(module { func.func @f(%x: tensor<4xf32>) -> tensor<2xf32> {
    %0 = "tm.strided_slice"(%x) {begin = [0], end = [2], strides = [1]} : (tensor<4xf32>) -> tensor<2xf32>
    return %0 : tensor<2xf32> } })",
       {1, 2, 3, 4}, 2, &st);
  EXPECT_EQ(st, -1);
  EXPECT_TRUE(saw("cannot be evaluated by the float interpreter")) << all_diags();
  ASSERT_FALSE(diags.empty());
  const tm_loc *l = tm_loc_find_file(diags[0].loc);
  ASSERT_NE(l, nullptr);
  EXPECT_EQ(l->line, 2);
}
