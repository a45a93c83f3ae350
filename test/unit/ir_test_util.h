// test/unit/ir_test_util.h — shared fixture for the IR unit tests: a fresh context per
// test and a diagnostic handler that records messages instead of printing them.
#ifndef TM_IR_TEST_UTIL_H
#define TM_IR_TEST_UTIL_H

#include <gtest/gtest.h>

#include <string>
#include <vector>

extern "C" {
#include "ir/ir.h"
}

struct RecordedDiag {
  tm_diag_severity severity;
  const tm_loc *loc;
  std::string message;
};

class IrTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ctx = tm_ctx_new();
    tm_diag_set_handler(ctx, &IrTest::record, this);
  }
  void TearDown() override { tm_ctx_free(ctx); }

  static void record(tm_ctx *, const tm_diag *d, void *user) {
    static_cast<IrTest *>(user)->diags.push_back({d->severity, d->loc, d->message});
  }

  // True if some recorded diagnostic contains `text`.
  bool saw(const std::string &text) const {
    for (const auto &d : diags)
      if (d.message.find(text) != std::string::npos) return true;
    return false;
  }

  std::string all_diags() const {
    std::string s;
    for (const auto &d : diags) s += d.message + "\n";
    return s;
  }

  const tm_type *i32() { return tm_type_int(ctx, 32); }
  const tm_type *f32() { return tm_type_float(ctx, 32); }
  const tm_type *tensor(std::vector<int64_t> dims, const tm_type *elem) {
    return tm_type_tensor(ctx, elem, (int)dims.size(), dims.data());
  }

  // An unregistered op "test.<name>" with the given operands, result types and regions.
  tm_op *make(const char *name, std::vector<tm_value *> operands = {},
              std::vector<const tm_type *> results = {}, int nregions = 0,
              std::vector<tm_named_attr> attrs = {}) {
    tm_op_state st = {};
    st.name = name;
    st.noperands = (int)operands.size();
    st.operands = operands.data();
    st.nresults = (int)results.size();
    st.result_types = results.data();
    st.nattrs = (int)attrs.size();
    st.attrs = attrs.data();
    st.nregions = nregions;
    return tm_op_create(ctx, &st);
  }

  // module { func.func @name(inputs) -> results { <entry block> } }, returning the func.
  tm_op *make_func(tm_op *module, const char *name, std::vector<const tm_type *> inputs,
                   std::vector<const tm_type *> results) {
    const tm_type *ft = tm_type_func(ctx, (int)inputs.size(), inputs.data(), (int)results.size(),
                                     results.data());
    tm_op *f = tm_func_create(ctx, name, ft, nullptr);
    tm_block_append(tm_module_body(module), f);
    return f;
  }

  tm_ctx *ctx = nullptr;
  std::vector<RecordedDiag> diags;
};

#endif
