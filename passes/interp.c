/* passes/interp.c — the float reference interpreter (see interp.h).  Kernels follow
 * TFLite's float reference ops: sums in index order, bias added last, padding taps
 * skipped, average pooling over the in-bounds taps only. */
#include <math.h>
#include <string.h>

#include "passes/interp.h"

#define MAX_RANK 8

typedef struct slot {
  const tm_value *v;
  float *data;
} slot;

typedef struct run {
  tm_ctx *ctx;
  tm_arena *arena;
  slot *slots;
  int nslots, cap;
} run;

static bool is_f32_static(const tm_type *t) {
  return t && t->kind == TM_TYPE_TENSOR && tm_type_is_static(t) && t->elem->kind == TM_TYPE_FLOAT &&
         t->elem->width == 32 && t->rank <= MAX_RANK;
}

static float *lookup(run *r, const tm_value *v) {
  for (int i = r->nslots - 1; i >= 0; i--)
    if (r->slots[i].v == v) return r->slots[i].data;
  return NULL;
}

static float *bind(run *r, const tm_value *v) {
  if (r->nslots == r->cap) {
    int cap = r->cap ? 2 * r->cap : 64;
    slot *s = TM_NEW_ARRAY(r->arena, slot, cap);
    if (r->nslots) memcpy(s, r->slots, sizeof(slot) * (size_t)r->nslots);
    r->slots = s;
    r->cap = cap;
  }
  float *d = TM_NEW_ARRAY(r->arena, float, tm_type_numel(v->type) > 0 ? tm_type_numel(v->type) : 1);
  r->slots[r->nslots++] = (slot){v, d};
  return d;
}

static float act(const char *a, float x) {
  if (!strcmp(a, "relu")) return x < 0.0f ? 0.0f : x;
  if (!strcmp(a, "relu6")) return x < 0.0f ? 0.0f : x > 6.0f ? 6.0f : x;
  if (!strcmp(a, "relu_n1_to_1")) return x < -1.0f ? -1.0f : x > 1.0f ? 1.0f : x;
  if (!strcmp(a, "tanh")) return tanhf(x);
  return x;
}

static void apply_act(const tm_op *op, float *y, int64_t n) {
  const char *a = tm_op_attr_str(op, "fused_activation", "none");
  if (strcmp(a, "none"))
    for (int64_t i = 0; i < n; i++) y[i] = act(a, y[i]);
}

static void pair_attr(const tm_op *op, const char *name, int64_t dflt, int64_t out[2]) {
  int n = 0;
  out[0] = out[1] = dflt;
  const tm_attr *a = tm_op_attr(op, name);
  if (a && tm_attr_get_int_array(a, 2, out, &n) && n == 2) return;
  out[0] = out[1] = dflt;
}

/* TFLite's ComputePaddingHeightWidth: padding before the first row/column. */
static int64_t pad_before(const tm_op *op, int64_t in, int64_t out, int64_t k, int64_t stride, int64_t dil) {
  if (strcmp(tm_op_attr_str(op, "padding", "valid"), "same")) return 0;
  int64_t eff = (k - 1) * dil + 1, total = (out - 1) * stride + eff - in;
  return total > 0 ? total / 2 : 0;
}

/* The sliding window of conv2d / depthwise_conv2d: input [N, H, W, C], kernel KH x KW,
 * output OH x OW, with TFLite's padding. */
typedef struct window {
  int64_t N, H, W, C, KH, KW, OH, OW, st[2], dl[2], ph, pw;
} window;

static window window_of(const tm_op *op, const tm_type *it, const tm_type *ft, const tm_type *ot) {
  window g = {.N = it->dims[0], .H = it->dims[1], .W = it->dims[2], .C = it->dims[3], .KH = ft->dims[1],
              .KW = ft->dims[2], .OH = ot->dims[1], .OW = ot->dims[2]};
  pair_attr(op, "stride", 1, g.st);
  pair_attr(op, "dilation", 1, g.dl);
  g.ph = pad_before(op, g.H, g.OH, g.KH, g.st[0], g.dl[0]);
  g.pw = pad_before(op, g.W, g.OW, g.KW, g.st[1], g.dl[1]);
  return g;
}

/* The input pixel (an index of [N, H, W]) that tap (ky, kx) of output (n, oy, ox) reads,
 * or -1 where it falls into the padding. */
static int64_t window_pixel(const window *g, int64_t n, int64_t oy, int64_t ox, int64_t ky, int64_t kx) {
  int64_t iy = oy * g->st[0] - g->ph + ky * g->dl[0], ix = ox * g->st[1] - g->pw + kx * g->dl[1];
  return iy < 0 || iy >= g->H || ix < 0 || ix >= g->W ? -1 : (n * g->H + iy) * g->W + ix;
}

/* conv2d (filter [O, KH, KW, I]) and depthwise (filter [1, KH, KW, C * M]). */
static void conv(const tm_op *op, bool depthwise, const tm_type *it, const float *x, const tm_type *ft,
                 const float *w, const float *bias, const tm_type *ot, float *y) {
  window g = window_of(op, it, ft, ot);
  int64_t FI = ft->dims[3], OC = ot->dims[3], M = depthwise ? OC / (g.C ? g.C : 1) : 1;
  for (int64_t n = 0; n < g.N; n++)
    for (int64_t oy = 0; oy < g.OH; oy++)
      for (int64_t ox = 0; ox < g.OW; ox++)
        for (int64_t oc = 0; oc < OC; oc++) {
          float acc = 0.0f;
          for (int64_t ky = 0; ky < g.KH; ky++)
            for (int64_t kx = 0; kx < g.KW; kx++) {
              int64_t p = window_pixel(&g, n, oy, ox, ky, kx);
              if (p < 0) continue;
              const float *px = x + p * g.C;
              if (depthwise) {
                acc += px[oc / M] * w[(ky * g.KW + kx) * FI + oc];
              } else {
                const float *pf = w + ((oc * g.KH + ky) * g.KW + kx) * FI;
                for (int64_t c = 0; c < FI; c++) acc += px[c] * pf[c];
              }
            }
          y[((n * g.OH + oy) * g.OW + ox) * OC + oc] = acc + (bias ? bias[oc] : 0.0f);
        }
}

int64_t tm_interp_taps(const tm_op *op) {
  if (op->noperands < 2 || !is_f32_static(tm_op_operand(op, 1)->type)) return 0;
  const tm_type *ft = tm_op_operand(op, 1)->type;
  if (tm_op_is(op, "tm.fully_connected")) return ft->rank == 2 ? ft->dims[1] : 0;
  if (!tm_op_is(op, "tm.conv2d") && !tm_op_is(op, "tm.depthwise_conv2d")) return 0;
  const tm_type *it = tm_op_operand(op, 0)->type;
  /* grouped convolutions (filter channels != input channels) are not handled */
  if (ft->rank != 4 || it->rank != 4 || (tm_op_is(op, "tm.conv2d") && ft->dims[3] != it->dims[3])) return 0;
  return ft->dims[1] * ft->dims[2] * it->dims[3];
}

int64_t tm_interp_tap_sums(const tm_op *op, const float *x, double *sum) {
  if (!tm_interp_taps(op)) return 0;
  const tm_type *it = tm_op_operand(op, 0)->type, *ft = tm_op_operand(op, 1)->type, *ot = op->results[0].type;
  if (tm_op_is(op, "tm.fully_connected")) {
    int64_t I = ft->dims[1], B = I ? tm_type_numel(it) / I : 0;
    for (int64_t b = 0; b < B; b++)
      for (int64_t i = 0; i < I; i++) sum[i] += x[b * I + i];
    return B;
  }
  window g = window_of(op, it, ft, ot);
  for (int64_t n = 0; n < g.N; n++)
    for (int64_t oy = 0; oy < g.OH; oy++)
      for (int64_t ox = 0; ox < g.OW; ox++)
        for (int64_t ky = 0; ky < g.KH; ky++)
          for (int64_t kx = 0; kx < g.KW; kx++) {
            int64_t p = window_pixel(&g, n, oy, ox, ky, kx);
            if (p < 0) continue;
            const float *px = x + p * g.C;
            double *ps = sum + (ky * g.KW + kx) * g.C;
            for (int64_t c = 0; c < g.C; c++) ps[c] += px[c];
          }
  return g.N * g.OH * g.OW;
}

static void fully_connected(const tm_type *it, const float *x, const tm_type *wt, const float *w,
                            const float *bias, float *y) {
  int64_t O = wt->dims[0], I = wt->dims[1], B = I ? tm_type_numel(it) / I : 0;
  for (int64_t b = 0; b < B; b++)
    for (int64_t o = 0; o < O; o++) {
      float acc = 0.0f;
      for (int64_t i = 0; i < I; i++) acc += x[b * I + i] * w[o * I + i];
      y[b * O + o] = acc + (bias ? bias[o] : 0.0f);
    }
}

static void pool(const tm_op *op, bool avg, const tm_type *it, const float *x, const tm_type *ot, float *y) {
  int64_t st[2], fl[2];
  pair_attr(op, "stride", 1, st);
  pair_attr(op, "filter", 1, fl);
  int64_t N = it->dims[0], H = it->dims[1], W = it->dims[2], C = it->dims[3];
  int64_t OH = ot->dims[1], OW = ot->dims[2];
  int64_t ph = pad_before(op, H, OH, fl[0], st[0], 1), pw = pad_before(op, W, OW, fl[1], st[1], 1);
  for (int64_t n = 0; n < N; n++)
    for (int64_t oy = 0; oy < OH; oy++)
      for (int64_t ox = 0; ox < OW; ox++)
        for (int64_t c = 0; c < C; c++) {
          float acc = avg ? 0.0f : -INFINITY;
          int64_t count = 0;
          for (int64_t ky = 0; ky < fl[0]; ky++)
            for (int64_t kx = 0; kx < fl[1]; kx++) {
              int64_t iy = oy * st[0] - ph + ky, ix = ox * st[1] - pw + kx;
              if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
              float v = x[((n * H + iy) * W + ix) * C + c];
              acc = avg ? acc + v : (v > acc ? v : acc);
              count++;
            }
          y[((n * OH + oy) * OW + ox) * C + c] = avg ? (count ? acc / (float)count : 0.0f) : acc;
        }
}

/* Flat index of the operand element broadcast to output element `o` (numpy rules). */
static int64_t bcast_index(const tm_type *ot, const tm_type *t, int64_t o) {
  int64_t idx = 0, stride = 1;
  for (int d = ot->rank - 1, e = t->rank - 1; d >= 0; d--, e--) {
    int64_t od = ot->dims[d], coord = od ? o % od : 0;
    o = od ? o / od : 0;
    if (e < 0) continue;
    if (t->dims[e] != 1) idx += coord * stride;
    stride *= t->dims[e];
  }
  return idx;
}

static void binary(const tm_op *op, const tm_type *at, const float *a, const tm_type *bt, const float *b,
                   const tm_type *ot, float *y) {
  int64_t n = tm_type_numel(ot);
  bool same = at == ot && bt == ot;
  for (int64_t i = 0; i < n; i++) {
    float x = a[same ? i : bcast_index(ot, at, i)], z = b[same ? i : bcast_index(ot, bt, i)];
    y[i] = tm_op_is(op, "tm.add")       ? x + z
           : tm_op_is(op, "tm.sub")     ? x - z
           : tm_op_is(op, "tm.mul")     ? x * z
           : tm_op_is(op, "tm.maximum") ? (x > z ? x : z)
                                        : (x < z ? x : z);
  }
}

static void softmax(const tm_op *op, const tm_type *it, const float *x, float *y) {
  float beta = (float)tm_op_attr_float(op, "beta", 1.0);
  int64_t D = it->rank ? it->dims[it->rank - 1] : 1, rows = D ? tm_type_numel(it) / D : 0;
  for (int64_t r = 0; r < rows; r++) {
    const float *px = x + r * D;
    float *py = y + r * D, mx = -INFINITY, sum = 0.0f;
    for (int64_t i = 0; i < D; i++) mx = px[i] > mx ? px[i] : mx;
    for (int64_t i = 0; i < D; i++) sum += py[i] = expf((px[i] - mx) * beta);
    for (int64_t i = 0; i < D; i++) py[i] /= sum;
  }
}

/* mean: every input element adds into the output element with its reduced coordinates
 * dropped (keep_dims does not change the flat order). */
static void mean(const tm_op *op, const tm_type *it, const float *x, const tm_type *ot, float *y) {
  int64_t axes[MAX_RANK];
  int nax = 0;
  bool reduced[MAX_RANK] = {false};
  if (tm_attr_get_int_array(tm_op_attr(op, "axes"), MAX_RANK, axes, &nax))
    for (int i = 0; i < nax; i++) reduced[axes[i] < 0 ? axes[i] + it->rank : axes[i]] = true;
  int64_t n = tm_type_numel(it), on = tm_type_numel(ot), count = on ? n / on : 0;
  memset(y, 0, sizeof(float) * (size_t)on);
  for (int64_t i = 0; i < n; i++) {
    int64_t rest = i, o = 0, stride = 1;
    for (int d = it->rank - 1; d >= 0; d--) {
      int64_t coord = rest % it->dims[d];
      rest /= it->dims[d];
      if (!reduced[d]) { o += coord * stride; stride *= it->dims[d]; }
    }
    y[o] += x[i];
  }
  for (int64_t o = 0; o < on; o++) y[o] /= (float)count;
}

/* Coordinates of flat index i in a tensor of type t (row-major). */
static void coords(const tm_type *t, int64_t i, int64_t *c) {
  for (int d = t->rank - 1; d >= 0; d--) {
    c[d] = t->dims[d] ? i % t->dims[d] : 0;
    i = t->dims[d] ? i / t->dims[d] : 0;
  }
}

static int64_t flat(const tm_type *t, const int64_t *c) {
  int64_t i = 0;
  for (int d = 0; d < t->rank; d++) i = i * t->dims[d] + c[d];
  return i;
}

/* transpose: output coordinate d is input coordinate perm[d]. */
static void transpose(const tm_op *op, const tm_type *it, const float *x, const tm_type *ot, float *y) {
  int64_t perm[MAX_RANK], oc[MAX_RANK], ic[MAX_RANK];
  int n = 0;
  if (!tm_attr_get_int_array(tm_op_attr(op, "perm"), MAX_RANK, perm, &n) || n != it->rank) return;
  for (int64_t o = 0; o < tm_type_numel(ot); o++) {
    coords(ot, o, oc);
    for (int d = 0; d < n; d++) ic[perm[d]] = oc[d];
    y[o] = x[flat(it, ic)];
  }
}

/* pad: zeros around the input, `before` of paddings[d] in front of dimension d. */
static void pad(const tm_op *op, const tm_type *it, const float *x, const tm_type *ot, float *y) {
  const tm_attr *p = tm_op_attr(op, "paddings");
  int64_t before[MAX_RANK] = {0}, c[MAX_RANK], pair[2];
  for (int d = 0; p && p->kind == TM_ATTR_ARRAY && d < p->u.array.n && d < it->rank; d++) {
    int n = 0;
    if (tm_attr_get_int_array(p->u.array.elts[d], 2, pair, &n) && n == 2) before[d] = pair[0];
  }
  for (int64_t o = 0; o < tm_type_numel(ot); o++) {
    coords(ot, o, c);
    bool inside = true;
    for (int d = 0; d < it->rank; d++) {
      c[d] -= before[d];
      inside = inside && c[d] >= 0 && c[d] < it->dims[d];
    }
    y[o] = inside ? x[flat(it, c)] : 0.0f;
  }
}

/* concat: per outer index, each input's block along the axis in operand order. */
static void concat(run *r, const tm_op *op, const tm_type *ot, float *y) {
  int64_t axis = tm_op_attr_int(op, "axis", 0), outer = 1, inner = 1;
  if (axis < 0) axis += ot->rank;
  for (int d = 0; d < axis; d++) outer *= ot->dims[d];
  for (int d = (int)axis + 1; d < ot->rank; d++) inner *= ot->dims[d];
  int64_t at = 0;
  for (int64_t o = 0; o < outer; o++)
    for (int i = 0; i < op->noperands; i++) {
      const tm_value *v = tm_op_operand(op, i);
      int64_t chunk = v->type->dims[axis] * inner;
      memcpy(y + at, lookup(r, v) + o * chunk, sizeof(float) * (size_t)chunk);
      at += chunk;
    }
}

static void unary(const tm_op *op, const float *x, float *y, int64_t n) {
  const char *a = tm_op_is(op, "tm.relu") ? "relu" : tm_op_is(op, "tm.relu6") ? "relu6" : "tanh";
  for (int64_t i = 0; i < n; i++) {
    if (tm_op_is(op, "tm.logistic")) y[i] = 1.0f / (1.0f + expf(-x[i]));
    else if (tm_op_is(op, "tm.leaky_relu")) y[i] = x[i] >= 0.0f ? x[i] : (float)tm_op_attr_float(op, "alpha", 0.2) * x[i];
    else if (tm_op_is(op, "tm.hard_swish")) y[i] = x[i] * act("relu6", x[i] + 3.0f) / 6.0f;
    else y[i] = act(a, x[i]);
  }
}

static const char *const supported[] = {
    "tm.const", "tm.conv2d", "tm.depthwise_conv2d", "tm.fully_connected", "tm.add", "tm.sub", "tm.mul",
    "tm.avg_pool2d", "tm.max_pool2d", "tm.reshape", "tm.squeeze", "tm.softmax", "tm.mean", "tm.relu",
    "tm.relu6", "tm.leaky_relu", "tm.logistic", "tm.tanh", "tm.hard_swish", "tm.maximum", "tm.minimum",
    "tm.transpose", "tm.pad", "tm.concat",
};

bool tm_interp_supports(const tm_op *op) {
  if (op->nresults != 1 || !is_f32_static(op->results[0].type)) return false;
  for (int i = 0; i < op->noperands; i++)
    if (!is_f32_static(tm_op_operand(op, i)->type)) return false;
  for (size_t i = 0; i < TM_COUNTOF(supported); i++)
    if (tm_op_is(op, supported[i])) return true;
  return false;
}

static int eval(run *r, tm_op *op) {
  if (!tm_interp_supports(op)) return tm_op_error(r->ctx, op, "cannot be evaluated by the float interpreter");
  const float *in[3] = {NULL, NULL, NULL};
  const tm_type *t[3] = {NULL, NULL, NULL};
  for (int i = 0; i < op->noperands; i++) {
    if (i < 3) t[i] = tm_op_operand(op, i)->type;
    if (!lookup(r, tm_op_operand(op, i)))
      return tm_op_error(r->ctx, op, "operand #%d has no value in the float interpreter", i);
    if (i < 3) in[i] = lookup(r, tm_op_operand(op, i));
  }
  const tm_type *ot = op->results[0].type;
  int64_t n = tm_type_numel(ot);
  float *y = bind(r, &op->results[0]);
  if (tm_op_is(op, "tm.const")) {
    const tm_attr *v = tm_op_attr(op, "value");
    for (int64_t i = 0; i < n; i++) y[i] = (float)tm_dense_get_float(v, i);
  } else if (tm_op_is(op, "tm.conv2d") || tm_op_is(op, "tm.depthwise_conv2d")) {
    conv(op, tm_op_is(op, "tm.depthwise_conv2d"), t[0], in[0], t[1], in[1], in[2], ot, y);
  } else if (tm_op_is(op, "tm.fully_connected")) {
    fully_connected(t[0], in[0], t[1], in[1], in[2], y);
  } else if (tm_op_is(op, "tm.add") || tm_op_is(op, "tm.sub") || tm_op_is(op, "tm.mul") ||
             tm_op_is(op, "tm.maximum") || tm_op_is(op, "tm.minimum")) {
    binary(op, t[0], in[0], t[1], in[1], ot, y);
  } else if (tm_op_is(op, "tm.avg_pool2d") || tm_op_is(op, "tm.max_pool2d")) {
    pool(op, tm_op_is(op, "tm.avg_pool2d"), t[0], in[0], ot, y);
  } else if (tm_op_is(op, "tm.reshape") || tm_op_is(op, "tm.squeeze")) {
    memcpy(y, in[0], sizeof(float) * (size_t)n);
  } else if (tm_op_is(op, "tm.softmax")) {
    softmax(op, t[0], in[0], y);
  } else if (tm_op_is(op, "tm.mean")) {
    mean(op, t[0], in[0], ot, y);
  } else if (tm_op_is(op, "tm.transpose")) {
    transpose(op, t[0], in[0], ot, y);
  } else if (tm_op_is(op, "tm.pad")) {
    pad(op, t[0], in[0], ot, y);
  } else if (tm_op_is(op, "tm.concat")) {
    concat(r, op, ot, y);
  } else {
    unary(op, in[0], y, n);
  }
  apply_act(op, y, n);
  return 0;
}

int tm_interp_func(tm_ctx *ctx, tm_op *func, const float *const *inputs, float *const *outputs,
                   tm_interp_observe_fn observe, void *user) {
  tm_block *body = tm_func_entry(func);
  if (!body) return tm_op_error(ctx, func, "has no body to interpret");
  run r = {.ctx = ctx, .arena = tm_arena_new()};
  int status = 0;
  for (int i = 0; i < body->nargs && !status; i++) {
    tm_value *a = body->args[i];
    if (!is_f32_static(a->type)) {
      status = tm_op_error(ctx, func, "argument #%d is not a static f32 tensor", i);
      break;
    }
    float *d = bind(&r, a);
    memcpy(d, inputs[i], sizeof(float) * (size_t)tm_type_numel(a->type));
    if (observe) observe(user, a, d, tm_type_numel(a->type));
  }
  int nout = 0;
  TM_FOREACH_OP(op, body) {
    if (status) break;
    if (tm_op_is(op, "func.return")) {
      for (int i = 0; i < op->noperands; i++) {
        const float *d = lookup(&r, tm_op_operand(op, i));
        int64_t n = tm_type_numel(tm_op_operand(op, i)->type);
        if (!d || n < 0) { status = tm_op_error(ctx, op, "operand #%d has no value", i); break; }
        memcpy(outputs[i], d, sizeof(float) * (size_t)n);
        nout++;
      }
      break;
    }
    status = eval(&r, op);
    if (!status && observe) observe(user, &op->results[0], lookup(&r, &op->results[0]), tm_type_numel(op->results[0].type));
  }
  if (!status && nout == 0 && tm_func_type(func)->nresults > 0)
    status = tm_op_error(ctx, func, "has no func.return to interpret");
  tm_arena_free(r.arena);
  return status;
}
