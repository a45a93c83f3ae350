/* passes/prune.c — magnitude pruning of the constant weights of conv2d,
 * depthwise_conv2d and fully_connected (docs/prune.md).
 *
 * Unstructured: the weights of smallest magnitude (dequantized for int8, so per-channel
 * scales compare) become zero — the zero point for quantized weights — until the target
 * sparsity is reached, per layer or over all layers at once (global=true).  block=B
 * prunes runs of B weights along the last (input channel) dimension together, by their
 * summed magnitude.  With format=bcsr (format=auto: where the packed weights are smaller)
 * the op is marked `tm.sparse = "bcsr"` (and `tm.sparse_block = B`): lower-to-loops then
 * stores the weights packed and skips the zero blocks (passes/lower_sparse.c).
 *
 * Structured: the output channels of smallest L1 norm of a conv2d or fully_connected (or
 * a depthwise_conv2d of one input channel) are removed.  The producer's result must reach exactly one conv2d or fully_connected input
 * through single-use, channel-preserving ops (relu, relu6, pooling, a flattening
 * reshape, a depthwise_conv2d of multiplier 1, whose channel goes too); the consumer
 * loses the matching input channels.  A removed channel carries a constant (its
 * activation of the bias, through the chain), whose contribution is folded into the
 * consumer's bias; for int8 in the consumer's integer bias units, exactly. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "passes/lowering.h"

/* ----------------------------------------------------------------- weights ------- */
/* A weight operand: its constant values (dequantized for magnitudes) and quantization. */
typedef struct wts {
  tm_op *op;              /* the op using the weights */
  int operand;
  const tm_type *type;    /* the weight tensor type */
  const tm_attr *dense;
  bool quant;
  lw_quant q;
  int64_t numel, last;    /* elements, size of the last dimension */
  int64_t block;          /* pruned together along the last dimension */
} wts;

static bool load_wts(tm_op *op, int operand, wts *w) {
  if (operand >= op->noperands) return false;
  tm_value *v = tm_op_operand(op, operand);
  const tm_attr *d = tm_value_const(v);
  if (!d || d->kind != TM_ATTR_DENSE || !tm_type_is_static(v->type) || v->type->rank < 1) return false;
  *w = (wts){.op = op, .operand = operand, .type = v->type, .dense = d, .q = lw_quant_of(v->type),
             .numel = tm_type_numel(v->type), .last = v->type->dims[v->type->rank - 1], .block = 1};
  w->quant = w->q.quantized;
  return true;
}

static bool wts_supported(const wts *w) {
  return lw_is_f32(&w->q) || lw_is_q8_weights(&w->q);
}

/* The quantization channel of element i (per-axis scales), 0 for per-tensor. */
static int64_t wts_channel(const wts *w, int64_t i) {
  if (!w->quant || w->q.axis < 0 || w->q.nscales <= 1) return 0;
  int64_t stride = 1;
  for (int d = w->type->rank - 1; d > w->q.axis; d--) stride *= w->type->dims[d];
  return (i / stride) % w->type->dims[w->q.axis];
}

static int64_t wts_zp(const wts *w, int64_t i) {
  if (!w->quant) return 0;
  if (w->q.nscales > 1) return w->q.zps ? w->q.zps[wts_channel(w, i)] : 0;
  return w->q.zp;
}

/* The real value of element i. */
static double wts_get(const wts *w, int64_t i) {
  if (!w->quant) return tm_dense_get_float(w->dense, i);
  double s = w->q.nscales > 1 ? w->q.scales[wts_channel(w, i)] : w->q.scale;
  return s * (double)(tm_dense_get_int(w->dense, i) - wts_zp(w, i));
}

/* Mutable copy of the stored values: float or int8 (storage). */
typedef struct wbuf {
  float *f;
  int8_t *q;
} wbuf;

static wbuf wts_copy(tm_ctx *ctx, const wts *w) {
  wbuf b = {0};
  if (w->quant) {
    b.q = TM_NEW_ARRAY(tm_ctx_arena(ctx), int8_t, w->numel + 1);
    for (int64_t i = 0; i < w->numel; i++) b.q[i] = (int8_t)tm_dense_get_int(w->dense, i);
  } else {
    b.f = TM_NEW_ARRAY(tm_ctx_arena(ctx), float, w->numel + 1);
    for (int64_t i = 0; i < w->numel; i++) b.f[i] = (float)tm_dense_get_float(w->dense, i);
  }
  return b;
}

/* A new constant of type t (storage values in b) for operand `operand` of op; the old
 * constant goes when nothing else uses it. */
static tm_value *set_const(tm_ctx *ctx, tm_op *op, int operand, const tm_type *t, const void *data, size_t esize) {
  const tm_type *st = tm_type_with_elem(ctx, t, tm_type_storage(tm_type_elem(t)));
  int64_t n = tm_type_numel(t);
  const tm_attr *a = tm_attr_dense(ctx, st, false, data, (size_t)n * esize);
  tm_builder b = tm_builder_before(ctx, op);
  tm_value *nv = tm_op_result(tm_build_const(&b, a, t), 0);
  if (operand < op->noperands) {
    tm_value *old = tm_op_operand(op, operand);
    tm_op_set_operand(op, operand, nv);
    if (old->def && tm_op_is(old->def, "tm.const") && !tm_value_has_uses(old)) tm_op_erase(old->def);
  } else {
    tm_value **ops = TM_NEW_ARRAY(tm_ctx_arena(ctx), tm_value *, operand + 1);
    for (int i = 0; i < op->noperands; i++) ops[i] = tm_op_operand(op, i);
    ops[operand] = nv;
    tm_op_set_operands(ctx, op, operand + 1, ops);
  }
  return nv;
}

static void store_wts(tm_ctx *ctx, const wts *w, const wbuf *b) {
  set_const(ctx, w->op, w->operand, w->type, w->quant ? (const void *)b->q : (const void *)b->f, w->quant ? 1 : 4);
}

/* ------------------------------------------------------------- unstructured ------- */
typedef struct blk {
  double score; /* mean magnitude of the block */
  int layer;
  int64_t index; /* first element */
} blk;

static int blk_cmp(const void *pa, const void *pb) {
  const blk *a = pa, *b = pb;
  if (a->score != b->score) return a->score < b->score ? -1 : 1;
  if (a->layer != b->layer) return a->layer < b->layer ? -1 : 1;
  return a->index < b->index ? -1 : a->index > b->index;
}

/* Zeroes the blocks of smallest magnitude until `target` weights are pruned; blocks are
 * ordered by magnitude, then layer, then position, so ties break the same way on every
 * host. */
static void prune_blocks(tm_ctx *ctx, wts *L, wbuf *bufs, int first, int count, double sparsity) {
  int64_t nb = 0, total = 0;
  for (int l = first; l < first + count; l++) nb += L[l].numel / L[l].block, total += L[l].numel;
  blk *bs = TM_NEW_ARRAY(tm_ctx_arena(ctx), blk, nb + 1);
  int64_t k = 0;
  for (int l = first; l < first + count; l++)
    for (int64_t i = 0; i < L[l].numel; i += L[l].block) {
      double s = 0;
      for (int64_t j = 0; j < L[l].block; j++) s += fabs(wts_get(&L[l], i + j));
      bs[k++] = (blk){s / (double)L[l].block, l, i};
    }
  qsort(bs, (size_t)nb, sizeof *bs, blk_cmp);
  int64_t target = (int64_t)llround(sparsity * (double)total), pruned = 0;
  for (int64_t b = 0; b < nb && pruned + L[bs[b].layer].block <= target; b++) {
    const wts *w = &L[bs[b].layer];
    wbuf *buf = &bufs[bs[b].layer];
    for (int64_t j = 0; j < w->block; j++) {
      int64_t i = bs[b].index + j;
      if (w->quant) buf->q[i] = (int8_t)wts_zp(w, i);
      else buf->f[i] = 0.0f;
    }
    pruned += w->block;
  }
}

/* The bytes of the weights in lower-to-loops' block-CSR tables (passes/lower_sparse.c). */
static int64_t packed_bytes(const wts *w, const wbuf *b) {
  int64_t rows = w->numel / w->last, blocks = 0;
  for (int64_t i = 0; i < w->numel; i += w->block) {
    bool any = false;
    for (int64_t j = 0; j < w->block; j++)
      any |= w->quant ? b->q[i + j] != (int8_t)wts_zp(w, i + j) : b->f[i + j] != 0.0f;
    blocks += any;
  }
  int64_t ptr = blocks <= INT16_MAX ? 2 : 4, col = w->last / w->block <= 256 ? 1 : 2;
  return (rows + 1) * ptr + blocks * (col + w->block * (w->quant ? 1 : 4));
}

static bool is_target(const tm_op *op) {
  return tm_op_is(op, "tm.conv2d") || tm_op_is(op, "tm.depthwise_conv2d") || tm_op_is(op, "tm.fully_connected") ||
         tm_op_is(op, "tm.conv2d_add");
}

/* Whether op is selected by the ops= list (empty: every target). */
static bool selected(const char *list, const tm_op *op) {
  if (!*list) return true;
  size_t n = strlen(op->name);
  for (const char *p = list; *p;) {
    const char *e = strchr(p, ',');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    if (len == n && !strncmp(p, op->name, n)) return true;
    p += len + (e != NULL);
  }
  return false;
}

static int check_ops_list(tm_ctx *ctx, tm_op *func, const char *list) {
  static const char *const known[] = {"tm.conv2d", "tm.depthwise_conv2d", "tm.fully_connected", "tm.conv2d_add"};
  for (const char *p = list; *p;) {
    const char *e = strchr(p, ',');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    bool ok = false;
    for (size_t i = 0; i < TM_COUNTOF(known); i++) ok |= strlen(known[i]) == len && !strncmp(known[i], p, len);
    if (!ok)
      return tm_op_error(ctx, func, "prune: cannot prune '%.*s': only tm.conv2d, tm.depthwise_conv2d and "
                                    "tm.fully_connected have weights to prune", (int)len, p);
    p += len + (e != NULL);
  }
  return 0;
}

static int prune_unstructured(tm_ctx *ctx, tm_op *func, const tm_pass_options *opts) {
  double sparsity = tm_pass_opt_float(opts, "sparsity");
  int64_t block = tm_pass_opt_int(opts, "block");
  const char *format = tm_pass_opt_str(opts, "format"), *list = tm_pass_opt_str(opts, "ops");
  int n = 0;
  TM_FOREACH_OP(op, tm_func_entry(func)) n++;
  wts *L = TM_NEW_ARRAY(tm_ctx_arena(ctx), wts, n + 1);
  wbuf *bufs = TM_NEW_ARRAY(tm_ctx_arena(ctx), wbuf, n + 1);
  int nl = 0;
  TM_FOREACH_OP(op, tm_func_entry(func)) {
    if (!is_target(op) || !selected(list, op) || !load_wts(op, 1, &L[nl])) continue;
    if (!wts_supported(&L[nl]))
      return tm_op_error(ctx, op, "prune: weights of type %s are not supported (f32 or int8 only)",
                         tm_type_str(ctx, L[nl].type));
    bool dw = tm_op_is(op, "tm.depthwise_conv2d");
    /* Depthwise filters have one tap per channel along the last dimension: no blocks. */
    if (!dw && L[nl].last % block == 0) L[nl].block = block;
    bufs[nl] = wts_copy(ctx, &L[nl]);
    nl++;
  }
  if (tm_pass_opt_bool(opts, "global")) {
    prune_blocks(ctx, L, bufs, 0, nl, sparsity);
  } else {
    for (int l = 0; l < nl; l++) prune_blocks(ctx, L, bufs, l, 1, sparsity);
  }
  for (int l = 0; l < nl; l++) {
    store_wts(ctx, &L[l], &bufs[l]);
    tm_op *op = L[l].op;
    /* Rows of one block have nothing to skip inside (single-channel convolutions, which
     * depthwise-lowering may turn into depthwise ones, which have no sparse kernel). */
    if (!strcmp(format, "dense") || tm_op_is(op, "tm.depthwise_conv2d") || L[l].last == L[l].block) continue;
    if (!strcmp(format, "auto") && packed_bytes(&L[l], &bufs[l]) >= L[l].numel * (L[l].quant ? 1 : 4)) continue;
    tm_op_set_attr(ctx, op, "tm.sparse", tm_attr_cstr(ctx, "bcsr"));
    if (L[l].block > 1) tm_op_set_attr(ctx, op, "tm.sparse_block", tm_attr_int(ctx, NULL, L[l].block));
    else tm_op_remove_attr(op, "tm.sparse_block");
  }
  return 0;
}

/* --------------------------------------------------------------- structured ------- */
#define MAX_CHAIN 16

/* From a producer's result to the conv2d / fully_connected it feeds. */
typedef struct chain {
  tm_op *ops[MAX_CHAIN];
  int n;
  tm_op *consumer;
  int64_t mult; /* consumer input elements per channel: a flattening reshape makes it H * W */
} chain;

static bool float_act(const char *act) {
  return !strcmp(act, "none") || !strcmp(act, "relu") || !strcmp(act, "relu6") || !strcmp(act, "relu_n1_to_1");
}

static double apply_act(const char *act, double v) {
  if (!strcmp(act, "relu")) return v > 0 ? v : 0;
  if (!strcmp(act, "relu6")) return v < 0 ? 0 : v > 6 ? 6 : v;
  if (!strcmp(act, "relu_n1_to_1")) return v < -1 ? -1 : v > 1 ? 1 : v;
  return v;
}

static const char *act_of(const tm_op *op) { return tm_op_attr_str(op, "fused_activation", "none"); }

/* The weights and (constant, or for float absent) bias of a weighted op. */
static bool weighted_ok(tm_op *op, bool quant, wts *w) {
  if (!load_wts(op, 1, w) || !wts_supported(w) || w->quant != quant) return false;
  if (op->noperands > 2) return tm_value_const(tm_op_operand(op, 2)) != NULL;
  return !quant;
}

static bool find_chain(tm_op *P, int64_t C, bool quant, chain *ch) {
  tm_value *v = tm_op_result(P, 0);
  ch->n = 0;
  ch->mult = 1;
  wts w;
  for (;;) {
    if (!tm_value_has_one_use(v) || v->uses->index != 0 || !tm_type_is_static(v->type)) return false;
    tm_op *user = v->uses->user;
    int64_t last = v->type->dims[v->type->rank - 1];
    if (tm_op_is(user, "tm.conv2d") || tm_op_is(user, "tm.fully_connected")) {
      if (!weighted_ok(user, quant, &w) || last != ch->mult * C || w.last % C) return false;
      /* fully_connected flattens its input into rows of w.last elements, channel innermost. */
      if (w.last != last && !tm_op_is(user, "tm.fully_connected")) return false;
      ch->mult = w.last / C;
      ch->consumer = user;
      return true;
    }
    if (ch->n == MAX_CHAIN || user->nresults != 1 || !float_act(act_of(user))) return false;
    const tm_type *rt = user->results[0].type;
    if (tm_op_is(user, "tm.relu") || tm_op_is(user, "tm.relu6")) {
      if (quant) return false; /* int8 graphs fuse them; a standalone one requantizes */
    } else if (tm_op_is(user, "tm.max_pool2d") || tm_op_is(user, "tm.avg_pool2d")) {
      if (tm_type_elem(rt) != tm_type_elem(v->type)) return false;
    } else if (tm_op_is(user, "tm.reshape")) {
      /* [N, ..., C] -> [N, X]: channel c is every element i % C == c of a row. */
      if (ch->mult != 1 || !tm_type_is_static(rt) || rt->rank != 2 || rt->dims[0] != v->type->dims[0] ||
          rt->dims[1] % C || tm_type_elem(rt) != tm_type_elem(v->type))
        return false;
      ch->mult = rt->dims[1] / C;
    } else if (tm_op_is(user, "tm.depthwise_conv2d")) {
      if (ch->mult != 1 || tm_op_attr_int(user, "depth_multiplier", 1) != 1 || !weighted_ok(user, quant, &w)) return false;
    } else {
      return false;
    }
    ch->ops[ch->n++] = user;
    v = tm_op_result(user, 0);
  }
}

/* TFLite's output of a quantized weighted op for accumulator acc in channel c, as the
 * lower-to-loops kernels compute it (passes/lower_nn.c). */
static bool requant_out(const tm_op *op, int64_t c, int64_t acc, int32_t *out) {
  lw_quant xq = lw_quant_of(tm_op_operand(op, 0)->type), wq = lw_quant_of(tm_op_operand(op, 1)->type);
  lw_quant oq = lw_quant_of(op->results[0].type);
  double m;
  if (wq.nscales > 1)
    m = lw_fscale(xq.scale) * lw_fscale(wq.scales[c]) / lw_fscale(oq.scale);
  else if (tm_op_is(op, "tm.fully_connected"))
    m = (double)((float)xq.scale * (float)wq.scale) / lw_fscale(oq.scale);
  else
    m = lw_fscale(xq.scale) * lw_fscale(wq.scale) / lw_fscale(oq.scale);
  int32_t q, lo, hi;
  int shift;
  if (acc < INT32_MIN || acc > INT32_MAX || !tm_quantize_multiplier(m, &q, &shift) ||
      !tm_act_range_quant(act_of(op), lw_fscale(oq.scale), oq.zp, -128, 127, &lo, &hi))
    return false;
  int64_t r = (int64_t)tm_fx_mbqm((int32_t)acc, q, shift) + oq.zp;
  *out = (int32_t)(r < lo ? lo : r > hi ? hi : r);
  return true;
}

/* Whether some window of a conv2d / depthwise_conv2d reaches into the padding, where
 * the taps are skipped: a constant input channel then contributes a position-dependent
 * sum, which no bias can stand for unless the constant is zero. */
static bool window_clips(const tm_op *op) {
  if (!tm_op_is(op, "tm.conv2d") && !tm_op_is(op, "tm.depthwise_conv2d")) return false;
  if (strcmp(tm_op_attr_str(op, "padding", "valid"), "same")) return false;
  const int64_t *xd = tm_op_operand((tm_op *)op, 0)->type->dims, *wd = tm_op_operand((tm_op *)op, 1)->type->dims;
  const int64_t *yd = op->results[0].type->dims;
  int64_t s[2] = {1, 1}, d[2] = {1, 1};
  int n = 0;
  if (tm_op_attr(op, "stride")) tm_attr_get_int_array(tm_op_attr(op, "stride"), 2, s, &n);
  if (tm_op_attr(op, "dilation")) tm_attr_get_int_array(tm_op_attr(op, "dilation"), 2, d, &n);
  for (int a = 0; a < 2; a++)
    if ((yd[1 + a] - 1) * s[a] + (wd[1 + a] - 1) * d[a] + 1 > xd[1 + a]) return true;
  return false;
}

/* Whether a channel value is zero: 0.0, or the tensor's zero point. */
static bool is_zero(const tm_value *v, bool quant, double fv, int32_t qv) {
  return quant ? qv == lw_quant_of(v->type).zp : fv == 0.0;
}

/* The constant a removed channel c holds where the consumer reads it: float value or
 * stored int8 value.  Each stage that computes a constant from its bias (the producer,
 * a depthwise_conv2d) hands it on unless a window clipped by padding reads it next,
 * where only zero is position-independent: then that stage's bias is taken as 0 for
 * channel c (zero_bias[stage] set; stage 0 is the producer, k + 1 chain op k), so the
 * removal computes exactly what the zeroed weights and biases do. */
static bool channel_const(const tm_op *P, const chain *ch, int64_t c, bool quant, bool *zero_bias, double *fv,
                          int32_t *qv) {
  int src_stage = 0; /* the last stage whose bias made the constant */
  for (int k = 0; k <= ch->n + 1; k++) zero_bias[k] = false;
  for (int k = -1; k <= ch->n; k++) {
    const tm_op *op = k < 0 ? P : k < ch->n ? ch->ops[k] : ch->consumer;
    bool weighted = op == P || tm_op_is(op, "tm.depthwise_conv2d");
    if (k >= 0 && window_clips(op) && !is_zero(tm_op_operand((tm_op *)op, 0), quant, *fv, *qv)) {
      /* zero biases up to the source stage: the constant is zero from there on */
      for (int j = 0; j <= src_stage; j++) zero_bias[j] = true;
      if (quant) *qv = (int32_t)lw_quant_of(tm_op_operand((tm_op *)op, 0)->type).zp;
      else *fv = 0.0;
    }
    if (k == ch->n) break;
    if (!weighted) {
      if (tm_op_is(op, "tm.relu")) *fv = apply_act("relu", *fv);
      else if (tm_op_is(op, "tm.relu6")) *fv = apply_act("relu6", *fv);
      else if (tm_op_is(op, "tm.reshape")) continue;
      else if (quant) { /* pooling a constant keeps it: only the activation clamps */
        lw_quant oq = lw_quant_of(op->results[0].type);
        int32_t lo, hi;
        if (!tm_act_range_quant(act_of(op), lw_fscale(oq.scale), oq.zp, -128, 127, &lo, &hi)) return false;
        *qv = *qv < lo ? lo : *qv > hi ? hi : *qv;
      } else {
        *fv = apply_act(act_of(op), *fv);
      }
      continue;
    }
    src_stage = k + 1;
    const tm_attr *b = op->noperands > 2 ? tm_value_const(tm_op_operand((tm_op *)op, 2)) : NULL;
    if (op == P) {
      if (quant) {
        if (!requant_out(P, c, b ? tm_dense_get_int(b, c) : 0, qv)) return false;
      } else {
        *fv = apply_act(act_of(P), b ? tm_dense_get_float(b, c) : 0.0);
      }
      continue;
    }
    wts w;
    load_wts((tm_op *)op, 1, &w);
    int64_t taps = w.numel / w.last;
    if (quant) {
      int64_t zp_in = lw_quant_of(tm_op_operand((tm_op *)op, 0)->type).zp, s = 0;
      for (int64_t t = 0; t < taps; t++) s += tm_dense_get_int(w.dense, t * w.last + c) - wts_zp(&w, t * w.last + c);
      if (!requant_out(op, c, (b ? tm_dense_get_int(b, c) : 0) + (*qv - zp_in) * s, qv)) return false;
    } else {
      double s = 0;
      for (int64_t t = 0; t < taps; t++) s += *fv * tm_dense_get_float(w.dense, t * w.last + c);
      *fv = apply_act(act_of(op), s + (b ? tm_dense_get_float(b, c) : 0.0));
    }
  }
  return true;
}

/* A copy of the constant operand `operand` of op without the removed channels, which
 * lie along dimension 0 (axis0) or are every element i % C == c of the last dimension. */
static void shrink_const(tm_ctx *ctx, tm_op *op, int operand, const bool *keep, int64_t C, bool axis0) {
  tm_value *v = tm_op_operand(op, operand);
  const tm_type *t = v->type, *e = tm_type_elem(t);
  const tm_attr *d = tm_value_const(v);
  size_t es = tm_type_elem_bits(t) / 8;
  int64_t n = tm_type_numel(t), last = t->dims[t->rank - 1], inner = n / t->dims[0], kept = 0;
  for (int64_t c = 0; c < C; c++) kept += keep[c];
  uint8_t *out = TM_NEW_ARRAY(tm_ctx_arena(ctx), uint8_t, (size_t)n * es + 1);
  int64_t m = 0;
  for (int64_t i = 0; i < n; i++) {
    if (!keep[axis0 ? i / inner : (i % last) % C]) continue;
    memcpy(out + (size_t)m * es, d->u.dense.data + (d->u.dense.splat ? 0 : (size_t)i * es), es);
    m++;
  }
  int64_t dims[8];
  memcpy(dims, t->dims, sizeof(int64_t) * (size_t)t->rank);
  int ax = axis0 ? 0 : t->rank - 1;
  dims[ax] = dims[ax] / C * kept;
  if (e->kind == TM_TYPE_QUANT && e->axis == ax && e->nscales == C) {
    double *sc = TM_NEW_ARRAY(tm_ctx_arena(ctx), double, kept);
    int64_t *zp = TM_NEW_ARRAY(tm_ctx_arena(ctx), int64_t, kept);
    for (int64_t c = 0, j = 0; c < C; c++)
      if (keep[c]) sc[j] = e->scales[c], zp[j] = e->zero_points ? e->zero_points[c] : 0, j++;
    e = tm_type_quant(ctx, e->storage, e->expressed, e->storage_min, e->storage_max, e->axis, (int)kept, sc, zp);
  }
  set_const(ctx, op, operand, tm_type_tensor(ctx, e, t->rank, dims), out, es);
}

/* Result 0 of op with the removed channels gone from its last dimension. */
static void shrink_result(tm_ctx *ctx, tm_op *op, int64_t C, int64_t kept) {
  tm_value *r = tm_op_result(op, 0);
  int64_t dims[8];
  memcpy(dims, r->type->dims, sizeof(int64_t) * (size_t)r->type->rank);
  dims[r->type->rank - 1] = dims[r->type->rank - 1] / C * kept;
  r->type = tm_type_tensor(ctx, r->type->elem, r->type->rank, dims);
}

/* Sets the bias of op to zero in the channels c with zero[c]. */
static void zero_bias_channels(tm_ctx *ctx, tm_op *op, const bool *zero, int64_t C) {
  tm_value *b = tm_op_operand(op, 2);
  const tm_attr *d = tm_value_const(b);
  size_t es = tm_type_elem_bits(b->type) / 8;
  uint8_t *out = TM_NEW_ARRAY(tm_ctx_arena(ctx), uint8_t, (size_t)C * es);
  for (int64_t c = 0; c < C; c++)
    if (!zero[c]) memcpy(out + (size_t)c * es, d->u.dense.data + (d->u.dense.splat ? 0 : (size_t)c * es), es);
  set_const(ctx, op, 2, b->type, out, es);
}

/* Whether every tensor from P's input to the consumer's is int8 (per tensor). */
static bool chain_is_q8(tm_op *P, const chain *ch) {
  lw_quant in = lw_quant_of(tm_op_operand(P, 0)->type), cin = lw_quant_of(tm_op_operand(ch->consumer, 0)->type);
  if (!lw_is_q8(&in) || !lw_is_q8(&cin)) return false;
  for (int j = -1; j < ch->n; j++) {
    lw_quant q = lw_quant_of(tm_op_result(j < 0 ? P : ch->ops[j], 0)->type);
    if (!lw_is_q8(&q)) return false;
  }
  return true;
}

/* Removes the output channels of P with the smallest L1 norms, or with dead_only those
 * of all-zero weights whose constant reaches the consumer whole (no stage's bias taken
 * as zero), so that no result changes by a bit; false when nothing is removed. */
static bool prune_channels(tm_ctx *ctx, tm_op *P, double sparsity, bool remove, bool dead_only) {
  wts w;
  if (!load_wts(P, 1, &w) || !wts_supported(&w) || !float_act(act_of(P)) || !tm_type_is_static(P->results[0].type))
    return false;
  if (P->noperands > 2 && !tm_value_const(tm_op_operand(P, 2))) return false;
  /* A depthwise_conv2d of one input channel is a conv2d whose output channels lie along
   * the filter's last dimension. */
  bool dw = tm_op_is(P, "tm.depthwise_conv2d");
  if (dw && tm_op_operand(P, 0)->type->dims[tm_op_operand(P, 0)->type->rank - 1] != 1) return false;
  int64_t C = dw ? w.last : w.type->dims[0], inner = w.numel / C;
  chain ch;
  if (P->results[0].type->dims[P->results[0].type->rank - 1] != C || !find_chain(P, C, w.quant, &ch)) return false;
  /* float: a folded product rounds differently; int16 activations: requant_out is int8's */
  if (dead_only && (!w.quant || !remove || !chain_is_q8(P, &ch))) return false;
  blk *norms = TM_NEW_ARRAY(tm_ctx_arena(ctx), blk, C);
  for (int64_t c = 0; c < C; c++) {
    double s = 0;
    for (int64_t i = 0; i < inner; i++) s += fabs(wts_get(&w, dw ? i * C + c : c * inner + i));
    norms[c] = (blk){s, 0, c};
  }
  bool *keep = TM_NEW_ARRAY(tm_ctx_arena(ctx), bool, C);
  bool *stage_zero = TM_NEW_ARRAY(tm_ctx_arena(ctx), bool, MAX_CHAIN + 2);
  /* A per-channel fully_connected keeps two: with one scale left, its multiplier would be
   * computed the per-tensor way (float product first, lower_nn.c fc_setup), other bits. */
  int64_t min_keep = tm_op_is(P, "tm.fully_connected") && w.q.nscales > 1 ? 2 : 1, k = 0;
  if (dead_only) {
    for (int64_t c = 0; c < C; c++) {
      double fv = 0;
      int32_t qv = 0;
      keep[c] = norms[c].score != 0 || !channel_const(P, &ch, c, true, stage_zero, &fv, &qv);
      for (int j = 0; j <= ch.n && !keep[c]; j++) keep[c] = stage_zero[j];
      if (!keep[c] && ++k > C - min_keep) keep[c] = true, k--;
    }
  } else {
    k = (int64_t)llround(sparsity * (double)C);
    if (k > C - min_keep) k = C - min_keep;
    qsort(norms, (size_t)C, sizeof *norms, blk_cmp);
    for (int64_t c = 0; c < C; c++) keep[c] = true;
    for (int64_t j = 0; j < k; j++) keep[norms[j].index] = false;
  }
  if (k <= 0) return false;

  /* The consumer's bias gains the removed channels' contributions. */
  tm_op *Cn = ch.consumer;
  wts cw;
  load_wts(Cn, 1, &cw);
  int64_t O2 = cw.type->dims[0], cin = cw.numel / O2;
  const tm_attr *cb = Cn->noperands > 2 ? tm_value_const(tm_op_operand(Cn, 2)) : NULL;
  int64_t zp_in = w.quant ? lw_quant_of(tm_op_operand(Cn, 0)->type).zp : 0;
  int64_t *qb = TM_NEW_ARRAY(tm_ctx_arena(ctx), int64_t, O2);
  float *fb = TM_NEW_ARRAY(tm_ctx_arena(ctx), float, O2);
  for (int64_t o = 0; o < O2; o++) {
    if (w.quant) qb[o] = tm_dense_get_int(cb, o);
    else fb[o] = cb ? (float)tm_dense_get_float(cb, o) : 0.0f;
  }
  /* zb[stage][c]: the bias of that stage is taken as zero for removed channel c */
  bool *zb[MAX_CHAIN + 2];
  for (int j = 0; j <= ch.n; j++) zb[j] = TM_NEW_ARRAY(tm_ctx_arena(ctx), bool, C);
  for (int64_t c = 0; c < C; c++) {
    if (keep[c]) continue;
    double fv = 0;
    int32_t qv = 0;
    if (!channel_const(P, &ch, c, w.quant, stage_zero, &fv, &qv)) return false;
    for (int j = 0; j <= ch.n; j++) zb[j][c] = stage_zero[j];
    for (int64_t o = 0; o < O2; o++)
      for (int64_t i = 0; i < cin; i++) {
        if ((i % cw.last) % C != c) continue;
        int64_t e = o * cin + i;
        if (w.quant) qb[o] += (qv - zp_in) * (tm_dense_get_int(cw.dense, e) - wts_zp(&cw, e));
        else fb[o] += (float)(fv * tm_dense_get_float(cw.dense, e));
      }
  }
  for (int64_t o = 0; o < O2; o++)
    if (w.quant && (qb[o] < INT32_MIN || qb[o] > INT32_MAX)) return false;

  if (!remove) { /* only zero the channels' weights (and biases): the function the removal keeps */
    wbuf buf = wts_copy(ctx, &w);
    for (int64_t i = 0; i < w.numel; i++)
      if (!keep[dw ? i % C : i / inner]) {
        if (w.quant) buf.q[i] = (int8_t)wts_zp(&w, i);
        else buf.f[i] = 0.0f;
      }
    store_wts(ctx, &w, &buf);
    for (int j = 0; j <= ch.n; j++) {
      tm_op *op = j ? ch.ops[j - 1] : P;
      if (op->noperands > 2 && (j == 0 || tm_op_is(op, "tm.depthwise_conv2d"))) zero_bias_channels(ctx, op, zb[j], C);
    }
    return true;
  }

  /* Rewrite: producer rows, chain channels, consumer columns and bias. */
  int64_t kept = C - k;
  shrink_const(ctx, P, 1, keep, C, !dw);
  if (dw) tm_op_set_attr(ctx, P, "depth_multiplier", tm_attr_int(ctx, NULL, kept));
  if (P->noperands > 2) shrink_const(ctx, P, 2, keep, C, false);
  shrink_result(ctx, P, C, kept);
  for (int j = 0; j < ch.n; j++) {
    tm_op *op = ch.ops[j];
    if (tm_op_is(op, "tm.depthwise_conv2d")) {
      shrink_const(ctx, op, 1, keep, C, false);
      if (op->noperands > 2) shrink_const(ctx, op, 2, keep, C, false);
    }
    shrink_result(ctx, op, C, kept);
  }
  const tm_type *bt = cb ? tm_op_operand(Cn, 2)->type : tm_type_tensor(ctx, tm_type_float(ctx, 32), 1, &O2);
  if (w.quant) {
    int32_t *b32 = TM_NEW_ARRAY(tm_ctx_arena(ctx), int32_t, O2);
    for (int64_t o = 0; o < O2; o++) b32[o] = (int32_t)qb[o];
    set_const(ctx, Cn, 2, bt, b32, 4);
  } else {
    set_const(ctx, Cn, 2, bt, fb, 4);
  }
  shrink_const(ctx, Cn, 1, keep, C, false);
  return true;
}

static int prune_structured(tm_ctx *ctx, tm_op *func, const tm_pass_options *opts) {
  double sparsity = tm_pass_opt_float(opts, "sparsity");
  const char *list = tm_pass_opt_str(opts, "ops");
  bool remove = tm_pass_opt_bool(opts, "remove");
  /* Listed first: pruning replaces constants, which may come next in the block.  Pruned
   * last to first, so a producer's channels go before its own producer's fold reaches
   * its bias: a removed channel then holds the activation of its own bias, as with
   * zeroed weights (remove=false). */
  int n = 0;
  TM_FOREACH_OP(op, tm_func_entry(func)) n++;
  tm_op **ps = TM_NEW_ARRAY(tm_ctx_arena(ctx), tm_op *, n + 1);
  n = 0;
  TM_FOREACH_OP(op, tm_func_entry(func))
    if ((tm_op_is(op, "tm.conv2d") || tm_op_is(op, "tm.fully_connected") || tm_op_is(op, "tm.depthwise_conv2d")) &&
        selected(list, op))
      ps[n++] = op;
  /* dead_only: a row whose only nonzero weights met removed inputs is dead once they
   * are folded into its bias, so sweep until nothing goes. */
  bool dead_only = tm_pass_opt_bool(opts, "dead-only"), changed;
  do {
    changed = false;
    for (int i = n - 1; i >= 0; i--) changed |= prune_channels(ctx, ps[i], sparsity, remove, dead_only);
  } while (dead_only && changed);
  return 0;
}

/* ---------------------------------------------------------------------- run ------- */
static int prune_func(tm_ctx *ctx, tm_op *func, const tm_pass_options *opts) {
  if (!tm_func_entry(func)) return 0;
  double sparsity = tm_pass_opt_float(opts, "sparsity");
  const char *format = tm_pass_opt_str(opts, "format");
  bool structured = tm_pass_opt_bool(opts, "structured");
  if (!(sparsity >= 0 && sparsity < 1))
    return tm_op_error(ctx, func, "prune: sparsity must be in [0, 1), got %g", sparsity);
  if (strcmp(format, "auto") && strcmp(format, "bcsr") && strcmp(format, "dense"))
    return tm_op_error(ctx, func, "prune: format must be auto, bcsr or dense, got '%s'", format);
  if (structured && tm_pass_opt_bool(opts, "global"))
    return tm_op_error(ctx, func, "prune: global=true is for unstructured pruning (channel norms of different "
                                  "layers do not compare)");
  if (tm_pass_opt_bool(opts, "dead-only") && !structured)
    return tm_op_error(ctx, func, "prune: dead-only=true needs structured=true (it removes whole channels)");
  if (check_ops_list(ctx, func, tm_pass_opt_str(opts, "ops"))) return -1;
  return structured ? prune_structured(ctx, func, opts) : prune_unstructured(ctx, func, opts);
}

static int run(tm_ctx *ctx, tm_op *root, const tm_pass_options *opts) {
  return tm_pass_each_func(ctx, root, prune_func, opts);
}

static const tm_pass_option options[] = {
    {"sparsity", TM_OPT_FLOAT, "0.5", "fraction of weights (unstructured) or output channels (structured) to "
                                      "remove, in [0, 1)", 0, 0},
    {"structured", TM_OPT_BOOL, "false", "remove whole output channels of conv2d / fully_connected, and the "
                                         "consumer's matching input channels", 0, 0},
    {"remove", TM_OPT_BOOL, "true", "structured: remove the channels (false: only zero their weights, to check that "
                                    "the removal computes the same function)", 0, 0},
    {"dead-only", TM_OPT_BOOL, "false", "structured, int8: instead of the sparsity, remove only the channels whose "
                                        "weights are all zero where no result changes by a bit (lossless; -O2 and "
                                        "-Os run it)", 0, 0},
    {"global", TM_OPT_BOOL, "false", "unstructured: one magnitude threshold over all layers instead of the "
                                     "sparsity in every layer", 0, 0},
    {"block", TM_OPT_INT, "1", "unstructured: prune runs of this many weights along the input channels together "
                               "(layers whose channels it does not divide use 1)", 1, 64},
    {"format", TM_OPT_STRING, "auto", "bcsr: mark conv2d / fully_connected for sparse kernels (tm.sparse); "
                                      "auto: those whose packed weights are smaller; dense: only zero the weights",
     0, 0},
    {"ops", TM_OPT_STRING, "", "comma-separated op names to prune (default: tm.conv2d, tm.depthwise_conv2d, "
                               "tm.fully_connected)", 0, 0},
};

TM_REGISTER_PASS(prune, "prune", "Magnitude pruning of conv2d / depthwise_conv2d / fully_connected weights, "
                                 "unstructured (sparse kernels) or by output channel",
                 run, TM_PASS_OPTIONS(options));
