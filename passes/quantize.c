/* passes/quantize.c — post-training quantization of a float tm graph.
 *
 * Three phases per func.func:
 *  1. calibrate: the float interpreter (passes/interp.h) runs the function on every
 *     calibration file and records each tensor's range (min/max, or the samples for the
 *     percentile and MSE modes);
 *  2. plan: every op with an integer kernel gets TFLite's quantization — weights per
 *     channel, symmetric (axis 0; 3 for depthwise), activations per tensor, asymmetric
 *     int8 or symmetric int16, biases int32 (int64 for int16) = round(b / (s_in * s_w)),
 *     fixed output scales for softmax/logistic/tanh, data movement and pooling keeping
 *     the input's; any other op stays float between tm.dequantize and tm.quantize;
 *  3. rewrite: the quantized ops replace the float ones, so the graph looks like an
 *     imported int8 TFLite model and runs through the same kernels.
 * With report=true, a fake-quantized run of the float graph on the calibration data
 * prints every layer's scale and the SQNR against float it accumulates, per output too. */
#include <dirent.h>
#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passes/interp.h"
#include "passes/passes.h"

/* How an op's quantization is chosen: WEIGHTED (per-channel weights, int32 bias, own
 * output range), FREE (own output range), SAME (the input's), FIXED (TFLite's constant
 * output scale), SHARED (own output range, every input requantized to it: TFLite's
 * integer concat and maximum/minimum need one quantization throughout). */
typedef enum { K_WEIGHTED, K_FREE, K_SAME, K_FIXED, K_SHARED } op_kind;

/* Ops with integer kernels; i16 says whether lower-to-loops has the int16 one (the
 * others run in int8 between requantizations when int16 activations are asked for). */
static const struct qop {
  const char *name;
  op_kind kind;
  bool i16;
} qops[] = {
    {"tm.conv2d", K_WEIGHTED, true},  {"tm.depthwise_conv2d", K_WEIGHTED, true},
    {"tm.fully_connected", K_WEIGHTED, true},
    {"tm.add", K_FREE, true},         {"tm.sub", K_FREE, true},       {"tm.mul", K_FREE, true},
    {"tm.relu", K_FREE, true},        {"tm.relu6", K_FREE, true},     {"tm.leaky_relu", K_FREE, true},
    {"tm.hard_swish", K_FREE, false}, {"tm.mean", K_FREE, false},
    {"tm.avg_pool2d", K_SAME, true},  {"tm.max_pool2d", K_SAME, true}, {"tm.reshape", K_SAME, true},
    {"tm.squeeze", K_SAME, true},     {"tm.transpose", K_SAME, true}, {"tm.pad", K_SAME, true},
    {"tm.concat", K_SHARED, true},    {"tm.maximum", K_SHARED, true}, {"tm.minimum", K_SHARED, true},
    {"tm.softmax", K_FIXED, false},   {"tm.logistic", K_FIXED, true}, {"tm.tanh", K_FIXED, true},
};

typedef struct vinfo {
  tm_value *v;
  int64_t numel;
  float lo, hi;
  bool seen;
  float *samples; /* percentile / mse: every calibration value */
  int64_t nsamples;
  const tm_type *qt;      /* quantized element type planned for v */
  const tm_type *alt;     /* ... in the other activation width (for consumers of that width) */
  tm_value *qalt;         /* rewrite: v requantized to alt */
  int waxis;              /* >= 0: a weight quantized per channel along this axis */
  bool qused;             /* the quantized graph holds a quantized version of v */
  tm_value *qval, *fval;  /* rewrite: quantized and float versions */
  float *ref;             /* report: the float run's values for the current sample */
  double sig, noise;      /* report: accumulated signal and error power */
  double *tapsum;         /* result of a weighted op: its input summed per tap (bias correction) */
  int64_t tapcount;       /* ... over this many output positions */
  float *fixed;           /* a bias: the corrected float values */
} vinfo;

typedef struct qstate {
  tm_ctx *ctx;
  const tm_pass_options *opts;
  tm_op *func;
  tm_block *body;
  vinfo *vi;
  int nvi;
  bool i16, i4, pack4, int8_io, bias_corr;
  const char *mode;
  int nfiles;
  bool *quantized; /* per body op, in order */
  enum { OBS_RECORD, OBS_REF, OBS_SIMULATE } obs; /* what observe() does */
} qstate;

/* -------------------------------------------------------------------- helpers ------- */
static vinfo *info(qstate *s, const tm_value *v) {
  for (int i = 0; i < s->nvi; i++)
    if (s->vi[i].v == v) return &s->vi[i];
  return NULL;
}

static const struct qop *qop_of(const tm_op *op) {
  for (size_t i = 0; i < TM_COUNTOF(qops); i++)
    if (tm_op_is(op, qops[i].name)) return &qops[i];
  return NULL;
}

static double f32(double x) { return (double)(float)x; }

/* x rounded half away from zero and clamped to [lo, hi]; NaN gives 0 (bad weights must
 * not reach an undefined float-to-int conversion). */
static int64_t round_clamp(double x, int64_t lo, int64_t hi) {
  double r = round(x);
  if (r != r) return 0;
  return r < (double)lo ? lo : r > (double)hi ? hi : (int64_t)r;
}

static const tm_type *quant_type(qstate *s, bool wide, double scale, int64_t zp) {
  tm_ctx *c = s->ctx;
  int64_t qmin = wide ? -32768 : -128, qmax = wide ? 32767 : 127;
  return tm_type_quant(c, tm_type_int(c, wide ? 16 : 8), tm_type_float(c, 32), qmin, qmax, -1, 1, &scale, &zp);
}

/* An activation type for the range [lo, hi] widened to hold 0: int8 asymmetric with
 * the zero point nudged as TFLite's converter does, int16 symmetric. */
static const tm_type *range_type(qstate *s, float lo, float hi, bool wide) {
  double l = lo < 0 ? lo : 0, h = hi > 0 ? hi : 0;
  if (wide) {
    double scale = f32(fmax(-l, h) / 32767.0);
    return quant_type(s, true, scale > 0 && isfinite(scale) ? scale : 1.0, 0);
  }
  double scale = f32((h - l) / 255.0);
  if (!(scale > 0) || !isfinite(scale)) return quant_type(s, false, 1.0, -128);
  return quant_type(s, false, scale, round_clamp(-128.0 - l / scale, -128, 127));
}

static float fake(float x, const tm_type *q, int c) {
  double sc = q->scales[q->nscales > 1 ? c : 0];
  int64_t zp = q->zero_points ? q->zero_points[q->nscales > 1 ? c : 0] : 0;
  int64_t r = round_clamp((double)x / sc + (double)zp, q->storage_min, q->storage_max);
  return (float)((double)(r - zp) * sc);
}

/* Per-channel symmetric weight type along axis: scale = max|w| / qmax per channel. */
static const tm_type *weight_type(qstate *s, const tm_type *t, const float *w, int axis) {
  int64_t C = t->dims[axis], inner = 1, n = tm_type_numel(t);
  for (int d = axis + 1; d < t->rank; d++) inner *= t->dims[d];
  double *scales = TM_NEW_ARRAY(tm_ctx_arena(s->ctx), double, C);
  for (int64_t i = 0; i < n; i++) {
    int64_t c = (i / inner) % C;
    scales[c] = fmax(scales[c], fabs((double)w[i]));
  }
  int qmax = s->i4 ? 7 : 127;
  for (int64_t c = 0; c < C; c++) scales[c] = scales[c] > 0 ? f32(scales[c] / qmax) : 1.0;
  if (!strcmp(tm_pass_opt_str(s->opts, "weight-range"), "mse")) {
    /* Clip each channel where the squared rounding + clipping error is least. */
    double *err = TM_NEW_ARRAY(tm_ctx_arena(s->ctx), double, C);
    double *best = TM_NEW_ARRAY(tm_ctx_arena(s->ctx), double, C);
    for (int64_t c = 0; c < C; c++) best[c] = INFINITY;
    double *base = TM_NEW_ARRAY(tm_ctx_arena(s->ctx), double, C), *pick = TM_NEW_ARRAY(tm_ctx_arena(s->ctx), double, C);
    memcpy(base, scales, sizeof(double) * (size_t)C);
    for (int k = 0; k <= 60; k++) {
      memset(err, 0, sizeof(double) * (size_t)C);
      for (int64_t i = 0; i < n; i++) {
        int64_t c = (i / inner) % C;
        double sc = f32(base[c] * (1.0 - 0.01 * k)), r = round((double)w[i] / sc);
        r = r < -qmax ? -qmax : r > qmax ? qmax : r;
        err[c] += (r * sc - (double)w[i]) * (r * sc - (double)w[i]);
      }
      for (int64_t c = 0; c < C; c++)
        if (err[c] < best[c]) best[c] = err[c], pick[c] = f32(base[c] * (1.0 - 0.01 * k));
    }
    memcpy(scales, pick, sizeof(double) * (size_t)C);
  }
  tm_ctx *c = s->ctx;
  return tm_type_quant(c, tm_type_int(c, s->pack4 ? 4 : 8), tm_type_float(c, 32), -qmax, qmax, axis, (int)C, scales, NULL);
}

static int weight_axis(const tm_op *op) { return tm_op_is(op, "tm.depthwise_conv2d") ? 3 : 0; }

static float *const_floats(qstate *s, const tm_value *v) {
  const tm_attr *a = tm_value_const(v);
  int64_t n = tm_type_numel(v->type);
  float *d = TM_NEW_ARRAY(tm_ctx_arena(s->ctx), float, n > 0 ? n : 1);
  for (int64_t i = 0; a && i < n; i++) d[i] = (float)tm_dense_get_float(a, i);
  return d;
}

static bool is_f32_const(const tm_value *v) {
  const tm_type *e = tm_type_elem(v->type);
  return tm_value_const(v) && e->kind == TM_TYPE_FLOAT && e->width == 32 && tm_type_is_static(v->type);
}

/* ---------------------------------------------------------------- calibration ------- */
static void weight_fake(const tm_type *q, const tm_type *t, float *d, int64_t n) {
  int64_t inner = 1;
  for (int k = q->axis + 1; k < t->rank; k++) inner *= t->dims[k];
  for (int64_t i = 0; i < n; i++) d[i] = fake(d[i], q, (int)((i / inner) % q->nscales));
}

static void observe(void *user, tm_value *v, float *d, int64_t n) {
  qstate *s = user;
  vinfo *vi = info(s, v);
  if (!vi) return;
  if (s->obs == OBS_REF) {
    if (vi->ref) memcpy(vi->ref, d, sizeof(float) * (size_t)n);
    return;
  }
  if (s->obs == OBS_SIMULATE) {
    if (vi->fixed) memcpy(d, vi->fixed, sizeof(float) * (size_t)n);
    if (vi->waxis >= 0 && vi->qt) weight_fake(vi->qt, v->type, d, n);
    else if (vi->qused && vi->qt)
      for (int64_t i = 0; i < n; i++) d[i] = fake(d[i], vi->qt, 0);
    if (vi->ref)
      for (int64_t i = 0; i < n; i++) {
        vi->sig += (double)vi->ref[i] * vi->ref[i];
        vi->noise += ((double)vi->ref[i] - d[i]) * ((double)vi->ref[i] - d[i]);
      }
    return;
  }
  if (s->bias_corr)
    TM_FOREACH_USE(u, v) {
      vinfo *r = u->index == 0 && u->user->nresults == 1 ? info(s, &u->user->results[0]) : NULL;
      if (r && r->tapsum) r->tapcount += tm_interp_tap_sums(u->user, d, r->tapsum);
    }
  for (int64_t i = 0; i < n; i++) {
    if (!isfinite(d[i])) continue; /* ranges and samples hold finite values only */
    if (!vi->seen || d[i] < vi->lo) vi->lo = d[i];
    if (!vi->seen || d[i] > vi->hi) vi->hi = d[i];
    vi->seen = true;
    if (vi->samples) vi->samples[vi->nsamples++] = d[i];
  }
}

static int cmp_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The calibration files, sorted by name; *n of them. */
static char **list_files(qstate *s, const char *dir, int *n) {
  const char *pat = tm_pass_opt_str(s->opts, "calibration-files");
  DIR *d = opendir(dir);
  if (!d) {
    tm_op_error(s->ctx, s->func, "quantize: cannot open calibration-data directory '%s'", dir);
    return NULL;
  }
  int cap = 16;
  char **names = malloc(sizeof(char *) * (size_t)cap);
  *n = 0;
  for (struct dirent *e; names && (e = readdir(d));) {
    if (fnmatch(pat, e->d_name, 0)) continue;
    if (*n == cap) {
      char **g = realloc(names, sizeof(char *) * (size_t)(cap *= 2));
      if (!g) break;
      names = g;
    }
    names[(*n)++] = tm_arena_printf(s->ctx, "%s/%s", dir, e->d_name);
  }
  closedir(d);
  if (names) qsort(names, (size_t)*n, sizeof(char *), cmp_name);
  return names;
}

/* Reads one raw f32 tensor of numel elements; *bytes is the file's size (-1 if unreadable). */
static bool read_input(const char *path, float *dst, int64_t numel, long *bytes) {
  FILE *f = fopen(path, "rb");
  *bytes = -1;
  if (!f) return false;
  if (fseek(f, 0, SEEK_END) == 0) *bytes = ftell(f);
  rewind(f);
  bool ok = *bytes == (long)(numel * (int64_t)sizeof(float)) && fread(dst, sizeof(float), (size_t)numel, f) == (size_t)numel;
  fclose(f);
  return ok;
}

/* Runs the function on every calibration sample: recording ranges, or with `report` a
 * float run capturing every value (ref) and a fake-quantized run comparing with it
 * (outputs' signal and error power added to out_sig/out_noise). */
static int for_each_sample(qstate *s, char **files, bool report, double *out_sig, double *out_noise) {
  const tm_type *ft = tm_func_type(s->func);
  int nin = ft->ninputs, nout = ft->nresults;
  int status = 0;
  for (int f = 0; f + nin <= s->nfiles && !status; f += nin) {
    tm_arena *ar = tm_arena_new();
    float **in = TM_NEW_ARRAY(ar, float *, nin + 1), **out = TM_NEW_ARRAY(ar, float *, nout + 1),
          **qout = TM_NEW_ARRAY(ar, float *, nout + 1);
    for (int i = 0; i < nin && !status; i++) {
      int64_t n = tm_type_numel(ft->inputs[i]);
      long bytes = -1;
      in[i] = TM_NEW_ARRAY(ar, float, n > 0 ? n : 1);
      if (n < 0 || !read_input(files[f + i], in[i], n, &bytes))
        status = tm_op_error(s->ctx, s->func,
                             "quantize: calibration file '%s' (%ld bytes) does not hold argument #%d (%lld f32 values)",
                             files[f + i], bytes, i, (long long)n);
    }
    for (int i = 0; i < nout; i++) {
      int64_t n = tm_type_numel(ft->results[i]);
      out[i] = TM_NEW_ARRAY(ar, float, n > 0 ? n : 1);
      qout[i] = TM_NEW_ARRAY(ar, float, n > 0 ? n : 1);
    }
    if (!status && report) {
      for (int i = 0; i < s->nvi; i++) s->vi[i].ref = TM_NEW_ARRAY(ar, float, s->vi[i].numel > 0 ? s->vi[i].numel : 1);
      s->obs = OBS_REF;
      status = tm_interp_func(s->ctx, s->func, (const float *const *)in, out, observe, s);
    }
    if (!status && report) {
      s->obs = OBS_SIMULATE;
      status = tm_interp_func(s->ctx, s->func, (const float *const *)in, qout, observe, s);
      for (int i = 0; i < nout && !status; i++)
        for (int64_t k = 0; k < tm_type_numel(ft->results[i]); k++) {
          out_sig[i] += (double)out[i][k] * out[i][k];
          out_noise[i] += ((double)out[i][k] - qout[i][k]) * ((double)out[i][k] - qout[i][k]);
        }
    } else if (!status) {
      s->obs = OBS_RECORD;
      status = tm_interp_func(s->ctx, s->func, (const float *const *)in, out, observe, s);
    }
    for (int i = 0; i < s->nvi; i++) s->vi[i].ref = NULL;
    tm_arena_free(ar);
  }
  return status;
}

/* --------------------------------------------------------------------- ranges ------- */
static int cmp_float(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

/* Sum of squared errors of fake-quantizing the (strided) samples with [lo, hi]. */
static double range_error(qstate *s, const vinfo *vi, float lo, float hi) {
  const tm_type *q = range_type(s, lo, hi, s->i16);
  int64_t step = vi->nsamples > 65536 ? vi->nsamples / 65536 : 1;
  double e = 0;
  for (int64_t i = 0; i < vi->nsamples; i += step) {
    double d = (double)vi->samples[i] - fake(vi->samples[i], q, 0);
    e += d * d;
  }
  return e;
}

/* Narrows [lo, hi] by the percentile or MSE rule (min/max keeps the recorded range). */
static void choose_range(qstate *s, vinfo *vi) {
  if (!vi->samples || vi->nsamples == 0) return;
  if (!strcmp(s->mode, "percentile")) {
    double p = tm_pass_opt_float(s->opts, "percentile") / 100.0;
    qsort(vi->samples, (size_t)vi->nsamples, sizeof(float), cmp_float);
    int64_t last = vi->nsamples - 1;
    vi->lo = vi->samples[(int64_t)floor((1.0 - p) * (double)last)];
    vi->hi = vi->samples[(int64_t)ceil(p * (double)last)];
  } else if (!strcmp(s->mode, "mse")) {
    float lo = vi->lo, hi = vi->hi;
    double best = range_error(s, vi, lo, hi);
    for (int k = 1; k <= 80; k++) {
      float a = 1.0f - 0.01f * (float)k;
      double e = range_error(s, vi, lo * a, hi * a);
      if (e < best) best = e, vi->lo = lo * a, vi->hi = hi * a;
    }
  }
}

/* --------------------------------------------------------------- equalization ------- */
/* Cross-layer equalization (Nagel et al., "Data-Free Quantization"): for A -> B with A's
 * activation none or relu (positively homogeneous), dividing A's output channel c (its
 * weights and bias) by k_c and multiplying B's input channel c by k_c leaves B's result
 * unchanged; k_c = sqrt(rA_c / rB_c) makes both channels' weight ranges sqrt(rA_c * rB_c),
 * so that no channel of B's input is quantized on a grid made for a much larger one. */
typedef struct wview {
  tm_value *v;
  float *w;
  int64_t n, C, inner; /* channel c of element i: (i / inner) % C */
} wview;

static bool eq_weight(qstate *s, tm_op *op, int axis_from_end, wview *wv) {
  tm_value *w = op->noperands > 1 ? tm_op_operand(op, 1) : NULL;
  if (!w || !is_f32_const(w) || !tm_value_has_one_use(w) || w->type->rank < 2) return false;
  int axis = axis_from_end < 0 ? w->type->rank + axis_from_end : axis_from_end;
  *wv = (wview){.v = w, .w = const_floats(s, w), .n = tm_type_numel(w->type), .C = w->type->dims[axis], .inner = 1};
  for (int d = axis + 1; d < w->type->rank; d++) wv->inner *= w->type->dims[d];
  return true;
}

static void channel_ranges(const wview *wv, double *r) {
  for (int64_t c = 0; c < wv->C; c++) r[c] = 0;
  for (int64_t i = 0; i < wv->n; i++) r[(i / wv->inner) % wv->C] = fmax(r[(i / wv->inner) % wv->C], fabs(wv->w[i]));
}

/* Replaces the constant operand i of op by data (same type). */
static void set_const(qstate *s, tm_op *op, int i, const float *data) {
  tm_value *v = tm_op_operand(op, i);
  tm_builder b = tm_builder_before(s->ctx, op);
  b.loc = v->def->loc;
  const tm_attr *a = tm_attr_dense(s->ctx, v->type, false, data, sizeof(float) * (size_t)tm_type_numel(v->type));
  tm_op_set_operand(op, i, tm_op_result(tm_build_const(&b, a, v->type), 0));
}

static bool equalize_pair(qstate *s, tm_op *a, tm_op *b) {
  const struct qop *qa = qop_of(a), *qb = qop_of(b);
  if (!qa || !qb || qa->kind != K_WEIGHTED || tm_op_is(b, "tm.depthwise_conv2d") || a->nresults != 1 ||
      !tm_value_has_one_use(&a->results[0]) || tm_op_operand(b, 0) != &a->results[0])
    return false;
  const char *act = tm_op_attr_str(a, "fused_activation", "none");
  if (strcmp(act, "none") && strcmp(act, "relu")) return false;
  wview wa, wb;
  if (!eq_weight(s, a, weight_axis(a), &wa) || !eq_weight(s, b, -1, &wb) || wa.C != wb.C) return false;
  tm_value *bias = a->noperands > 2 ? tm_op_operand(a, 2) : NULL;
  if (bias && (!is_f32_const(bias) || !tm_value_has_one_use(bias) || tm_type_numel(bias->type) != wa.C)) return false;
  tm_arena *ar = tm_ctx_arena(s->ctx);
  double *ra = TM_NEW_ARRAY(ar, double, wa.C), *rb = TM_NEW_ARRAY(ar, double, wa.C), *k = TM_NEW_ARRAY(ar, double, wa.C);
  channel_ranges(&wa, ra);
  channel_ranges(&wb, rb);
  for (int64_t c = 0; c < wa.C; c++) k[c] = ra[c] > 0 && rb[c] > 0 ? f32(sqrt(ra[c] / rb[c])) : 1.0;
  for (int64_t i = 0; i < wa.n; i++) wa.w[i] = (float)(wa.w[i] / k[(i / wa.inner) % wa.C]);
  for (int64_t i = 0; i < wb.n; i++) wb.w[i] = (float)(wb.w[i] * k[(i / wb.inner) % wb.C]);
  set_const(s, a, 1, wa.w);
  set_const(s, b, 1, wb.w);
  if (bias) {
    float *bf = const_floats(s, bias);
    for (int64_t c = 0; c < wa.C; c++) bf[c] = (float)(bf[c] / k[c]);
    set_const(s, a, 2, bf);
  }
  return true;
}

/* A few sweeps over the chains: a layer between two others is balanced on both sides. */
static void equalize(qstate *s) {
  for (int sweep = 0; sweep < 8; sweep++)
    TM_FOREACH_OP(op, s->body) {
      if (op->nresults != 1 || !tm_value_has_one_use(&op->results[0])) continue;
      equalize_pair(s, op, op->results[0].uses->user);
    }
  /* the replaced constants */
  for (tm_op *op = s->body->last, *prev; op; op = prev) {
    prev = op->prev;
    if (tm_op_is(op, "tm.const") && !tm_value_has_uses(&op->results[0])) tm_op_erase(op);
  }
}

/* ----------------------------------------------------------------------- plan ------- */
/* Whether the comma-separated list names the op: by name (tm.softmax) or by its index
 * in the function body (as the report numbers ops). */
static bool in_list(const char *list, const char *name, int index) {
  char num[24];
  snprintf(num, sizeof num, "%d", index);
  for (const char *p = list; p && *p;) {
    const char *e = strchr(p, ',');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    if ((len == strlen(name) && !strncmp(p, name, len)) || (len == strlen(num) && !strncmp(p, num, len))) return true;
    p = e ? e + 1 : NULL;
  }
  return false;
}

static bool is_wide(const tm_type *q) { return q && q->storage->width == 16; }

/* Whether op's activations are int16: with activations=i16 or named by keep-i16, where
 * lower-to-loops has the int16 kernel. */
static bool op_wide(qstate *s, const tm_op *op, int index) {
  const struct qop *q = qop_of(op);
  return q && q->i16 && (s->i16 || in_list(tm_pass_opt_str(s->opts, "keep-i16"), op->name, index));
}

/* Whether op gets an integer kernel, and if so the types of its result and weights. */
static bool plan_op(qstate *s, tm_op *op, int index, bool wide) {
  const struct qop *q = qop_of(op);
  if (!q || op->nresults != 1 || in_list(tm_pass_opt_str(s->opts, "keep-float"), op->name, index)) return false;
  if (!strcmp(tm_op_attr_str(op, "fused_activation", "none"), "tanh")) return false;
  vinfo *r = info(s, &op->results[0]);
  if (!r) return false;
  for (int i = 0; i < op->noperands; i++) {
    vinfo *o = info(s, tm_op_operand(op, i));
    if (!o || !o->qt) return false;
    if (q->kind == K_WEIGHTED && i >= 1 && !is_f32_const(tm_op_operand(op, i))) return false;
  }
  if (q->kind == K_WEIGHTED) {
    vinfo *w = info(s, tm_op_operand(op, 1));
    if (w->waxis >= 0 && w->waxis != weight_axis(op)) return false;
    w->waxis = weight_axis(op);
    w->qt = weight_type(s, w->v->type, const_floats(s, w->v), w->waxis);
  }
  if (q->kind == K_SAME) {
    const vinfo *in = info(s, tm_op_operand(op, 0));
    r->qt = is_wide(in->qt) == wide ? in->qt : in->alt;
    r->alt = is_wide(in->qt) == wide ? in->alt : in->qt;
  } else if (q->kind == K_FIXED && wide) {
    r->qt = quant_type(s, true, 1.0 / 32768, 0); /* TFLite's int16 logistic and tanh */
  } else if (q->kind == K_FIXED) {
    bool tanh_ = tm_op_is(op, "tm.tanh");
    r->qt = quant_type(s, false, tanh_ ? 1.0 / 128 : 1.0 / 256, tanh_ ? 0 : -128);
  }
  return true;
}

/* Bias correction: the weights' rounding shifts output channel o by the mean over the
 * calibration data of sum_tap dW[o, tap] * x[tap]; the float bias absorbs that shift
 * (Nagel et al., "Data-Free Quantization", with the input means measured). */
static void correct_bias(qstate *s, tm_op *op) {
  vinfo *r = info(s, &op->results[0]);
  if (!r->tapsum || r->tapcount <= 0 || op->noperands < 3) return;
  tm_value *bv = tm_op_operand(op, 2);
  if (!is_f32_const(bv) || !tm_value_has_one_use(bv)) return;
  vinfo *b = info(s, bv), *w = info(s, tm_op_operand(op, 1));
  int64_t n = tm_type_numel(w->v->type), O = tm_type_numel(bv->type), K = tm_interp_taps(op);
  const float *wf = const_floats(s, w->v);
  float *wq = const_floats(s, w->v), *bf = const_floats(s, bv);
  weight_fake(w->qt, w->v->type, wq, n);
  bool dw = tm_op_is(op, "tm.depthwise_conv2d");
  int64_t C = tm_op_operand(op, 0)->type->dims[tm_op_operand(op, 0)->type->rank - 1], M = dw && C ? O / C : 1;
  if (dw ? n != K / (C ? C : 1) * O : n != O * K) return;
  for (int64_t o = 0; o < O; o++) {
    double shift = 0;
    for (int64_t t = 0; t < (dw ? K / C : K); t++) {
      int64_t wi = dw ? t * O + o : o * K + t, xi = dw ? t * C + o / M : t;
      shift += ((double)wq[wi] - wf[wi]) * r->tapsum[xi];
    }
    bf[o] = (float)((double)bf[o] - shift / (double)r->tapcount);
  }
  b->fixed = bf;
}

static int plan(qstate *s) {
  int i = 0;
  for (int a = 0; a < s->body->nargs; a++) {
    vinfo *vi = info(s, s->body->args[a]);
    choose_range(s, vi);
    vi->qt = range_type(s, vi->lo, vi->hi, s->i16);
    vi->alt = range_type(s, vi->lo, vi->hi, !s->i16);
  }
  TM_FOREACH_OP(op, s->body) {
    bool wide = op_wide(s, op, i);
    if (op->nresults == 1) {
      vinfo *vi = info(s, &op->results[0]);
      if (vi && !tm_op_is(op, "tm.const")) choose_range(s, vi);
      if (vi) vi->qt = range_type(s, vi->lo, vi->hi, wide), vi->alt = range_type(s, vi->lo, vi->hi, !wide);
    }
    s->quantized[i] = plan_op(s, op, i, wide);
    if (s->quantized[i] && qop_of(op)->kind == K_WEIGHTED) correct_bias(s, op);
    /* Operands of integer kernels (weights and biases aside) are used quantized. */
    const struct qop *q = qop_of(op);
    for (int k = 0; s->quantized[i] && k < op->noperands; k++)
      if (!(q->kind == K_WEIGHTED && k >= 1)) info(s, tm_op_operand(op, k))->qused = true;
    if (s->quantized[i]) info(s, &op->results[0])->qused = true;
    if (tm_op_is(op, "func.return") && s->int8_io)
      for (int k = 0; k < op->noperands; k++)
        if (info(s, tm_op_operand(op, k))) info(s, tm_op_operand(op, k))->qused = true;
    i++;
  }
  if (s->int8_io)
    for (int a = 0; a < s->body->nargs; a++) info(s, s->body->args[a])->qused = true;
  return 0;
}

/* -------------------------------------------------------------------- rewrite ------- */
static tm_builder after_def(qstate *s, const tm_value *v) {
  return v->def ? tm_builder_before(s->ctx, v->def->next) : tm_builder_before(s->ctx, s->body->first);
}

static tm_value *build1(tm_builder *b, const char *name, const tm_loc *loc, tm_value *x, const tm_type *t) {
  tm_op_state st = {.name = name, .loc = loc, .noperands = 1, .operands = &x, .nresults = 1, .result_types = &t};
  return tm_op_result(tm_build(b, &st), 0);
}

static const tm_loc *loc_of(qstate *s, const tm_value *v) { return v->def ? v->def->loc : s->func->loc; }

/* A constant of storage values for a quantized type (per tensor or per channel). */
static tm_value *quant_const(qstate *s, tm_builder *b, const tm_value *v, const tm_type *q) {
  const tm_type *t = v->type;
  int64_t n = tm_type_numel(t), inner = 1;
  for (int d = q->axis + 1; q->axis >= 0 && d < t->rank; d++) inner *= t->dims[d];
  const float *w = const_floats(s, v);
  int bytes = (int)(q->storage->width + 7) / 8; /* i4: one per byte, as MLIR's dense attrs */
  uint8_t *data = TM_NEW_ARRAY(tm_ctx_arena(s->ctx), uint8_t, n * bytes + 1);
  for (int64_t i = 0; i < n; i++) {
    int c = q->axis >= 0 ? (int)((i / inner) % q->nscales) : 0;
    int64_t zp = q->zero_points ? q->zero_points[c] : 0;
    int64_t x = round_clamp((double)w[i] / q->scales[c] + (double)zp, q->storage_min, q->storage_max);
    for (int k = 0; k < bytes; k++) data[i * bytes + k] = (uint8_t)((uint64_t)x >> (8 * k));
  }
  const tm_attr *a = tm_attr_dense(s->ctx, tm_type_with_elem(s->ctx, t, q->storage), false, data, (size_t)(n * bytes));
  b->loc = loc_of(s, v);
  return tm_op_result(tm_build_const(b, a, tm_type_with_elem(s->ctx, t, q)), 0);
}

/* The bias as i32 (i64 with int16 activations): round(b / (s_in * s_w[c])). */
static tm_value *bias_const(qstate *s, tm_builder *b, const tm_value *v, double s_in, const tm_type *wq, bool wide) {
  int64_t n = tm_type_numel(v->type);
  const float *f = info(s, v)->fixed ? info(s, v)->fixed : const_floats(s, v);
  int bits = wide ? 64 : 32;
  int64_t lim = wide ? INT64_MAX / 2 : INT32_MAX;
  uint8_t *data = TM_NEW_ARRAY(tm_ctx_arena(s->ctx), uint8_t, n * (bits / 8) + 1);
  for (int64_t i = 0; i < n; i++) {
    int64_t x = round_clamp((double)f[i] / f32(s_in * wq->scales[wq->nscales > 1 ? i % wq->nscales : 0]), -lim, lim);
    for (int k = 0; k < bits / 8; k++) data[i * (bits / 8) + k] = (uint8_t)((uint64_t)x >> (8 * k));
  }
  const tm_type *t = tm_type_with_elem(s->ctx, v->type, tm_type_int(s->ctx, (unsigned)bits));
  b->loc = loc_of(s, v);
  return tm_op_result(tm_build_const(b, tm_attr_dense(s->ctx, t, false, data, (size_t)(n * (bits / 8))), t), 0);
}

static tm_value *get_q(qstate *s, vinfo *vi) {
  if (vi->qval) return vi->qval;
  tm_builder b = after_def(s, vi->v);
  if (vi->v->def && is_f32_const(vi->v)) return vi->qval = quant_const(s, &b, vi->v, vi->qt);
  return vi->qval = build1(&b, "tm.quantize", loc_of(s, vi->v), vi->fval, tm_type_with_elem(s->ctx, vi->v->type, vi->qt));
}

/* v quantized in the width its consumer's kernel takes: requantized (tm.quantize from one
 * quantized type to the other) when it was produced in the other width. */
static tm_value *get_q_width(qstate *s, vinfo *vi, bool wide) {
  if (is_wide(vi->qt) == wide) return get_q(s, vi);
  if (vi->qalt) return vi->qalt;
  if (vi->v->def && is_f32_const(vi->v)) {
    tm_builder b = after_def(s, vi->v);
    return vi->qalt = quant_const(s, &b, vi->v, vi->alt);
  }
  tm_value *q = get_q(s, vi);
  tm_builder b = after_def(s, q);
  return vi->qalt = build1(&b, "tm.quantize", loc_of(s, vi->v), q, tm_type_with_elem(s->ctx, vi->v->type, vi->alt));
}

static tm_value *get_f(qstate *s, vinfo *vi) {
  if (vi->fval) return vi->fval;
  tm_builder b = after_def(s, vi->qval);
  return vi->fval = build1(&b, "tm.dequantize", loc_of(s, vi->v), vi->qval,
                           tm_type_with_elem(s->ctx, vi->v->type, tm_type_float(s->ctx, 32)));
}

static void rewrite_op(qstate *s, tm_op *op) {
  const struct qop *q = qop_of(op);
  vinfo *r = info(s, &op->results[0]);
  tm_value **ops = TM_NEW_ARRAY(tm_ctx_arena(s->ctx), tm_value *, op->noperands + 1);
  tm_builder b = tm_builder_before(s->ctx, op);
  double s_in = 0;
  const tm_type *wq = NULL;
  bool wide = is_wide(r->qt);
  for (int i = 0; i < op->noperands; i++) {
    vinfo *o = info(s, tm_op_operand(op, i));
    if (q->kind == K_WEIGHTED && i == 1) {
      wq = o->qt;
      ops[i] = quant_const(s, &b, o->v, wq);
    } else if (q->kind == K_WEIGHTED && i == 2) {
      ops[i] = bias_const(s, &b, o->v, s_in, wq, wide);
    } else if (q->kind == K_SHARED && o->qt != r->qt) {
      tm_value *v = o->v;
      ops[i] = is_f32_const(v) ? quant_const(s, &b, v, r->qt)
                               : build1(&b, "tm.quantize", op->loc, get_q(s, o), tm_type_with_elem(s->ctx, v->type, r->qt));
    } else {
      ops[i] = get_q_width(s, o, wide);
      if (i == 0) s_in = (is_wide(o->qt) == wide ? o->qt : o->alt)->scales[0];
    }
  }
  const tm_type *rt = tm_type_with_elem(s->ctx, op->results[0].type, r->qt);
  tm_op_state st = {.name = op->name, .loc = op->loc, .noperands = op->noperands, .operands = ops,
                    .nresults = 1, .result_types = &rt, .nattrs = op->nattrs, .attrs = op->attrs};
  b.loc = op->loc;
  r->qval = tm_op_result(tm_build(&b, &st), 0);
  r->fval = NULL;
}

static void rewrite(qstate *s) {
  tm_ctx *c = s->ctx;
  for (int a = 0; a < s->body->nargs; a++) {
    vinfo *vi = info(s, s->body->args[a]);
    vi->fval = vi->v;
    if (s->int8_io) {
      vi->v->type = tm_type_with_elem(c, vi->v->type, vi->qt);
      vi->qval = vi->v;
      vi->fval = NULL;
    }
  }
  int i = 0;
  TM_FOREACH_OP(op, s->body) {
    bool quantized = s->quantized[i++];
    if (quantized) {
      rewrite_op(s, op);
    } else if (tm_op_is(op, "func.return")) {
      for (int k = 0; k < op->noperands; k++) {
        vinfo *o = info(s, tm_op_operand(op, k));
        if (o && o->qt) tm_op_set_operand(op, k, s->int8_io ? get_q_width(s, o, false) : get_f(s, o));
      }
    } else {
      for (int k = 0; k < op->noperands; k++) {
        vinfo *o = info(s, tm_op_operand(op, k));
        if (o && o->qt) tm_op_set_operand(op, k, get_f(s, o));
      }
      for (int k = 0; k < op->nresults; k++)
        if (info(s, &op->results[k])) info(s, &op->results[k])->fval = &op->results[k];
    }
  }
  /* The float ops replaced above and the float weights they used are now dead. */
  for (tm_op *op = s->body->last, *prev; op; op = prev) {
    prev = op->prev;
    bool dead = op->nresults > 0;
    for (int k = 0; k < op->nresults; k++) dead = dead && !tm_value_has_uses(&op->results[k]);
    if (dead && tm_op_has_trait(op, TM_TRAIT_PURE)) tm_op_erase(op);
  }
  const tm_type *ft = tm_func_type(s->func);
  const tm_type **ins = TM_NEW_ARRAY(tm_ctx_arena(c), const tm_type *, ft->ninputs + 1);
  const tm_type **outs = TM_NEW_ARRAY(tm_ctx_arena(c), const tm_type *, ft->nresults + 1);
  for (int a = 0; a < ft->ninputs; a++) ins[a] = s->body->args[a]->type;
  tm_op *ret = tm_block_terminator(s->body);
  for (int k = 0; k < ft->nresults; k++) outs[k] = ret && k < ret->noperands ? tm_op_operand(ret, k)->type : ft->results[k];
  tm_op_set_attr(c, s->func, "function_type",
                 tm_attr_type(c, tm_type_func(c, ft->ninputs, ins, ft->nresults, outs)));
}

/* --------------------------------------------------------------------- report ------- */
static double sqnr_db(double sig, double noise) { return noise > 0 ? 10.0 * log10(sig / noise) : INFINITY; }

static void print_report(qstate *s, const double *out_sig, const double *out_noise) {
  const char *fname = tm_op_attr(s->func, "sym_name") ? tm_attr_str(s->ctx, tm_op_attr(s->func, "sym_name")) : "?";
  fprintf(stderr, "quantize report for %s (%s ranges, %s activations, %s weights, %d calibration samples)\n", fname,
          s->mode, s->i16 ? "i16" : "i8", s->i4 ? "i4" : "i8", s->nfiles / (s->body->nargs ? s->body->nargs : 1));
  fprintf(stderr, "  %-4s %-22s %-12s %-6s %-25s %-22s %-8s %s\n", "op", "name", "scale", "zp", "range", "weight scales",
          "w SQNR", "SQNR dB");
  int i = 0;
  for (int a = 0; a < s->body->nargs; a++) {
    vinfo *vi = info(s, s->body->args[a]);
    fprintf(stderr, "  %-4s %-22s %-12.6g %-6lld [%-10.5g, %-10.5g] %-22s %-8s %.2f\n", "arg", "argument", vi->qt->scales[0],
            (long long)(vi->qt->zero_points ? vi->qt->zero_points[0] : 0), vi->lo, vi->hi, "", "",
            sqnr_db(vi->sig, vi->noise));
  }
  TM_FOREACH_OP(op, s->body) {
    bool q = s->quantized[i++];
    if (tm_op_is(op, "tm.const") || tm_op_is(op, "func.return")) continue;
    vinfo *vi = op->nresults == 1 ? info(s, &op->results[0]) : NULL;
    if (!vi) continue;
    char wbuf[64] = "", wsq[16] = "";
    if (q && qop_of(op)->kind == K_WEIGHTED) {
      const vinfo *wv = info(s, tm_op_operand(op, 1));
      const tm_type *w = wv->qt;
      snprintf(wsq, sizeof wsq, "%.2f", sqnr_db(wv->sig, wv->noise));
      double lo = w->scales[0], hi = w->scales[0];
      for (int c = 1; c < w->nscales; c++) lo = fmin(lo, w->scales[c]), hi = fmax(hi, w->scales[c]);
      snprintf(wbuf, sizeof wbuf, "%.3g..%.3g", lo, hi);
    }
    fprintf(stderr, "  %-4d %-22s ", i - 1, op->name);
    if (q)
      fprintf(stderr, "%-12.6g %-6lld ", vi->qt->scales[0], (long long)(vi->qt->zero_points ? vi->qt->zero_points[0] : 0));
    else
      fprintf(stderr, "%-12s %-6s ", "float", "");
    fprintf(stderr, "[%-10.5g, %-10.5g] %-22s %-8s %.2f\n", vi->lo, vi->hi, wbuf, wsq, sqnr_db(vi->sig, vi->noise));
  }
  for (int k = 0; k < tm_func_type(s->func)->nresults; k++)
    fprintf(stderr, "  output #%d: SQNR %.2f dB against float (fake-quantized simulation)\n", k,
            sqnr_db(out_sig[k], out_noise[k]));
}

/* ------------------------------------------------------------------------ run ------- */
static int quantize_func(tm_ctx *ctx, tm_op *func, const tm_pass_options *opts) {
  tm_block *body = tm_func_entry(func);
  if (!body) return 0;
  qstate s = {.ctx = ctx, .opts = opts, .func = func, .body = body};
  s.mode = tm_pass_opt_str(opts, "mode");
  const char *acts = tm_pass_opt_str(opts, "activations"), *wts = tm_pass_opt_str(opts, "weights"),
             *itf = tm_pass_opt_str(opts, "interface"), *dir = tm_pass_opt_str(opts, "calibration-data");
  if (strcmp(s.mode, "minmax") && strcmp(s.mode, "percentile") && strcmp(s.mode, "mse"))
    return tm_op_error(ctx, func, "quantize: mode must be minmax, percentile or mse, got '%s'", s.mode);
  double pct = tm_pass_opt_float(opts, "percentile");
  if (!(pct >= 50 && pct <= 100))
    return tm_op_error(ctx, func, "quantize: percentile must be in [50, 100], got %g", pct);
  const char *wr = tm_pass_opt_str(opts, "weight-range");
  if (strcmp(wr, "minmax") && strcmp(wr, "mse"))
    return tm_op_error(ctx, func, "quantize: weight-range must be minmax or mse, got '%s'", wr);
  if (strcmp(acts, "i8") && strcmp(acts, "i16"))
    return tm_op_error(ctx, func, "quantize: activations must be i8 or i16, got '%s'", acts);
  if (strcmp(wts, "i8") && strcmp(wts, "i4"))
    return tm_op_error(ctx, func, "quantize: weights must be i8 or i4, got '%s'", wts);
  if (strcmp(itf, "float") && strcmp(itf, "int8"))
    return tm_op_error(ctx, func, "quantize: interface must be float or int8, got '%s'", itf);
  if (!*dir) return tm_op_error(ctx, func, "quantize: needs calibration-data=DIR (a directory of *.bin inputs)");
  s.i16 = !strcmp(acts, "i16");
  s.i4 = !strcmp(wts, "i4");
  s.pack4 = s.i4 && tm_pass_opt_bool(opts, "pack-i4");
  s.int8_io = !strcmp(itf, "int8");
  s.bias_corr = tm_pass_opt_bool(opts, "bias-correction");
  if (s.int8_io && s.i16) return tm_op_error(ctx, func, "quantize: interface=int8 needs activations=i8");
  if (s.i16 && *tm_pass_opt_str(opts, "keep-i16"))
    return tm_op_error(ctx, func, "quantize: keep-i16 needs activations=i8 (with i16 every op with an int16 kernel is)");

  const tm_type *ft = tm_func_type(func);
  char **files = list_files(&s, dir, &s.nfiles);
  if (!files) return -1;
  int status = 0;
  if (ft->ninputs == 0 || s.nfiles < ft->ninputs)
    status = tm_op_error(ctx, func, "quantize: no calibration input in '%s' (files matching '%s', %d per sample)", dir,
                         tm_pass_opt_str(opts, "calibration-files"), ft->ninputs);
  else if (s.nfiles % ft->ninputs)
    status = tm_op_error(ctx, func, "quantize: %d calibration files do not split into samples of %d inputs", s.nfiles,
                         ft->ninputs);
  if (!status && tm_pass_opt_bool(opts, "equalize")) equalize(&s);
  int nops = 0;
  TM_FOREACH_OP(op, body) nops++;
  s.vi = TM_NEW_ARRAY(tm_ctx_arena(ctx), vinfo, body->nargs + nops + 1);
  s.quantized = TM_NEW_ARRAY(tm_ctx_arena(ctx), bool, nops + 1);
  int nsamples = s.nfiles / (ft->ninputs ? ft->ninputs : 1);
  bool keep = strcmp(s.mode, "minmax") != 0;
  for (int a = 0; a < body->nargs; a++) s.vi[s.nvi++] = (vinfo){.v = body->args[a]};
  TM_FOREACH_OP(op, body) {
    if (op->nresults == 1) s.vi[s.nvi++] = (vinfo){.v = &op->results[0]};
    if (!status && op->nresults == 1 && !tm_op_is(op, "tm.const") && !tm_interp_supports(op))
      status = tm_op_error(ctx, op, "quantize: cannot calibrate: the float interpreter does not evaluate this op");
  }
  for (int i = 0; i < s.nvi; i++) {
    vinfo *vi = &s.vi[i];
    vi->numel = tm_type_is_static(vi->v->type) ? tm_type_numel(vi->v->type) : 0;
    vi->waxis = -1;
    if (keep && !(vi->v->def && tm_op_is(vi->v->def, "tm.const")))
      vi->samples = TM_NEW_ARRAY(tm_ctx_arena(ctx), float, vi->numel * nsamples + 1);
    int64_t taps = vi->v->def ? tm_interp_taps(vi->v->def) : 0;
    if (s.bias_corr && taps > 0 && qop_of(vi->v->def) && qop_of(vi->v->def)->kind == K_WEIGHTED)
      vi->tapsum = TM_NEW_ARRAY(tm_ctx_arena(ctx), double, taps);
  }
  if (!status) status = for_each_sample(&s, files, false, NULL, NULL);
  if (!status) status = plan(&s);
  if (!status && tm_pass_opt_bool(opts, "report")) {
    int nout = ft->nresults;
    double *sig = TM_NEW_ARRAY(tm_ctx_arena(ctx), double, nout + 1), *noise = TM_NEW_ARRAY(tm_ctx_arena(ctx), double, nout + 1);
    status = for_each_sample(&s, files, true, sig, noise);
    if (!status) print_report(&s, sig, noise);
  }
  free(files);
  if (!status) rewrite(&s);
  return status;
}

static int run(tm_ctx *ctx, tm_op *root, const tm_pass_options *opts) {
  if (tm_op_is(root, "func.func")) return quantize_func(ctx, root, opts);
  tm_block *b = tm_op_is(root, "builtin.module") ? tm_module_body(root) : NULL;
  if (!b) return 0;
  TM_FOREACH_OP(op, b)
    if (tm_op_is(op, "func.func") && quantize_func(ctx, op, opts)) return -1;
  return 0;
}

static const tm_pass_option options[] = {
    {"calibration-data", TM_OPT_STRING, "", "directory of calibration inputs (raw f32 tensors)", 0, 0},
    {"calibration-files", TM_OPT_STRING, "*.bin", "which files of the directory to read (fnmatch pattern); "
                                                  "sorted by name, one per function argument per sample", 0, 0},
    {"mode", TM_OPT_STRING, "minmax", "activation ranges: minmax, percentile or mse", 0, 0},
    {"percentile", TM_OPT_FLOAT, "99.99", "mode=percentile: the percentile kept at each end", 0, 0},
    {"weight-range", TM_OPT_STRING, "minmax", "weight scales per channel: minmax (max |w|) or mse (clip where "
                                              "the squared error is least)", 0, 0},
    {"activations", TM_OPT_STRING, "i8", "i8 (asymmetric) or i16 (symmetric, TFLite 16x8; ops without an int16 "
                                         "kernel run in int8)", 0, 0},
    {"weights", TM_OPT_STRING, "i8", "i8 ([-127, 127]) or i4 ([-7, 7])", 0, 0},
    {"pack-i4", TM_OPT_BOOL, "true", "weights=i4: i4 storage, packed two per byte in flash by lower-to-loops "
                                      "(false: the same levels in i8 storage, one per byte)", 0, 0},
    {"interface", TM_OPT_STRING, "float", "float: quantize inputs and dequantize outputs in the graph; int8: "
                                          "quantized arguments and results", 0, 0},
    {"keep-float", TM_OPT_STRING, "", "ops to leave in float, comma-separated: names (tm.softmax) or "
                                        "indices in the function body (as the report numbers them)", 0, 0},
    {"equalize", TM_OPT_BOOL, "false", "cross-layer equalization of conv/fully_connected pairs joined by a relu "
                                       "(or no activation) before calibration", 0, 0},
    {"bias-correction", TM_OPT_BOOL, "true", "correct each weighted layer's bias for the mean output shift its "
                                             "weight rounding causes on the calibration data", 0, 0},
    {"keep-i16", TM_OPT_STRING, "", "ops to give int16 activations (with activations=i8), comma-separated "
                                    "as keep-float: mixed precision through requantization", 0, 0},
    {"report", TM_OPT_BOOL, "false", "print per-layer scales and SQNR against float to stderr", 0, 0},
};

TM_REGISTER_PASS(quantize, "quantize", "Post-training quantization of float tm graphs, calibrated on sample inputs",
                 run, TM_PASS_OPTIONS(options));
