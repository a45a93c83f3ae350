/* passes/lower_nn.c — kernels of the layer ops: conv2d, depthwise_conv2d,
 * fully_connected, avg/max pooling, softmax, mean.  Each follows its TFLite reference
 * kernel loop for loop (reference_ops for float, reference_integer_ops for int8 and the
 * 16x8 int16 variants), so float sums are accumulated in the same order and integer
 * results are bit-exact. */
#include <string.h>

#include "passes/lowering.h"

/* ---------------------------------------------------------------- helpers ------- */
/* A loop 0..n; for n == 1 no loop: the index is 0 and the values pass through. */
typedef struct loop {
  lw_for f;
  bool real;
  tm_value *iv;
  tm_value *args[4];
} loop;

static void loop_begin(lw_fn *F, loop *l, int64_t n, int ninits, tm_value *const *inits) {
  l->real = n != 1;
  if (l->real) {
    lw_for_n(F, &l->f, n, ninits, inits);
    l->iv = l->f.iv;
    for (int i = 0; i < ninits; i++) l->args[i] = l->f.args[i];
  } else {
    l->iv = lw_cidx(F, 0);
    for (int i = 0; i < ninits; i++) l->args[i] = inits[i];
  }
}

static tm_value *loop_end1(lw_fn *F, loop *l, tm_value *yield) {
  if (!l->real) return yield;
  return lw_for_end(F, &l->f, 1, &yield)[0];
}

static void loop_end0(lw_fn *F, loop *l) {
  if (l->real) lw_for_end(F, &l->f, 0, NULL);
}

/* TFLite's ComputePaddingWithOffset: the padding before the first element. */
static int64_t pad_before(int64_t stride, int64_t dilation, int64_t in, int64_t k, int64_t out) {
  int64_t eff = (k - 1) * dilation + 1;
  int64_t total = (out - 1) * stride + eff - in;
  return total > 0 ? total / 2 : 0;
}

static void int_pair(const tm_op *op, const char *name, int64_t *a, int64_t *b) {
  int64_t v[2] = {1, 1};
  int n = 0;
  const tm_attr *attr = tm_op_attr(op, name);
  if (attr) tm_attr_get_int_array(attr, 2, v, &n);
  *a = v[0], *b = v[1];
}

/* int16 activations: the 16x8 kernels (symmetric int16 with int8 weights). */
static bool is_q16(const lw_quant *q) {
  return q->quantized && q->axis < 0 && q->storage->kind == TM_TYPE_INT && q->storage->width == 16;
}
static bool is_int(const lw_quant *q, unsigned width) {
  return q->storage->kind == TM_TYPE_INT && q->storage->width == width;
}

/* Load an element widened to the accumulator type, plus an offset (skipped when 0). */
static tm_value *load_acc(lw_fn *F, tm_value *mem, int n, tm_value *const *idx, int64_t offset, const tm_type *acc) {
  tm_value *v = lw_int_to(F, lw_load(F, mem, n, idx), acc);
  return offset ? lw_addi(F, v, lw_cint(F, acc, offset)) : v;
}

/* The integer kernels' operand types.  int8: i32 bias and accumulator.  int16 (16x8):
 * zero points 0 (the kernels have no offsets), and an i64 bias and accumulator with the
 * 64-bit MultiplyByQuantizedMultiplier, or an i32 bias and accumulator with the 32-bit
 * one (TFLite's AccumScalar template).  Returns the accumulator type, or NULL after an
 * error. */
static const tm_type *int_kernel_types(lw_lower *W, tm_op *op, const lw_quant *xq, const lw_quant *wq,
                                       const lw_quant *oq, const lw_quant *bq, bool has_bias) {
  lw_fn *F = lw_fn_of(W);
  bool a8 = lw_is_q8(xq) && lw_is_q8(oq), a16 = is_q16(xq) && is_q16(oq);
  if ((!a8 && !a16) || !(lw_is_q8_weights(wq) || lw_is_q4_weights(wq))) {
    lw_unsupported(W, op, "only f32, or per-tensor int8 or int16 activations with int8 weights, are supported "
                          "(hybrid models are not)");
    return NULL;
  }
  if (a8) {
    if (has_bias && !is_int(bq, 32)) {
      lw_unsupported(W, op, "int8 activations need an i32 bias");
      return NULL;
    }
    return lw_i32(F);
  }
  if (xq->zp || oq->zp) {
    lw_unsupported(W, op, "int16 activations must have zero point 0");
    return NULL;
  }
  if (has_bias && !is_int(bq, 64) && !is_int(bq, 32)) {
    lw_unsupported(W, op, "int16 activations need an i64 or i32 bias");
    return NULL;
  }
  return has_bias && is_int(bq, 32) ? lw_i32(F) : lw_i64(F);
}

/* ------------------------------------------------- specialized depthwise ------- */
/* The loop nest the depthwise-lowering pass asks for with the attributes
 * tm.dw_channel_loop = "inner" | "outer" and tm.dw_in_place (docs/passes.md).  The output
 * plane is cut into five regions: the rows above and below the interior, and left of,
 * inside and right of it; every region gets the taps unrolled, each guarded only by the
 * bounds checks some output of that region can fail (none inside the interior), so the
 * interior is straight-line code.  The sums are the reference's, tap for tap in the same
 * order, so the results are the same bits. */
typedef struct dw {
  lw_lower *W;
  lw_fn *F;
  bool flt;
  const tm_type *acc_t, *out_t;
  tm_value *xm, *wm, *bm, *ym, *tmp;
  const tm_value *w; /* the weights (lw_load_weight: int4 ones are packed) */
  int64_t N, H, Wi, C, M, KH, KW, OH, OW, sh, sw, dh, dw, pt, pl;
  int64_t in_off, zp_out;
  lw_requant *rq;
  int32_t lo, hi;
  float flo, fhi;
  int fact;
  bool loop_border; /* tm.dw_loop_border: taps as loops outside the interior (less flash) */
  tm_value *adjg; /* per output channel: bias + in_off * (sum of its taps), when the weights are constants */
  lw_fc_sink *fc; /* tm.depthwise_conv2d_fc (int8): the values go to the FC's sums */
} dw_kernel;


/* What the taps and the epilogue of one output channel use: hoisted out of the spatial
 * loops when the channel loop is outermost. */
typedef struct dw_chan {
  tm_value *ic, *oc;
  tm_value **w;      /* widened weights per tap, or NULL: loaded at each tap */
  tm_value *init;    /* the accumulator's start where taps may be skipped */
  tm_value *adj;     /* ... and where none is (no input offset per tap), or NULL */
  lw_rq_ch rq;       /* requantization */
  tm_value *bias;    /* float: added last */
} dw_chan;

static void dw_chan_load(dw_kernel *D, dw_chan *ch, tm_value *ic, tm_value *oc, bool hoist_weights) {
  lw_fn *F = D->F;
  ch->ic = ic, ch->oc = oc, ch->w = NULL, ch->adj = NULL, ch->bias = NULL;
  if (hoist_weights) {
    ch->w = TM_NEW_ARRAY(tm_ctx_arena(D->W->ctx), tm_value *, D->KH * D->KW);
    for (int64_t ky = 0; ky < D->KH; ky++)
      for (int64_t kx = 0; kx < D->KW; kx++) {
        tm_value *wi[] = {lw_cidx(F, 0), lw_cidx(F, ky), lw_cidx(F, kx), oc};
        ch->w[ky * D->KW + kx] = D->flt ? lw_load(F, D->wm, 4, wi) : lw_load_weight(F, D->w, D->wm, 4, wi, D->acc_t);
      }
  }
  if (D->flt) {
    ch->init = lw_cf32(F, 0.0f);
    ch->bias = D->bm ? lw_load(F, D->bm, 1, &oc) : lw_cf32(F, 0.0f);
    return;
  }
  /* with bias' (constant weights) every output starts from it, the border's too */
  if (D->adjg) ch->adj = lw_load(F, D->adjg, 1, &oc);
  else ch->init = D->bm ? lw_int_to(F, lw_load(F, D->bm, 1, &oc), D->acc_t) : lw_cint(F, D->acc_t, 0);
  lw_requant_params(F, D->rq, oc, &ch->rq);
}

/* Tap (ky, kx) of channel ch's filter: hoisted, or loaded here. */
static tm_value *dw_tap_weight(dw_kernel *D, dw_chan *ch, int64_t ky, int64_t kx) {
  if (ch->w && ch->w[ky * D->KW + kx]) return ch->w[ky * D->KW + kx];
  tm_value *wi[] = {lw_cidx(D->F, 0), lw_cidx(D->F, ky), lw_cidx(D->F, kx), ch->oc};
  return D->flt ? lw_load(D->F, D->wm, 4, wi) : lw_load_weight(D->F, D->w, D->wm, 4, wi, D->acc_t);
}

/* acc + w * pad: a tap outside the input when the sums start from bias' (pad = -in_off,
 * the zero point's products that bias' holds), else acc. */
static tm_value *dw_pad_tap(dw_kernel *D, tm_value *acc, tm_value *wv, int64_t pad) {
  return pad ? lw_addi(D->F, acc, lw_muli(D->F, wv, lw_cint(D->F, D->acc_t, pad))) : acc;
}

/* The taps, unrolled: each guarded only by the bounds checks some output of the region
 * [ya, yb) x [xa, xb) can fail, and left out where every output of it fails one (then
 * only its padding term w * pad, when pad != 0). */
static tm_value *dw_taps_unrolled(dw_kernel *D, dw_chan *ch, tm_value *n, tm_value *oy, tm_value *ox, int64_t ya,
                                  int64_t yb, int64_t xa, int64_t xb, tm_value *acc, int64_t off, int64_t pad) {
  lw_fn *F = D->F;
  for (int64_t ky = 0; ky < D->KH; ky++) {
    int64_t ylo = ya * D->sh - D->pt + ky * D->dh, yhi = (yb - 1) * D->sh - D->pt + ky * D->dh;
    bool row_out = yhi < 0 || ylo >= D->H; /* outside for every output of the region */
    tm_value *iy = row_out ? NULL : lw_affine(F, oy, D->sh, ky * D->dh - D->pt);
    for (int64_t kx = 0; kx < D->KW; kx++) {
      int64_t xlo = xa * D->sw - D->pl + kx * D->dw, xhi = (xb - 1) * D->sw - D->pl + kx * D->dw;
      if (row_out || xhi < 0 || xlo >= D->Wi) {
        if (pad) acc = dw_pad_tap(D, acc, dw_tap_weight(D, ch, ky, kx), pad);
        continue;
      }
      tm_value *ix = lw_affine(F, ox, D->sw, kx * D->dw - D->pl), *cond = NULL;
      tm_value *checks[4] = {
          ylo < 0 ? lw_cmpi(F, LW_SGE, iy, lw_cidx(F, 0)) : NULL,
          yhi >= D->H ? lw_cmpi(F, LW_SLT, iy, lw_cidx(F, D->H)) : NULL,
          xlo < 0 ? lw_cmpi(F, LW_SGE, ix, lw_cidx(F, 0)) : NULL,
          xhi >= D->Wi ? lw_cmpi(F, LW_SLT, ix, lw_cidx(F, D->Wi)) : NULL,
      };
      for (int i = 0; i < 4; i++)
        if (checks[i]) cond = cond ? lw_andi(F, cond, checks[i]) : checks[i];
      lw_if tif;
      tm_value *before = acc, *wv = dw_tap_weight(D, ch, ky, kx);
      if (cond) lw_if_begin(F, &tif, cond, 1, &D->acc_t);
      tm_value *xi[] = {n, iy, ix, ch->ic};
      if (D->flt) acc = lw_addf(F, acc, lw_mulf(F, lw_load(F, D->xm, 4, xi), wv));
      else acc = lw_addi(F, acc, lw_muli(F, wv, load_acc(F, D->xm, 4, xi, off, D->acc_t)));
      if (cond) {
        lw_if_else(F, &tif, 1, &acc);
        tm_value *outside = dw_pad_tap(D, before, wv, pad);
        acc = lw_if_end(F, &tif, 1, &outside)[0];
      }
    }
  }
  return acc;
}

/* The taps as loops with every check a tap of the region can fail (border regions under
 * tm.dw_loop_border: big kernels' unrolled border copies cost flash). */
static tm_value *dw_taps_looped(dw_kernel *D, dw_chan *ch, tm_value *n, tm_value *oy, tm_value *ox, int64_t ya,
                                int64_t yb, int64_t xa, int64_t xb, tm_value *acc, int64_t off, int64_t pad) {
  lw_fn *F = D->F;
  bool y_lo = ya * D->sh - D->pt < 0, y_hi = (yb - 1) * D->sh - D->pt + (D->KH - 1) * D->dh >= D->H;
  bool x_lo = xa * D->sw - D->pl < 0, x_hi = (xb - 1) * D->sw - D->pl + (D->KW - 1) * D->dw >= D->Wi;
  loop lky, lkx;
  loop_begin(F, &lky, D->KH, 1, &acc);
  tm_value *iy = lw_add_idx(F, lw_affine(F, oy, D->sh, -D->pt), lw_affine(F, lky.iv, D->dh, 0));
  loop_begin(F, &lkx, D->KW, 1, lky.args);
  tm_value *ix = lw_add_idx(F, lw_affine(F, ox, D->sw, -D->pl), lw_affine(F, lkx.iv, D->dw, 0)), *cond = NULL;
  tm_value *checks[4] = {
      y_lo ? lw_cmpi(F, LW_SGE, iy, lw_cidx(F, 0)) : NULL,
      y_hi ? lw_cmpi(F, LW_SLT, iy, lw_cidx(F, D->H)) : NULL,
      x_lo ? lw_cmpi(F, LW_SGE, ix, lw_cidx(F, 0)) : NULL,
      x_hi ? lw_cmpi(F, LW_SLT, ix, lw_cidx(F, D->Wi)) : NULL,
  };
  for (int i = 0; i < 4; i++)
    if (checks[i]) cond = cond ? lw_andi(F, cond, checks[i]) : checks[i];
  tm_value *in = lkx.args[0], *out;
  tm_value *wi[] = {lw_cidx(F, 0), lky.iv, lkx.iv, ch->oc}, *xi[] = {n, iy, ix, ch->ic};
  tm_value *wv = D->flt ? lw_load(F, D->wm, 4, wi) : lw_load_weight(F, D->w, D->wm, 4, wi, D->acc_t);
  lw_if tif;
  if (cond) lw_if_begin(F, &tif, cond, 1, &D->acc_t);
  if (D->flt) out = lw_addf(F, in, lw_mulf(F, lw_load(F, D->xm, 4, xi), wv));
  else out = lw_addi(F, in, lw_muli(F, wv, load_acc(F, D->xm, 4, xi, off, D->acc_t)));
  if (cond) {
    lw_if_else(F, &tif, 1, &out);
    tm_value *outside = dw_pad_tap(D, in, wv, pad);
    out = lw_if_end(F, &tif, 1, &outside)[0];
  }
  return loop_end1(F, &lky, loop_end1(F, &lkx, out));
}

/* The result of output (n, oy, ox) of a channel, for oy in [ya, yb) and ox in [xa, xb). */
static tm_value *dw_point(dw_kernel *D, dw_chan *ch, tm_value *n, tm_value *oy, tm_value *ox, int64_t ya, int64_t yb,
                          int64_t xa, int64_t xb) {
  lw_fn *F = D->F;
  bool interior = ya * D->sh - D->pt >= 0 && (yb - 1) * D->sh - D->pt + (D->KH - 1) * D->dh < D->H &&
                  xa * D->sw - D->pl >= 0 && (xb - 1) * D->sw - D->pl + (D->KW - 1) * D->dw < D->Wi;
  /* from bias' the inputs go as they are, and a tap outside the input adds -in_off w (the
   * zero point's product that bias' holds); else from the bias with + in_off */
  bool adjusted = ch->adj != NULL;
  tm_value *acc = adjusted ? ch->adj : ch->init;
  int64_t off = adjusted ? 0 : D->in_off, pad = adjusted && !interior ? -D->in_off : 0;
  if (!interior && D->loop_border) acc = dw_taps_looped(D, ch, n, oy, ox, ya, yb, xa, xb, acc, off, pad);
  else acc = dw_taps_unrolled(D, ch, n, oy, ox, ya, yb, xa, xb, acc, off, pad);
  if (!D->flt) return lw_requant_apply(F, D->rq, &ch->rq, acc, D->lo, D->hi, D->out_t);
  tm_value *r = lw_addf(F, acc, ch->bias);
  return D->fact > 0 ? lw_clamp_f(F, r, lw_cf32(F, D->flo), lw_cf32(F, D->fhi)) : r;
}

/* A loop a..b (none for one iteration). */
static void range_begin(lw_fn *F, loop *l, int64_t a, int64_t b) {
  l->real = b - a != 1;
  if (l->real) {
    lw_for_begin(F, &l->f, lw_cidx(F, a), lw_cidx(F, b), lw_cidx(F, 1), 0, NULL);
    l->iv = l->f.iv;
  } else {
    l->iv = lw_cidx(F, a);
  }
}

/* The outputs of one region.  ch is the hoisted channel (channel loop outermost), or NULL:
 * then the channel loops are innermost, inside this region's spatial loops. */
static void dw_region(dw_kernel *D, dw_chan *ch, tm_value *n, int64_t ya, int64_t yb, int64_t xa, int64_t xb) {
  if (ya >= yb || xa >= xb) return;
  lw_fn *F = D->F;
  loop ly, lx, lc, lm;
  range_begin(F, &ly, ya, yb);
  range_begin(F, &lx, xa, xb);
  dw_chan inner;
  if (!ch) {
    loop_begin(F, &lc, D->C, 0, NULL);
    loop_begin(F, &lm, D->M, 0, NULL);
    tm_value *oc = D->M == 1 ? lc.iv : lw_add_idx(F, lw_affine(F, lc.iv, D->M, 0), lm.iv);
    dw_chan_load(D, &inner, lc.iv, oc, false);
  }
  dw_chan *c = ch ? ch : &inner;
  tm_value *r = dw_point(D, c, n, ly.iv, lx.iv, ya, yb, xa, xb);
  if (D->fc) {
    lw_fc_sink_add(D->W, D->fc, r, lw_add_idx(F, lw_affine(F, ly.iv, D->OW, 0), lx.iv), c->oc);
  } else if (D->tmp) {
    tm_value *ti[] = {ly.iv, lx.iv};
    lw_store(F, r, D->tmp, 2, ti);
  } else {
    tm_value *yi[] = {n, ly.iv, lx.iv, c->oc};
    lw_store(F, r, D->ym, 4, yi);
  }
  if (!ch) {
    loop_end0(F, &lm);
    loop_end0(F, &lc);
  }
  loop_end0(F, &lx);
  loop_end0(F, &ly);
}

/* The first and one-past-last output index whose taps all fall inside [0, in). */
static void interior(int64_t out, int64_t in, int64_t k, int64_t stride, int64_t dil, int64_t pad, int64_t *a,
                     int64_t *b) {
  int64_t first = (pad + stride - 1) / stride, last = in - 1 + pad - (k - 1) * dil;
  int64_t end = last < 0 ? 0 : last / stride + 1;
  *a = first < out ? first : out;
  *b = end < *a ? *a : end > out ? out : end;
}

static void dw_plane(dw_kernel *D, dw_chan *ch, tm_value *n) {
  int64_t y0, y1, x0, x1;
  interior(D->OH, D->H, D->KH, D->sh, D->dh, D->pt, &y0, &y1);
  interior(D->OW, D->Wi, D->KW, D->sw, D->dw, D->pl, &x0, &x1);
  dw_region(D, ch, n, 0, y0, 0, D->OW);
  dw_region(D, ch, n, y0, y1, 0, x0);
  dw_region(D, ch, n, y0, y1, x0, x1);
  dw_region(D, ch, n, y0, y1, x1, D->OW);
  dw_region(D, ch, n, y1, D->OH, 0, D->OW);
}

/* bias[oc] + in_off * sum of channel oc's weights, as i32 (two's complement, as the
 * run-time sum wraps), when the filter and the bias are constants; else NULL. */
static tm_value *dw_adjusted_bias(dw_kernel *D, tm_value *w, tm_value *b) {
  const tm_attr *wv = tm_value_const(w), *bv = b ? tm_value_const(b) : NULL;
  if (D->flt || !D->in_off || D->acc_t != lw_i32(D->F) || !wv || (b && !bv)) return NULL;
  int64_t O = D->C * D->M;
  int32_t *adj = TM_NEW_ARRAY(tm_ctx_arena(D->W->ctx), int32_t, O);
  for (int64_t oc = 0; oc < O; oc++) {
    uint32_t sum = bv ? (uint32_t)tm_dense_get_int(bv, oc) : 0;
    for (int64_t t = 0; t < D->KH * D->KW; t++)
      sum += (uint32_t)D->in_off * (uint32_t)tm_dense_get_int(wv, t * O + oc);
    adj[oc] = (int32_t)sum;
  }
  lw_fn *F = D->F;
  return lw_get_global(F, lw_global_i32(D->W->M, "dwconv_bias", O, adj, F->loc));
}

/* The specialized nest.  In place (depth multiplier 1, the input's bytes dead after this
 * op): the output is a view of the input's raw buffer and every channel's plane goes
 * through a one-channel temporary, then over that channel.  In NHWC with C channels in
 * both views, byte offset k holds channel k mod C in the input and in the output, so
 * writing output channel c touches only input channel c, which no later channel reads;
 * this needs only N*OH*OW <= N*H*W (checked by the pass and here). */
static int lower_dw_special(dw_kernel *D, tm_op *op, tm_value *w, tm_value *b, tm_value *y) {
  lw_lower *W = D->W;
  lw_fn *F = D->F;
  const char *order = tm_op_attr_str(op, "tm.dw_channel_loop", "inner");
  bool outer = !strcmp(order, "outer");
  if (!outer && strcmp(order, "inner"))
    return lw_unsupported(W, op, "tm.dw_channel_loop must be \"inner\" or \"outer\", not \"%s\"", order);
  D->adjg = dw_adjusted_bias(D, w, b);
  D->loop_border = tm_op_attr(op, "tm.dw_loop_border") != NULL;
  lw_buf xb = lw_in_buf(W, tm_op_operand(op, 0));
  const tm_type *yt = lw_memref_of(W->ctx, y->type);
  bool in_place = tm_op_attr(op, "tm.dw_in_place") && D->M == 1 && xb.raw && !lw_is_returned(W, y) &&
                  lw_bytes_die_at(tm_op_operand(op, 0), op) &&
                  tm_type_bytes(yt) <= tm_type_bytes(xb.raw->type) && D->OH * D->OW <= D->H * D->Wi;
  if (in_place) {
    outer = true;
    tm_value *ops[] = {xb.raw, lw_cidx(F, 0)};
    D->ym = lw_op(F, "memref.view", yt, 2, ops, 0, NULL);
    lw_bind(W, y, (lw_buf){D->ym, xb.raw});
    /* the one-channel temporary: a raw buffer plan-memory places like any other */
    int64_t bytes = D->OH * D->OW * (int64_t)(tm_type_elem_bits(yt) / 8), plane[2] = {D->OH, D->OW};
    const tm_type *raw_t = tm_type_memref(W->ctx, lw_i8(F), 1, &bytes);
    tm_named_attr align = {tm_intern_cstr(W->ctx, "alignment"), tm_attr_int(W->ctx, NULL, 16)};
    tm_value *raw = lw_op(F, "memref.alloc", raw_t, 0, NULL, 1, &align);
    tm_value *vops[] = {raw, lw_cidx(F, 0)};
    D->tmp = lw_op(F, "memref.view", tm_type_memref(W->ctx, yt->elem, 2, plane), 2, vops, 0, NULL);
  } else if (!D->fc) {
    D->ym = lw_out(W, y);
  }
  loop ln, lc, lm;
  loop_begin(F, &ln, D->N, 0, NULL);
  if (!outer) {
    dw_plane(D, NULL, ln.iv);
  } else {
    loop_begin(F, &lc, D->C, 0, NULL);
    loop_begin(F, &lm, D->M, 0, NULL);
    tm_value *oc = D->M == 1 ? lc.iv : lw_add_idx(F, lw_affine(F, lc.iv, D->M, 0), lm.iv);
    dw_chan ch;
    dw_chan_load(D, &ch, lc.iv, oc, true);
    dw_plane(D, &ch, ln.iv);
    if (D->tmp) {
      loop ly, lx;
      loop_begin(F, &ly, D->OH, 0, NULL);
      loop_begin(F, &lx, D->OW, 0, NULL);
      tm_value *ti[] = {ly.iv, lx.iv}, *yi[] = {ln.iv, ly.iv, lx.iv, oc};
      lw_store(F, lw_load(F, D->tmp, 2, ti), D->ym, 4, yi);
      loop_end0(F, &lx);
      loop_end0(F, &ly);
    }
    loop_end0(F, &lm);
    loop_end0(F, &lc);
  }
  loop_end0(F, &ln);
  return 0;
}

/* The FULLY_CONNECTED's element types, requantization and activation range, for
 * lw_lower_fully_connected and the fused tm.conv2d_fc (fc_sink): x_type is the FC's
 * input type; own_act: op's fused_activation is the FC's (the fused op's is the conv's,
 * and fuse only makes it for an FC without one). */
typedef struct fc_params {
  bool flt;
  const tm_type *acc_t, *out_t;
  lw_requant rq;
  int32_t lo, hi;
  int64_t in_off, w_off, zp_out;
  int64_t xmax; /* |x - zp_in| <= xmax */
  float flo, fhi;
  int fact;
} fc_params;

static int fc_setup(lw_lower *W, tm_op *op, const tm_type *x_type, tm_value *w, tm_value *b, tm_value *y,
                    bool own_act, fc_params *p) {
  lw_fn *F = lw_fn_of(W);
  lw_quant xq = lw_quant_of(x_type), wq = lw_quant_of(w->type), oq = lw_quant_of(y->type);
  lw_quant bq = b ? lw_quant_of(b->type) : (lw_quant){0};
  bool flt = lw_is_f32(&xq);
  *p = (fc_params){.flt = flt, .out_t = oq.storage};
  if (flt && (!lw_is_f32(&wq) || !lw_is_f32(&oq) || (b && !lw_is_f32(&bq))))
    return lw_unsupported(W, op, "a float fully_connected needs f32 operands");
  const tm_type *acc_t = p->acc_t = flt ? lw_f32(F) : int_kernel_types(W, op, &xq, &wq, &oq, &bq, b != NULL);
  if (!acc_t) return -1;
  if (!flt && wq.nscales > 1 && wq.axis != 0)
    return lw_unsupported(W, op, "weight scales along dimension %d are not supported", wq.axis);
  int64_t O = w->type->dims[0];
  if (x_type->rank < 1 || y->type->rank < 1) return lw_unsupported(W, op, "rank-0 tensors are not supported");

  lw_requant *rq = &p->rq;
  if (!flt) {
    bool per_channel = wq.nscales > 1;
    if (per_channel) {
      for (int i = 0; i < wq.nscales; i++)
        if (wq.zps && wq.zps[i])
          return lw_unsupported(W, op, "per-channel weight zero point %lld is not 0", (long long)wq.zps[i]);
      if (wq.nscales != O)
        return lw_unsupported(W, op, "the weights have %d scales for %lld outputs", wq.nscales, (long long)O);
    }
    lw_requant_init(W, rq, O, acc_t == lw_i64(F));
    for (int64_t c = 0; c < O; c++) {
      double m = per_channel ? lw_fscale(xq.scale) * lw_fscale(wq.scales[c]) / lw_fscale(oq.scale)
                             : (double)((float)xq.scale * (float)wq.scale) / lw_fscale(oq.scale);
      if (lw_requant_set(W, op, rq, c, m)) return -1;
    }
    int64_t half = INT64_C(1) << (oq.storage->width - 1);
    if (!own_act) p->lo = (int32_t)-half, p->hi = (int32_t)(half - 1); /* "none": the storage type's full range */
    else if (lw_act_range(W, op, &oq, &p->lo, &p->hi)) return -1;
    p->in_off = -xq.zp;
    p->w_off = per_channel ? 0 : -wq.zp;
    p->zp_out = oq.zp;
    p->xmax = INT64_C(1) << xq.storage->width;
  }
  p->fact = flt && own_act ? lw_act_range_f(W, op, &p->flo, &p->fhi) : 0;
  return p->fact < 0 ? -1 : 0;
}

/* tm.conv2d_fc / tm.depthwise_conv2d_fc: the FULLY_CONNECTED's accumulators (a scratch
 * of its output count), which the conv's output loop feeds (fc_sink_add) in place of
 * storing its result: the same terms as lw_lower_fully_connected's (fuse checks one
 * batch row), in its order for float (the generic nest visits the result in flat NHWC
 * order; int32 sums do not depend on it), then the FC's bias (float: last) and
 * requantization (fc_sink_end). */
struct lw_fc_sink {
  fc_params p;
  tm_value *w, *wm, *bm, *acc;
  int64_t O, C; /* FC outputs; conv result channels (the flat index) */
};

static int fc_sink_begin(lw_lower *W, tm_op *op, const tm_type *conv_t, lw_fc_sink *s) {
  lw_fn *F = lw_fn_of(W);
  tm_value *w = tm_op_operand(op, 3), *b = tm_op_operand(op, 4);
  if (fc_setup(W, op, conv_t, w, b, tm_op_result(op, 0), false, &s->p)) return -1;
  if (!s->p.flt) {
    if (!s->p.w_off) lw_requant_bound_weights(W, &s->p.rq, w, b, false, s->p.xmax);
    lw_requant_materialize(W, &s->p.rq, "fc", s->p.zp_out);
  }
  s->w = w, s->wm = lw_in_weights(W, w), s->bm = lw_in(W, b);
  s->O = w->type->dims[0], s->C = conv_t->dims[3];
  s->acc = lw_scratch(W, tm_type_memref(W->ctx, s->p.acc_t, 1, &s->O)).mem;
  loop lo;
  loop_begin(F, &lo, s->O, 0, NULL);
  tm_value *init = s->p.flt ? lw_cf32(F, 0.0f) : lw_int_to(F, lw_load(F, s->bm, 1, &lo.iv), s->p.acc_t);
  lw_store(F, init, s->acc, 1, &lo.iv);
  loop_end0(F, &lo);
  return 0;
}

void lw_fc_sink_add(lw_lower *W, lw_fc_sink *s, tm_value *v, tm_value *pixel, tm_value *oc) {
  lw_fn *F = lw_fn_of(W);
  fc_params *p = &s->p;
  tm_value *flat = lw_add_idx(F, lw_affine(F, pixel, s->C, 0), oc);
  tm_value *xv = p->flt ? v : lw_int_to(F, v, p->acc_t);
  if (!p->flt && p->in_off) xv = lw_addi(F, xv, lw_cint(F, p->acc_t, p->in_off));
  loop lo;
  loop_begin(F, &lo, s->O, 0, NULL);
  tm_value *wi[] = {lo.iv, flat}, *a = lw_load(F, s->acc, 1, &lo.iv);
  if (p->flt) {
    a = lw_addf(F, a, lw_mulf(F, xv, lw_load(F, s->wm, 2, wi)));
  } else {
    tm_value *wv = p->w_off ? load_acc(F, s->wm, 2, wi, p->w_off, p->acc_t)
                            : lw_load_weight(F, s->w, s->wm, 2, wi, p->acc_t);
    a = lw_addi(F, a, lw_muli(F, wv, xv));
  }
  lw_store(F, a, s->acc, 1, &lo.iv);
  loop_end0(F, &lo);
}

static void fc_sink_end(lw_lower *W, lw_fc_sink *s, tm_value *y) {
  lw_fn *F = lw_fn_of(W);
  fc_params *p = &s->p;
  lw_out(W, y);
  tm_value *yf = lw_flat(W, lw_in_buf(W, y));
  loop lo;
  loop_begin(F, &lo, s->O, 0, NULL);
  tm_value *a = lw_load(F, s->acc, 1, &lo.iv), *r;
  if (p->flt) r = lw_addf(F, a, lw_load(F, s->bm, 1, &lo.iv));
  else r = lw_requantize(F, &p->rq, lo.iv, a, p->lo, p->hi, p->out_t);
  lw_store(F, r, yf, 1, &lo.iv);
  loop_end0(F, &lo);
}

/* ---------------------------------------------------------- convolutions ------- */
/* conv2d and depthwise_conv2d: TFLite's reference Conv / DepthwiseConv (float) and
 * reference_integer_ops::ConvPerChannel / DepthwiseConvPerChannel (int8):
 *   acc = bias[oc] + sum over in-bounds taps of w * (x - zp_in)      (int32)
 *   out = clamp(MBQM(acc, q[oc], shift[oc]) + zp_out, act_min, act_max)
 * with (q, shift) = QuantizeMultiplier((double)s_in * (double)s_w[oc] / (double)s_out).
 * Float sums run in the reference order and add the bias last. */
static int lower_conv(lw_lower *W, tm_op *op, bool depthwise) {
  lw_fn *F = lw_fn_of(W);
  tm_value *x = tm_op_operand(op, 0), *w = tm_op_operand(op, 1);
  tm_value *b = op->noperands > 2 ? tm_op_operand(op, 2) : NULL;
  tm_value *y = tm_op_result(op, 0);
  /* tm.conv2d_add: the convolution rounds to conv_type, then adds (lw_residual_apply). */
  const tm_attr *conv_type = tm_op_attr(op, "conv_type");
  /* tm.conv2d_fc: the convolution's result (conv_result) goes to the FC's sums (fc_sink). */
  const tm_attr *conv_res = tm_op_attr(op, "conv_result");
  const tm_type *yt = conv_res ? conv_res->type : y->type;
  lw_quant xq = lw_quant_of(x->type), wq = lw_quant_of(w->type);
  lw_quant oq = lw_quant_of(conv_type ? tm_type_with_elem(W->ctx, y->type, conv_type->type) : yt);
  lw_quant bq = b ? lw_quant_of(b->type) : (lw_quant){0};
  bool flt = lw_is_f32(&xq);
  if (flt && (!lw_is_f32(&wq) || !lw_is_f32(&oq) || (b && !lw_is_f32(&bq))))
    return lw_unsupported(W, op, "float convolutions need f32 operands");
  const tm_type *acc_t = flt ? lw_f32(F) : int_kernel_types(W, op, &xq, &wq, &oq, &bq, b != NULL);
  if (!acc_t) return -1;
  if (!flt && wq.nscales > 1 && wq.axis != (depthwise ? 3 : 0))
    return lw_unsupported(W, op, "filter scales along dimension %d are not supported", wq.axis);
  const int64_t *xd = x->type->dims, *wd = w->type->dims, *yd = yt->dims;
  int64_t N = xd[0], H = xd[1], Wi = xd[2], C = xd[3];
  int64_t KH = wd[1], KW = wd[2], O = yd[3], OH = yd[1], OW = yd[2];
  int64_t M = depthwise ? tm_op_attr_int(op, "depth_multiplier", 1) : 1;
  if (M < 1) M = 1;
  int64_t sh, sw, dh, dw;
  int_pair(op, "stride", &sh, &sw);
  int_pair(op, "dilation", &dh, &dw);
  int64_t pt = pad_before(sh, dh, H, KH, OH), pl = pad_before(sw, dw, Wi, KW, OW);
  /* Which bounds checks some tap can fail. */
  bool y_lo = pt > 0, y_hi = (OH - 1) * sh - pt + (KH - 1) * dh >= H;
  bool x_lo = pl > 0, x_hi = (OW - 1) * sw - pl + (KW - 1) * dw >= Wi;

  lw_requant rq = {0};
  int32_t lo = 0, hi = 0;
  int64_t in_off = 0, zp_out = 0;
  if (!flt) {
    for (int i = 0; i < wq.nscales; i++)
      if (wq.zps && wq.zps[i])
        return lw_unsupported(W, op, "filter zero point %lld is not 0", (long long)wq.zps[i]);
    if (wq.nscales > 1 && wq.nscales != O)
      return lw_unsupported(W, op, "the filter has %d scales for %lld output channels", wq.nscales, (long long)O);
    lw_requant_init(W, &rq, O, acc_t == lw_i64(F));
    for (int64_t c = 0; c < O; c++) {
      double ws = lw_fscale(wq.nscales > 1 ? wq.scales[c] : wq.scale);
      if (lw_requant_set(W, op, &rq, c, lw_fscale(xq.scale) * ws / lw_fscale(oq.scale))) return -1;
    }
    if (lw_act_range(W, op, &oq, &lo, &hi)) return -1;
    in_off = -xq.zp;
    zp_out = oq.zp;
  }
  float flo = 0, fhi = 0;
  int fact = flt ? lw_act_range_f(W, op, &flo, &fhi) : 0;
  if (fact < 0) return -1;

  lw_sparse sp;
  if (lw_sparse_init(W, op, w, &sp)) return -1;
  /* DSP and RV32 targets: lower_dsp.c's kernel (docs/dsp.md) */
  lw_dsp_conv dc = {.x = x, .w = w, .b = b, .y = y, .depthwise = depthwise, .residual = conv_type != NULL, .N = N,
                    .H = H, .Wi = Wi, .C = C, .O = O, .KH = KH, .KW = KW, .OH = OH, .OW = OW, .sh = sh, .sw = sw,
                    .dh = dh, .dw = dw, .pt = pt, .pl = pl, .in_off = in_off, .zp_out = zp_out, .lo = lo, .hi = hi,
                    .rq = &rq, .name = depthwise ? "dwconv" : "conv"};
  bool dsp = !flt && !rq.wide && !sp.on && !lw_is_packed_i4(w) && W->M->kernels;
  /* lw_lower_dsp_conv takes or computes the convolutions deferred into a row pipeline;
   * other kernels need them first */
  if (!(dsp && !depthwise && !conv_res && lw_dsp_applies(&dc)) && lw_flush_stages(W)) return -1;
  int dsp_dw = dsp && depthwise && !conv_res ? lw_lower_dsp_depthwise(W, op, &dc) : 1; /* 1: not taken */
  if (dsp_dw <= 0) return dsp_dw;
  lw_fc_sink fs;
  if (dsp && lw_dsp_applies(&dc)) {
    if (!conv_res) return lw_lower_dsp_conv(W, op, &dc);
    if (fc_sink_begin(W, op, yt, &fs)) return -1;
    dc.fc = &fs;
    if (lw_lower_dsp_conv(W, op, &dc)) return -1;
    fc_sink_end(W, &fs, y);
    return 0;
  }
  tm_value *xm = lw_in(W, x), *wm = sp.on ? NULL : lw_in_weights(W, w), *bm = b ? lw_in(W, b) : NULL;
  if (!flt) {
    lw_requant_bound_weights(W, &rq, w, b, depthwise, INT64_C(1) << xq.storage->width);
    lw_requant_materialize(W, &rq, depthwise ? "dwconv" : "conv", zp_out);
  }
  /* the fused op's int8 sums do not depend on the order the conv's values come in; its
   * float sums do, so float keeps the generic nest's flat order */
  bool special = depthwise && tm_op_attr(op, "tm.dw_channel_loop") && !(conv_res && flt);
  if (conv_res && fc_sink_begin(W, op, yt, &fs)) return -1;
  if (special) {
    dw_kernel D = {.W = W, .F = F, .flt = flt, .acc_t = acc_t, .out_t = oq.storage, .xm = xm, .wm = wm, .w = w, .bm = bm,
            .N = N, .H = H, .Wi = Wi, .C = C, .M = M, .KH = KH, .KW = KW, .OH = OH, .OW = OW, .sh = sh, .sw = sw,
            .dh = dh, .dw = dw, .pt = pt, .pl = pl, .in_off = in_off, .zp_out = zp_out, .rq = &rq, .lo = lo,
            .hi = hi, .flo = flo, .fhi = fhi, .fact = fact, .fc = conv_res ? &fs : NULL};
    if (lower_dw_special(&D, op, w, b, y)) return -1;
    if (conv_res) fc_sink_end(W, &fs, y);
    return 0;
  }
  tm_value *ym = conv_res ? NULL : lw_out(W, y);
  lw_residual res;
  if (conv_type && lw_residual_init(W, op, &res)) return -1;

  /* Output loops: n, oy, ox, then oc (conv) or ic, m (depthwise: oc = ic * M + m). */
  loop ln, ly, lx, lc, lm;
  loop_begin(F, &ln, N, 0, NULL);
  loop_begin(F, &ly, OH, 0, NULL);
  tm_value *iy0 = lw_affine(F, ly.iv, sh, -pt);
  loop_begin(F, &lx, OW, 0, NULL);
  tm_value *ix0 = lw_affine(F, lx.iv, sw, -pl);
  loop_begin(F, &lc, depthwise ? C : O, 0, NULL);
  tm_value *ic_fixed = NULL, *oc;
  if (depthwise) {
    loop_begin(F, &lm, M, 0, NULL);
    ic_fixed = lc.iv;
    oc = M == 1 ? lc.iv : lw_add_idx(F, lw_affine(F, lc.iv, M, 0), lm.iv);
  } else {
    oc = lc.iv;
  }
  tm_value *acc0 = flt ? lw_cf32(F, 0.0f) : bm ? lw_int_to(F, lw_load(F, bm, 1, &oc), acc_t) : lw_cint(F, acc_t, 0);

  loop lky, lkx, lic;
  loop_begin(F, &lky, KH, 1, &acc0);
  tm_value *iy = lw_add_idx(F, iy0, lw_affine(F, lky.iv, dh, 0));
  tm_value *ycond = NULL;
  if (y_lo) ycond = lw_cmpi(F, LW_SGE, iy, lw_cidx(F, 0));
  if (y_hi) {
    tm_value *c = lw_cmpi(F, LW_SLT, iy, lw_cidx(F, H));
    ycond = ycond ? lw_andi(F, ycond, c) : c;
  }
  lw_if yif;
  if (ycond) lw_if_begin(F, &yif, ycond, 1, &acc_t);
  loop_begin(F, &lkx, KW, 1, lky.args);
  tm_value *ix = lw_add_idx(F, ix0, lw_affine(F, lkx.iv, dw, 0));
  tm_value *xcond = NULL;
  if (x_lo) xcond = lw_cmpi(F, LW_SGE, ix, lw_cidx(F, 0));
  if (x_hi) {
    tm_value *c = lw_cmpi(F, LW_SLT, ix, lw_cidx(F, Wi));
    xcond = xcond ? lw_andi(F, xcond, c) : c;
  }
  lw_if xif;
  if (xcond) lw_if_begin(F, &xif, xcond, 1, &acc_t);
  tm_value *acc_in = lkx.args[0], *acc_out;
  if (depthwise) {
    tm_value *xi[] = {ln.iv, iy, ix, ic_fixed}, *wi[] = {lw_cidx(F, 0), lky.iv, lkx.iv, oc};
    if (flt) {
      tm_value *xv = lw_load(F, xm, 4, xi);
      acc_out = lw_addf(F, acc_in, lw_mulf(F, xv, lw_load(F, wm, 4, wi)));
    } else {
      tm_value *wv = lw_load_weight(F, w, wm, 4, wi, acc_t);
      tm_value *prod = lw_muli(F, wv, load_acc(F, xm, 4, xi, in_off, acc_t));
      acc_out = lw_addi(F, acc_in, prod);
    }
  } else if (sp.on) {
    tm_value *xi[] = {ln.iv, iy, ix};
    tm_value *row = lw_add_idx(F, lw_affine(F, oc, KH * KW, 0), lw_add_idx(F, lw_affine(F, lky.iv, KW, 0), lkx.iv));
    acc_out = lw_sparse_dot(W, &sp, row, acc_in, &(lw_sparse_x){xm, 4, xi, NULL, in_off});
  } else {
    loop_begin(F, &lic, C, 1, &acc_in);
    tm_value *xi[] = {ln.iv, iy, ix, lic.iv}, *wi[] = {oc, lky.iv, lkx.iv, lic.iv};
    tm_value *s;
    if (flt) {
      tm_value *xv = lw_load(F, xm, 4, xi);
      s = lw_addf(F, lic.args[0], lw_mulf(F, xv, lw_load(F, wm, 4, wi)));
    } else {
      tm_value *wv = lw_load_weight(F, w, wm, 4, wi, acc_t);
      tm_value *prod = lw_muli(F, wv, load_acc(F, xm, 4, xi, in_off, acc_t));
      s = lw_addi(F, lic.args[0], prod);
    }
    acc_out = loop_end1(F, &lic, s);
  }
  if (xcond) {
    lw_if_else(F, &xif, 1, &acc_out);
    acc_out = lw_if_end(F, &xif, 1, &acc_in)[0];
  }
  acc_out = loop_end1(F, &lkx, acc_out);
  if (ycond) {
    lw_if_else(F, &yif, 1, &acc_out);
    acc_out = lw_if_end(F, &yif, 1, lky.args)[0];
  }
  tm_value *acc = loop_end1(F, &lky, acc_out);

  tm_value *yi[] = {ln.iv, ly.iv, lx.iv, oc}, *r;
  if (flt) {
    r = bm ? lw_addf(F, acc, lw_load(F, bm, 1, &oc)) : lw_addf(F, acc, lw_cf32(F, 0.0f));
    if (fact > 0) r = lw_clamp_f(F, r, lw_cf32(F, flo), lw_cf32(F, fhi));
  } else {
    r = lw_requantize(F, &rq, oc, acc, lo, hi, oq.storage);
  }
  if (conv_type && !(r = lw_residual_apply(W, &res, r, 4, yi))) return -1;
  if (conv_res) lw_fc_sink_add(W, &fs, r, lw_add_idx(F, lw_affine(F, ly.iv, OW, 0), lx.iv), oc);
  else lw_store(F, r, ym, 4, yi);
  if (depthwise) loop_end0(F, &lm);
  loop_end0(F, &lc);
  loop_end0(F, &lx);
  loop_end0(F, &ly);
  loop_end0(F, &ln);
  if (conv_res) fc_sink_end(W, &fs, y);
  return 0;
}

int lw_lower_conv2d(lw_lower *W, tm_op *op) { return lower_conv(W, op, false); }
int lw_lower_depthwise_conv2d(lw_lower *W, tm_op *op) { return lower_conv(W, op, true); }

/* -------------------------------------------------------- fully_connected ------- */
/* TFLite's reference FullyConnected (float), reference_integer_ops::FullyConnected
 * (per-tensor weights: multiplier (double)(float)(s_in * s_w) / (double)s_out, weights
 * zero point applied) and FullyConnectedPerChannel (per-axis weights, zero points 0). */
int lw_lower_fully_connected(lw_lower *W, tm_op *op) {
  lw_fn *F = lw_fn_of(W);
  tm_value *x = tm_op_operand(op, 0), *w = tm_op_operand(op, 1);
  tm_value *b = op->noperands > 2 ? tm_op_operand(op, 2) : NULL;
  tm_value *y = tm_op_result(op, 0);
  fc_params p;
  if (fc_setup(W, op, x->type, w, b, y, true, &p)) return -1;
  bool flt = p.flt;
  const tm_type *acc_t = p.acc_t;
  lw_requant rq = p.rq;
  int32_t lo = p.lo, hi = p.hi;
  int64_t in_off = p.in_off, w_off = p.w_off, zp_out = p.zp_out;
  float flo = p.flo, fhi = p.fhi;
  int fact = p.fact;
  int64_t O = w->type->dims[0], I = w->type->dims[1];
  int64_t B = tm_type_numel(x->type) / I;

  /* [B, I] and [B, O] are indexed as they are; other shapes through 1-D views. */
  bool x2d = x->type->rank == 2 && x->type->dims[1] == I, y2d = y->type->rank == 2;
  lw_sparse sp;
  if (lw_sparse_init(W, op, w, &sp)) return -1;
  /* DSP and RV32 targets: a 1x1 convolution of the batch as pixels (lower_dsp.c) */
  lw_dsp_conv dc = {.x = x, .w = w, .b = b, .y = y, .N = 1, .H = 1, .Wi = B, .C = I, .O = O, .KH = 1, .KW = 1, .OH = 1,
                    .OW = B, .sh = 1, .sw = 1, .dh = 1, .dw = 1, .in_off = in_off, .zp_out = zp_out, .lo = lo,
                    .hi = hi, .rq = &rq, .name = "fc"};
  if (!flt && !rq.wide && !w_off && !sp.on && !lw_is_packed_i4(w) && W->M->kernels && lw_dsp_applies(&dc))
    return lw_lower_dsp_conv(W, op, &dc);
  tm_value *xm = x2d ? lw_in(W, x) : lw_flat(W, lw_in_buf(W, x)), *wm = sp.on ? NULL : lw_in_weights(W, w);
  tm_value *bm = b ? lw_in(W, b) : NULL;
  if (!flt) {
    /* per-tensor weights with a zero point: |w - zp_w| <= 255 is not the stored |w| */
    if (!w_off) lw_requant_bound_weights(W, &rq, w, b, false, p.xmax);
    lw_requant_materialize(W, &rq, "fc", zp_out);
  }
  lw_out(W, y);
  tm_value *yf = y2d ? lw_in(W, y) : lw_flat(W, lw_in_buf(W, y));

  loop lb, lo_, li;
  loop_begin(F, &lb, B, 0, NULL);
  loop_begin(F, &lo_, O, 0, NULL);
  tm_value *acc0 = flt ? lw_cf32(F, 0.0f) : bm ? lw_int_to(F, lw_load(F, bm, 1, &lo_.iv), acc_t) : lw_cint(F, acc_t, 0);
  tm_value *xbase = x2d ? NULL : lw_affine(F, lb.iv, I, 0);
  int xn = x2d ? 2 : 1;
  tm_value *acc, *r;
  if (sp.on) {
    acc = lw_sparse_dot(W, &sp, lo_.iv, acc0, &(lw_sparse_x){xm, xn, &lb.iv, xbase, in_off});
  } else {
    loop_begin(F, &li, I, 1, &acc0);
    tm_value *xi[2] = {lb.iv, li.iv}, *wi[] = {lo_.iv, li.iv}, *s;
    if (!x2d) xi[0] = lw_add_idx(F, xbase, li.iv);
    if (flt) {
      tm_value *xv = lw_load(F, xm, xn, xi);
      s = lw_addf(F, li.args[0], lw_mulf(F, xv, lw_load(F, wm, 2, wi)));
    } else {
      tm_value *wv = w_off ? load_acc(F, wm, 2, wi, w_off, acc_t) : lw_load_weight(F, w, wm, 2, wi, acc_t);
      tm_value *prod = lw_muli(F, wv, load_acc(F, xm, xn, xi, in_off, acc_t));
      s = lw_addi(F, li.args[0], prod);
    }
    acc = loop_end1(F, &li, s);
  }
  if (flt) {
    r = bm ? lw_addf(F, acc, lw_load(F, bm, 1, &lo_.iv)) : lw_addf(F, acc, lw_cf32(F, 0.0f));
    if (fact > 0) r = lw_clamp_f(F, r, lw_cf32(F, flo), lw_cf32(F, fhi));
  } else {
    r = lw_requantize(F, &rq, lo_.iv, acc, lo, hi, p.out_t);
  }
  if (y2d) {
    tm_value *yi[] = {lb.iv, lo_.iv};
    lw_store(F, r, yf, 2, yi);
  } else {
    tm_value *yidx = lw_add_idx(F, lw_affine(F, lb.iv, O, 0), lo_.iv);
    lw_store(F, r, yf, 1, &yidx);
  }
  loop_end0(F, &lo_);
  loop_end0(F, &lb);
  return 0;
}

/* ----------------------------------------------------------------- pooling ------- */
/* reference_ops / reference_integer_ops AveragePool and MaxPool: windows clipped to the
 * input (padding is not counted); int8 average = (sum +- count / 2) / count by the sign
 * of the sum; max starts from the type's lowest value. */
int lw_lower_pool2d(lw_lower *W, tm_op *op) {
  lw_fn *F = lw_fn_of(W);
  bool avg = tm_op_is(op, "tm.avg_pool2d");
  tm_value *x = tm_op_operand(op, 0), *y = tm_op_result(op, 0);
  lw_quant xq = lw_quant_of(x->type), oq = lw_quant_of(y->type);
  bool flt = lw_is_f32(&xq);
  if (flt ? !lw_is_f32(&oq) : !(lw_is_q8(&xq) && lw_is_q8(&oq)) && !(is_q16(&xq) && is_q16(&oq)))
    return lw_unsupported(W, op, "only f32, int8 and int16 pooling are supported");
  if (!flt && (xq.scale != oq.scale || xq.zp != oq.zp))
    return lw_unsupported(W, op, "input and result quantizations differ");
  const int64_t *xd = x->type->dims, *yd = y->type->dims;
  int64_t N = xd[0], H = xd[1], Wi = xd[2], C = xd[3], OH = yd[1], OW = yd[2];
  int64_t KH, KW, sh, sw;
  int_pair(op, "filter", &KH, &KW);
  int_pair(op, "stride", &sh, &sw);
  int64_t pt = pad_before(sh, 1, H, KH, OH), pl = pad_before(sw, 1, Wi, KW, OW);
  bool clipped = pt > 0 || pl > 0 || (OH - 1) * sh - pt + KH > H || (OW - 1) * sw - pl + KW > Wi;
  int32_t lo = 0, hi = 0;
  float flo = 0, fhi = 0;
  int fact = 0;
  if (flt) {
    fact = lw_act_range_f(W, op, &flo, &fhi);
    if (fact < 0) return -1;
  } else if (lw_act_range(W, op, &oq, &lo, &hi)) {
    return -1;
  }

  tm_value *xm = lw_in(W, x), *ym = lw_out(W, y);
  loop ln, ly, lx, lc;
  loop_begin(F, &ln, N, 0, NULL);
  /* The window clipped to the input: filter_start = max(0, -origin),
   * filter_end = min(k, in - origin), per output row and column. */
  tm_value *zero = lw_cidx(F, 0), *fy0 = zero, *fx0 = zero, *fy1 = lw_cidx(F, KH), *fx1 = lw_cidx(F, KW);
  loop_begin(F, &ly, OH, 0, NULL);
  tm_value *iy0 = lw_affine(F, ly.iv, sh, -pt);
  if (clipped) {
    fy0 = lw_maxsi(F, lw_subi(F, zero, iy0), zero);
    fy1 = lw_minsi(F, lw_subi(F, lw_cidx(F, H), iy0), lw_cidx(F, KH));
  }
  loop_begin(F, &lx, OW, 0, NULL);
  tm_value *ix0 = lw_affine(F, lx.iv, sw, -pl);
  if (clipped) {
    fx0 = lw_maxsi(F, lw_subi(F, zero, ix0), zero);
    fx1 = lw_minsi(F, lw_subi(F, lw_cidx(F, Wi), ix0), lw_cidx(F, KW));
  }
  loop_begin(F, &lc, C, 0, NULL);
  tm_value *init = flt ? (avg ? lw_cf32(F, 0.0f) : lw_cf32(F, -3.40282347e38f))
                       : lw_ci32(F, avg ? 0 : -(1 << (xq.storage->width - 1))); /* lowest */
  lw_for fy, fx;
  lw_for_begin(F, &fy, fy0, fy1, lw_cidx(F, 1), 1, &init);
  lw_for_begin(F, &fx, fx0, fx1, lw_cidx(F, 1), 1, fy.args);
  tm_value *xi[] = {ln.iv, lw_add_idx(F, iy0, fy.iv), NULL, lc.iv};
  xi[2] = lw_add_idx(F, ix0, fx.iv);
  tm_value *v = lw_load(F, xm, 4, xi), *a = fx.args[0], *next;
  if (flt) next = avg ? lw_addf(F, a, v) : lw_select(F, lw_cmpf(F, LW_FOLT, a, v), v, a); /* std::max */
  else next = avg ? lw_addi(F, a, lw_int_to(F, v, lw_i32(F))) : lw_maxsi(F, a, lw_int_to(F, v, lw_i32(F)));
  tm_value *acc = lw_for_end(F, &fy, 1, lw_for_end(F, &fx, 1, &next))[0];

  tm_value *r = acc;
  if (avg) {
    tm_value *count;
    if (clipped) {
      tm_value *rows = lw_subi(F, fy1, fy0);
      tm_value *cnt = lw_muli(F, rows, lw_subi(F, fx1, fx0));
      count = lw_cast(F, "arith.index_cast", cnt, lw_i32(F));
      count = lw_maxsi(F, count, lw_ci32(F, 1)); /* TFLite fails on an empty window; never divide by 0 */
    } else {
      count = lw_ci32(F, KH * KW);
    }
    if (flt) {
      r = lw_divf(F, acc, lw_cast(F, "arith.sitofp", count, lw_f32(F)));
    } else {
      tm_value *half = lw_divsi(F, count, lw_ci32(F, 2));
      tm_value *pos = lw_cmpi(F, LW_SGT, acc, lw_ci32(F, 0));
      tm_value *up = lw_addi(F, acc, half);
      tm_value *num = lw_select(F, pos, up, lw_subi(F, acc, half));
      r = lw_divsi(F, num, count);
    }
  }
  if (flt) {
    if (fact > 0) r = lw_clamp_f(F, r, lw_cf32(F, flo), lw_cf32(F, fhi));
  } else {
    r = lw_int_to(F, lw_clamp_i32(F, r, lo, hi), oq.storage);
  }
  tm_value *yi[] = {ln.iv, ly.iv, lx.iv, lc.iv};
  lw_store(F, r, ym, 4, yi);
  loop_end0(F, &lc);
  loop_end0(F, &lx);
  loop_end0(F, &ly);
  loop_end0(F, &ln);
  return 0;
}

/* ----------------------------------------------------------------- softmax ------- */
/* Float: reference_ops::Softmax (max, exp((x - max) * beta) summed in order, divide).
 * int8 -> int8: reference_ops::Softmax for 8-bit inputs with TFLite Micro's parameters
 * (softmax_common.cc): PreprocessSoftmaxScaling(beta, s_in, 5) gives the Q5.26 input
 * multiplier, diff_min = -CalculateInputRadius(5, left_shift).  exp_on_negative_values of
 * each possible difference d = x - max in [-255, 0] is a 256-entry Q0.31 table computed
 * here by the same integer algorithm (0 for d < diff_min, which the kernel skips: an exp
 * of 0 adds nothing to the sum and outputs -128, exactly as the skip does); the run-time
 * part is the sum in Q12.19, GetReciprocal and the final scaling. */
/* exp(x - max) from the table, at index x - max + 255 */
static tm_value *exp_of(lw_fn *F, tm_value *table, tm_value *x, tm_value *max) {
  tm_value *d = lw_addi(F, lw_subi(F, lw_int_to(F, x, lw_i32(F)), max), lw_ci32(F, 255));
  tm_value *k = lw_cast(F, "arith.index_cast", d, lw_index(F));
  return lw_load(F, table, 1, &k);
}

/* gemmlowp's exp_on_negative_values of a Q5.26 a <= 0, Q0.31, as tm_fx_exp_on_negative_values
 * computes it (its Rescale<0> never saturates: |a mod 1/4 - 1/4| <= 2^24). */
static tm_value *exp_on_negative_values(lw_fn *F, tm_value *barrel, tm_value *a) {
  tm_value *amq = lw_subi(F, lw_andi(F, a, lw_ci32(F, (1 << 24) - 1)), lw_ci32(F, 1 << 24));
  /* exp on [-1/4, 0) of amq << 5, Q0.31: a Taylor series around -1/8 */
  tm_value *x = lw_addi(F, lw_shli(F, amq, lw_ci32(F, 5)), lw_ci32(F, 1 << 28));
  tm_value *x2 = lw_srdhm(F, x, x), *x3 = lw_srdhm(F, x2, x), *x4 = lw_srdhm(F, x2, x2);
  tm_value *x4_over_4 = lw_rdbp(F, x4, lw_ci32(F, 2));
  tm_value *poly = lw_rdbp(F, lw_addi(F, lw_srdhm(F, lw_addi(F, x4_over_4, x3), lw_ci32(F, 715827883)), x2), lw_ci32(F, 1));
  tm_value *c = lw_ci32(F, 1895147668); /* exp(-1/8) */
  tm_value *r = lw_addi(F, c, lw_srdhm(F, c, lw_addi(F, x, poly)));
  /* times exp(-2^k) for each bit k of the remainder (-2 <= k <= 4), in gemmlowp's order:
   * a loop over `barrel` (exp_barrel) kept rolled, one SRDHM's code where unrolled takes
   * seven (~240 bytes) */
  tm_value *rem = lw_subi(F, amq, a), *zero = lw_ci32(F, 0);
  lw_for L;
  lw_for_n(F, &L, 7, 1, &r);
  tm_op_set_attr(F->ctx, L.op, "tm.rolled", tm_attr_unit(F->ctx));
  tm_value *bit = lw_shli(F, lw_ci32(F, 1 << 24), lw_cast(F, "arith.index_cast", L.iv, lw_i32(F)));
  tm_value *rk = L.args[0];
  rk = lw_select(F, lw_cmpi(F, LW_EQ, lw_andi(F, rem, bit), zero), rk, lw_srdhm(F, rk, lw_load(F, barrel, 1, &L.iv)));
  r = lw_for_end(F, &L, 1, &rk)[0];
  return lw_select(F, lw_cmpi(F, LW_EQ, a, zero), lw_ci32(F, INT32_MAX), r);
}

int lw_lower_softmax(lw_lower *W, tm_op *op) {
  lw_fn *F = lw_fn_of(W);
  tm_value *x = tm_op_operand(op, 0), *y = tm_op_result(op, 0);
  lw_quant xq = lw_quant_of(x->type), oq = lw_quant_of(y->type);
  bool flt = lw_is_f32(&xq);
  if (flt ? !lw_is_f32(&oq) : !lw_is_q8(&xq) || !lw_is_q8(&oq))
    return lw_unsupported(W, op, "only f32 and int8 -> int8 softmax are supported");
  float beta = (float)tm_op_attr_float(op, "beta", 1.0);
  int64_t depth = x->type->dims[x->type->rank - 1];
  int64_t outer = depth ? tm_type_numel(x->type) / depth : 0;
  if (depth < 1) return lw_unsupported(W, op, "an empty last dimension is not supported");

  int32_t table[256];
  int32_t q = 0;
  int shift = 0;
  if (!flt) {
    if (oq.zp != -128 || (float)oq.scale != 1.0f / 256)
      return lw_unsupported(W, op, "an int8 softmax result must have scale 1/256 and zero point -128");
    if (depth > 4096) return lw_unsupported(W, op, "rows longer than 4096 would overflow the Q12.19 sum");
    const double max_real = (double)((INT64_C(1) << 31) - 1);
    double real = (double)beta * lw_fscale(xq.scale) * (double)(1 << (31 - 5));
    if (real > max_real) real = max_real;
    if (!(real > 1.0) || !tm_quantize_multiplier(real, &q, &shift) || shift < 0 || shift > 30)
      return lw_unsupported(W, op, "beta * input scale %g gives no usable softmax multiplier", (double)beta * xq.scale);
    int32_t diff_min = -tm_input_radius(5, shift);
    for (int d = -255; d <= 0; d++) {
      int32_t v = 0;
      if (d >= diff_min) {
        /* MultiplyByQuantizedMultiplierGreaterThanOne(d, q, shift) */
        int32_t rescaled = tm_fx_srdhm((int32_t)((uint32_t)d << shift), q);
        v = tm_fx_exp_on_negative_values(rescaled, 5);
      }
      table[d + 255] = v;
    }
  }

  tm_value *xm = lw_flat(W, lw_in_buf(W, x));
  tm_value *tm_ = NULL, *row = NULL, *barrel = NULL;
  /* with computed-tables, a row shorter than the table computes its exps (once each, into
   * a scratch row) in place of the table's 1 KB of flash */
  if (!flt && W->M->computed_tables && depth < 256) {
    if (!W->M->exp_barrel) W->M->exp_barrel = lw_global_i32(W->M, "exp_barrel", 7, tm_fx_exp_barrel, F->loc);
    barrel = lw_get_global(F, W->M->exp_barrel);
    row = lw_scratch(W, tm_type_memref(W->ctx, lw_i32(F), 1, &depth)).mem;
  } else if (!flt)
    tm_ = lw_get_global(F, lw_global_i32(W->M, "softmax_exp", 256, table, F->loc));
  lw_out(W, y);
  tm_value *ym = lw_flat(W, lw_in_buf(W, y));

  loop lr;
  loop_begin(F, &lr, outer, 0, NULL);
  tm_value *base = lw_affine(F, lr.iv, depth, 0);
  /* max over the row */
  tm_value *init = flt ? lw_cf32(F, -3.40282347e38f) : lw_ci32(F, -128);
  loop lc;
  loop_begin(F, &lc, depth, 1, &init);
  tm_value *i = lw_add_idx(F, base, lc.iv);
  tm_value *v = lw_load(F, xm, 1, &i), *m;
  if (flt) m = lw_select(F, lw_cmpf(F, LW_FOLT, lc.args[0], v), v, lc.args[0]);
  else m = lw_maxsi(F, lc.args[0], lw_int_to(F, v, lw_i32(F)));
  tm_value *max = loop_end1(F, &lc, m);

  if (flt) {
    tm_value *zero = lw_cf32(F, 0.0f), *fbeta = lw_cf32(F, beta);
    loop_begin(F, &lc, depth, 1, &zero);
    i = lw_add_idx(F, base, lc.iv);
    tm_value *e = lw_math(F, "math.exp", lw_mulf(F, lw_subf(F, lw_load(F, xm, 1, &i), max), fbeta));
    lw_store(F, e, ym, 1, &i);
    tm_value *sum = loop_end1(F, &lc, lw_addf(F, lc.args[0], e));
    loop_begin(F, &lc, depth, 0, NULL);
    i = lw_add_idx(F, base, lc.iv);
    lw_store(F, lw_divf(F, lw_load(F, ym, 1, &i), sum), ym, 1, &i);
    loop_end0(F, &lc);
  } else {
    tm_value *zero = lw_ci32(F, 0);
    loop_begin(F, &lc, depth, 1, &zero);
    i = lw_add_idx(F, base, lc.iv);
    tm_value *e;
    if (row) { /* the table's entry: 0 below diff_min, else exp(MBQM>1(d, q, shift)) */
      tm_value *d = lw_subi(F, lw_int_to(F, lw_load(F, xm, 1, &i), lw_i32(F)), max);
      tm_value *in = lw_cmpi(F, LW_SGE, d, lw_ci32(F, -tm_input_radius(5, shift)));
      e = exp_on_negative_values(F, barrel, lw_srdhm(F, lw_shli(F, d, lw_ci32(F, shift)), lw_ci32(F, q)));
      e = lw_select(F, in, e, zero);
      lw_store(F, e, row, 1, &lc.iv);
    } else {
      e = exp_of(F, tm_, lw_load(F, xm, 1, &i), max);
    }
    /* Rescale<12> of a Q0.31 value: RoundingDivideByPOT by 12 */
    tm_value *sum = loop_end1(F, &lc, lw_addi(F, lc.args[0], lw_rdbp(F, e, lw_ci32(F, 12))));
    /* GetReciprocal(sum, 12): headroom = clz(sum); x = (sum << headroom) - 2^31 */
    tm_value *headroom = lw_helper_call(F, LW_HELPER_CLZ, 1, &sum);
    tm_value *shifted = lw_subi(F, lw_shli(F, sum, headroom), lw_ci32(F, INT32_MIN));
    tm_value *scale = lw_helper_call(F, LW_HELPER_RECIPROCAL, 1, &shifted);
    /* exponent = num_bits_over_unit + 31 - 8 = (12 - headroom) + 23 */
    tm_value *exponent = lw_subi(F, lw_ci32(F, 35), headroom);
    loop_begin(F, &lc, depth, 0, NULL);
    i = lw_add_idx(F, base, lc.iv);
    e = row ? lw_load(F, row, 1, &lc.iv) : exp_of(F, tm_, lw_load(F, xm, 1, &i), max);
    tm_value *out = lw_rdbp(F, lw_srdhm(F, scale, e), exponent);
    out = lw_clamp_i32(F, lw_addi(F, out, lw_ci32(F, -128)), -128, 127);
    lw_store(F, lw_int_to(F, out, oq.storage), ym, 1, &i);
    loop_end0(F, &lc);
  }
  loop_end0(F, &lr);
  return 0;
}

/* -------------------------------------------------------------------- mean ------- */
/* Sum over the reduced dimensions (in dimension order, the reference's order) of the
 * element at the output position out[]: nested loops carrying the accumulator.  kept[d]
 * tells whether input dimension d is an output dimension (whose index is idx[d]). */
typedef tm_value *(*accumulate_fn)(lw_fn *F, tm_value *acc, tm_value *elem);

static tm_value *reduce_sum(lw_fn *F, tm_value *mem, const int64_t *dims, int rank, const bool *reduced,
                            tm_value **idx, int d, tm_value *acc, accumulate_fn add) {
  if (d == rank) return add(F, acc, lw_load(F, mem, rank, idx));
  if (!reduced[d]) return reduce_sum(F, mem, dims, rank, reduced, idx, d + 1, acc, add);
  loop l;
  loop_begin(F, &l, dims[d], 1, &acc);
  idx[d] = l.iv;
  tm_value *next = reduce_sum(F, mem, dims, rank, reduced, idx, d + 1, l.args[0], add);
  return loop_end1(F, &l, next);
}

static tm_value *add_f32(lw_fn *F, tm_value *acc, tm_value *v) { return lw_addf(F, acc, v); }
static tm_value *add_i8(lw_fn *F, tm_value *acc, tm_value *v) { return lw_addi(F, acc, lw_int_to(F, v, lw_i32(F))); }

/* TFLite Micro's EvalMean (reduce.cc), by case:
 *  - f32: reference_ops::Mean, the sum divided by the count (in float);
 *  - int8, keep_dims over axes {1, 2} of a 4-D input: reference_integer_ops::Mean:
 *    MBQM(sum(x - zp_in), s_in / s_out), then (acc +- n / 2) / n by the sign, + zp_out;
 *  - int8 with one quantization for input and result: the raw sum / n, truncating;
 *  - otherwise reference_ops::QuantizedMeanOrSum: the multiplier of s_in / s_out
 *    absorbs 1 / n (shifted up by floor(log2 n), at most 32 and 31 + shift, then divided
 *    by n), applied to sum - zp_in * n. */
int lw_lower_mean(lw_lower *W, tm_op *op) {
  lw_fn *F = lw_fn_of(W);
  tm_value *x = tm_op_operand(op, 0), *y = tm_op_result(op, 0);
  lw_quant xq = lw_quant_of(x->type), oq = lw_quant_of(y->type);
  bool flt = lw_is_f32(&xq);
  if (flt ? !lw_is_f32(&oq) : !lw_is_q8(&xq) || !lw_is_q8(&oq))
    return lw_unsupported(W, op, "only f32 and int8 mean are supported");
  int rank = x->type->rank;
  const int64_t *xd = x->type->dims;
  int64_t axes[LW_MAX_RANK];
  int naxes = 0;
  if (!tm_attr_get_int_array(tm_op_attr(op, "axes"), LW_MAX_RANK, axes, &naxes))
    return lw_unsupported(W, op, "bad 'axes'");
  bool reduced[LW_MAX_RANK] = {false};
  int64_t n = 1;
  for (int i = 0; i < naxes; i++) {
    int64_t a = axes[i] < 0 ? axes[i] + rank : axes[i];
    if (a < 0 || a >= rank || reduced[a]) return lw_unsupported(W, op, "bad 'axes'");
    reduced[a] = true;
    n *= xd[a];
  }
  if (n < 1) return lw_unsupported(W, op, "an empty reduction is not supported");
  bool keep = tm_op_attr(op, "keep_dims") && tm_op_attr(op, "keep_dims")->kind == TM_ATTR_BOOL &&
              tm_op_attr(op, "keep_dims")->u.b;
  enum { SPATIAL, SAME_QUANT, GENERAL } path = GENERAL;
  int32_t q = 0;
  int shift = 0;
  if (!flt) {
    if (keep && rank == 4 && naxes == 2 && reduced[1] && reduced[2]) path = SPATIAL;
    else if (xq.zp == oq.zp && (float)xq.scale == (float)oq.scale) path = SAME_QUANT;
    if (path != SAME_QUANT && lw_qmul(W, op, lw_fscale(xq.scale) / lw_fscale(oq.scale), &q, &shift)) return -1;
    if (path == GENERAL) {
      int s = 0;
      while ((INT64_C(2) << s) <= n) s++; /* floor(log2 n) */
      if (s > 32) s = 32;
      if (s > 31 + shift) s = 31 + shift;
      q = (int32_t)(((int64_t)q << s) / n);
      shift -= s;
    }
  }

  tm_value *xm = lw_in(W, x);
  lw_out(W, y);
  tm_value *yf = lw_flat(W, lw_in_buf(W, y));
  /* Loop over the kept input dimensions; their flat position is the output index. */
  int64_t out_dims[LW_MAX_RANK];
  for (int d = 0; d < rank; d++) out_dims[d] = reduced[d] ? 1 : xd[d];
  lw_nest N;
  lw_nest_begin(F, &N, rank, out_dims);
  tm_value *idx[LW_MAX_RANK], *oidx = lw_cidx(F, 0);
  int64_t stride = 1;
  for (int d = rank - 1; d >= 0; d--) {
    idx[d] = N.iv[d];
    if (reduced[d]) continue;
    oidx = lw_add_idx(F, oidx, lw_affine(F, N.iv[d], stride, 0));
    stride *= xd[d];
  }
  tm_value *init = flt ? lw_cf32(F, 0.0f) : lw_ci32(F, 0);
  tm_value *sum = reduce_sum(F, xm, xd, rank, reduced, idx, 0, init, flt ? add_f32 : add_i8), *r;
  if (flt) {
    r = lw_divf(F, sum, lw_cf32(F, (float)n));
  } else if (path == SAME_QUANT) {
    r = lw_int_to(F, lw_divsi(F, sum, lw_ci32(F, n)), oq.storage);
  } else {
    tm_value *acc = xq.zp ? lw_subi(F, sum, lw_ci32(F, xq.zp * n)) : sum; /* sum(x - zp_in) */
    acc = lw_mbqm(F, acc, lw_ci32(F, q), lw_ci32(F, shift));
    if (path == SPATIAL) {
      tm_value *half = lw_ci32(F, n / 2), *cnt = lw_ci32(F, n);
      tm_value *up = lw_addi(F, acc, half);
      tm_value *down = lw_subi(F, acc, half);
      tm_value *num = lw_select(F, lw_cmpi(F, LW_SGT, acc, lw_ci32(F, 0)), up, down);
      acc = lw_divsi(F, num, cnt);
    }
    if (oq.zp) acc = lw_addi(F, acc, lw_ci32(F, oq.zp));
    r = lw_int_to(F, lw_clamp_i32(F, acc, -128, 127), oq.storage);
  }
  lw_store(F, r, yf, 1, &oidx);
  lw_nest_end(F, &N);
  return 0;
}
