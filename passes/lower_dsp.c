/* passes/lower_dsp.c — register-blocked int8 conv2d (and conv2d_add, and the convolution
 * of conv2d_fc), depthwise_conv2d with one input channel and fully_connected for the
 * targets that have them
 * (targets.def): on Arm DSP cores as armdsp ops (ir/ops_armdsp.def: one 32-bit load of
 * four weights, two SXTB16, SMLADs on halfword pairs), on RV32 (no DSP, 31 registers) as
 * the same blocking with byte loads and multiplies.  docs/dsp.md.
 *
 * Every one of these ops is a matrix product over the rows of a kernel: for output pixel
 * p and output channel o,
 *   acc[p][o] = bias'[o] + sum over ky of dot(x row at (p, ky), w row (o, ky))
 * where a row is the KW * C bytes one kernel row reads, contiguous in NHWC (dilation 1
 * along the width).  The input offset is folded into bias' = bias + in_off * sum(w[o]) at
 * compile time, so padding is the input zero point (its products cancel).  The weights are
 * repacked at compile time in the order the inner loop reads them; each block of P pixels
 * has its kernel rows expanded once into a small scratch buffer (halfword pairs, or
 * bytes), padding included, which every block of Q channels then reads with one loop (P *
 * Q accumulators).  Integer sums are exact modulo 2^32 in any order, so the results are
 * TFLite's bits.  A chain of convolutions, each read only by the next, may run as one
 * row pipeline (the section at the end). */
#include <string.h>

#include "passes/lowering.h"

/* The most bytes a lone pixel's expansion may add to the arena (dk_pixels, below). */
#define LW_LONE_PIXEL_SCRATCH 512
/* The most input bytes a chunk of lane pairs sums (dk_block_lanes), held in registers
 * across the block's pairs beside its 16 sums (ad01 on rv32imc: 4, 600K instructions; 8,
 * 585K). */
#define LW_LANE_CHUNK_MAX 8

int lw_target_kernels(const char *name, bool *mve) {
  static const struct {
    const char *name;
    int dsp;
    int gprs;
  } targets[] = {
#define TM_TARGET(name, triple, cpu, features, abi, float_abi, ptr_bits, dsp, gprs, qemu, cflags, summary) \
  {name, dsp, gprs},
#include "backends/targets.def"
#undef TM_TARGET
  };
  for (size_t i = 0; i < TM_COUNTOF(targets); i++)
    if (!strcmp(targets[i].name, name)) {
      *mve = targets[i].dsp >= 2;
      return targets[i].dsp ? LW_KERNELS_DSP : targets[i].gprs >= 24 ? LW_KERNELS_SCALAR : LW_KERNELS_PORTABLE;
    }
  return -1;
}

typedef struct dk {
  lw_lower *W;
  lw_fn *F;
  tm_op *op;
  const lw_dsp_conv *c;
  tm_value *xs;     /* the input, 1-D i8 */
  bool pad_y, pad_x; /* some kernel row, some kernel column, falls outside the input */
  int64_t L, L4, T; /* bytes per kernel row, its whole words, tail bytes */
  int64_t K;        /* words of all kernel rows: KH * L4, then the KH * T tail bytes, zero-padded */
  int P, Q, Q2;     /* register blocking: pixels x channels, and the second channel block */
  int64_t O1, O2;   /* channels in blocks of Q, to O1; then in blocks of Q2, to O2; the
                     * rest one by one */
  tm_value *xp;     /* the pixels' expansion: DSP halfword pairs i32 [K][P][2], scalar i8 [K * 4][P] */
  tm_value *xp2;    /* DSP: the same bytes as i64, a pixel's two pairs of a word in one load */
  tm_value *wp;     /* packed weights, i8 [O * K * 4] */
  tm_value *bias;   /* bias', i32 [O]: a view of bias_bytes (a lone pixel's blocks view ... */
  tm_value *bias_bytes; /* ... their own: dk_block) */
  tm_value *ym;     /* the result: 4-D (conv) or 1-D (flat) */
  bool lone;        /* a flat product of one pixel (a batch-1 fully_connected) */
  bool flat;        /* pixels numbered 0..NP-1 (1x1 stride-1 convs, fully_connected) */
  bool dsp;         /* armdsp ops; else the scalar kernel (plain loads and multiplies) */
  bool mve;         /* DSP on an MVE core: 16-byte dot products over each pixel's KH rows (dk_block_mve) */
  int64_t KL;       /* MVE: the bytes of all kernel rows, KH * L (a pixel's row in the scratch) */
  bool direct;      /* one pixel of a flat product: its row read as it is, not expanded */
  tm_value *xd[4];  /* ... at these offsets */
  bool pair_loads;  /* two channels' weight words of one k read with armdsp.load_pair */
  bool pairs;       /* the blocks of Q channels hold channel pairs (dk_pack), and so ... */
  int lanes;        /* scalar lone pixel: channel pairs as a word's 16-bit halves, their
                     * products summed in chunks of this many bytes (dk_block_lanes); 0: off */
  tm_value *corr[4]; /* ... need 128 * the sum of each pixel's inputs (dk_pixel_sums) */
  lw_residual res;  /* conv2d_add's */
  int64_t npix;     /* pixels a row (or all of them, flat) */
  int64_t in_ring, out_ring, res_ring; /* a row pipeline's rings: rows of the input's, the
                     * output's, the residual's (0: the whole tensor) */
  int64_t unroll_words, loop_words; /* lower-to-loops' options, or 0 and 1 for a cold op */
  tm_value *sums;   /* epilogue-loop: a block's P x Q sums, i32, requantized in a loop */
  bool cold;        /* lw_op_is_cold: this op's, whichever op's lowering emits its code */
} dk;

static tm_value *dsp_op(dk *D, const char *name, int n, tm_value *const *ops, int rotate) {
  tm_named_attr a = {tm_intern_cstr(D->W->ctx, "rotate"), tm_attr_int(D->W->ctx, lw_i64(D->F), rotate)};
  return lw_op(D->F, name, lw_i32(D->F), n, ops, rotate ? 1 : 0, &a);
}

/* The requantized value of channel o stored at pixel `pix` (flat) or (n, oy, ox). */
static int dk_store(dk *D, tm_value *acc, tm_value *o, tm_value *pix, tm_value *n, tm_value *oy, tm_value *ox) {
  lw_fn *F = D->F;
  const lw_dsp_conv *c = D->c;
  F->cold = D->cold; /* a row pipeline's stages are emitted together, each its own */
  tm_value *v = lw_requantize(F, c->rq, o, acc, c->lo, c->hi, lw_i8(F));
  if (c->fc) {
    lw_fc_sink_add(D->W, c->fc, v, D->flat ? pix : lw_add_idx(F, lw_affine(F, oy, c->OW, 0), ox), o);
    return 0;
  }
  if (D->flat) {
    tm_value *i = lw_add_idx(F, lw_affine(F, pix, c->O, 0), o);
    lw_store(F, v, D->ym, 1, &i);
    return 0;
  }
  tm_value *yi[] = {n, D->out_ring ? lw_op2(F, "arith.remui", oy, lw_cidx(F, D->out_ring)) : oy, ox, o};
  tm_value *ri[] = {n, D->res_ring ? lw_op2(F, "arith.remui", oy, lw_cidx(F, D->res_ring)) : oy, ox, o};
  if (c->residual && !(v = lw_residual_apply(D->W, &D->res, v, 4, ri))) return -1;
  lw_store(F, v, D->ym, 4, yi);
  return 0;
}

/* The input byte at pos of the row starting at `row`, sign-extended, masked to 16 bits
 * when it goes to a low half; or, when `check` and pos is outside [0, Wi * C), or the
 * row is outside the input (in_y false), the input zero point (padding: its products
 * cancel against bias'). */
static tm_value *row_byte(dk *D, tm_value *row, tm_value *pos, bool check, tm_value *in_y, bool low) {
  lw_fn *F = D->F;
  const lw_dsp_conv *c = D->c;
  tm_value *valid = in_y, *i = lw_add_idx(F, row, pos);
  if (check) {
    tm_value *in_x =
        lw_andi(F, lw_cmpi(F, LW_SGE, pos, lw_cidx(F, 0)), lw_cmpi(F, LW_SLT, pos, lw_cidx(F, c->Wi * c->C)));
    valid = valid ? lw_andi(F, valid, in_x) : in_x;
  }
  if (valid) i = lw_select(F, valid, i, lw_cidx(F, 0)); /* a safe address; its byte is not used */
  tm_value *v = lw_int_to(F, lw_load(F, D->xs, 1, &i), lw_i32(F));
  if (valid) v = lw_select(F, valid, v, lw_ci32(F, -c->in_off));
  return low ? lw_andi(F, v, lw_ci32(F, 0xFFFF)) : v;
}

/* Bytes pos..pos + 3 of a row (0 from pos + n on); DSP: those of the low halves masked. */
static void row_bytes(dk *D, tm_value *row, tm_value *pos, int n, bool check, tm_value **b) {
  lw_fn *F = D->F;
  for (int t = 0; t < 4; t++)
    b[t] = t < n ? row_byte(D, row, lw_add_idx(F, pos, lw_cidx(F, t)), check, NULL, D->dsp && t < 2) : lw_ci32(F, 0);
}

/* Halfword pairs (bytes 0, 2) and (1, 3) of four bytes (those of the low halves masked). */
static void pairs_of_bytes(dk *D, tm_value *const *b, tm_value **p02, tm_value **p13) {
  lw_fn *F = D->F;
  *p02 = lw_op2(F, "arith.ori", b[0], lw_shli(F, b[2], lw_ci32(F, 16)));
  *p13 = lw_op2(F, "arith.ori", b[1], lw_shli(F, b[3], lw_ci32(F, 16)));
}

/* Word w of pixel p's expansion: DSP, the halfword pairs at D->xp[(w * P + p) * 2 + 0, 1];
 * scalar, the four bytes at D->xp[(w * 4 + t) * P + p]. */
static void store_word(dk *D, int P, int p, tm_value *w, tm_value *const *b, tm_value *p02, tm_value *p13) {
  lw_fn *F = D->F;
  if (!D->dsp) {
    for (int t = 0; t < 4; t++) {
      tm_value *i = lw_affine(F, w, 4 * P, t * P + p);
      lw_store(F, lw_int_to(F, b[t], lw_i8(F)), D->xp, 1, &i);
    }
    return;
  }
  tm_value *j = lw_affine(F, w, P * 2, 2 * p), *j1 = lw_add_idx(F, j, lw_cidx(F, 1));
  lw_store(F, p02, D->xp, 1, &j);
  lw_store(F, p13, D->xp, 1, &j1);
}

/* Bytes pos..pos + 3 of a row (0 from pos + n on) as a word of pixel p's expansion. */
static void bytes_word(dk *D, int P, int p, tm_value *w, tm_value *row, tm_value *pos, int n, bool check) {
  tm_value *b[4], *p02 = NULL, *p13 = NULL;
  row_bytes(D, row, pos, n, check, b);
  if (D->dsp) pairs_of_bytes(D, b, &p02, &p13);
  store_word(D, P, p, w, b, p02, p13);
}

/* The whole words of one kernel row of pixel p (its bytes from `row` + first) into its
 * expansion from word w0: DSP words through SXTB16 and SXTB16 ROR 8, else byte by byte
 * (with the bounds checks when `check`: the row is cut by the left or right padding). */
static void expand_row(dk *D, int P, int p, tm_value *row, tm_value *first, tm_value *w0, bool check) {
  lw_fn *F = D->F;
  if (D->L4) {
    lw_for lk;
    lw_for_n(F, &lk, D->L4, 0, NULL);
    tm_value *pos = lw_add_idx(F, first, lw_affine(F, lk.iv, 4, 0)), *w = lw_add_idx(F, w0, lk.iv);
    if (check || !D->dsp) {
      bytes_word(D, P, p, w, row, pos, 4, check);
    } else {
      tm_value *ld[] = {D->xs, lw_add_idx(F, row, pos)};
      tm_value *xw = dsp_op(D, "armdsp.load_word", 2, ld, 0);
      tm_value *p02 = dsp_op(D, "armdsp.sxtb16", 1, &xw, 0);
      tm_value *p13 = dsp_op(D, "armdsp.sxtb16", 1, &xw, 8);
      store_word(D, P, p, w, NULL, p02, p13);
    }
    lw_for_end(F, &lk, 0, NULL);
  }
}

/* The offset of input row iy of image n in D->xs: in a ring of R rows, slot iy mod R
 * (iy >= -pt > -R, as pt <= (KH - 1) / 2 < R: a padding row's offset is not read). */
static tm_value *row_start(dk *D, tm_value *n, tm_value *iy) {
  lw_fn *F = D->F;
  const lw_dsp_conv *c = D->c;
  tm_value *r = D->in_ring ? lw_op2(F, "arith.remui", lw_add_idx(F, iy, lw_cidx(F, D->in_ring)), lw_cidx(F, D->in_ring))
                           : lw_add_idx(F, lw_affine(F, n, c->H, 0), iy);
  return lw_affine(F, r, c->Wi * c->C, 0);
}

/* The kernel rows' tail bytes (T per row, after its whole words), row after row, into
 * the last words of pixel p's expansion, zero-padded: loaded byte by byte anyway, they
 * share words across rows (a 3x3 kernel on 3 channels: 7 words, not 9), each checked
 * against the padding. */
static void expand_tails(dk *D, int P, int p, tm_value *n, tm_value *iy0, tm_value *first) {
  lw_fn *F = D->F;
  const lw_dsp_conv *c = D->c;
  int64_t nb = c->KH * D->T;
  for (int64_t v = 0; v * 4 < nb; v++) {
    tm_value *b[4], *p02 = NULL, *p13 = NULL;
    for (int t = 0; t < 4; t++) {
      int64_t u = v * 4 + t, ky = u / D->T;
      if (u >= nb) {
        b[t] = lw_ci32(F, 0);
        continue;
      }
      tm_value *iy = lw_add_idx(F, iy0, lw_cidx(F, ky * c->dh)), *in_y = NULL;
      if (D->pad_y) in_y = lw_andi(F, lw_cmpi(F, LW_SGE, iy, lw_cidx(F, 0)), lw_cmpi(F, LW_SLT, iy, lw_cidx(F, c->H)));
      tm_value *row = row_start(D, n, iy);
      tm_value *pos = lw_add_idx(F, first, lw_cidx(F, 4 * D->L4 + u % D->T));
      b[t] = row_byte(D, row, pos, D->pad_x, in_y, D->dsp && t < 2);
    }
    if (D->dsp) pairs_of_bytes(D, b, &p02, &p13);
    store_word(D, P, p, lw_cidx(F, c->KH * D->L4 + v), b, p02, p13);
  }
}

/* The P pixels' kernel rows as halfword pairs in D->xp, [K][P][2]: done once per pixel,
 * used by every output channel.  Pixel p's window starts at input row iy0 (of image n) and
 * byte offset first[p] within a row; rows outside the input are the zero point's pairs. */
static void dk_expand(dk *D, int P, tm_value *n, tm_value *iy0, tm_value *const *first) {
  lw_fn *F = D->F;
  const lw_dsp_conv *c = D->c;
  int64_t RW = D->L4, zp = -c->in_off, rowbytes = c->Wi * c->C;
  lw_for lky;
  lw_for_n(F, &lky, c->KH, 0, NULL);
  tm_value *iy = lw_add_idx(F, iy0, lw_affine(F, lky.iv, c->dh, 0)), *w0 = lw_affine(F, lky.iv, RW, 0);
  tm_value *row = row_start(D, n, iy);
  lw_if in_y;
  if (D->pad_y) {
    lw_if_begin(F, &in_y, lw_andi(F, lw_cmpi(F, LW_SGE, iy, lw_cidx(F, 0)), lw_cmpi(F, LW_SLT, iy, lw_cidx(F, c->H))),
                0, NULL);
  }
  for (int p = 0; p < P; p++) {
    if (!D->pad_x) {
      expand_row(D, P, p, row, first[p], w0, false);
      continue;
    }
    tm_value *inside = lw_andi(F, lw_cmpi(F, LW_SGE, first[p], lw_cidx(F, 0)),
                               lw_cmpi(F, LW_SLT, lw_add_idx(F, first[p], lw_cidx(F, D->L - 1)), lw_cidx(F, rowbytes)));
    lw_if in_x;
    lw_if_begin(F, &in_x, inside, 0, NULL);
    expand_row(D, P, p, row, first[p], w0, false);
    lw_if_else(F, &in_x, 0, NULL);
    expand_row(D, P, p, row, first[p], w0, true);
    lw_if_end(F, &in_x, 0, NULL);
  }
  if (D->pad_y) { /* the whole row is padding: the zero point's pairs (or bytes) */
    lw_if_else(F, &in_y, 0, NULL);
    uint32_t zpair = (uint32_t)(uint16_t)(int16_t)zp | (uint32_t)(uint16_t)(int16_t)zp << 16;
    int64_t per_row = D->dsp ? RW * P * 2 : RW * 4 * P;
    lw_for lw;
    lw_for_n(F, &lw, per_row, 0, NULL);
    tm_value *j = lw_add_idx(F, lw_affine(F, lky.iv, per_row, 0), lw.iv);
    lw_store(F, D->dsp ? lw_ci32(F, (int32_t)zpair) : lw_cint(F, lw_i8(F), zp), D->xp, 1, &j);
    lw_for_end(F, &lw, 0, NULL);
    lw_if_end(F, &in_y, 0, NULL);
  }
  lw_for_end(F, &lky, 0, NULL);
  if (D->T)
    for (int p = 0; p < P; p++) expand_tails(D, P, p, n, iy0, first[p]);
}

/* The two i32 of a pair of words read as one i64 (armdsp.load_pair, one LDRD; or a plain
 * load, which LLVM splits into two LDRs side by side and pairs only sometimes),
 * little-endian: the lower address's word is the low half. */
static void split_pair(dk *D, tm_value *v, tm_value **lo, tm_value **hi) {
  lw_fn *F = D->F;
  *lo = lw_cast(F, "arith.trunci", v, lw_i32(F));
  tm_value *h = lw_shrui(F, v, lw_ci64(F, 32));
  *hi = lw_cast(F, "arith.trunci", h, lw_i32(F));
}

/* acc[q][p] += the products of word k of the Q channels' block with the P pixels' pairs;
 * the block's words from wv, or two at a time from wv2. */
static void mac_step(dk *D, int P, int Q, tm_value *const *a0, tm_value *const *a1, tm_value *wv, tm_value *wv2,
                     tm_value *k, tm_value **acc) {
  lw_fn *F = D->F;
  tm_value *w[8] = {0};
  for (int q = 0; q < Q; q++) {
    if (wv2 && q % 2 == 0) {
      tm_value *ld[] = {wv2, lw_affine(F, k, Q / 2, q / 2)};
      tm_value *v = D->pair_loads ? lw_op(F, "armdsp.load_pair", lw_i64(F), 2, ld, 0, NULL)
                                  : lw_load(F, wv2, 1, &ld[1]);
      split_pair(D, v, &w[q], &w[q + 1]);
    } else if (wv) {
      tm_value *i = lw_affine(F, k, Q, q);
      w[q] = lw_load(F, wv, 1, &i);
    }
    if (D->pairs && wv2) { /* the pair's words as they are for A, their odd bytes for B */
      if (q % 2) continue;
      tm_value *b0 = dsp_op(D, "armdsp.sxtb16", 1, &w[q], 8), *b1 = dsp_op(D, "armdsp.sxtb16", 1, &w[q + 1], 8);
      for (int p = 0; p < P; p++) {
        tm_value *ma[] = {a0[p], w[q], acc[q * P + p]};
        tm_value *mb[] = {a1[p], w[q + 1], dsp_op(D, "armdsp.smlad", 3, ma, 0)};
        acc[q * P + p] = dsp_op(D, "armdsp.smlad", 3, mb, 0);
        tm_value *m0[] = {a0[p], b0, acc[(q + 1) * P + p]};
        tm_value *m1[] = {a1[p], b1, dsp_op(D, "armdsp.smlad", 3, m0, 0)};
        acc[(q + 1) * P + p] = dsp_op(D, "armdsp.smlad", 3, m1, 0);
      }
      continue;
    }
    tm_value *ww = w[q];
    tm_value *b0 = dsp_op(D, "armdsp.sxtb16", 1, &ww, 0), *b1 = dsp_op(D, "armdsp.sxtb16", 1, &ww, 8);
    for (int p = 0; p < P; p++) {
      tm_value *m0[] = {a0[p], b0, acc[q * P + p]};
      tm_value *m1[] = {a1[p], b1, dsp_op(D, "armdsp.smlad", 3, m0, 0)};
      acc[q * P + p] = dsp_op(D, "armdsp.smlad", 3, m1, 0);
    }
  }
}

/* The sums of P pixels x Q channels stored; a pair's A sum first loses its B part and
 * the offset's products: A + 256 B + 128 sum(x) - 256 B - 128 sum(x). */
static int dk_results(dk *D, int P, int Q, tm_value *const *acc, tm_value *const *och, tm_value *const *pix,
                      tm_value *n, tm_value *oy, tm_value *const *ox) {
  lw_fn *F = D->F;
  /* epilogue-loop: the sums go to D->sums, then a loop over the channels stores them,
   * each pixel's epilogue written once (channel q is och[0] + q) */
  bool roll = D->sums && Q > 1;
  for (int q = 0; q < Q; q++)
    for (int p = 0; p < P; p++) {
      tm_value *a = acc[q * P + p];
      if (D->pairs && Q % 2 == 0 && q % 2 == 0) {
        tm_value *b = lw_shli(F, acc[(q + 1) * P + p], lw_ci32(F, 8));
        a = lw_subi(F, lw_subi(F, a, b), D->corr[p]);
      }
      if (D->lanes && q % 2 == 0) a = lw_subi(F, a, lw_shli(F, acc[q + 1], lw_ci32(F, 16)));
      if (roll) {
        tm_value *i = lw_cidx(F, q * P + p);
        lw_store(F, a, D->sums, 1, &i);
      } else if (dk_store(D, a, och[q], pix ? pix[p] : NULL, n, oy, ox ? ox[p] : NULL)) {
        return -1;
      }
    }
  if (!roll) return 0;
  lw_for lq;
  lw_for_n(F, &lq, Q, 0, NULL);
  tm_op_set_attr(D->W->ctx, lq.op, "tm.rolled", tm_attr_unit(D->W->ctx)); /* not unrolled back */
  tm_value *o = lw_add_idx(F, och[0], lq.iv);
  for (int p = 0; p < P; p++) {
    tm_value *i = lw_affine(F, lq.iv, P, p), *a = lw_load(F, D->sums, 1, &i);
    if (dk_store(D, a, o, pix ? pix[p] : NULL, n, oy, ox ? ox[p] : NULL)) return -1;
  }
  lw_for_end(F, &lq, 0, NULL);
  return 0;
}

/* Byte kb of the scalar kernel's block: acc[q][p] += x[p] * w[q], the P pixels' bytes
 * loaded first, then each channel's weight just before its P products. */
static void scalar_step(dk *D, int P, int Q, tm_value **acc, tm_value *wv, tm_value *kb) {
  lw_fn *F = D->F;
  tm_value *x[4];
  for (int p = 0; p < P; p++) {
    tm_value *i = D->direct ? lw_add_idx(F, D->xd[p], kb) : lw_affine(F, kb, P, p);
    x[p] = lw_int_to(F, lw_load(F, D->direct ? D->xs : D->xp, 1, &i), lw_i32(F));
  }
  for (int q = 0; q < Q; q++) {
    tm_value *i = lw_affine(F, kb, Q, q), *w = lw_int_to(F, lw_load(F, wv, 1, &i), lw_i32(F));
    for (int p = 0; p < P; p++) acc[q * P + p] = lw_addi(F, acc[q * P + p], lw_muli(F, x[p], w));
  }
}

/* The scalar kernel's block: one loop over the words, two or four bytes a trip (the
 * loop's increments and branch amortized), acc[q][p] += x[p] * w[q] with the
 * bytes of the Q channels side by side and the P pixels' side by side (or, direct, the
 * pixel's row as it is, its tail bytes after the loop). */
static int dk_block_scalar(dk *D, int P, int Q, tm_value **acc, tm_value *const *och, tm_value *wb,
                           tm_value *const *pix, tm_value *n, tm_value *oy, tm_value *const *ox) {
  lw_fn *F = D->F;
  int na = P * Q;
  int64_t nb = Q * D->K * 4;
  tm_value *vops[] = {D->wp, lw_affine(F, wb, 4, 0)};
  tm_value *wv = lw_op(F, "memref.view", tm_type_memref(D->W->ctx, lw_i8(F), 1, &nb), 2, vops, 0, NULL);
  int64_t words = D->direct ? D->L4 : D->K;
  if (words) {
    lw_for lk;
    /* 16 sums: two bytes a trip (four keep more loads in flight than RV32's registers) */
    int U = na > 8 ? 2 : 4;
    lw_for_n(F, &lk, words * 4 / U, na, acc);
    for (int i = 0; i < na; i++) acc[i] = lk.args[i];
    for (int j = 0; j < U; j++) scalar_step(D, P, Q, acc, wv, lw_affine(F, lk.iv, U, j));
    memcpy(acc, lw_for_end(F, &lk, na, acc), (size_t)na * sizeof *acc);
  }
  for (int64_t kb = 4 * words; D->direct && kb < D->L; kb++) scalar_step(D, P, Q, acc, wv, lw_cidx(F, kb));
  return dk_results(D, P, Q, acc, och, pix, n, oy, ox);
}

/* Input bytes kb..kb + n - 1 of a lone pixel (n <= D->lanes) times each lane pair of the
 * block: acc[A] += s and acc[B] += s >> 16, s = 32768 + the chunk's products, whose low
 * half is then sum_A + 32768 in [0, 65536) and its high half exactly sum_B (dk_lane_chunk). */
static void lanes_chunk(dk *D, int Q, tm_value **acc, tm_value *wv, tm_value *kb, int n) {
  lw_fn *F = D->F;
  tm_value *x[LW_LANE_CHUNK_MAX];
  for (int j = 0; j < n; j++) {
    tm_value *i = lw_add_idx(F, D->xd[0], lw_affine(F, kb, 1, j));
    x[j] = lw_int_to(F, lw_load(F, D->xs, 1, &i), lw_i32(F));
  }
  for (int q = 0; q < Q; q += 2) {
    tm_value *s = lw_ci32(F, 0x8000);
    for (int j = 0; j < n; j++) {
      tm_value *i = lw_affine(F, kb, Q / 2, j * Q / 2 + q / 2), *w = lw_load(F, wv, 1, &i);
      s = lw_addi(F, s, lw_muli(F, x[j], w));
    }
    acc[q + 1] = lw_addi(F, acc[q + 1], lw_shrsi(F, s, lw_ci32(F, 16)));
    acc[q] = lw_addi(F, acc[q], s);
  }
}

/* A lone pixel's block of Q channels in lane pairs (D->lanes): each word of weights holds
 * channel A's in its low half, B's in its high half, so one multiply by an input byte
 * gives both products, one load and one multiply for two MACs; a chunk's sums stay
 * within their halves (dk_lane_chunk), and A's sum, which takes the whole words, loses
 * 65536 B in dk_results.  Per pair and chunk of C bytes: 3C + 3 instructions for 2C MACs,
 * against 6C plain (ad01 on rv32imc 859K -> 585K). */
static int dk_block_lanes(dk *D, int Q, tm_value **acc, tm_value *const *och, tm_value *wb, tm_value *const *pix) {
  lw_fn *F = D->F;
  int C = D->lanes;
  int64_t nw = Q / 2 * D->L, chunks = D->L / C;
  tm_value *vops[] = {D->wp, lw_affine(F, wb, 8, 0)};
  tm_value *wv = lw_op(F, "memref.view", tm_type_memref(D->W->ctx, lw_i32(F), 1, &nw), 2, vops, 0, NULL);
  int64_t U = C >= 4 ? 1 : 4 / C; /* chunks a trip: about four bytes */
  if (chunks / U) {
    lw_for lk;
    lw_for_n(F, &lk, chunks / U, Q, acc);
    memcpy(acc, lk.args, (size_t)Q * sizeof *acc);
    for (int64_t u = 0; u < U; u++) lanes_chunk(D, Q, acc, wv, lw_affine(F, lk.iv, U * C, u * C), C);
    memcpy(acc, lw_for_end(F, &lk, Q, acc), (size_t)Q * sizeof *acc);
  }
  for (int64_t kb = chunks / U * U * C; kb < D->L; kb += C)
    lanes_chunk(D, Q, acc, wv, lw_cidx(F, kb), (int)(D->L - kb < C ? D->L - kb : C));
  return dk_results(D, 1, Q, acc, och, pix, NULL, NULL, NULL);
}

/* n bytes of a row from pos on to the scratch at dst: each the input byte, or when
 * `check` and its position in the row is outside [0, Wi * C), the zero point. */
static void copy_bytes(dk *D, tm_value *row, tm_value *pos, tm_value *dst, int64_t n, bool check) {
  lw_fn *F = D->F;
  lw_for lb;
  lw_for_n(F, &lb, n, 0, NULL);
  tm_value *v = row_byte(D, row, lw_add_idx(F, pos, lb.iv), check, NULL, false);
  tm_value *j = lw_add_idx(F, dst, lb.iv);
  lw_store(F, lw_int_to(F, v, lw_i8(F)), D->xp, 1, &j);
  lw_for_end(F, &lb, 0, NULL);
}

/* MVE: the KH kernel rows of each of the P pixels one after another in the scratch, pixel
 * p's at p * KL (im2col): each a copy of L input bytes (a loop LLVM vectorizes), byte by
 * byte with the bounds checks where the left or right padding cuts it, the zero point
 * where the row is outside the input.  A flat product's rows are copied so that its
 * output may take the input's bytes (read in place, kws' arena grew 8,656 -> 16,000). */
static void dk_im2col(dk *D, int P, tm_value *n, tm_value *iy0, tm_value *const *first) {
  lw_fn *F = D->F;
  const lw_dsp_conv *c = D->c;
  lw_for lky;
  lw_for_n(F, &lky, c->KH, 0, NULL);
  tm_value *iy = lw_add_idx(F, iy0, lw_affine(F, lky.iv, c->dh, 0)), *row = row_start(D, n, iy);
  lw_if in_y;
  if (D->pad_y) {
    tm_value *above = lw_cmpi(F, LW_SGE, iy, lw_cidx(F, 0)), *below = lw_cmpi(F, LW_SLT, iy, lw_cidx(F, c->H));
    lw_if_begin(F, &in_y, lw_andi(F, above, below), 0, NULL);
  }
  for (int p = 0; p < P; p++) {
    tm_value *dst = lw_affine(F, lky.iv, D->L, p * D->KL);
    if (!D->pad_x) {
      copy_bytes(D, row, first[p], dst, D->L, false);
      continue;
    }
    tm_value *last = lw_add_idx(F, first[p], lw_cidx(F, D->L - 1));
    tm_value *left = lw_cmpi(F, LW_SGE, first[p], lw_cidx(F, 0)), *right = lw_cmpi(F, LW_SLT, last, lw_cidx(F, c->Wi * c->C));
    tm_value *inside = lw_andi(F, left, right);
    lw_if in_x;
    lw_if_begin(F, &in_x, inside, 0, NULL);
    copy_bytes(D, row, first[p], dst, D->L, false);
    lw_if_else(F, &in_x, 0, NULL);
    copy_bytes(D, row, first[p], dst, D->L, true);
    lw_if_end(F, &in_x, 0, NULL);
  }
  if (D->pad_y) { /* the whole row is padding: the zero point */
    lw_if_else(F, &in_y, 0, NULL);
    for (int p = 0; p < P; p++) {
      lw_for lb;
      lw_for_n(F, &lb, D->L, 0, NULL);
      tm_value *j = lw_add_idx(F, lw_affine(F, lky.iv, D->L, p * D->KL), lb.iv);
      lw_store(F, lw_cint(F, lw_i8(F), -D->c->in_off), D->xp, 1, &j);
      lw_for_end(F, &lb, 0, NULL);
    }
    lw_if_end(F, &in_y, 0, NULL);
  }
  lw_for_end(F, &lky, 0, NULL);
}

/* acc[q][p] += bytes kb..kb + lanes - 1 of pixel p's row (read directly, or from the
 * scratch) times those of channel q's weights: one armdsp.vmladava each (LLVM loads
 * each row's and channel's vector once). */
static void mve_step(dk *D, int P, int Q, tm_value **acc, tm_value *const *och, tm_value *kb, int64_t lanes) {
  lw_fn *F = D->F;
  tm_named_attr a = {tm_intern_cstr(D->W->ctx, "lanes"), tm_attr_int(D->W->ctx, lw_i64(F), lanes)};
  for (int q = 0; q < Q; q++) {
    tm_value *wi = lw_add_idx(F, lw_affine(F, och[q], D->KL, 0), kb);
    for (int p = 0; p < P; p++) {
      tm_value *xi = D->direct ? lw_add_idx(F, D->xd[p], kb) : lw_affine(F, kb, 1, p * D->KL);
      tm_value *ops[] = {acc[q * P + p], D->direct ? D->xs : D->xp, xi, D->wp, wi};
      acc[q * P + p] = lw_op(F, "armdsp.vmladava", lw_i32(F), 5, ops, lanes < 16, &a);
    }
  }
}

/* MVE: a block of P pixels x Q channels in 16-byte steps over their KL bytes, each a
 * VLDRB of every pixel's row (dk_im2col's, or a lone flat pixel's where it is) and of
 * every channel's weights ([O][KL], the model's order) and a VMLADAVA.S8 (16 MACs) per
 * pixel and channel; the last KL % 16 bytes a predicated step.  Four steps a trip, the
 * rest after. */
static int dk_block_mve(dk *D, int P, int Q, tm_value **acc, tm_value *const *och, tm_value *const *pix, tm_value *n,
                        tm_value *oy, tm_value *const *ox) {
  lw_fn *F = D->F;
  int na = P * Q;
  int64_t nv = D->KL / 16, U = nv < 4 ? nv : 4, trips = U ? nv / U : 0;
  if (trips > 1) {
    lw_for lk;
    lw_for_n(F, &lk, trips, na, acc);
    memcpy(acc, lk.args, (size_t)na * sizeof *acc);
    for (int64_t u = 0; u < U; u++) mve_step(D, P, Q, acc, och, lw_affine(F, lk.iv, 16 * U, 16 * u), 16);
    memcpy(acc, lw_for_end(F, &lk, na, acc), (size_t)na * sizeof *acc);
  }
  for (int64_t v = trips > 1 ? trips * U : 0; v < nv; v++) mve_step(D, P, Q, acc, och, lw_cidx(F, 16 * v), 16);
  if (D->KL % 16) mve_step(D, P, Q, acc, och, lw_cidx(F, 16 * nv), D->KL % 16);
  return dk_results(D, P, Q, acc, och, pix, n, oy, ox);
}

/* The halfword pairs of word k of the P pixels: from the expansion, or, direct, their
 * rows' words sign-extended here. */
static void pixel_pairs(dk *D, int P, tm_value *k, tm_value **a0, tm_value **a1) {
  lw_fn *F = D->F;
  for (int p = 0; p < P; p++) {
    if (D->direct) {
      tm_value *ld[] = {D->xs, lw_add_idx(F, D->xd[p], lw_affine(F, k, 4, 0))};
      tm_value *xw = dsp_op(D, "armdsp.load_word", 2, ld, 0);
      a0[p] = dsp_op(D, "armdsp.sxtb16", 1, &xw, 0);
      a1[p] = dsp_op(D, "armdsp.sxtb16", 1, &xw, 8);
    } else {
      tm_value *ld[] = {D->xp2, lw_affine(F, k, P, p)};
      tm_value *v = lw_op(F, "armdsp.load_pair", lw_i64(F), 2, ld, 0, NULL);
      split_pair(D, v, &a0[p], &a1[p]);
    }
  }
}

/* Direct: the pairs of the P rows' tail bytes, zero-padded to a word. */
static void tail_pairs(dk *D, int P, tm_value **a0, tm_value **a1) {
  for (int p = 0; p < P; p++) {
    tm_value *b[4];
    row_bytes(D, D->xd[p], lw_cidx(D->F, 4 * D->L4), (int)D->T, false, b);
    pairs_of_bytes(D, b, &a0[p], &a1[p]);
  }
}

/* D->corr[p] = 128 * the sum of the input values pixel p's products read (padding's
 * zero point and the zero tails included), which the pairs' A weights' offset adds.  A
 * row read directly sums its words with USADA8 (an LDR, EOR and USADA8 a word, not two
 * SXTB16 and two SMLAD: ad01's 640-byte row, 800 -> 480 instructions). */
static void dk_pixel_sums(dk *D, int P) {
  lw_fn *F = D->F;
  tm_value *s[4], *a0[4], *a1[4], *ones = lw_ci32(F, 0x00010001);
  for (int p = 0; p < P; p++) s[p] = lw_ci32(F, 0);
  int64_t nk = D->direct ? D->L4 : D->K;
  for (int tail = 0; tail < 2; tail++) {
    lw_for lk;
    if (!tail && nk) {
      lw_for_n(F, &lk, nk, P, s);
      memcpy(s, lk.args, (size_t)P * sizeof *s);
      if (D->direct) { /* sum(x + 128) of a word: USADA8 of its bytes flipped at bit 7 */
        for (int p = 0; p < P; p++) {
          tm_value *ld[] = {D->xs, lw_add_idx(F, D->xd[p], lw_affine(F, lk.iv, 4, 0))};
          tm_value *u[] = {lw_op2(F, "arith.xori", dsp_op(D, "armdsp.load_word", 2, ld, 0), lw_ci32(F, (int32_t)0x80808080)),
                           lw_ci32(F, 0), s[p]};
          s[p] = dsp_op(D, "armdsp.usada8", 3, u, 0);
        }
        memcpy(s, lw_for_end(F, &lk, P, s), (size_t)P * sizeof *s);
        for (int p = 0; p < P; p++) s[p] = lw_addi(F, s[p], lw_ci32(F, -512 * nk));
        continue;
      } else { /* word by word from the i32 view: gcc 12 -O2 vectorized this sum of
                * i64 reads (tm_load_pair) of words just stored as i32 wrongly */
        for (int p = 0; p < P; p++) {
          tm_value *j = lw_affine(F, lk.iv, 2 * P, 2 * p), *j1 = lw_add_idx(F, j, lw_cidx(F, 1));
          a0[p] = lw_load(F, D->xp, 1, &j);
          a1[p] = lw_load(F, D->xp, 1, &j1);
        }
      }
    } else if (tail && D->direct && D->T) {
      tail_pairs(D, P, a0, a1);
    } else {
      continue;
    }
    for (int p = 0; p < P; p++) {
      tm_value *m0[] = {a0[p], ones, s[p]};
      tm_value *m1[] = {a1[p], ones, dsp_op(D, "armdsp.smlad", 3, m0, 0)};
      s[p] = dsp_op(D, "armdsp.smlad", 3, m1, 0);
    }
    if (!tail) memcpy(s, lw_for_end(F, &lk, P, s), (size_t)P * sizeof *s);
  }
  for (int p = 0; p < P; p++) D->corr[p] = lw_shli(F, s[p], lw_ci32(F, 7));
}

/* P pixels times Q channels from o0, whose packed words start at wb: one loop over the
 * words (or, up to lower-to-loops' unroll-words, the words one after another), P * Q
 * accumulators.  The pixels' pairs come from D->xp, or, direct, from their
 * rows at D->xd[p] (the tail word last). */
static int dk_block(dk *D, int P, int Q, tm_value *o0, tm_value *wb, tm_value *const *pix, tm_value *n, tm_value *oy,
                    tm_value *const *ox) {
  lw_fn *F = D->F;
  tm_value *acc[LW_FOR_MAX_CARRIED], *och[LW_FOR_MAX_CARRIED];
  /* a lone pixel's block reads its bias' through a view: the channel indices, then not
   * shared with the output's, are not kept (spilled) across the products (ad01 -1 %;
   * blocks inside a pixel loop took 1 % more) */
  int64_t nq = Q;
  tm_value *bops[] = {D->bias_bytes, lw_affine(F, o0, 4, 0)};
  tm_value *bq = D->lone ? lw_op(F, "memref.view", tm_type_memref(D->W->ctx, lw_i32(F), 1, &nq), 2, bops, 0, NULL)
                         : D->bias;
  for (int q = 0; q < Q; q++) {
    och[q] = lw_add_idx(F, o0, lw_cidx(F, q));
    tm_value *i = D->lone ? lw_cidx(F, q) : och[q];
    tm_value *b = lw_load(F, bq, 1, &i);
    for (int p = 0; p < P; p++) acc[q * P + p] = b;
  }
  if (D->lanes) return dk_block_lanes(D, Q, acc, och, wb, pix);
  if (D->mve) return dk_block_mve(D, P, Q, acc, och, pix, n, oy, ox);
  if (!D->dsp) return dk_block_scalar(D, P, Q, acc, och, wb, pix, n, oy, ox);
  int na = P * Q;
  /* the block's words through a view, so that the loop indexes from a fixed base */
  int64_t nw = Q * D->K;
  tm_value *vops[] = {D->wp, lw_affine(F, wb, 4, 0)};
  /* an even Q: the block starts on 8 bytes (Q * K words into a 16-aligned global) and
   * its channels' words of one k are side by side: two a load (split_pair) */
  tm_value *wv = NULL, *wv2 = NULL;
  if (Q % 2) {
    wv = lw_op(F, "memref.view", tm_type_memref(D->W->ctx, lw_i32(F), 1, &nw), 2, vops, 0, NULL);
  } else {
    int64_t nw2 = nw / 2;
    wv2 = lw_op(F, "memref.view", tm_type_memref(D->W->ctx, lw_i64(F), 1, &nw2), 2, vops, 0, NULL);
  }
  tm_value *a0[4], *a1[4];
  int64_t nk = D->direct ? D->L4 : D->K;
  /* straight-line, offsets are immediates and no counter is live; but blocks of four
   * channels (a lone pixel's, a short strided product's) keep the loop, which LLVM
   * unrolls itself: written out, resnet's strided 1x1 conv2d_add took 19 % more */
  if (nk && nk <= D->unroll_words && Q <= 2) {
    for (int64_t k = 0; k < nk; k++) {
      pixel_pairs(D, P, lw_cidx(F, k), a0, a1);
      mac_step(D, P, Q, a0, a1, wv, wv2, lw_cidx(F, k), acc);
    }
  } else if (nk) {
    int64_t U = 1; /* words a trip: the most, up to loop-words, that divide nk in 3 trips or more */
    for (int64_t u = D->loop_words; u > 1 && U == 1; u--)
      if (nk % u == 0 && nk / u >= 3) U = u;
    lw_for lk;
    lw_for_n(F, &lk, nk / U, na, acc);
    for (int i = 0; i < na; i++) acc[i] = lk.args[i];
    for (int j = 0; j < U; j++) {
      tm_value *k = lw_affine(F, lk.iv, U, j);
      pixel_pairs(D, P, k, a0, a1);
      mac_step(D, P, Q, a0, a1, wv, wv2, k, acc);
    }
    memcpy(acc, lw_for_end(F, &lk, na, acc), (size_t)na * sizeof *acc);
  }
  if (D->direct && D->T) {
    tail_pairs(D, P, a0, a1);
    mac_step(D, P, Q, a0, a1, wv, wv2, lw_cidx(F, D->L4), acc);
  }
  return dk_results(D, P, Q, acc, och, pix, n, oy, ox);
}

/* All output channels of P expanded pixels: blocks of Q, then the rest one by one. */
static int dk_channels(dk *D, int P, tm_value *const *pix, tm_value *n, tm_value *oy, tm_value *const *ox) {
  lw_fn *F = D->F;
  int Q = D->Q;
  if (D->O1) {
    lw_for lc;
    bool loop = D->O1 > Q;
    tm_value *cb = lw_cidx(F, 0);
    if (loop) {
      lw_for_n(F, &lc, D->O1 / Q, 0, NULL);
      cb = lc.iv;
    }
    if (dk_block(D, P, Q, lw_affine(F, cb, Q, 0), lw_affine(F, cb, Q * D->K, 0), pix, n, oy, ox)) return -1;
    if (loop) lw_for_end(F, &lc, 0, NULL);
  }
  for (int64_t o = D->O1; o < D->c->O; o += o < D->O2 ? D->Q2 : 1)
    if (dk_block(D, P, o < D->O2 ? D->Q2 : 1, lw_cidx(F, o), lw_cidx(F, o * D->K), pix, n, oy, ox)) return -1;
  return 0;
}

/* Pixels in blocks of P: a loop over the blocks of a row (or of all pixels when flat),
 * then the rest in blocks of 2 and 1. */
static int dk_pixels(dk *D, int64_t npix, tm_value *n, tm_value *oy) {
  lw_fn *F = D->F;
  const lw_dsp_conv *c = D->c;
  tm_value *iy0 = D->flat ? lw_cidx(F, 0) : lw_affine(F, oy, c->sh, -c->pt);
  int64_t done = 0;
  for (int pp = D->P; pp >= 1; pp = pp > 2 ? 2 : pp - 1) {
    int64_t count = (npix - done) / pp;
    if (!count) continue;
    lw_for lp;
    tm_value *start;
    if (count > 1) {
      lw_for_n(F, &lp, count, 0, NULL);
      start = lw_affine(F, lp.iv, pp, done);
    } else {
      start = lw_cidx(F, done);
    }
    tm_value *px[4], *first[4];
    for (int p = 0; p < pp; p++) {
      px[p] = lw_add_idx(F, start, lw_cidx(F, p));
      first[p] = D->flat ? lw_affine(F, px[p], c->C, 0) : lw_affine(F, px[p], c->sw * c->C, -c->pl * c->C);
    }
    if (D->direct) memcpy(D->xd, first, sizeof first);
    else if (D->mve) dk_im2col(D, pp, D->flat ? lw_cidx(F, 0) : n, iy0, first);
    else dk_expand(D, pp, D->flat ? lw_cidx(F, 0) : n, iy0, first);
    if (D->pairs) dk_pixel_sums(D, pp);
    int r = D->flat ? dk_channels(D, pp, px, NULL, NULL, NULL) : dk_channels(D, pp, NULL, n, oy, px);
    if (r) return -1;
    if (count > 1) lw_for_end(F, &lp, 0, NULL);
    done += count * pp;
  }
  return 0;
}

/* The weights in the inner loop's order — for each block of Q channels, word j of every
 * channel in turn (the kernel rows' whole words, then their tails, zero-padded to a
 * word: expand_tails) — and bias' = bias + in_off * sum(w).
 * With D->pairs, word j of a block's channels A, B (A even) is two words: bytes 0, 2 of
 * A's then of B's interleaved, (A0 + 128, B0, A2 + 128, B2), and likewise bytes 1, 3.
 * Each halfword is A + 128 + 256 B, so one SMLAD of a pixel's pair with the word as it is
 * sums A + 128 x + 256 B, and one with its odd bytes (SXTB16 ROR 8) sums B: two channels
 * for one SXTB16 instead of two per channel.  A's bias becomes bias'A + 256 bias'B, and
 * dk_results subtracts 256 B and 128 sum(x). */
static void dk_pack(dk *D, const tm_attr *wv, const tm_attr *bv) {
  const lw_dsp_conv *c = D->c;
  lw_lower *W = D->W;
  int64_t O = c->O, KH = c->KH, L = D->L, L4 = D->L4;
  int64_t bytes = D->mve ? O * KH * L : O * D->K * 4 * (D->lanes ? 2 : 1);
  uint8_t *pk = TM_NEW_ARRAY(tm_ctx_arena(W->ctx), uint8_t, bytes);
  int32_t *bias = TM_NEW_ARRAY(tm_ctx_arena(W->ctx), int32_t, O);
  int64_t *bound = TM_NEW_ARRAY(tm_ctx_arena(W->ctx), int64_t, O);
  memset(pk, 0, (size_t)bytes);
  if (D->pairs) /* A's padding bytes: weights of 0 */
    for (int64_t i = 0; i < D->O2 * D->K * 4; i += 2) pk[i] = 128;
  for (int64_t o = 0; o < O; o++) {
    int64_t blk = o < D->O1 ? D->Q : o < D->O2 ? D->Q2 : 1;
    int64_t first = o < D->O1 ? o / D->Q * D->Q : o < D->O2 ? o - (o - D->O1) % D->Q2 : o, qi = o - first;
    bool pair = D->pairs && o < D->O2;
    uint32_t sum = bv ? (uint32_t)tm_dense_get_int(bv, o) : 0;
    int64_t wabs = 0;
    for (int64_t ky = 0; ky < KH; ky++)
      for (int64_t i = 0; i < L; i++) {
        /* row byte i = (kx, ci); depthwise filters are [1, KH, KW, O] */
        int64_t src = c->depthwise ? (ky * c->KW + i) * O + o : (o * KH + ky) * L + i;
        int64_t w = tm_dense_get_int(wv, src), tail = ky * D->T + i - 4 * L4;
        int64_t j = i < 4 * L4 ? ky * L4 + i / 4 : KH * L4 + tail / 4, bj = i < 4 * L4 ? i % 4 : tail % 4;
        /* DSP: word j of each channel in turn (little-endian); scalar: byte 4j + bj of each */
        int64_t at = D->dsp ? ((first * D->K + j * blk) + qi) * 4 + bj : first * D->K * 4 + (j * 4 + bj) * blk + qi;
        if (pair) at = (first * D->K + j * blk + qi / 2 * 2 + bj % 2) * 4 + bj / 2 * 2 + qi % 2;
        if (D->mve) at = (o * KH + ky) * L + i; /* each channel's kernel rows, one after another */
        if (D->lanes) { /* byte 4j + bj of the block's pairs in turn: the word A + 65536 B */
          at = first * D->K * 8 + ((j * 4 + bj) * (blk / 2) + qi / 2) * 4;
          uint32_t word = (uint32_t)pk[at] | (uint32_t)pk[at + 1] << 8 | (uint32_t)pk[at + 2] << 16 |
                          (uint32_t)pk[at + 3] << 24;
          word += (uint32_t)w << (qi % 2 * 16);
          for (int b = 0; b < 4; b++) pk[at + b] = (uint8_t)(word >> 8 * b);
        } else {
          pk[at] = (uint8_t)(pair && qi % 2 == 0 ? w + 128 : w);
        }
        wabs += w < 0 ? -w : w;
        sum += (uint32_t)c->in_off * (uint32_t)w;
      }
    bias[o] = (int32_t)sum;
    /* the sums are bias' plus products of int8 inputs (padding: the zero point) */
    bound[o] = (bias[o] < 0 ? -(int64_t)bias[o] : bias[o]) + 128 * wabs;
    if (!wabs) lw_requant_fix(W, c->rq, o, bias[o]);
  }
  c->rq->bound = bound;
  for (int64_t o = 0; D->pairs && o < D->O2; o += 2) bias[o] = (int32_t)((uint32_t)bias[o] + ((uint32_t)bias[o + 1] << 8));
  /* lane pairs: A's sum takes 32768 a chunk and 65536 B, which dk_results subtracts */
  uint32_t chunks = D->lanes ? (uint32_t)((D->L + D->lanes - 1) / D->lanes) : 0;
  for (int64_t o = 0; D->lanes && o < O; o += 2)
    bias[o] = (int32_t)((uint32_t)bias[o] - chunks * 0x8000u + ((uint32_t)bias[o + 1] << 16));
  lw_fn *F = D->F;
  D->wp = lw_get_global(F, lw_global_i8(W->M, "dsp_weights", bytes, pk, F->loc));
  D->bias_bytes = lw_get_global(F, lw_global_i8(W->M, "dsp_bias", 4 * O, bias, F->loc));
  tm_value *bops[] = {D->bias_bytes, lw_cidx(F, 0)};
  if (!D->lone) D->bias = lw_op(F, "memref.view", tm_type_memref(W->ctx, lw_i32(F), 1, &O), 2, bops, 0, NULL);
}

/* The most bytes, up to LW_LANE_CHUNK_MAX, whose products a lane pair may sum in one
 * chunk: every channel's sum over each chunk of its weights stays in [-32768, 32767] for
 * any int8 inputs, so that both halves of the word are exact.  0 when even two bytes may
 * not (a weight of -128 can): one byte a chunk costs what the plain kernel does. */
static int dk_lane_chunk(const dk *D, const tm_attr *wv) {
  const lw_dsp_conv *c = D->c;
  for (int C = LW_LANE_CHUNK_MAX; C >= 2; C--) {
    bool fits = true;
    for (int64_t o = 0; o < c->O && fits; o++)
      for (int64_t k0 = 0; k0 < D->L && fits; k0 += C) {
        int64_t most = 0, least = 0;
        for (int64_t k = k0; k < k0 + C && k < D->L; k++) {
          int64_t w = tm_dense_get_int(wv, o * D->L + k);
          most += w > 0 ? 127 * w : -128 * w;
          least += w > 0 ? -128 * w : 127 * w;
        }
        fits = most <= 32767 && least >= -32768;
      }
    if (fits) return C;
  }
  return 0;
}

bool lw_dsp_int8(const lw_dsp_conv *c) {
  return tm_type_elem_bits(c->x->type) == 8 && tm_type_elem_bits(c->w->type) == 8 && tm_type_elem_bits(c->y->type) == 8;
}

bool lw_dsp_applies(const lw_dsp_conv *c) {
  if (!lw_dsp_int8(c) || !tm_value_const(c->w) || (c->b && !tm_value_const(c->b))) return false;
  if (c->depthwise && c->C > 1) return false;
  return c->dw == 1 && c->KW * c->C >= 4;
}

/* The expansion's views at byte off (a multiple of 8) of raw: as words (DSP) or bytes,
 * and, DSP, as pairs of words. */
typedef struct dk_scratch {
  tm_value *xp, *xp2;
} dk_scratch;
static dk_scratch dk_scratch_at(dk *D, tm_value *raw, int64_t off, int64_t bytes) {
  tm_ctx *ctx = D->W->ctx;
  bool pairs = D->dsp && !D->mve;
  int64_t n = pairs ? bytes / 4 : bytes, n2 = bytes / 8;
  tm_value *ops[] = {raw, lw_cidx(D->F, off)};
  dk_scratch s = {lw_op(D->F, "memref.view", tm_type_memref(ctx, pairs ? lw_i32(D->F) : lw_i8(D->F), 1, &n), 2,
                        ops, 0, NULL),
                  NULL};
  if (pairs) s.xp2 = lw_op(D->F, "memref.view", tm_type_memref(ctx, lw_i64(D->F), 1, &n2), 2, ops, 0, NULL);
  return s;
}

static int64_t dk_dead_rows(dk *D, int64_t bytes, int64_t *r1) {
  const lw_dsp_conv *c = D->c;
  lw_lower *W = D->W;
  tm_value *x = c->x;
  if (D->flat || c->residual || c->fc || c->N != 1 || lw_is_returned(W, c->y) || !lw_bytes_die_at(x, D->op)) return -1;
  lw_buf xb = lw_in_buf(W, x), yb = lw_in_buf(W, c->y);
  int64_t ybytes = tm_type_bytes(lw_memref_of(W->ctx, c->y->type)), row = c->OW * c->O;
  if (!xb.raw || !yb.raw || tm_type_bytes(xb.raw->type) != tm_type_bytes(lw_memref_of(W->ctx, x->type)) ||
      tm_type_bytes(yb.raw->type) != ybytes || ybytes < bytes)
    return -1;
  int64_t off = (ybytes - bytes) & ~(int64_t)7;
  *r1 = off / row;
  return (*r1 * c->sh - c->pt) * c->Wi * c->C >= bytes ? off : -1;
}

/* Output rows [lb, ub) of a batch of one. */
static int dk_rows(dk *D, int64_t npix, int64_t lb, int64_t ub) {
  lw_fn *F = D->F;
  lw_for L;
  lw_for_begin(F, &L, lw_cidx(F, lb), lw_cidx(F, ub), lw_cidx(F, 1), 0, NULL);
  if (dk_pixels(D, npix, lw_cidx(F, 0), L.iv)) return -1;
  lw_for_end(F, &L, 0, NULL);
  return 0;
}

/* Everything but the output and the loops: the blocking, the packed tables, the input
 * (D->xs: a tensor, or a row pipeline's ring); 0 or -1. */
static int dk_init(dk *Dp, lw_lower *W, tm_op *op, const lw_dsp_conv *c) {
  const tm_attr *wv = tm_value_const(c->w), *bv = c->b ? tm_value_const(c->b) : NULL;
  dk D = {.W = W, .F = lw_fn_of(W), .op = op, .c = c, .L = c->KW * c->C,
          .unroll_words = W->M->unroll_words, .loop_words = W->M->loop_words};
  /* a cold op runs too few products for unrolled words to save what their code costs:
   * one word a trip, a loop (at -Os LLVM unrolls only those of up to 4 trips; resnet's
   * 64 -> 10 fully_connected: 1,738 -> 500 bytes) */
  D.cold = lw_op_is_cold(W, op);
  if (D.cold) D.unroll_words = 0, D.loop_words = 1;
  D.L4 = D.L / 4, D.T = D.L % 4, D.K = c->KH * D.L4 + (c->KH * D.T + 3) / 4;
  D.pad_y = c->pt > 0 || (c->OH - 1) * c->sh + (c->KH - 1) * c->dh - c->pt >= c->H;
  D.pad_x = c->pl > 0 || (c->OW - 1) * c->sw + c->KW - 1 - c->pl >= c->Wi;
  D.flat = !c->residual && c->KH == 1 && c->KW == 1 && c->sh == 1 && c->sw == 1 && !D.pad_y && !D.pad_x;
  int64_t npix = D.flat ? c->N * c->OH * c->OW : c->OW;
  /* register blocking: P pixels x Q channels accumulators; a lone pixel (a
   * fully_connected of batch 1) takes four channels */
  D.dsp = W->M->kernels == LW_KERNELS_DSP;
  D.mve = D.dsp && W->M->mve;
  D.KL = c->KH * D.L;
  if (D.dsp) D.P = npix > 1 ? 2 : 1, D.Q = D.P == 1 ? (D.mve ? 8 : 4) : (D.mve ? 4 : 2);
  else D.P = npix >= 4 ? 4 : npix > 1 ? 2 : 1, D.Q = D.P == 1 ? 16 : 4; /* 16 sums of 24+ registers */
  /* DSP: a short product (K <= 4 words: a 1x1 conv of 16 channels) is unrolled by LLVM
   * and its pixels' pairs hoisted out of the channel loop: four channels a block take
   * half the trips over them (resnet's strided 1x1 conv2d_add: -23 % instructions) */
  if (D.dsp && D.P == 2 && !D.flat && D.K <= 4) D.Q = 4;
  if (D.Q > c->O) D.Q = (int)c->O;
  D.O1 = c->O / D.Q * D.Q;
  /* a lone pixel of a flat product (a batch-1 fully_connected) is read directly, each
   * channel block sign-extending its words again; read by eight blocks or more, and
   * small, it is expanded once into a scratch like other products' pixels (below):
   * an LDRD a word instead of an LDR and two SXTB16 (ad01 -9 %) */
  int64_t blocks = D.O1 / D.Q + (c->O - D.O1);
  D.lone = D.flat && npix == 1;
  D.direct = D.flat && D.P == 1 && npix == 1 && (!D.dsp || D.mve || blocks < 8 || D.K * 8 > LW_LONE_PIXEL_SCRATCH);
  /* read directly, a word's sign extension serves three pairs of channels a block when
   * there are many (ad01's 640 -> 128: 24 instructions per 24 MACs, not 17 per 16; four
   * pairs spill) */
  if (D.dsp && !D.mve && D.direct && c->O >= 48) D.Q = 6, D.O1 = c->O / 6 * 6;
  /* what blocks of Q leave, DSP blocks of two take in pairs (ad01: 128 = 21 x 6 + 2), the
   * scalar lone pixel's blocks of eight */
  D.Q2 = D.dsp ? 2 : D.P == 1 ? 8 : 1;
  D.O2 = D.Q > D.Q2 ? D.O1 + (c->O - D.O1) / D.Q2 * D.Q2 : D.O1;
  /* LDRDs of weight pairs pay in flat products; in 3x3 convs resnet took 6 % more, in a
   * batch-1 fully_connected's blocks of four ad01 1.5 % more, of six 1.1 % less */
  D.pair_loads = D.flat && (!D.direct || D.Q == 6);
  /* channel pairs, per block of P pixels: two SXTB16 fewer a word of each pair, for the
   * pixels' sums (two loads and two SMLADs a word, counted as three: with four,
   * micro_speech's 20-word conv lost its pairs and took 1.5 % more; five direct) and two
   * instructions a pair's result */
  /* RV32's lone pixel: lane pairs, where every channel is in a block of pairs */
  if (!D.dsp && D.direct && !c->depthwise && W->M->lane_pairs && D.Q % 2 == 0 && D.Q2 % 2 == 0 && D.O2 == c->O)
    D.lanes = dk_lane_chunk(&D, wv);
  int64_t nk = D.direct ? D.L4 : D.K, npairs = D.O2 / 2;
  D.pairs = D.dsp && !D.mve && W->M->channel_pairs && D.Q % 2 == 0 &&
            npairs * nk * 2 > D.P * (nk * (D.direct ? 5 : 3) + 4) + npairs * D.P * 2;
  dk_pack(&D, wv, bv);
  lw_requant_materialize(W, c->rq, c->name, c->zp_out);
  D.F->cold = D.cold; /* the residual terms' table may be computed here */
  if (c->residual && lw_residual_init(W, op, &D.res)) return -1;
  /* a residual addition doubles each result's epilogue: with epilogue-loop, one copy per
   * pixel of a block instead of one per channel and pixel (resnet's strided 1x1
   * conv2d_adds: eight copies each) */
  if (W->M->epilogue_loop && c->residual && !c->fc && D.P * D.Q > 2) {
    int64_t nsums = D.P * D.Q;
    D.sums = lw_scratch(W, tm_type_memref(W->ctx, lw_i32(D.F), 1, &nsums)).mem;
  }
  D.xs = lw_flat(W, lw_in_buf(W, c->x));
  D.npix = npix;
  *Dp = D;
  return 0;
}

/* Whether the output may take the buffer of `over`: its last use is here, and its own. */
static bool dk_can_overwrite(dk *D, tm_value *over) {
  lw_lower *W = D->W;
  const lw_dsp_conv *c = D->c;
  lw_buf ob = lw_in_buf(W, over);
  return ob.raw && lw_bytes_die_at(over, D->op) && !lw_is_returned(W, c->y) &&
         tm_type_bytes(lw_memref_of(W->ctx, c->y->type)) <= tm_type_bytes(ob.raw->type);
}

static void dk_bind_over(dk *D, tm_value *over) {
  lw_lower *W = D->W;
  tm_value *ops[] = {lw_in_buf(W, over).raw, lw_cidx(D->F, 0)};
  lw_bind(W, D->c->y, (lw_buf){lw_op(D->F, "memref.view", lw_memref_of(W->ctx, D->c->y->type), 2, ops, 0, NULL), ops[0]});
}

/* The output's buffer: in place over an input whose last use this is, or its own. */
static void dk_output(dk *D) {
  lw_lower *W = D->W;
  const lw_dsp_conv *c = D->c;
  /* In place (the bytes must die here, read by no later op through any view; not a view): over the
   * input of a flat product, which reads a block's pixels (into the scratch) before it
   * writes their outputs, no more bytes than their inputs (O <= C), so that they never
   * reach a pixel still to be read. */
  tm_value *over = D->flat && !D->direct && c->O <= c->C && !c->fc ? c->x : NULL;
  /* Or over a residual input whose last use this is: each of its elements is read just
   * before the output element at its index is stored. */
  if (c->residual && tm_op_operand(D->op, 3) != c->x) over = tm_op_operand(D->op, 3);
  if (over && (over == c->x || lw_in_buf(W, over).raw != lw_in_buf(W, c->x).raw) && dk_can_overwrite(D, over)) {
    dk_bind_over(D, over);
  } else if (!c->fc) {
    lw_out(W, c->y);
  }
  if (!c->fc) D->ym = D->flat ? lw_flat(W, lw_in_buf(W, c->y)) : lw_in(W, c->y);
}

/* A 16-aligned scratch of `bytes` the memory plan places. */
static tm_value *dk_alloc(dk *D, int64_t bytes) {
  const tm_type *raw_t = tm_type_memref(D->W->ctx, lw_i8(D->F), 1, &bytes);
  tm_named_attr align = {tm_intern_cstr(D->W->ctx, "alignment"), tm_attr_int(D->W->ctx, NULL, 16)};
  return lw_op(D->F, "memref.alloc", raw_t, 0, NULL, 1, &align);
}

static int64_t dk_scratch_bytes(const dk *D) {
  return D->direct ? 0 : D->mve ? D->P * D->KL : D->K * D->P * 4 * (D->dsp ? 2 : 1);
}

/* One convolution, all its rows (or pixels). */
static int dk_lower(lw_lower *W, tm_op *op, const lw_dsp_conv *c) {
  dk D;
  if (dk_init(&D, W, op, c)) return -1;
  dk_output(&D);
  lw_fn *F = D.F;
  int64_t r1 = 0;
  dk_scratch head = {0};
  if (!D.direct) {
    int64_t bytes = dk_scratch_bytes(&D);
    int64_t off = dk_dead_rows(&D, bytes, &r1);
    dk_scratch s;
    if (off >= 0) {
      s = dk_scratch_at(&D, lw_in_buf(W, c->y).raw, off, bytes);
      head = dk_scratch_at(&D, lw_in_buf(W, c->x).raw, 0, bytes);
    } else {
      s = dk_scratch_at(&D, dk_alloc(&D, bytes), 0, bytes);
    }
    D.xp = s.xp, D.xp2 = s.xp2;
  }
  if (D.flat) return dk_pixels(&D, D.npix, NULL, NULL);
  if (head.xp) { /* rows [0, r1) expand into the output's tail, the others into the input's head */
    if (dk_rows(&D, D.npix, 0, r1)) return -1;
    D.xp = head.xp, D.xp2 = head.xp2;
    return dk_rows(&D, D.npix, r1, c->OH);
  }
  lw_nest rows;
  int64_t dims[] = {c->N, c->OH};
  lw_nest_begin(F, &rows, 2, dims);
  if (dk_pixels(&D, D.npix, rows.iv[0], rows.iv[1])) return -1;
  lw_nest_end(F, &rows);
  return 0;
}

/* ------------------------------------------------------------ row pipelines ------- */
/* A chain of convolutions, each the only reader of the one before it (as its input or
 * its residual) and right after it, is computed row by row: before each row of a
 * convolution, the rows of the one before it that this row needs and that are not
 * computed yet.  Those rows live in a ring of R rows (the reader's kernel height for its
 * input, one for a residual), row r at slot r mod R, instead of a whole tensor: resnet's
 * residual blocks keep three rows of their first convolution's output, not 16 KiB.
 * lower-to-loops defers each link (W->stages) until the convolution that ends the chain;
 * any other op computes the deferred ones first (lw_flush_stages). */
struct lw_stage {
  tm_op *op;
  lw_dsp_conv c;
  lw_requant rq;
};

static bool dk_is_flat(const lw_dsp_conv *c, tm_op *op) {
  return tm_op_is(op, "tm.conv2d") && c->KH == 1 && c->KW == 1 && c->sh == 1 && c->sw == 1 && c->pt == 0 &&
         c->pl == 0 && c->OH == c->H && c->OW == c->Wi;
}

/* Whether op's result goes into a ring for the op right after it, which reads it as its
 * input (rows in a window no taller than its kernel) or its residual. */
static bool can_defer(lw_lower *W, tm_op *op, const lw_dsp_conv *c) {
  tm_value *y = c->y;
  if (!W->M->row_pipeline || c->fc || c->depthwise || c->N != 1 || dk_is_flat(c, op) || lw_is_returned(W, y) ||
      !y->uses || y->uses->next)
    return false;
  tm_op *u = y->uses->user, *next = op->next;
  while (next && tm_op_is(next, "tm.const")) next = next->next;
  if (u != next || (!tm_op_is(u, "tm.conv2d") && !tm_op_is(u, "tm.conv2d_add")) || tm_op_attr(u, "conv_result"))
    return false;
  const tm_type *wt = tm_op_operand(u, 1)->type;
  int64_t s[2] = {1, 1}, d[2] = {1, 1};
  int n = 0;
  const tm_attr *a = tm_op_attr(u, "stride");
  if (a) tm_attr_get_int_array(a, 2, s, &n);
  if ((a = tm_op_attr(u, "dilation"))) tm_attr_get_int_array(a, 2, d, &n);
  if (wt->rank != 4) return false;
  int64_t KH = wt->dims[1], KW = wt->dims[2];
  if (tm_op_operand(u, 0) == y) /* its input: a window of KH rows moving by sh <= KH */
    return d[0] == 1 && s[0] <= KH && KH < c->OH &&
           !(tm_op_is(u, "tm.conv2d") && KH == 1 && KW == 1 && s[0] == 1 && s[1] == 1);
  return u->noperands > 3 && tm_op_operand(u, 3) == y && c->OH > 1;
}

/* Stage i's consumer reads it as its residual (else as its input). */
static bool residual_edge(lw_lower *W, int i, tm_op *final) {
  tm_op *u = i + 1 < W->nstages ? W->stages[i + 1].op : final;
  return tm_op_operand(u, 0) != W->stages[i].c.y;
}

/* Rows of stage i done when the last stage k has done rows [0, r] (i <= k). */
static int64_t rows_done(const dk *D, const bool *res_edge, int i, int k, int64_t r) {
  int64_t m = r + 1;
  for (int j = k; j > i && m > 0; j--) {
    if (res_edge[j - 1]) continue;
    const lw_dsp_conv *c = D[j].c;
    int64_t need = (m - 1) * c->sh + (c->KH - 1) * c->dh - c->pt + 1;
    m = need < 0 ? 0 : need > c->H ? c->H : need;
  }
  return m;
}

static int64_t max0(int64_t v) { return v < 0 ? 0 : v; }

/* Whether the last stage may write its output over the bytes `raw` of its input or
 * residual (their last use): each block of pixels stores after it has read its own
 * pixels, so what it has written by then must lie below every byte of raw read later:
 * by its later pixels and rows when raw is its input (as its residual, each element is
 * read just before the output element at its index is stored), and by the later rows of
 * the stages before it, which run interleaved, when raw is their input or residual.
 * (resnet: a 1x1 stride-2 conv2d_add of 32x32x16 over its input, whose rows 2r + 2 on
 * are all that is read after its output row r.) */
static bool over_safe(const dk *D, const bool *res_edge, int k, tm_value *raw) {
  lw_lower *W = D[k].W;
  const lw_dsp_conv *c = D[k].c;
  bool input = lw_in_buf(W, c->x).raw == raw;
  for (int64_t r = 0; r < c->OH; r++) {
    int64_t later = INT64_MAX;
    for (int j = 0; j < k; j++) {
      const lw_dsp_conv *cj = D[j].c;
      int64_t m = rows_done(D, res_edge, j, k, r);
      if (m >= cj->OH) continue;
      if (lw_in_buf(W, cj->x).raw == raw && max0(m * cj->sh - cj->pt) * cj->Wi * cj->C < later)
        later = max0(m * cj->sh - cj->pt) * cj->Wi * cj->C;
      if (cj->residual && lw_in_buf(W, tm_op_operand(D[j].op, 3)).raw == raw && m * cj->OW * cj->O < later)
        later = m * cj->OW * cj->O;
    }
    int64_t done = 0;
    for (int pp = D[k].P; pp >= 1; pp = pp > 2 ? 2 : pp - 1)
      for (int64_t n = (c->OW - done) / pp; n > 0; n--) {
        done += pp;
        int64_t read = !input            ? INT64_MAX
                       : done < c->OW    ? (max0(r * c->sh - c->pt) * c->Wi + max0(done * c->sw - c->pl)) * c->C
                       : r + 1 < c->OH   ? max0((r + 1) * c->sh - c->pt) * c->Wi * c->C
                                         : INT64_MAX;
        if ((r * c->OW + done) * c->O > (read < later ? read : later)) return false;
      }
  }
  return true;
}

/* Row `row` of stage i, after the rows of stage i - 1 it needs that are not done. */
static int pipe_row(dk *D, const bool *res_edge, int i, tm_value *row) {
  lw_fn *F = D[i].F;
  if (i > 0 && res_edge[i - 1]) {
    if (pipe_row(D, res_edge, i - 1, row)) return -1;
  } else if (i > 0) { /* rows [lo, hi) with hi = row * sh + top: those below the window's bottom */
    const lw_dsp_conv *c = D[i].c;
    int64_t top = (c->KH - 1) * c->dh - c->pt + 1;
    tm_value *H = lw_cidx(F, c->H), *zero = lw_cidx(F, 0);
    tm_value *hi = lw_op2(F, "arith.maxsi", lw_op2(F, "arith.minsi", lw_affine(F, row, c->sh, top), H), zero);
    tm_value *prev = lw_op2(F, "arith.maxsi", lw_op2(F, "arith.minsi", lw_affine(F, row, c->sh, top - c->sh), H), zero);
    tm_value *lo = lw_select(F, lw_cmpi(F, LW_EQ, row, zero), zero, prev);
    lw_for L;
    lw_for_begin(F, &L, lo, hi, lw_cidx(F, 1), 0, NULL);
    if (pipe_row(D, res_edge, i - 1, L.iv)) return -1;
    lw_for_end(F, &L, 0, NULL);
  }
  return dk_pixels(&D[i], D[i].npix, lw_cidx(F, 0), row);
}

/* The deferred stages and op (the last stage) as one row pipeline. */
static int dk_pipeline(lw_lower *W, tm_op *op, const lw_dsp_conv *c) {
  int k = W->nstages;
  tm_arena *arena = tm_ctx_arena(W->ctx);
  dk *D = TM_NEW_ARRAY(arena, dk, k + 1);
  bool *res_edge = TM_NEW_ARRAY(arena, bool, k + 1);
  int64_t *ring = TM_NEW_ARRAY(arena, int64_t, k + 1);
  lw_fn *F = lw_fn_of(W);
  for (int i = 0; i < k; i++) { /* each stage's rows in their ring, bound before its reader reads it */
    const lw_dsp_conv *ci = &W->stages[i].c, *u = i + 1 < k ? &W->stages[i + 1].c : c;
    res_edge[i] = residual_edge(W, i, op);
    ring[i] = res_edge[i] ? 1 : u->KH;
    int64_t dims[] = {1, ring[i], ci->OW, ci->O};
    lw_bind(W, ci->y, lw_scratch(W, tm_type_memref(W->ctx, lw_i8(F), 4, dims)));
  }
  int64_t scratch = 0;
  for (int i = 0; i <= k; i++) {
    if (dk_init(&D[i], W, i < k ? W->stages[i].op : op, i < k ? &W->stages[i].c : c)) return -1;
    if (i < k) D[i].out_ring = ring[i], D[i].ym = lw_in(W, W->stages[i].c.y);
    if (i > 0 && res_edge[i - 1]) D[i].res_ring = ring[i - 1];
    else if (i > 0) D[i].in_ring = ring[i - 1];
    if (dk_scratch_bytes(&D[i]) > scratch) scratch = dk_scratch_bytes(&D[i]);
  }
  W->nstages = 0;
  /* the output over the last stage's residual or input, if that is a whole tensor (not
   * a ring) and safe with the other stages still reading (over_safe), else its own
   * buffer */
  tm_value *res = c->residual ? tm_op_operand(op, 3) : NULL, *over = NULL;
  bool res_whole = res && !res_edge[k - 1], x_whole = res_edge[k - 1];
  if (res_whole && res != c->x && dk_can_overwrite(&D[k], res) && over_safe(D, res_edge, k, lw_in_buf(W, res).raw))
    over = res;
  else if (x_whole && dk_can_overwrite(&D[k], c->x) && over_safe(D, res_edge, k, lw_in_buf(W, c->x).raw))
    over = c->x;
  if (over) dk_bind_over(&D[k], over);
  else lw_out(W, c->y);
  D[k].ym = lw_in(W, c->y);
  /* one scratch for every stage's pixels: a row's expansion is used up before the next */
  tm_value *raw = dk_alloc(&D[0], scratch);
  for (int i = 0; i <= k; i++) {
    dk_scratch s = dk_scratch_at(&D[i], raw, 0, dk_scratch_bytes(&D[i]));
    D[i].xp = s.xp, D[i].xp2 = s.xp2;
  }
  lw_for L;
  lw_for_n(F, &L, c->OH, 0, NULL);
  if (pipe_row(D, res_edge, k, L.iv)) return -1;
  lw_for_end(F, &L, 0, NULL);
  return 0;
}

int lw_flush_stages(lw_lower *W) {
  if (!W->nstages) return 0;
  struct lw_stage *last = &W->stages[--W->nstages];
  return W->nstages ? dk_pipeline(W, last->op, &last->c) : dk_lower(W, last->op, &last->c);
}

/* Whether op reads the last deferred stage as the rows it can take from a ring. */
static bool reads_last_stage(lw_lower *W, tm_op *op, const lw_dsp_conv *c) {
  tm_value *y = W->stages[W->nstages - 1].c.y;
  return !c->fc && !c->depthwise && !dk_is_flat(c, op) &&
         (tm_op_operand(op, 0) == y || (op->noperands > 3 && tm_op_operand(op, 3) == y));
}

int lw_lower_dsp_conv(lw_lower *W, tm_op *op, const lw_dsp_conv *c) {
  if (W->nstages && !reads_last_stage(W, op, c) && lw_flush_stages(W)) return -1;
  if (can_defer(W, op, c)) {
    if (W->nstages == W->stages_cap) {
      W->stages_cap = W->stages_cap ? 2 * W->stages_cap : 4;
      struct lw_stage *n = TM_NEW_ARRAY(tm_ctx_arena(W->ctx), struct lw_stage, W->stages_cap);
      for (int i = 0; i < W->nstages; i++) n[i] = W->stages[i], n[i].c.rq = &n[i].rq;
      W->stages = n;
    }
    struct lw_stage *s = &W->stages[W->nstages++];
    *s = (struct lw_stage){.op = op, .c = *c, .rq = *c->rq};
    s->c.rq = &s->rq;
    return 0;
  }
  return W->nstages ? dk_pipeline(W, op, c) : dk_lower(W, op, c);
}
