/* passes/lower_dsp_depthwise.c — int8 depthwise_conv2d of depth multiplier 1 with 3-wide
 * kernel rows, stride 1 and no dilation along the width, on Arm DSP cores (docs/dsp.md):
 * two output pixels of a channel per step, two products per SMLAD.
 *
 * A channel's input rows go into a small ring of bytes, the left and right padding and
 * the rows outside the input as the input zero point; the input offset is folded into
 * bias' = bias + in_off * sum(w) at compile time, so the zero point's products cancel and
 * every output takes every tap with no bounds check.  For the outputs ox and ox + 1, the
 * four bytes x0..x3 of a kernel row are one word, E = SXTB16(x) = (x0, x2) and O =
 * SXTB16(x ROR 8) = (x1, x3):
 *   out[ox]     += x0 w0 + x1 w1 + x2 w2 = SMLAD(E, (w0, w2)) + lo(O) w1
 *   out[ox + 1] += x1 w0 + x2 w1 + x3 w2 = SMLAD(O, (w0, w2)) + hi(E) w1
 * (LLVM makes SMLABB / SMLATB of the single products: their operands are known 16-bit).
 * The channel's pairs (w0, w2) and w1 of every kernel row stay in registers; a row's sums
 * go to a scratch and are requantized after it (with the requantization's constants in
 * the same loop, LLVM spilled).  Integer sums are exact modulo 2^32 in any order:
 * TFLite's bits.
 *
 * Each input row is stored twice in a ring of 2 R rows (R = the kernel's rows span), at u
 * mod R and u mod R + R, so that the window of an output row is R consecutive rows: one
 * pointer, the rows at constant offsets.  In place (tm.dw_in_place, as the portable nest):
 * the output is a view of the input's bytes and channel c writes only channel c; an
 * output row is written after the input rows it covers went into the ring (checked at
 * compile time, else the op keeps the portable nest), so the ring is the only scratch.
 * A 3x3 kernel on an image taller than wide goes along the columns instead (transposed:
 * the kernel's rows are the image's columns), for long rows. */
#include <string.h>

#include "passes/lowering.h"

typedef struct dd {
  lw_lower *W;
  lw_fn *F;
  const lw_dsp_conv *c;
  int64_t R;      /* the rows a kernel column spans: (KH - 1) * dh + 1 */
  int64_t Wr;     /* ring row: left padding, the input row, right padding, the last word's bytes */
  tm_value *xs;   /* the input, 1-D i8 */
  tm_value *ys;   /* the output, 1-D i8 */
  tm_value *ring; /* i8 [2 R][Wr] */
  int64_t KP;     /* weight words the kernel keeps per channel: (w0, w2) per kernel row, then
                   * w1 of two rows per word */
  tm_value *wbytes, *bias; /* i8: each channel's weights (dd_load_weights); bias' i32 [C] */
  tm_value *acc;  /* one output row's sums, i32 [OW] */
  /* transposed (tr): the kernel's rows are the tensors' columns; the strides of the
   * output's rows and columns (yrow, ycol, in bytes) */
  bool tr;
  int64_t OWm; /* the output's width in memory */
  int64_t yrow, ycol;
} dd;

/* A channel's weight bytes: a 3x3 kernel's nine, tight; other heights four a kernel row,
 * (w0, w1, w2, w1 of the next row). */
static int64_t dd_weight_bytes(int64_t KH) { return KH == 3 ? 9 : 4 * KH; }

/* The weights as the kernel reads them, bias' and the bound of |acc| the short
 * requantization needs (bias' plus int8 inputs times the weights). */
static void dd_pack(dd *D) {
  const lw_dsp_conv *c = D->c;
  lw_lower *W = D->W;
  const tm_attr *wv = tm_value_const(c->w), *bv = c->b ? tm_value_const(c->b) : NULL;
  int64_t C = c->C, KH = c->KH;
  tm_arena *a = tm_ctx_arena(W->ctx);
  int64_t nwb = dd_weight_bytes(KH) * C + (KH == 3 ? 3 : 0); /* 3x3: the last word's 3 bytes past */
  int8_t *wb = TM_NEW_ARRAY(a, int8_t, nwb);
  memset(wb, 0, (size_t)nwb);
  int32_t *bias = TM_NEW_ARRAY(a, int32_t, C);
  int64_t *bound = TM_NEW_ARRAY(a, int64_t, C);
  for (int64_t o = 0; o < C; o++) {
    uint32_t sum = bv ? (uint32_t)tm_dense_get_int(bv, o) : 0;
    int64_t wabs = 0, w[25][3];
    for (int64_t ky = 0; ky < KH; ky++) {
      for (int64_t kx = 0; kx < 3; kx++) {
        /* filters are [1, KH, 3, C] (transposed: [1, 3, 3, C], ky and kx swapped) */
        w[ky][kx] = tm_dense_get_int(wv, (D->tr ? kx * 3 + ky : ky * 3 + kx) * C + o);
        wabs += w[ky][kx] < 0 ? -w[ky][kx] : w[ky][kx];
        sum += (uint32_t)c->in_off * (uint32_t)w[ky][kx];
      }
      if (KH == 3) continue;
      int8_t *row = &wb[(o * KH + ky) * 4];
      row[0] = (int8_t)w[ky][0], row[1] = (int8_t)w[ky][1], row[2] = (int8_t)w[ky][2];
      if (ky % 2) row[-1] = (int8_t)w[ky][1]; /* row ky - 1's byte 3 */
    }
    if (KH == 3) { /* 9 bytes (dd_load_weights): w00 w01 w02 w11, w20 w10 w22 w12, w21 */
      static const int at[9][2] = {{0, 0}, {0, 1}, {0, 2}, {1, 1}, {2, 0}, {1, 0}, {2, 2}, {1, 2}, {2, 1}};
      for (int i = 0; i < 9; i++) wb[o * 9 + i] = (int8_t)w[at[i][0]][at[i][1]];
    }
    bias[o] = (int32_t)sum;
    bound[o] = (bias[o] < 0 ? -(int64_t)bias[o] : bias[o]) + 128 * wabs;
    if (!wabs) lw_requant_fix(W, c->rq, o, bias[o]);
  }
  c->rq->bound = bound;
  lw_fn *F = D->F;
  D->wbytes = lw_get_global(F, lw_global_i8(W->M, "dsp_dw_weights", nwb, wb, F->loc));
  D->bias = lw_get_global(F, lw_global_i32(W->M, "dsp_dw_bias", C, bias, F->loc));
}

/* Stores byte v at ring bytes [at, at + n). */
static void dd_set(dd *D, tm_value *at, int64_t n, tm_value *v) {
  lw_fn *F = D->F;
  lw_for l;
  lw_for_n(F, &l, n, 0, NULL);
  tm_value *j = lw_add_idx(F, at, l.iv);
  lw_store(F, v, D->ring, 1, &j);
  lw_for_end(F, &l, 0, NULL);
}

/* A row above or below the input: the zero point, in both copies of ring row at. */
static void dd_pad_row(dd *D, tm_value *at) {
  tm_value *zp = lw_cint(D->F, lw_i8(D->F), -D->c->in_off);
  dd_set(D, at, D->c->Wi, zp);
  dd_set(D, lw_affine(D->F, at, 1, D->R * D->Wr), D->c->Wi, zp);
}

/* Padded input row u (input row u - pt) of channel ch into ring rows u mod R and u mod R
 * + R, the first of which starts at ring byte `row` (= (u mod R) Wr). */
static void dd_fill(dd *D, tm_value *ch, tm_value *u, tm_value *row) {
  lw_fn *F = D->F;
  const lw_dsp_conv *c = D->c;
  tm_value *at = lw_affine(F, row, 1, c->pl), *iy = lw_affine(F, u, 1, -c->pt);
  /* rows that may be outside the input take a branch; the first rows (constants) are
   * known to be inside or outside */
  const tm_attr *uc = tm_value_const(u);
  bool pad_y = c->pt > 0 || c->OH - 1 + D->R - 1 - c->pt >= c->H;
  if (uc && (uc->u.i < c->pt || uc->u.i >= c->pt + c->H)) {
    dd_pad_row(D, at);
    return;
  }
  if (uc) pad_y = false;
  lw_if in;
  if (pad_y)
    lw_if_begin(F, &in, lw_andi(F, lw_cmpi(F, LW_SGE, iy, lw_cidx(F, 0)), lw_cmpi(F, LW_SLT, iy, lw_cidx(F, c->H))),
                0, NULL);
  lw_for l;
  lw_for_n(F, &l, c->Wi, 0, NULL);
  /* the pixel (iy, l), in memory (l, iy) when transposed (c->H: the input's width) */
  tm_value *pix = D->tr ? lw_add_idx(F, lw_affine(F, l.iv, c->H, 0), iy) : lw_add_idx(F, lw_affine(F, iy, c->Wi, 0), l.iv);
  tm_value *xi = lw_add_idx(F, lw_affine(F, pix, c->C, 0), ch);
  tm_value *v = lw_load(F, D->xs, 1, &xi), *j = lw_add_idx(F, at, l.iv), *j2 = lw_affine(F, j, 1, D->R * D->Wr);
  lw_store(F, v, D->ring, 1, &j);
  lw_store(F, v, D->ring, 1, &j2);
  lw_for_end(F, &l, 0, NULL);
  if (pad_y) {
    lw_if_else(F, &in, 0, NULL);
    dd_pad_row(D, at);
    lw_if_end(F, &in, 0, NULL);
  }
}

/* A channel's constants: its weight words, bias' and requantization. */
typedef struct dd_chan {
  tm_value *ch, *w[25 + 13], *bias; /* KP <= 38 words (KH <= 25) */
  lw_rq_ch rq;
} dd_chan;

/* Channel k's weight words: (w0, w2) of each row, k->w[ky], and the rows' w1 in halves,
 * k->w[KH + ky / 2] half ky % 2.  Four bytes a row, SXTB16 of row ky's word and SXTB16
 * ROR 8 of an even row's; a 3x3 kernel's nine bytes w00 w01 w02 w11 | w20 w10 w22 w12 |
 * w21 give the same from three words: the second's SXTB16 row 2's pair and its SXTB16 ROR
 * 8 row 1's, the third's SXTB16 w21 in its low half (the same instructions, 3 bytes less). */
static tm_value *dd_weight_word(dd *D, const dd_chan *k, int64_t i) {
  tm_value *ld[] = {D->wbytes, lw_affine(D->F, k->ch, dd_weight_bytes(D->c->KH), 4 * i)};
  return lw_op(D->F, "armdsp.load_word", lw_i32(D->F), 2, ld, 0, NULL);
}

static tm_value *dd_sxtb16(dd *D, tm_value *word, bool ror8) {
  tm_named_attr rot = {tm_intern_cstr(D->W->ctx, "rotate"), tm_attr_int(D->W->ctx, lw_i64(D->F), 8)};
  return lw_op(D->F, "armdsp.sxtb16", lw_i32(D->F), 1, &word, ror8, &rot);
}

static void dd_load_weights(dd *D, dd_chan *k) {
  int64_t KH = D->c->KH;
  if (KH == 3) {
    tm_value *w0 = dd_weight_word(D, k, 0);
    k->w[0] = dd_sxtb16(D, w0, false), k->w[KH] = dd_sxtb16(D, w0, true);
    tm_value *w1 = dd_weight_word(D, k, 1);
    k->w[2] = dd_sxtb16(D, w1, false), k->w[1] = dd_sxtb16(D, w1, true);
    k->w[KH + 1] = dd_sxtb16(D, dd_weight_word(D, k, 2), false);
    return;
  }
  for (int64_t ky = 0; ky < KH; ky++) {
    tm_value *word = dd_weight_word(D, k, ky);
    k->w[ky] = dd_sxtb16(D, word, false);
    if (ky % 2 == 0) k->w[KH + ky / 2] = dd_sxtb16(D, word, true);
  }
}

/* The signed half h of x, as i32 (LLVM folds it into SMLAxy). */
static tm_value *dd_half(lw_fn *F, tm_value *x, int h) {
  tm_value *c16 = lw_ci32(F, 16);
  return lw_shrsi(F, h ? x : lw_shli(F, x, c16), c16);
}

/* The sums of outputs ox (and ox + 1 when two) of the row whose window starts at ring
 * byte `win`, into D->acc. */
static void dd_pixels(dd *D, const dd_chan *k, tm_value *win, tm_value *ox, bool two) {
  lw_fn *F = D->F;
  const lw_dsp_conv *c = D->c;
  tm_value *acc[2] = {k->bias, k->bias};
  for (int64_t ky = 0; ky < c->KH; ky++) {
    tm_value *ld[] = {D->ring, lw_add_idx(F, win, lw_affine(F, ox, 1, ky * c->dh * D->Wr))};
    tm_value *x = lw_op(F, "armdsp.load_word", lw_i32(F), 2, ld, 0, NULL);
    tm_named_attr rot = {tm_intern_cstr(D->W->ctx, "rotate"), tm_attr_int(D->W->ctx, lw_i64(F), 8)};
    tm_value *e = lw_op(F, "armdsp.sxtb16", lw_i32(F), 1, &x, 0, NULL);
    tm_value *o = lw_op(F, "armdsp.sxtb16", lw_i32(F), 1, &x, 1, &rot);
    /* w1 of this row: a half of a word of two rows' (SMLAxB or SMLAxT) */
    tm_value *w1 = dd_half(F, k->w[c->KH + ky / 2], (int)(ky % 2));
    tm_value *m0[] = {e, k->w[ky], acc[0]}, *m1[] = {o, k->w[ky], acc[1]};
    /* one statement each: the IR's order is not the C compiler's argument order */
    tm_value *p0 = lw_muli(F, dd_half(F, o, 0), w1);
    acc[0] = lw_addi(F, lw_op(F, "armdsp.smlad", lw_i32(F), 3, m0, 0, NULL), p0);
    if (two) {
      tm_value *p1 = lw_muli(F, dd_half(F, e, 1), w1);
      acc[1] = lw_addi(F, lw_op(F, "armdsp.smlad", lw_i32(F), 3, m1, 0, NULL), p1);
    }
  }
  lw_store(F, acc[0], D->acc, 1, &ox);
  if (two) {
    tm_value *ox1 = lw_affine(F, ox, 1, 1);
    lw_store(F, acc[1], D->acc, 1, &ox1);
  }
}

/* An output row of channel k from its sums, its first byte at output index `at`: the one
 * place the kernel requantizes. */
static void dd_store_row(dd *D, const dd_chan *k, tm_value *at) {
  lw_fn *F = D->F;
  const lw_dsp_conv *c = D->c;
  lw_for lx;
  lw_for_n(F, &lx, c->OW, 0, NULL);
  tm_value *v = lw_requant_apply(F, c->rq, &k->rq, lw_load(F, D->acc, 1, &lx.iv), c->lo, c->hi, lw_i8(F));
  tm_value *i = lw_add_idx(F, at, lw_affine(F, lx.iv, D->ycol, 0));
  lw_store(F, v, D->ys, 1, &i);
  lw_for_end(F, &lx, 0, NULL);
}

/* In place, no input pixel read while filling the ring for output row r (r >= 1) is one
 * that output rows 0..r-1 overwrote (pixel p of the output is pixel p of the input). */
static bool dd_in_place_ok(const dd *D) {
  const lw_dsp_conv *c = D->c;
  for (int64_t r = 1; r < c->OH; r++) {
    int64_t iy = r + D->R - 1 - c->pt; /* the one row output row r brings */
    for (int64_t ix = 0; iy >= 0 && iy < c->H && ix < c->Wi; ix++) {
      int64_t p = D->tr ? ix * c->H + iy : iy * c->Wi + ix;
      if (p < c->OH * c->OW && (D->tr ? p % D->OWm : p / D->OWm) < r) return false;
    }
  }
  return true;
}

int lw_lower_dsp_depthwise(lw_lower *W, tm_op *op, const lw_dsp_conv *c) {
  if (W->M->kernels != LW_KERNELS_DSP || !lw_dsp_int8(c) || !c->depthwise || c->residual || c->N != 1 || c->O != c->C ||
      c->KW != 3 || c->sw != 1 || c->dw != 1 || c->sh != 1 || c->KH > 25 || !tm_value_const(c->w) ||
      (c->b && !tm_value_const(c->b)))
    return 1;
  lw_buf xb = lw_in_buf(W, c->x);
  const tm_type *yt = lw_memref_of(W->ctx, c->y->type);
  /* in place as the portable nest would be (lower_nn.c's lower_dw_special) */
  bool in_place = tm_op_attr(op, "tm.dw_in_place") && xb.raw && !lw_is_returned(W, c->y) && lw_bytes_die_at(c->x, op) &&
                  tm_type_bytes(yt) <= tm_type_bytes(xb.raw->type) && c->OH * c->OW <= c->H * c->Wi;
  /* 3x3 on a tall, narrow image runs along the columns: long rows, few of them (the work
   * of a row: its ring row, the weights reloaded, the loop; kws' 25 x 5: -14 %) */
  lw_dsp_conv t = *c;
  t.H = c->Wi, t.Wi = c->H, t.OH = c->OW, t.OW = c->OH, t.pt = c->pl, t.pl = c->pt;
  bool tr = c->KH == 3 && c->dh == 1 && c->OH > c->OW;
  dd D;
  for (;; tr = false) {
    const lw_dsp_conv *k = tr ? &t : c;
    D = (dd){.W = W, .F = lw_fn_of(W), .c = k, .R = (k->KH - 1) * k->dh + 1, .KP = k->KH + (k->KH + 1) / 2,
             .tr = tr, .OWm = c->OW, .yrow = tr ? c->C : c->OW * c->C, .ycol = tr ? c->OW * c->C : c->C};
    if (!in_place || dd_in_place_ok(&D)) break;
    if (!tr) return 1;
  }
  c = D.c;
  lw_fn *F = D.F;
  /* the last output's word reads columns OW - 1 .. OW + 2 */
  D.Wr = c->pl + c->Wi > c->OW + 3 ? c->pl + c->Wi : c->OW + 3;

  dd_pack(&D);
  lw_requant_materialize(W, c->rq, c->name, c->zp_out);
  D.xs = lw_flat(W, xb);
  if (in_place) {
    tm_value *ops[] = {xb.raw, lw_cidx(F, 0)};
    lw_bind(W, c->y, (lw_buf){lw_op(F, "memref.view", yt, 2, ops, 0, NULL), xb.raw});
  } else {
    lw_out(W, c->y);
  }
  D.ys = lw_flat(W, lw_in_buf(W, c->y));
  int64_t nring = 2 * D.R * D.Wr;
  D.ring = lw_scratch(W, tm_type_memref(W->ctx, lw_i8(F), 1, &nring)).mem;
  D.acc = lw_scratch(W, tm_type_memref(W->ctx, lw_i32(F), 1, &c->OW)).mem;
  /* the padding columns, never overwritten */
  dd_set(&D, lw_cidx(F, 0), nring, lw_cint(F, lw_i8(F), -c->in_off));

  lw_for lc;
  lw_for_n(F, &lc, c->C, 0, NULL);
  dd_chan k = {.ch = lc.iv};
  /* the weights as int8 (9 bytes a 3x3 channel, not 20 as halfword pairs), made into
   * halfword pairs here: three instructions more a 3x3 channel */
  dd_load_weights(&D, &k);
  k.bias = lw_load(F, D.bias, 1, &k.ch);
  lw_requant_params(F, c->rq, k.ch, &k.rq);
  /* padded rows 0 .. R - 2 first; then output row oy brings row oy + R - 1, into the
   * ring row before its window's (oy mod R - 1, or R - 1 and 2 R - 1) */
  for (int64_t u = 0; u < D.R - 1; u++) {
    tm_value *row = lw_cidx(F, u * D.Wr);
    dd_fill(&D, k.ch, lw_cidx(F, u), row);
  }
  /* carried: the window's first ring byte (oy mod R) Wr and the output row's first
   * byte, not remainders and products of oy (LLVM then kept one pointer per output
   * column and spilled them; kws -8 %, vww's stride-1 layers up to -18 %) */
  lw_for ly;
  tm_value *zero = lw_cidx(F, 0), *init[2] = {zero, k.ch};
  lw_for_n(F, &ly, c->OH, 2, init);
  tm_value *win = ly.args[0], *orow = ly.args[1];
  tm_value *wrapped = lw_cmpi(F, LW_EQ, win, zero);
  tm_value *before = lw_affine(F, win, 1, -D.Wr);
  tm_value *fill_row = lw_select(F, wrapped, lw_cidx(F, (D.R - 1) * D.Wr), before);
  dd_fill(&D, k.ch, lw_affine(F, ly.iv, 1, D.R - 1), fill_row);
  if (c->OW / 2) {
    lw_for lx;
    lw_for_n(F, &lx, c->OW / 2, 0, NULL);
    dd_pixels(&D, &k, win, lw_affine(F, lx.iv, 2, 0), true);
    lw_for_end(F, &lx, 0, NULL);
  }
  if (c->OW % 2) dd_pixels(&D, &k, win, lw_cidx(F, c->OW - 1), false);
  dd_store_row(&D, &k, orow);
  tm_value *next = lw_affine(F, win, 1, D.Wr);
  tm_value *end = lw_cmpi(F, LW_EQ, next, lw_cidx(F, D.R * D.Wr));
  tm_value *yields[2] = {lw_select(F, end, zero, next), NULL};
  yields[1] = lw_affine(F, orow, 1, D.yrow);
  lw_for_end(F, &ly, 2, yields);
  lw_for_end(F, &lc, 0, NULL);
  return 0;
}
