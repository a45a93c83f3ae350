// Unit tests for the TFLite flatbuffer reader: the shared real models against their
// info.txt, hand-built tiny flatbuffers (valid and hostile), and crash-freedom under
// truncation and byte flips (run the suite with -DTINYML_SANITIZE=ON to make that count).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

extern "C" {
#include "frontend/tflite_reader.h"
}

namespace {

using Bytes = std::vector<uint8_t>;

// ------------------------------------------------------------ a tiny flatbuffer writer
// Objects are laid out front to back (parents before children), so every reference
// points forward as flatbuffers requires; references are patched once the child exists.

struct Fb {
  Bytes b;
  size_t here() const { return b.size(); }
  void align(size_t a) {
    while (b.size() % a) b.push_back(0);
  }
  void le(uint64_t v, int n) {
    for (int i = 0; i < n; i++) b.push_back(uint8_t(v >> (8 * i)));
  }
  void set(size_t at, uint64_t v, int n) {
    for (int i = 0; i < n; i++) b[at + i] = uint8_t(v >> (8 * i));
  }
  void link(size_t at, size_t target) { set(at, target - at, 4); }
  void raw(const void *p, size_t n) {
    const uint8_t *c = static_cast<const uint8_t *>(p);
    b.insert(b.end(), c, c + n);
  }
};

// A table field: `size` bytes of scalar `v`, or a 4-byte reference to patch when size == 0.
struct F {
  int id;
  int size;
  uint64_t v;
};

// Writes a vtable and its table; slot[id] receives each field's position.
size_t Table(Fb &fb, const std::vector<F> &fs, std::map<int, size_t> *slot = nullptr) {
  int maxid = -1;
  for (const F &f : fs) maxid = std::max(maxid, f.id);
  std::vector<uint16_t> offs(maxid + 1, 0);
  uint16_t o = 4;
  for (const F &f : fs) {
    offs[f.id] = o;
    o += f.size ? f.size : 4;
  }
  fb.align(2);
  size_t vt = fb.here();
  fb.le(4 + 2 * (maxid + 1), 2);
  fb.le(o, 2);
  for (uint16_t off : offs) fb.le(off, 2);
  fb.align(4);
  size_t t = fb.here();
  fb.le(uint32_t(t - vt), 4);
  for (const F &f : fs) {
    if (slot) (*slot)[f.id] = fb.here();
    fb.le(f.v, f.size ? f.size : 4);
  }
  return t;
}

template <typename T> size_t Vector(Fb &fb, const std::vector<T> &v) {
  fb.align(4);
  size_t pos = fb.here();
  fb.le(v.size(), 4);
  for (const T &x : v) fb.raw(&x, sizeof x);
  return pos;
}

size_t String(Fb &fb, const std::string &s) {
  fb.align(4);
  size_t pos = fb.here();
  fb.le(s.size(), 4);
  fb.raw(s.data(), s.size());
  fb.b.push_back(0);
  return pos;
}

// A vector of n references; slots receive the positions to link.
size_t RefVector(Fb &fb, size_t n, std::vector<size_t> *slots) {
  fb.align(4);
  size_t pos = fb.here();
  fb.le(n, 4);
  for (size_t i = 0; i < n; i++) {
    slots->push_back(fb.here());
    fb.le(0, 4);
  }
  return pos;
}

// ------------------------------------------------------------ a tiny model description

struct TensorSpec {
  std::vector<int32_t> shape;
  int type = TFL_INT8;
  uint32_t buffer = 0;
  std::string name;
  bool quant = false;
  std::vector<float> scales;
  std::vector<int64_t> zero_points;
  int32_t qdim = 0;
  int details_type = -1;      // >= 0: write QuantizationParameters.details_type
  bool details_value = false; // and an (empty) table as its value
  std::vector<int32_t> signature;
  bool has_signature = false;
};

struct OpSpec {
  uint32_t opcode = 0;
  std::vector<int32_t> inputs, outputs;
  int options_type = 0;
  bool options_table = false;
  std::vector<F> options; // fields of the options table
};

struct BufferSpec {
  Bytes data;
  bool external = false; // store in the Buffer.offset/size form after the flatbuffer
  uint64_t offset_override = 0, size_override = 0;
};

struct OpcodeSpec {
  int32_t builtin;
  std::string custom;
  int dep = -1; // deprecated_builtin_code; -1: min(builtin, 127)
};

struct ModelSpec {
  std::vector<OpcodeSpec> opcodes;
  std::vector<BufferSpec> buffers;
  std::vector<TensorSpec> tensors;
  std::vector<int32_t> inputs, outputs;
  std::vector<OpSpec> ops;
  bool no_subgraphs = false;
  std::string description = "tiny";
};

// Where interesting bytes ended up, for byte-level mutations.
struct Layout {
  size_t model = 0, model_vt = 0, tensors_vec = 0, tensor0_name = 0, op0 = 0;
  size_t op0_inputs = 0, description = 0;
};

Bytes Build(const ModelSpec &s, Layout *lay = nullptr) {
  Layout scratch;
  Layout &L = lay ? *lay : scratch;
  Fb fb;
  fb.le(0, 4);
  fb.raw("TFL3", 4);
  std::map<int, size_t> ms;
  L.model_vt = 8;
  L.model = Table(fb, {{0, 4, 3}, {1, 0, 0}, {2, 0, 0}, {3, 0, 0}, {4, 0, 0}}, &ms);
  fb.link(0, L.model);
  L.description = String(fb, s.description);
  fb.link(ms[3], L.description);

  std::vector<size_t> slots;
  fb.link(ms[4], RefVector(fb, s.buffers.size(), &slots));
  std::vector<std::pair<size_t, size_t>> external; // (slot of offset, buffer index)
  for (size_t i = 0; i < s.buffers.size(); i++) {
    const BufferSpec &b = s.buffers[i];
    std::map<int, size_t> bs;
    std::vector<F> fs;
    if (b.external)
      fs = {{1, 8, 0}, {2, 8, 0}};
    else if (!b.data.empty())
      fs = {{0, 0, 0}};
    fb.link(slots[i], Table(fb, fs, &bs));
    if (b.external)
      external.push_back({bs[1], i});
    else if (!b.data.empty())
      fb.link(bs[0], Vector(fb, b.data));
  }

  slots.clear();
  fb.link(ms[1], RefVector(fb, s.opcodes.size(), &slots));
  for (size_t i = 0; i < s.opcodes.size(); i++) {
    const OpcodeSpec &c = s.opcodes[i];
    int dep = c.dep >= 0 ? c.dep : std::min(c.builtin, 127);
    std::vector<F> fs = {{0, 1, uint64_t(dep)}, {2, 4, 1}, {3, 4, uint32_t(c.builtin)}};
    if (!c.custom.empty()) fs.push_back({1, 0, 0});
    std::map<int, size_t> cs;
    fb.link(slots[i], Table(fb, fs, &cs));
    if (!c.custom.empty()) fb.link(cs[1], String(fb, c.custom));
  }

  slots.clear();
  fb.link(ms[2], RefVector(fb, s.no_subgraphs ? 0 : 1, &slots));
  if (!s.no_subgraphs) {
    std::map<int, size_t> gs;
    fb.link(slots[0], Table(fb, {{0, 0, 0}, {1, 0, 0}, {2, 0, 0}, {3, 0, 0}, {4, 0, 0}}, &gs));
    fb.link(gs[1], Vector(fb, s.inputs));
    fb.link(gs[2], Vector(fb, s.outputs));
    fb.link(gs[4], String(fb, "main"));
    std::vector<size_t> ts;
    L.tensors_vec = RefVector(fb, s.tensors.size(), &ts);
    fb.link(gs[0], L.tensors_vec);
    for (size_t i = 0; i < s.tensors.size(); i++) {
      const TensorSpec &t = s.tensors[i];
      std::vector<F> fs = {{0, 0, 0}, {1, 1, uint64_t(t.type)}, {2, 4, t.buffer}, {3, 0, 0}};
      if (t.quant) fs.push_back({4, 0, 0});
      if (t.has_signature) fs.push_back({7, 0, 0});
      std::map<int, size_t> tsl;
      fb.link(ts[i], Table(fb, fs, &tsl));
      fb.link(tsl[0], Vector(fb, t.shape));
      size_t name = String(fb, t.name);
      if (i == 0) L.tensor0_name = name;
      fb.link(tsl[3], name);
      if (t.has_signature) fb.link(tsl[7], Vector(fb, t.signature));
      if (t.quant) {
        std::vector<F> qf = {{2, 0, 0}, {3, 0, 0}, {6, 4, uint32_t(t.qdim)}};
        if (t.details_type >= 0) qf.push_back({4, 1, uint64_t(t.details_type)});
        if (t.details_value) qf.push_back({5, 0, 0});
        std::map<int, size_t> qs;
        fb.link(tsl[4], Table(fb, qf, &qs));
        if (t.details_value) fb.link(qs[5], Table(fb, {}));
        fb.link(qs[2], Vector(fb, t.scales));
        fb.link(qs[3], Vector(fb, t.zero_points));
      }
    }
    std::vector<size_t> os;
    fb.link(gs[3], RefVector(fb, s.ops.size(), &os));
    for (size_t i = 0; i < s.ops.size(); i++) {
      const OpSpec &o = s.ops[i];
      std::vector<F> fs = {{0, 4, o.opcode}, {1, 0, 0}, {2, 0, 0}};
      if (o.options_type) fs.push_back({3, 1, uint64_t(o.options_type)});
      if (o.options_table) fs.push_back({4, 0, 0});
      std::map<int, size_t> osl;
      size_t op = Table(fb, fs, &osl);
      if (i == 0) L.op0 = op;
      fb.link(os[i], op);
      size_t in = Vector(fb, o.inputs);
      if (i == 0) L.op0_inputs = in;
      fb.link(osl[1], in);
      fb.link(osl[2], Vector(fb, o.outputs));
      if (o.options_table) fb.link(osl[4], Table(fb, o.options));
    }
  }
  // Data of the >2 GB form lives after the flatbuffer, addressed from the file start.
  for (auto [slot, i] : external) {
    const BufferSpec &b = s.buffers[i];
    fb.align(16);
    uint64_t off = b.offset_override ? b.offset_override : fb.here();
    uint64_t size = b.size_override ? b.size_override : b.data.size();
    fb.raw(b.data.data(), b.data.size());
    fb.set(slot, off, 8);
    fb.set(slot + 8, size, 8);
  }
  return fb.b;
}

template <typename T> Bytes Le(const std::vector<T> &v) {
  Bytes b(v.size() * sizeof(T));
  if (!v.empty()) std::memcpy(b.data(), v.data(), b.size());
  return b;
}

// A valid int8 fully-connected model: x[1,4] * W[2,4]^T + b[2] -> y[1,2], RELU.
ModelSpec TinyFc() {
  ModelSpec s;
  s.opcodes = {{TFL_OP_FULLY_CONNECTED, ""}};
  s.buffers.resize(4);
  s.buffers[1].data = Le<int8_t>({1, -2, 3, -4, 5, -6, 7, -8});
  s.buffers[2].data = Le<int32_t>({100, -100});
  TensorSpec x;
  x.shape = {1, 4};
  x.name = "x";
  x.quant = true;
  x.scales = {0.5f};
  x.zero_points = {-1};
  x.has_signature = true;
  x.signature = {-1, 4};
  TensorSpec w;
  w.shape = {2, 4};
  w.buffer = 1;
  w.name = "w";
  w.quant = true;
  w.scales = {0.1f, 0.2f};
  w.zero_points = {0, 0};
  TensorSpec b;
  b.shape = {2};
  b.type = TFL_INT32;
  b.buffer = 2;
  b.name = "b";
  b.quant = true;
  b.scales = {0.05f, 0.1f};
  b.zero_points = {0, 0};
  TensorSpec y;
  y.shape = {1, 2};
  y.buffer = 3;
  y.name = "y";
  y.quant = true;
  y.scales = {0.25f};
  y.zero_points = {3};
  s.tensors = {x, w, b, y};
  s.inputs = {0};
  s.outputs = {3};
  OpSpec fc;
  fc.inputs = {0, 1, 2};
  fc.outputs = {3};
  fc.options_type = TFL_OPT_FULLY_CONNECTED;
  fc.options_table = true;
  fc.options = {{0, 1, TFL_ACT_RELU}, {2, 1, 1}};
  s.ops = {fc};
  return s;
}

// A valid float model: CONV_2D(x[1,5,5,1], w[2,3,3,1], bias absent) -> SOFTMAX, plus a
// CUSTOM op; exercises options, optional inputs and custom codes.
ModelSpec TinyConv() {
  ModelSpec s;
  s.opcodes = {{TFL_OP_CONV_2D, ""}, {TFL_OP_SOFTMAX, ""}, {TFL_OP_CUSTOM, "MyOp"}};
  s.buffers.resize(2);
  std::vector<float> w(18);
  for (size_t i = 0; i < w.size(); i++) w[i] = 0.125f * float(i);
  s.buffers[1].data = Le(w);
  TensorSpec x, wt, c, y, z;
  x.type = wt.type = c.type = y.type = z.type = TFL_FLOAT32;
  x.shape = {1, 5, 5, 1};
  x.name = "x";
  wt.shape = {2, 3, 3, 1};
  wt.buffer = 1;
  wt.name = "w";
  c.shape = {1, 3, 3, 2};
  c.name = "conv";
  y.shape = {1, 3, 3, 2};
  y.name = "softmax";
  z.shape = {1, 3, 3, 2};
  z.name = "custom";
  s.tensors = {x, wt, c, y, z};
  s.inputs = {0};
  s.outputs = {4};
  OpSpec conv;
  conv.opcode = 0;
  conv.inputs = {0, 1, -1};
  conv.outputs = {2};
  conv.options_type = TFL_OPT_CONV2D;
  conv.options_table = true;
  conv.options = {{0, 1, TFL_PAD_VALID}, {1, 4, 1}, {2, 4, 2}, {3, 1, TFL_ACT_RELU6}};
  OpSpec sm;
  sm.opcode = 1;
  sm.inputs = {2};
  sm.outputs = {3};
  sm.options_type = TFL_OPT_SOFTMAX;
  sm.options_table = true;
  float beta = 0.5f;
  uint32_t beta_bits;
  std::memcpy(&beta_bits, &beta, 4);
  sm.options = {{0, 4, beta_bits}};
  OpSpec custom;
  custom.opcode = 2;
  custom.inputs = {3};
  custom.outputs = {4};
  s.ops = {conv, sm, custom};
  return s;
}

// ------------------------------------------------------------ reading helpers

// Owns the bytes too: the model points into them.
struct Read {
  Bytes bytes;
  tfl_status status;
  tfl_model *model = nullptr;
  tfl_error err;
  explicit Read(Bytes b) : bytes(std::move(b)) {
    status = tfl_model_read(bytes.data(), bytes.size(), nullptr, nullptr, &model, &err);
  }
  ~Read() { tfl_model_free(model); }
  Read(const Read &) = delete;
  Read &operator=(const Read &) = delete;
};

// Expects an error of `status` whose message contains `needle`.
void ExpectError(const Bytes &b, tfl_status status, const std::string &needle) {
  Read r(b);
  EXPECT_EQ(r.status, status) << r.err.message;
  EXPECT_EQ(r.model, nullptr);
  EXPECT_NE(std::string(r.err.message).find(needle), std::string::npos)
      << "message: " << r.err.message << "\nexpected to contain: " << needle;
  EXPECT_EQ(std::string(r.err.message).rfind("tflite: ", 0), 0u) << r.err.message;
}

void ExpectError(const ModelSpec &s, tfl_status status, const std::string &needle) {
  ExpectError(Build(s), status, needle);
}

void Put32(Bytes &b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; i++) b[at + i] = uint8_t(v >> (8 * i));
}
void Put16(Bytes &b, size_t at, uint16_t v) {
  b[at] = uint8_t(v);
  b[at + 1] = uint8_t(v >> 8);
}
uint32_t Get32(const Bytes &b, size_t at) {
  return b[at] | b[at + 1] << 8 | b[at + 2] << 16 | uint32_t(b[at + 3]) << 24;
}

// ------------------------------------------------------------ the shared models

std::string SharedDir() {
  if (const char *env = std::getenv("TINYML_SHARED_DIR")) return env;
  // CMake compiles with absolute paths: <repo>/test/unit/this.cpp -> <repo>/../shared.
  std::string file = __FILE__;
  size_t cut = file.rfind("/test/unit/");
  if (cut == std::string::npos) return "../shared";
  return file.substr(0, cut) + "/../shared";
}

bool ReadFile(const std::string &path, Bytes *out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  out->assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  return true;
}

const char *const kModels[] = {
    "ad01_float",        "ad01_int8",    "hello_world_float", "hello_world_int8", "kws_int8",
    "micro_speech_int8", "resnet_float", "resnet_int8",       "vww_float",        "vww_int8"};

struct IoInfo {
  std::string type;
  std::vector<int> shape;
  bool quant = false;
  double scale = 0;
  long zero_point = 0;
  long bytes = 0;
};

struct Info {
  std::set<std::string> ops;
  std::map<std::string, int> ops_used;
  int num_subgraphs = -1, num_operators = -1;
  IoInfo in, out;
};

IoInfo ParseIo(const std::string &line) {
  IoInfo io;
  std::istringstream ss(line.substr(line.find(':') + 1));
  std::string kv;
  while (ss >> kv) {
    size_t eq = kv.find('=');
    std::string k = kv.substr(0, eq), v = kv.substr(eq + 1);
    if (k == "type")
      io.type = v;
    else if (k == "bytes")
      io.bytes = std::stol(v);
    else if (k == "scale")
      io.quant = true, io.scale = std::stod(v);
    else if (k == "zero_point")
      io.zero_point = std::stol(v);
    else if (k == "shape") {
      std::string dims = v.substr(1, v.size() - 2);
      std::istringstream ds(dims);
      std::string d;
      while (std::getline(ds, d, ',')) io.shape.push_back(std::stoi(d));
    }
  }
  return io;
}

bool ParseInfo(const std::string &path, Info *info) {
  std::ifstream f(path);
  if (!f) return false;
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("ops: ", 0) == 0) {
      std::istringstream ss(line.substr(5));
      std::string op;
      while (ss >> op) info->ops.insert(op);
    } else if (line.rfind("ops_used: ", 0) == 0) {
      std::istringstream ss(line.substr(10));
      std::string item; // CONV_2D(x5)
      while (ss >> item) {
        size_t p = item.find("(x");
        info->ops_used[item.substr(0, p)] = std::stoi(item.substr(p + 2));
      }
    } else if (line.rfind("num_subgraphs=", 0) == 0) {
      std::sscanf(line.c_str(), "num_subgraphs=%d num_operators_sg0=%d", &info->num_subgraphs,
                  &info->num_operators);
    } else if (line.rfind("input[0]:", 0) == 0) {
      info->in = ParseIo(line);
    } else if (line.rfind("output[0]:", 0) == 0) {
      info->out = ParseIo(line);
    }
  }
  return true;
}

void ExpectTensorMatches(const tfl_model *m, const tfl_tensor &t, const IoInfo &io) {
  EXPECT_STREQ(tfl_type_name(t.type), io.type.c_str()) << t.name;
  ASSERT_EQ(t.rank, io.shape.size()) << t.name;
  long elems = 1;
  for (uint32_t i = 0; i < t.rank; i++) {
    EXPECT_EQ(t.shape[i], io.shape[i]) << t.name << " dim " << i;
    elems *= t.shape[i];
  }
  EXPECT_EQ(elems * long(tfl_type_size(t.type)), io.bytes) << t.name;
  EXPECT_EQ(m->buffers[t.buffer].size, 0u) << "graph input/output with constant data";
  bool quantized = t.quant && t.quant->num_scales > 0;
  EXPECT_EQ(quantized, io.quant) << t.name;
  if (quantized && io.quant) {
    ASSERT_EQ(t.quant->num_scales, 1u);
    EXPECT_NEAR(t.quant->scales[0], io.scale, 1e-6 * io.scale) << t.name;
    EXPECT_EQ(t.quant->zero_points[0], io.zero_point) << t.name;
  }
}

class SharedModel : public ::testing::TestWithParam<const char *> {
protected:
  void SetUp() override {
    std::string dir = SharedDir() + "/models/" + GetParam();
    if (!ReadFile(dir + "/model.tflite", &bytes) || !ParseInfo(dir + "/info.txt", &info))
      GTEST_SKIP() << "shared model " << dir << " not available";
  }
  Bytes bytes;
  Info info;
};

TEST_P(SharedModel, MatchesInfo) {
  Read r(bytes);
  ASSERT_EQ(r.status, TFL_OK) << r.err.message;
  const tfl_model *m = r.model;
  EXPECT_EQ(m->version, 3u);
  EXPECT_TRUE(m->has_identifier);
  ASSERT_EQ(int(m->num_subgraphs), info.num_subgraphs);
  const tfl_subgraph &g = m->subgraphs[0];
  ASSERT_EQ(int(g.num_operators), info.num_operators);

  std::set<std::string> codes;
  for (uint32_t i = 0; i < m->num_opcodes; i++) {
    const char *name = tfl_builtin_name(m->opcodes[i].builtin_code);
    ASSERT_NE(name, nullptr) << "opcode " << i << " code " << m->opcodes[i].builtin_code;
    codes.insert(name);
  }
  EXPECT_EQ(codes, info.ops);

  std::map<std::string, int> used;
  for (uint32_t i = 0; i < g.num_operators; i++) {
    const tfl_operator &op = g.operators[i];
    used[tfl_builtin_name(op.builtin_code)]++;
    EXPECT_EQ(op.builtin_code, m->opcodes[op.opcode_index].builtin_code);
    EXPECT_GE(op.num_outputs, 1u);
    for (uint32_t k = 0; k < op.num_outputs; k++)
      EXPECT_EQ(m->buffers[g.tensors[op.outputs[k]].buffer].size, 0u) << "op " << i;
    // Every op of these models carries the options table its builtin expects.
    switch (op.builtin_code) {
    case TFL_OP_CONV_2D: EXPECT_EQ(op.options_type, TFL_OPT_CONV2D); break;
    case TFL_OP_DEPTHWISE_CONV_2D: EXPECT_EQ(op.options_type, TFL_OPT_DEPTHWISE_CONV2D); break;
    case TFL_OP_AVERAGE_POOL_2D: EXPECT_EQ(op.options_type, TFL_OPT_POOL2D); break;
    case TFL_OP_FULLY_CONNECTED: EXPECT_EQ(op.options_type, TFL_OPT_FULLY_CONNECTED); break;
    case TFL_OP_SOFTMAX:
      EXPECT_EQ(op.options_type, TFL_OPT_SOFTMAX);
      EXPECT_EQ(op.options.softmax.beta, 1.0f);
      break;
    case TFL_OP_ADD: EXPECT_EQ(op.options_type, TFL_OPT_ADD); break;
    case TFL_OP_RESHAPE: EXPECT_EQ(op.options_type, TFL_OPT_RESHAPE); break;
    default: ADD_FAILURE() << "unexpected op " << tfl_builtin_name(op.builtin_code);
    }
  }
  EXPECT_EQ(used, info.ops_used);

  ASSERT_GE(g.num_inputs, 1u);
  ASSERT_GE(g.num_outputs, 1u);
  ExpectTensorMatches(m, g.tensors[g.inputs[0]], info.in);
  ExpectTensorMatches(m, g.tensors[g.outputs[0]], info.out);

  // Constant data must lie inside the caller's bytes.
  for (uint32_t i = 0; i < m->num_buffers; i++) {
    const tfl_buffer &b = m->buffers[i];
    if (!b.size) continue;
    EXPECT_GE(b.data, r.bytes.data());
    EXPECT_LE(b.data + b.size, r.bytes.data() + r.bytes.size());
  }
}

// Reading with a caller allocator gives the same model, allocated only from it.
TEST_P(SharedModel, CallerAllocator) {
  struct Arena {
    std::vector<std::unique_ptr<max_align_t[]>> blocks;
    size_t calls = 0;
  } arena;
  auto alloc = [](void *user, size_t size) -> void * {
    Arena *a = static_cast<Arena *>(user);
    a->calls++;
    a->blocks.emplace_back(new max_align_t[size / sizeof(max_align_t) + 1]);
    return a->blocks.back().get();
  };
  tfl_model *m = nullptr;
  tfl_error err;
  ASSERT_EQ(tfl_model_read(bytes.data(), bytes.size(), alloc, &arena, &m, &err), TFL_OK)
      << err.message;
  EXPECT_GT(arena.calls, 10u);
  EXPECT_EQ(m->owned_, nullptr);
  EXPECT_EQ(int(m->subgraphs[0].num_operators), info.num_operators);
  tfl_model_free(m); // a no-op for caller memory; must not touch the arena's blocks
}

// Allocation failure at every point is reported, not crashed on, and leaks nothing.
TEST_P(SharedModel, AllocationFailure) {
  struct Tracking {
    size_t left; // allocations that still succeed
    std::vector<void *> live;
  };
  auto alloc = [](void *user, size_t size) -> void * {
    Tracking *t = static_cast<Tracking *>(user);
    if (t->left == 0) return nullptr;
    t->left--;
    t->live.push_back(std::calloc(1, size));
    return t->live.back();
  };
  tfl_model *m = nullptr;
  Tracking full{SIZE_MAX, {}};
  ASSERT_EQ(tfl_model_read(bytes.data(), bytes.size(), alloc, &full, &m, nullptr), TFL_OK);
  size_t total = full.live.size();
  for (void *p : full.live) std::free(p);
  for (size_t n = 0; n < total; n += 1 + total / 50) {
    Tracking t{n, {}};
    tfl_error err;
    EXPECT_EQ(tfl_model_read(bytes.data(), bytes.size(), alloc, &t, &m, &err), TFL_ERR_NOMEM);
    EXPECT_EQ(m, nullptr);
    EXPECT_NE(std::string(err.message).find("out of memory"), std::string::npos) << err.message;
    for (void *p : t.live) std::free(p);
  }
}

// Truncation at every 1/64th must fail cleanly; byte flips must never crash.
TEST_P(SharedModel, TruncateAndFlip) {
  for (int k = 0; k < 64; k++) {
    Bytes cut(bytes.begin(), bytes.begin() + bytes.size() * k / 64);
    Read r(std::move(cut));
    EXPECT_NE(r.status, TFL_OK) << "truncated to " << cut.size() << " bytes";
    EXPECT_NE(r.err.message[0], 0);
  }
  // The flatbuffer metadata sits around the big weight buffers, so flip densely where the
  // reader looks (the first and last KiB) and at a stride through the rest.  In place:
  // copying the big models for every flip would dominate the run time.
  size_t n = bytes.size();
  size_t stride = n / 1000 + 1;
  int errors = 0;
  for (size_t pos = 0; pos < n; pos += (pos < 1024 || pos + 1024 >= n) ? 1 : stride) {
    for (uint8_t x : {uint8_t(0xff), uint8_t(0x80), uint8_t(0x01)}) {
      bytes[pos] ^= x;
      tfl_model *m = nullptr;
      tfl_error err;
      if (tfl_model_read(bytes.data(), bytes.size(), nullptr, nullptr, &m, &err) != TFL_OK) {
        errors++;
        EXPECT_NE(err.message[0], 0);
      }
      tfl_model_free(m);
      bytes[pos] ^= x;
    }
  }
  EXPECT_GT(errors, 0);
}

INSTANTIATE_TEST_SUITE_P(Models, SharedModel, ::testing::ValuesIn(kModels),
                         [](const auto &info) { return std::string(info.param); });

// ------------------------------------------------------------ hand-built valid models

TEST(TflReader, TinyFullyConnected) {
  Read r(Build(TinyFc()));
  ASSERT_EQ(r.status, TFL_OK) << r.err.message;
  const tfl_model *m = r.model;
  EXPECT_STREQ(m->description, "tiny");
  ASSERT_EQ(m->num_opcodes, 1u);
  EXPECT_EQ(m->opcodes[0].builtin_code, TFL_OP_FULLY_CONNECTED);
  EXPECT_EQ(m->opcodes[0].custom_code, nullptr);
  ASSERT_EQ(m->num_buffers, 4u);
  EXPECT_EQ(m->buffers[0].size, 0u);
  EXPECT_EQ(m->buffers[0].data, nullptr);
  EXPECT_EQ(m->buffers[1].size, 8u);
  EXPECT_EQ(int8_t(m->buffers[1].data[1]), -2);
  const tfl_subgraph &g = m->subgraphs[0];
  EXPECT_STREQ(g.name, "main");
  ASSERT_EQ(g.num_tensors, 4u);
  const tfl_tensor &x = g.tensors[0];
  EXPECT_STREQ(x.name, "x");
  EXPECT_EQ(x.type, TFL_INT8);
  ASSERT_EQ(x.rank, 2u);
  EXPECT_EQ(x.shape[1], 4);
  ASSERT_TRUE(x.has_shape_signature);
  EXPECT_EQ(x.shape_signature[0], -1);
  ASSERT_NE(x.quant, nullptr);
  EXPECT_EQ(x.quant->num_scales, 1u);
  EXPECT_EQ(x.quant->scales[0], 0.5f);
  EXPECT_EQ(x.quant->zero_points[0], -1);
  const tfl_tensor &w = g.tensors[1];
  ASSERT_EQ(w.quant->num_scales, 2u);
  EXPECT_EQ(w.quant->scales[1], 0.2f);
  EXPECT_EQ(w.quant->quantized_dimension, 0);
  EXPECT_EQ(g.tensors[2].type, TFL_INT32);
  ASSERT_EQ(g.num_operators, 1u);
  const tfl_operator &op = g.operators[0];
  EXPECT_EQ(op.builtin_code, TFL_OP_FULLY_CONNECTED);
  ASSERT_EQ(op.num_inputs, 3u);
  EXPECT_EQ(op.inputs[2], 2);
  EXPECT_EQ(op.options_type, TFL_OPT_FULLY_CONNECTED);
  EXPECT_EQ(op.options.fully_connected.activation, TFL_ACT_RELU);
  EXPECT_TRUE(op.options.fully_connected.keep_num_dims);
  EXPECT_EQ(op.options.fully_connected.weights_format, 0);
}

TEST(TflReader, TinyConvOptionsAndCustom) {
  Read r(Build(TinyConv()));
  ASSERT_EQ(r.status, TFL_OK) << r.err.message;
  const tfl_model *m = r.model;
  EXPECT_STREQ(m->opcodes[2].custom_code, "MyOp");
  EXPECT_EQ(m->opcodes[2].builtin_code, TFL_OP_CUSTOM);
  const tfl_subgraph &g = m->subgraphs[0];
  const tfl_operator &conv = g.operators[0];
  EXPECT_EQ(conv.inputs[2], -1); // optional bias absent
  const tfl_conv2d_options &c = conv.options.conv2d;
  EXPECT_EQ(c.padding, TFL_PAD_VALID);
  EXPECT_EQ(c.stride_w, 1);
  EXPECT_EQ(c.stride_h, 2);
  EXPECT_EQ(c.activation, TFL_ACT_RELU6);
  EXPECT_EQ(c.dilation_w, 1); // schema default
  EXPECT_EQ(c.dilation_h, 1);
  EXPECT_EQ(g.operators[1].options.softmax.beta, 0.5f);
  EXPECT_EQ(g.operators[2].builtin_code, TFL_OP_CUSTOM);
  EXPECT_EQ(g.operators[2].options_type, TFL_OPT_NONE);
  EXPECT_FLOAT_EQ(
      [&] {
        float f;
        std::memcpy(&f, m->buffers[1].data + 4 * 17, 4);
        return f;
      }(),
      0.125f * 17);
}

// Absent options take the schema defaults of the table the builtin expects.
TEST(TflReader, AbsentOptionsGetDefaults) {
  ModelSpec s = TinyConv();
  s.opcodes[1].builtin = TFL_OP_ADD;
  s.ops[1].inputs = {2, 2};
  s.ops[1].options_type = 0;
  s.ops[1].options_table = false;
  Read r(Build(s));
  ASSERT_EQ(r.status, TFL_OK) << r.err.message;
  const tfl_operator &add = r.model->subgraphs[0].operators[1];
  EXPECT_EQ(add.options_type, TFL_OPT_ADD);
  EXPECT_EQ(add.options.add.activation, TFL_ACT_NONE);
  EXPECT_TRUE(add.options.add.pot_scale_int16);
}

TEST(TflReader, DeprecatedBuiltinCode) {
  ModelSpec s = TinyFc();
  s.opcodes[0] = {0, "", TFL_OP_FULLY_CONNECTED}; // old writers: int8 field only
  Read r(Build(s));
  ASSERT_EQ(r.status, TFL_OK) << r.err.message;
  EXPECT_EQ(r.model->opcodes[0].builtin_code, TFL_OP_FULLY_CONNECTED);
  s.opcodes[0] = {TFL_OP_CUMSUM, "", 127}; // extended codes: int8 field says "see builtin_code"
  s.ops[0].options_type = 0;
  s.ops[0].options_table = false;
  Read r2(Build(s));
  ASSERT_EQ(r2.status, TFL_OK) << r2.err.message;
  EXPECT_EQ(r2.model->opcodes[0].builtin_code, TFL_OP_CUMSUM);
  EXPECT_STREQ(tfl_builtin_name(r2.model->opcodes[0].builtin_code), "CUMSUM");
}

TEST(TflReader, ExternalBuffer) {
  ModelSpec s = TinyFc();
  s.buffers[1].external = true;
  Read r(Build(s));
  ASSERT_EQ(r.status, TFL_OK) << r.err.message;
  const tfl_buffer &b = r.model->buffers[1];
  EXPECT_TRUE(b.external);
  ASSERT_EQ(b.size, 8u);
  EXPECT_EQ(int8_t(b.data[7]), -8);
}

TEST(TflReader, Names) {
  EXPECT_STREQ(tfl_builtin_name(0), "ADD");
  EXPECT_STREQ(tfl_builtin_name(9), "FULLY_CONNECTED");
  EXPECT_STREQ(tfl_builtin_name(114), "QUANTIZE");
  EXPECT_STREQ(tfl_builtin_name(205), "REDUCE_WINDOW");
  EXPECT_STREQ(tfl_builtin_name(225), "TEMP_STREAMING_CONV_2D");
  EXPECT_EQ(tfl_builtin_name(206), nullptr);
  EXPECT_EQ(tfl_builtin_name(-1), nullptr);
  EXPECT_STREQ(tfl_type_name(TFL_INT8), "INT8");
  EXPECT_EQ(tfl_type_name(18), nullptr);
  EXPECT_EQ(tfl_type_size(TFL_INT16), 2u);
  EXPECT_EQ(tfl_type_size(TFL_COMPLEX128), 16u);
  EXPECT_EQ(tfl_type_size(TFL_STRING), 0u);
  EXPECT_STREQ(tfl_options_name(TFL_OPT_BATCH_MATMUL), "BatchMatMulOptions");
  EXPECT_STREQ(tfl_options_name(TFL_OPT_LEAKY_RELU), "LeakyReluOptions");
  EXPECT_STREQ(tfl_options_name(TFL_OPT_TRANSPOSE_CONV), "TransposeConvOptions");
  EXPECT_STREQ(tfl_options_name(TFL_OPT_MAX), "RightShiftOptions");
  EXPECT_EQ(tfl_options_name(TFL_OPT_MAX + 1), nullptr);
  EXPECT_STREQ(tfl_activation_name(TFL_ACT_RELU6), "RELU6");
}

TEST(TflReader, NullArguments) {
  tfl_model *m = nullptr;
  tfl_error err;
  EXPECT_EQ(tfl_model_read(nullptr, 8, nullptr, nullptr, &m, &err), TFL_ERR_ARG);
  EXPECT_STREQ(err.message, "tflite: NULL data");
  EXPECT_EQ(tfl_model_read(nullptr, 0, nullptr, nullptr, &m, &err), TFL_ERR_FORMAT);
  Bytes b = Build(TinyFc());
  EXPECT_EQ(tfl_model_read(b.data(), b.size(), nullptr, nullptr, nullptr, &err), TFL_ERR_ARG);
  EXPECT_EQ(tfl_model_read(b.data(), b.size(), nullptr, nullptr, &m, nullptr), TFL_OK);
  tfl_model_free(m);
  tfl_model_free(nullptr);
}

// ------------------------------------------------------------ hostile: structure

TEST(TflHostile, TooSmall) {
  ExpectError(Bytes{}, TFL_ERR_FORMAT, "file of 0 bytes is too small");
  ExpectError(Bytes{1, 2, 3}, TFL_ERR_FORMAT, "too small");
}

TEST(TflHostile, TruncatedEverywhere) {
  Bytes b = Build(TinyConv());
  for (size_t n = 0; n < b.size(); n++) {
    Read r(Bytes(b.begin(), b.begin() + n));
    EXPECT_EQ(r.status, TFL_ERR_FORMAT) << "length " << n << ": " << r.err.message;
    EXPECT_NE(std::string(r.err.message).find(n < 4 ? "too small" : "past end of file"),
              std::string::npos)
        << "length " << n << ": " << r.err.message;
  }
}

TEST(TflHostile, RootOffsetPastEnd) {
  Bytes b = Build(TinyFc());
  Put32(b, 0, 0x12345678);
  char want[96];
  std::snprintf(want, sizeof want, "root offset 0x12345678 past end of file (size 0x%zx)",
                b.size());
  ExpectError(b, TFL_ERR_FORMAT, want);
}

TEST(TflHostile, VtableOffsetPastEnd) {
  Layout L;
  Bytes b = Build(TinyFc(), &L);
  Put32(b, L.model, uint32_t(-0x100000)); // vtable 1 MiB after the table
  char want[96];
  std::snprintf(want, sizeof want, "model at 0x%zx: vtable offset 0x%zx outside the file", L.model,
                L.model + 0x100000);
  ExpectError(b, TFL_ERR_FORMAT, want);
  Put32(b, L.model, 0x7fffffff); // before the file start
  ExpectError(b, TFL_ERR_FORMAT, "vtable offset");
}

TEST(TflHostile, VtableSizeOdd) {
  Layout L;
  Bytes b = Build(TinyFc(), &L);
  Put16(b, L.model_vt, 13);
  ExpectError(b, TFL_ERR_FORMAT, "model at 0x18: invalid vtable size 13");
  Put16(b, L.model_vt, 2);
  ExpectError(b, TFL_ERR_FORMAT, "invalid vtable size 2");
}

TEST(TflHostile, VtableSizeHuge) {
  Layout L;
  Bytes b = Build(TinyFc(), &L);
  Put16(b, L.model_vt, 0xfffe);
  ExpectError(b, TFL_ERR_FORMAT, "vtable at 0x8 (65534 bytes) runs past end of file");
}

TEST(TflHostile, TableSizeInvalid) {
  Layout L;
  Bytes b = Build(TinyFc(), &L);
  Put16(b, L.model_vt + 2, 2);
  ExpectError(b, TFL_ERR_FORMAT, "invalid table size 2");
  Put16(b, L.model_vt + 2, 0xfff0);
  ExpectError(b, TFL_ERR_FORMAT, "model at 0x18 (65520 bytes) runs past end of file");
}

TEST(TflHostile, FieldOutsideTable) {
  Layout L;
  Bytes b = Build(TinyFc(), &L);
  Put16(b, L.model_vt + 4, 200); // Model.version at table offset 200
  ExpectError(b, TFL_ERR_FORMAT, "version: field at table offset 200 (4 bytes) outside its table");
}

TEST(TflHostile, VectorLengthHuge) {
  Layout L;
  Bytes b = Build(TinyFc(), &L);
  Put32(b, L.tensors_vec, 0x40000000);
  ExpectError(b, TFL_ERR_FORMAT, "subgraph 0: tensors: vector at");
  ExpectError(b, TFL_ERR_FORMAT, "of 1073741824 x 4 bytes runs past end of file");
  Put32(b, L.tensors_vec, 0xffffffff);
  ExpectError(b, TFL_ERR_FORMAT, "of 4294967295 x 4 bytes");
}

TEST(TflHostile, StringWithoutNul) {
  Layout L;
  Bytes b = Build(TinyFc(), &L);
  ASSERT_EQ(b[L.tensor0_name + 4], 'x');
  b[L.tensor0_name + 5] = '!';
  ExpectError(b, TFL_ERR_FORMAT, "subgraph 0: tensor 0: name: string at");
  ExpectError(b, TFL_ERR_FORMAT, "(length 1) is not NUL-terminated");
  Put32(b, L.tensor0_name, 0x7fffffff); // length past the end
  ExpectError(b, TFL_ERR_FORMAT, "name: vector at");
}

TEST(TflHostile, ReferencePastEnd) {
  Layout L;
  Bytes b = Build(TinyFc(), &L);
  // Model field 3 (description) is the 4th field: table + 4 + 4 * 3.
  size_t at = L.model + 16;
  ASSERT_EQ(at + Get32(b, at), L.description);
  Put32(b, at, 0x7ffffff0);
  ExpectError(b, TFL_ERR_FORMAT, "description: offset 0x");
  ExpectError(b, TFL_ERR_FORMAT, "past end of file");
}

TEST(TflHostile, UnionTypeWithoutValue) {
  ModelSpec s = TinyFc();
  s.ops[0].options_table = false;
  ExpectError(s, TFL_ERR_FORMAT,
              "subgraph 0: operator 0: builtin_options: union type 8 without a value");
}

// ------------------------------------------------------------ hostile: semantics

TEST(TflHostile, BufferIndexOutOfRange) {
  ModelSpec s = TinyFc();
  s.tensors[1].buffer = 99;
  ExpectError(s, TFL_ERR_SCHEMA,
              "tflite: subgraph 0: tensor 1: buffer index 99 out of range (4 buffers)");
}

TEST(TflHostile, OperatorInputOutOfRange) {
  ModelSpec s = TinyFc();
  s.ops[0].inputs[1] = 12;
  ExpectError(s, TFL_ERR_SCHEMA,
              "subgraph 0: operator 0: input 1: tensor index 12 out of range (4 tensors)");
  s.ops[0].inputs[1] = -2;
  ExpectError(s, TFL_ERR_SCHEMA, "input 1: tensor index -2 out of range");
}

TEST(TflHostile, OperatorOutputOutOfRange) {
  ModelSpec s = TinyFc();
  s.ops[0].outputs[0] = -1; // optional marker is for inputs only
  ExpectError(s, TFL_ERR_SCHEMA, "operator 0: output 0: tensor index -1 out of range");
}

TEST(TflHostile, SubgraphIoOutOfRange) {
  ModelSpec s = TinyFc();
  s.inputs = {4};
  ExpectError(s, TFL_ERR_SCHEMA,
              "subgraph 0: subgraph input 0: tensor index 4 out of range (4 tensors)");
  s = TinyFc();
  s.outputs = {3, 7};
  ExpectError(s, TFL_ERR_SCHEMA, "subgraph output 1: tensor index 7 out of range");
}

TEST(TflHostile, OpcodeIndexOutOfRange) {
  ModelSpec s = TinyFc();
  s.ops[0].opcode = 5;
  ExpectError(s, TFL_ERR_SCHEMA,
              "subgraph 0: operator 0: opcode index 5 out of range (1 operator codes)");
}

TEST(TflHostile, NegativeDimension) {
  ModelSpec s = TinyFc();
  s.tensors[3].shape = {1, -1};
  ExpectError(s, TFL_ERR_SCHEMA, "subgraph 0: tensor 3: negative dimension -1 at index 1 of shape");
}

TEST(TflHostile, BadShapeSignature) {
  ModelSpec s = TinyFc();
  s.tensors[0].signature = {-2, 4};
  ExpectError(s, TFL_ERR_SCHEMA, "tensor 0: invalid dimension -2 at index 0 of shape_signature");
  s.tensors[0].signature = {-1};
  ExpectError(s, TFL_ERR_SCHEMA, "tensor 0: shape_signature has rank 1, shape has 2");
}

TEST(TflHostile, RankTooLarge) {
  ModelSpec s = TinyFc();
  s.tensors[3].shape = std::vector<int32_t>(17, 1);
  ExpectError(s, TFL_ERR_UNSUPPORTED, "tensor 3: rank 17 exceeds 16");
}

TEST(TflHostile, WrongBufferSize) {
  ModelSpec s = TinyFc();
  s.buffers[1].data.pop_back();
  ExpectError(s, TFL_ERR_SCHEMA,
              "subgraph 0: tensor 1: buffer 1 has 7 bytes, expected 8 (8 x INT8)");
  s = TinyFc();
  s.tensors[2].type = TFL_INT64; // 8 bytes of data but 2 x 8 expected
  ExpectError(s, TFL_ERR_SCHEMA, "tensor 2: buffer 2 has 8 bytes, expected 16 (2 x INT64)");
}

TEST(TflHostile, ShapeProductOverflow) {
  ModelSpec s = TinyFc();
  s.tensors[1].shape = {0x7fffffff, 0x7fffffff, 0x7fffffff};
  s.tensors[1].quant = false;
  ExpectError(s, TFL_ERR_SCHEMA, "tensor 1: element count of the shape overflows");
}

TEST(TflHostile, ScaleCountMismatch) {
  ModelSpec s = TinyFc();
  s.tensors[1].scales = {0.1f, 0.2f, 0.3f};
  s.tensors[1].zero_points = {0, 0, 0};
  ExpectError(s, TFL_ERR_SCHEMA,
              "tensor 1: 3 quantization scales for dimension 0 of size 2 (need 1 or 2)");
  s.tensors[1].qdim = 2;
  ExpectError(s, TFL_ERR_SCHEMA, "tensor 1: quantized_dimension 2 out of range for rank 2");
  s.tensors[1].qdim = -1;
  ExpectError(s, TFL_ERR_SCHEMA, "tensor 1: negative quantized_dimension -1");
}

TEST(TflHostile, ZeroPointCountMismatch) {
  ModelSpec s = TinyFc();
  s.tensors[3].zero_points = {3, 4};
  ExpectError(s, TFL_ERR_SCHEMA,
              "subgraph 0: tensor 3: quantization has 2 zero points but 1 scales");
}

TEST(TflHostile, UnknownQuantizationDetails) {
  ModelSpec s = TinyFc();
  s.tensors[0].details_type = 7;
  ExpectError(s, TFL_ERR_FORMAT, "tensor 0: quantization details: union type 7 without a value");
  s.tensors[0].details_value = true;
  ExpectError(s, TFL_ERR_UNSUPPORTED, "tensor 0: unknown quantization details type 7");
}

TEST(TflHostile, UnknownUnionType) {
  ModelSpec s = TinyFc();
  s.ops[0].options_type = 200;
  ExpectError(s, TFL_ERR_UNSUPPORTED, "subgraph 0: operator 0: unknown builtin_options type 200");
}

TEST(TflHostile, OptionsDoNotMatchOp) {
  ModelSpec s = TinyFc();
  s.ops[0].options_type = TFL_OPT_CONV2D;
  ExpectError(s, TFL_ERR_SCHEMA,
              "operator 0: FULLY_CONNECTED has builtin_options Conv2DOptions, expected "
              "FullyConnectedOptions");
}

TEST(TflHostile, BadOptionValues) {
  ModelSpec s = TinyFc();
  s.ops[0].options = {{0, 1, 9}};
  ExpectError(s, TFL_ERR_UNSUPPORTED,
              "operator 0: fused_activation_function 9 out of range (0..5)");
  s = TinyConv();
  s.ops[0].options = {{0, 1, 2}, {1, 4, 1}, {2, 4, 1}};
  ExpectError(s, TFL_ERR_UNSUPPORTED, "operator 0: padding 2 is not SAME (0) or VALID (1)");
  s = TinyConv();
  s.ops[0].options = {{1, 4, 1}}; // stride_h absent = 0
  ExpectError(s, TFL_ERR_SCHEMA, "operator 0: stride_h 0 must be >= 1");
  s = TinyConv();
  s.ops[0].options = {{1, 4, 1}, {2, 4, 1}, {5, 4, uint32_t(-3)}};
  ExpectError(s, TFL_ERR_SCHEMA, "dilation_h_factor -3 must be >= 1");
}

TEST(TflHostile, UnknownTensorType) {
  ModelSpec s = TinyFc();
  s.tensors[3].type = 42;
  ExpectError(s, TFL_ERR_UNSUPPORTED, "subgraph 0: tensor 3: type: unknown tensor type 42");
}

TEST(TflHostile, CustomWithoutName) {
  ModelSpec s = TinyConv();
  s.opcodes[2].custom = "";
  ExpectError(s, TFL_ERR_SCHEMA, "operator code 2: CUSTOM operator code without custom_code");
}

TEST(TflHostile, NegativeBuiltinCode) {
  ModelSpec s = TinyFc();
  s.opcodes[0] = {-5, "", 0x80}; // deprecated -128, builtin -5
  ExpectError(s, TFL_ERR_SCHEMA, "operator code 0: negative builtin code -5");
}

TEST(TflHostile, NoSubgraphs) {
  ModelSpec s = TinyFc();
  s.no_subgraphs = true;
  ExpectError(s, TFL_ERR_SCHEMA, "model has no subgraphs");
}

TEST(TflHostile, ExternalBufferPastEnd) {
  ModelSpec s = TinyFc();
  s.buffers[1].external = true;
  s.buffers[1].size_override = 0x100000000ull;
  ExpectError(s, TFL_ERR_FORMAT, "buffer 1: external data at 0x");
  ExpectError(s, TFL_ERR_FORMAT, "(4294967296 bytes) runs past end of file");
  s.buffers[1].size_override = 0;
  s.buffers[1].offset_override = ~0ull;
  ExpectError(s, TFL_ERR_FORMAT, "external data at 0xffffffffffffffff (8 bytes)");
}

// Tables shared by many references must not multiply the decoded size without bound:
// 4096 tensor slots all naming one tensor with 4096 per-axis scales would decode to
// ~200 MB from a ~300 KB file.
TEST(TflHostile, SharedTablesHitTheBudget) {
  const int32_t k = 4096;
  ModelSpec s = TinyFc();
  TensorSpec &big = s.tensors[0];
  big.shape = {k};
  big.has_signature = false;
  big.scales.assign(k, 0.5f);
  big.zero_points.assign(k, 0);
  TensorSpec tiny;
  tiny.shape = {1};
  s.tensors.resize(k, tiny);
  Layout L;
  Bytes b = Build(s, &L);
  size_t first = L.tensors_vec + 4;
  size_t t0 = first + Get32(b, first); // tensor 0's table comes after every slot
  for (size_t i = 1; i < size_t(k); i++) Put32(b, first + 4 * i, uint32_t(t0 - (first + 4 * i)));
  ExpectError(b, TFL_ERR_NOMEM, "decoded model exceeds the size budget");
}

} // namespace
