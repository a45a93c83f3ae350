/* tflm_oracle — C transcriptions of TFLite Micro's reference kernels (double-rounding
 * build), used to check lower-to-loops on kernels that have no golden model: it writes
 * random inputs (with the extremes of the type first) and the outputs the TFLite Micro
 * kernel computes for them.
 *
 *   tflm_oracle DIR binary16 add|sub|mul N s1 s2 s_out lo hi
 *   tflm_oracle DIR requant  N in_bits s_in zp_in out_bits s_out zp_out
 *   tflm_oracle DIR act16 relu|relu6|leaky N s_in zp_in s_out zp_out alpha
 *   tflm_oracle DIR sig16 logistic|tanh N s_in
 *   tflm_oracle DIR bmm f32|i8|i16 B M K N adj_x adj_y [s_x zp_x s_y zp_y s_out zp_out]
 *
 *   tflm_oracle DIR tconv f32|i8|i16 N H W C O KH KW OH OW sh sw same lo hi
 *                         [s_x zp_x s_w0,s_w1,... s_out zp_out]
 * writes DIR/in0.bin [DIR/in1.bin] DIR/ref.bin. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------- quantization_util.cc, common.h */
static void quantize_multiplier(double m, int32_t *q, int *shift) {
  if (m == 0.0) {
    *q = 0, *shift = 0;
    return;
  }
  const double frac = frexp(m, shift);
  int64_t q_fixed = (int64_t)round(frac * (double)(1LL << 31));
  if (q_fixed == (1LL << 31)) q_fixed /= 2, ++*shift;
  if (*shift < -31) *shift = 0, q_fixed = 0;
  *q = (int32_t)q_fixed;
}

static int32_t srdhm(int32_t a, int32_t b) {
  const int overflow = a == b && a == INT32_MIN;
  const int64_t ab = (int64_t)a * (int64_t)b;
  const int32_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
  const int32_t high = (int32_t)((ab + nudge) / (1LL << 31));
  return overflow ? INT32_MAX : high;
}

static int32_t rdbp(int32_t x, int e) {
  const int32_t mask = (int32_t)((1LL << e) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> e) + (remainder > threshold ? 1 : 0);
}

static int32_t mbqm(int32_t x, int32_t q, int shift) {
  const int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
  return rdbp(srdhm((int32_t)((int64_t)x * (1LL << left)), q), right);
}

static int32_t mbqm64(int64_t x, int32_t q, int shift) {
  const int32_t reduced = q < 0x7FFF0000 ? ((q + (1 << 15)) >> 16) : 0x7FFF;
  const int total = 15 - shift;
  const int64_t round_ = (int64_t)1 << (total - 1);
  return (int32_t)((x * reduced + round_) >> total);
}

static int32_t clamp(int32_t v, int32_t lo, int32_t hi) { return v < lo ? lo : v > hi ? hi : v; }

/* ------------------------------------------------------------ inputs and files */
static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static uint32_t next(void) {
  rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
  return (uint32_t)(rng >> 16);
}
/* Random values of a `bits`-bit signed type, the extremes and 0 first. */
static void fill_int(int32_t *v, long n, int bits) {
  const int32_t lo = -(1 << (bits - 1)), hi = (1 << (bits - 1)) - 1;
  const int32_t edges[] = {lo, hi, 0, lo + 1, hi - 1, -1, 1};
  for (long i = 0; i < n; i++)
    v[i] = i < 7 ? edges[i] : lo + (int32_t)(next() % (uint32_t)(hi - lo + 1));
}
static void fill_f32(float *v, long n) {
  for (long i = 0; i < n; i++) v[i] = ((float)(next() % 20001) - 10000.0f) / 1000.0f;
}

static void write_file(const char *dir, const char *name, const void *p, size_t n) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(p, 1, n, f) != n || fclose(f)) {
    perror(path);
    exit(1);
  }
}
/* Stores ints as `bits`-bit little-endian values. */
static void write_ints(const char *dir, const char *name, const int32_t *v, long n, int bits) {
  unsigned char *b = malloc((size_t)n * 2);
  for (long i = 0; i < n; i++) {
    if (bits == 8) b[i] = (unsigned char)(int8_t)v[i];
    else b[2 * i] = (unsigned char)(v[i] & 0xff), b[2 * i + 1] = (unsigned char)((v[i] >> 8) & 0xff);
  }
  write_file(dir, name, b, (size_t)n * (size_t)(bits / 8));
  free(b);
}

/* --------------------------------------------- add/sub (AddGeneralParamScale, SubElementwise), mul */
static int binary16(const char *dir, char **a) {
  const char *kind = a[0];
  long n = atol(a[1]);
  float s1 = strtof(a[2], NULL), s2 = strtof(a[3], NULL), so = strtof(a[4], NULL);
  int32_t lo = atoi(a[5]), hi = atoi(a[6]);
  int32_t *x = malloc(sizeof *x * (size_t)n), *y = malloc(sizeof *y * (size_t)n), *r = malloc(sizeof *r * (size_t)n);
  fill_int(x, n, 16);
  fill_int(y, n, 16);
  /* y's extremes meet x's extremes in the other order too */
  for (long i = 0; i < 7 && i < n; i++) y[i] = x[(i + 1) % 7];
  if (!strcmp(kind, "mul")) {
    int32_t q;
    int e;
    quantize_multiplier((double)(s1 * s2) / (double)so, &q, &e);
    for (long i = 0; i < n; i++) r[i] = clamp(mbqm(x[i] * y[i], q, e), lo, hi);
  } else {
    const int left_shift = 15;
    const double twice_max = 2 * (double)(s1 > s2 ? s1 : s2);
    int32_t q1, q2, qo;
    int e1, e2, eo;
    quantize_multiplier((double)s1 / twice_max, &q1, &e1);
    quantize_multiplier((double)s2 / twice_max, &q2, &e2);
    quantize_multiplier(twice_max / ((1 << left_shift) * (double)so), &qo, &eo);
    for (long i = 0; i < n; i++) {
      const int32_t a1 = mbqm(x[i] * (1 << left_shift), q1, e1), a2 = mbqm(y[i] * (1 << left_shift), q2, e2);
      r[i] = clamp(mbqm(!strcmp(kind, "add") ? a1 + a2 : a1 - a2, qo, eo), lo, hi);
    }
  }
  write_ints(dir, "in0.bin", x, n, 16);
  write_ints(dir, "in1.bin", y, n, 16);
  write_ints(dir, "ref.bin", r, n, 16);
  return 0;
}

/* ------------------------------------------------------- Requantize (quantize.cc) */
static int requant(const char *dir, char **a) {
  long n = atol(a[0]);
  int ib = atoi(a[1]), ob = atoi(a[4]);
  float si = strtof(a[2], NULL), so = strtof(a[5], NULL);
  int32_t zi = atoi(a[3]), zo = atoi(a[6]);
  int32_t *x = malloc(sizeof *x * (size_t)n), *r = malloc(sizeof *r * (size_t)n), q;
  int e;
  quantize_multiplier((double)si / (double)so, &q, &e);
  fill_int(x, n, ib);
  const int32_t lo = -(1 << (ob - 1)), hi = (1 << (ob - 1)) - 1;
  for (long i = 0; i < n; i++) r[i] = clamp(mbqm(x[i] - zi, q, e) + zo, lo, hi);
  write_ints(dir, "in0.bin", x, n, ib);
  write_ints(dir, "ref.bin", r, n, ob);
  return 0;
}

/* ---------- ReluQuantized<int16_t>, Relu6Quantized<int16_t>, QuantizeLeakyRelu<int16_t> */
static int act16(const char *dir, char **a) {
  const char *kind = a[0];
  long n = atol(a[1]);
  float si = strtof(a[2], NULL), so = strtof(a[4], NULL), alpha = strtof(a[6], NULL);
  int32_t zi = atoi(a[3]), zo = atoi(a[5]);
  int32_t *x = malloc(sizeof *x * (size_t)n), *r = malloc(sizeof *r * (size_t)n);
  fill_int(x, n, 16);
  if (!strcmp(kind, "relu")) {
    int32_t q;
    int e;
    quantize_multiplier((double)si / (double)so, &q, &e);
    const int32_t lo = zo > -32768 ? zo : -32768;
    for (long i = 0; i < n; i++) r[i] = clamp(zo + mbqm(x[i] - zi, q, e), lo, 32767);
  } else if (!strcmp(kind, "relu6")) {
    /* FloatToQuantizedType<int16_t>(6.0f, scale, zero_point) */
    const int32_t six = clamp((int32_t)roundf(6.0f / si) + zi, -32768, 32767);
    for (long i = 0; i < n; i++) r[i] = x[i] > six ? six : x[i] < zi ? zi : x[i];
  } else {
    int32_t qi, qa;
    int ei, ea;
    quantize_multiplier((double)(si / so), &qi, &ei);
    quantize_multiplier((double)(si * alpha / so), &qa, &ea);
    for (long i = 0; i < n; i++) {
      const int32_t d = x[i] - zi;
      r[i] = clamp(zo + (d >= 0 ? mbqm(d, qi, ei) : mbqm(d, qa, ea)), -32768, 32767);
    }
  }
  write_ints(dir, "in0.bin", x, n, 16);
  write_ints(dir, "ref.bin", r, n, 16);
  return 0;
}

/* -------- int16 Logistic / Tanh (reference_integer_ops, logistic_common.cc, tanh.cc) */
static const uint16_t sigmoid_table_uint16[256] = {
    32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149, 40794, 41432, 42064, 42688,
    43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369, 47911, 48443, 48964, 49475, 49975, 50464, 50942, 51409,
    51865, 52311, 52745, 53169, 53581, 53983, 54374, 54755, 55125, 55485, 55834, 56174, 56503, 56823, 57133, 57433,
    57724, 58007, 58280, 58544, 58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370, 60565, 60753, 60935, 61110,
    61279, 61441, 61599, 61750, 61896, 62036, 62172, 62302, 62428, 62549, 62666, 62778, 62886, 62990, 63090, 63186,
    63279, 63368, 63454, 63536, 63615, 63691, 63765, 63835, 63903, 63968, 64030, 64090, 64148, 64204, 64257, 64308,
    64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652, 64687, 64721, 64754, 64786, 64816, 64845, 64873, 64900,
    64926, 64950, 64974, 64997, 65019, 65039, 65060, 65079, 65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208,
    65221, 65234, 65246, 65258, 65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360, 65367,
    65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425, 65429, 65433, 65438, 65442, 65445, 65449,
    65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474, 65476, 65479, 65481, 65483, 65485, 65488, 65489, 65491,
    65493, 65495, 65497, 65498, 65500, 65501, 65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513,
    65514, 65515, 65516, 65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522, 65523, 65523, 65524, 65524,
    65525, 65525, 65526, 65526, 65526, 65527, 65527, 65528, 65528, 65528, 65529, 65529, 65529, 65529, 65530, 65530,
    65530, 65530, 65531, 65531, 65531, 65531, 65531, 65532, 65532, 65532, 65532, 65532, 65532, 65533, 65533, 65533,
    65533, 65533, 65533, 65533, 65533, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65535};

static int checked_log2(float x, int *log2) {
  const float l = logf(x) * (1.0f / logf(2.0f)), r = roundf(l);
  *log2 = (int)r;
  return fabsf(l - r) < 1e-3f;
}

static int sig16(const char *dir, char **a) {
  const int is_tanh = !strcmp(a[0], "tanh");
  long n = atol(a[1]);
  float si = strtof(a[2], NULL);
  int32_t *x = malloc(sizeof *x * (size_t)n), *r = malloc(sizeof *r * (size_t)n);
  fill_int(x, n, 16);
  int l2, left_shift;
  int32_t mult;
  int pot = checked_log2(si, &l2);
  left_shift = (15 - 3) + l2;
  pot &= is_tanh ? (left_shift == 0 || left_shift == 1) : left_shift == 0;
  if (pot) {
    mult = 0;
  } else {
    double m = (double)si * 4096.0 * 3.0;
    left_shift = 0;
    while (m <= 32767.0 / 2.0 && left_shift <= 30) left_shift++, m = m * 2.0;
    mult = (int32_t)m;
  }
  if (mult == 0) mult = 3 << left_shift, left_shift = 0;
  const int32_t round_ = left_shift > 0 ? 1 << (left_shift - 1) : 0;
  for (long i = 0; i < n; i++) {
    const int32_t d = (x[i] * mult + round_) >> left_shift;
    const uint32_t mag = (uint32_t)abs(d);
    if (!is_tanh) {
      const uint32_t uh = mag >> 9;
      uint32_t res;
      if (uh >= 255) {
        res = 0x7FFF << 10;
      } else {
        const uint32_t ua = sigmoid_table_uint16[uh], ub = sigmoid_table_uint16[uh + 1], ut = mag & 0x1ff;
        res = (ua << 9) + ut * (ub - ua);
      }
      res = d >= 0 ? res + (1 << 9) : (1 << (16 + 9)) - res + (1 << 9) - 1;
      res >>= 10;
      r[i] = (int16_t)res;
    } else {
      const uint32_t uh = mag >> 8;
      int32_t res;
      if (uh >= 255) {
        res = 0xFFFF << 8;
      } else {
        const uint32_t ua = sigmoid_table_uint16[uh], ub = sigmoid_table_uint16[uh + 1];
        const uint8_t ut = mag & 0xFF;
        res = (int32_t)((ua << 8) + ut * (ub - ua));
      }
      res = d >= 0 ? res - (1 << (14 + 9)) + (1 << (9 - 2)) : -res + (1 << (14 + 9)) + (1 << (9 - 2)) - 1;
      res >>= 9 - 1;
      r[i] = (int16_t)res;
    }
  }
  write_ints(dir, "in0.bin", x, n, 16);
  write_ints(dir, "ref.bin", r, n, 16);
  return 0;
}

/* ------------------------------------- reference_ops::BatchMatMul (batch_matmul.cc) */
static int bmm(const char *dir, char **a) {
  const char *t = a[0];
  long B = atol(a[1]), M = atol(a[2]), K = atol(a[3]), N = atol(a[4]);
  int adj_x = atoi(a[5]), adj_y = atoi(a[6]);
  long nx = B * M * K, ny = K * N, no = B * M * N; /* y is shared by the batch (broadcast) */
#define XAT(b, i, k) ((b) * M * K + (adj_x ? (k) * M + (i) : (i) * K + (k)))
#define YAT(k, j) (adj_y ? (j) * K + (k) : (k) * N + (j))
  if (!strcmp(t, "f32")) {
    float *x = malloc(sizeof *x * (size_t)nx), *y = malloc(sizeof *y * (size_t)ny), *r = malloc(sizeof *r * (size_t)no);
    fill_f32(x, nx);
    fill_f32(y, ny);
    for (long b = 0; b < B; b++)
      for (long i = 0; i < M; i++)
        for (long j = 0; j < N; j++) {
          float total = 0.0f;
          for (long k = 0; k < K; k++) total += x[XAT(b, i, k)] * y[YAT(k, j)];
          r[b * M * N + i * N + j] = total;
        }
    write_file(dir, "in0.bin", x, sizeof *x * (size_t)nx);
    write_file(dir, "in1.bin", y, sizeof *y * (size_t)ny);
    write_file(dir, "ref.bin", r, sizeof *r * (size_t)no);
    return 0;
  }
  int bits = !strcmp(t, "i8") ? 8 : 16;
  float sx = strtof(a[7], NULL), sy = strtof(a[9], NULL), so = strtof(a[11], NULL);
  int32_t zx = atoi(a[8]), zy = atoi(a[10]), zo = atoi(a[12]);
  int32_t *x = malloc(sizeof *x * (size_t)nx), *y = malloc(sizeof *y * (size_t)ny), *r = malloc(sizeof *r * (size_t)no), q;
  int e;
  fill_int(x, nx, bits);
  fill_int(y, ny, bits);
  /* GetQuantizedConvolutionMultipler: the scale product in float */
  quantize_multiplier((double)(sx * sy) / (double)so, &q, &e);
  const int32_t lo = -(1 << (bits - 1)), hi = (1 << (bits - 1)) - 1;
  for (long b = 0; b < B; b++)
    for (long i = 0; i < M; i++)
      for (long j = 0; j < N; j++) {
        int64_t total = 0;
        for (long k = 0; k < K; k++) total += (int64_t)(y[YAT(k, j)] - zy) * (x[XAT(b, i, k)] - zx);
        int32_t v = bits == 8 ? mbqm((int32_t)total, q, e) : mbqm64(total, q, e);
        r[b * M * N + i * N + j] = clamp(v + zo, lo, hi);
      }
  write_ints(dir, "in0.bin", x, nx, bits);
  write_ints(dir, "in1.bin", y, ny, bits);
  write_ints(dir, "ref.bin", r, no, bits);
  return 0;
}

/* ---------------- reference_ops::TransposeConv, reference_integer_ops::TransposeConv:
 * the scatter into an output-sized scratch, then bias, requantization, activation. */
static int tconv(const char *dir, char **a) {
  const char *t = a[0];
  const long N = atol(a[1]), H = atol(a[2]), W = atol(a[3]), C = atol(a[4]), O = atol(a[5]);
  const long KH = atol(a[6]), KW = atol(a[7]), OH = atol(a[8]), OW = atol(a[9]), sh = atol(a[10]), sw = atol(a[11]);
  const int same = atoi(a[12]);
  const double lo = atof(a[13]), hi = atof(a[14]);
  /* ComputePaddingHeightWidth with the output size as the forward input */
  long fh = same ? (OH + sh - 1) / sh : (OH + sh - KH) / sh, fw = same ? (OW + sw - 1) / sw : (OW + sw - KW) / sw;
  long pt = (fh - 1) * sh + KH - OH, pl = (fw - 1) * sw + KW - OW;
  pt = pt > 0 ? pt / 2 : 0, pl = pl > 0 ? pl / 2 : 0;
  const long nx = N * H * W * C, nw = O * KH * KW * C, no = N * OH * OW * O;
  const int flt = !strcmp(t, "f32"), bits = !strcmp(t, "i16") ? 16 : 8;
  double *acc = calloc((size_t)no, sizeof *acc);
  float *xf = malloc(sizeof(float) * (size_t)nx), *wf = malloc(sizeof(float) * (size_t)nw), *bf = malloc(sizeof(float) * (size_t)O);
  int32_t *xi = malloc(sizeof(int32_t) * (size_t)nx), *wi = malloc(sizeof(int32_t) * (size_t)nw);
  int64_t *bi = malloc(sizeof(int64_t) * (size_t)O), *acci = calloc((size_t)no, sizeof(int64_t));
  float *accf = calloc((size_t)no, sizeof(float));
  (void)acc;
  int32_t zx = 0;
  if (flt) {
    fill_f32(xf, nx), fill_f32(wf, nw), fill_f32(bf, O);
  } else {
    zx = atoi(a[16]);
    fill_int(xi, nx, bits), fill_int(wi, nw, 8);
    for (long c = 0; c < O; c++) bi[c] = (int64_t)(int32_t)next() >> (bits == 8 ? 18 : 10);
  }
  for (long b = 0; b < N; b++)
    for (long iy = 0; iy < H; iy++)
      for (long ix = 0; ix < W; ix++)
        for (long ic = 0; ic < C; ic++)
          for (long ky = 0; ky < KH; ky++)
            for (long kx = 0; kx < KW; kx++)
              for (long oc = 0; oc < O; oc++) {
                long oy = iy * sh - pt + ky, ox = ix * sw - pl + kx;
                if (oy < 0 || oy >= OH || ox < 0 || ox >= OW) continue;
                long o = ((b * OH + oy) * OW + ox) * O + oc, xo = ((b * H + iy) * W + ix) * C + ic,
                     wo = ((oc * KH + ky) * KW + kx) * C + ic;
                if (flt) accf[o] += xf[xo] * wf[wo];
                else acci[o] += (int64_t)(xi[xo] - zx) * wi[wo];
              }
  if (flt) {
    float *r = malloc(sizeof(float) * (size_t)no);
    for (long i = 0; i < no; i++) {
      float v = accf[i] + bf[i % O];
      v = v < (float)lo ? (float)lo : v, v = v > (float)hi ? (float)hi : v;
      r[i] = v;
    }
    write_file(dir, "in0.bin", xf, sizeof(float) * (size_t)nx);
    write_file(dir, "in1.bin", wf, sizeof(float) * (size_t)nw);
    write_file(dir, "in2.bin", bf, sizeof(float) * (size_t)O);
    write_file(dir, "ref.bin", r, sizeof(float) * (size_t)no);
    return 0;
  }
  const float sx = strtof(a[15], NULL), so = strtof(a[18], NULL);
  const int32_t zo = atoi(a[19]);
  float *swc = malloc(sizeof(float) * (size_t)O);
  char *p = a[17];
  for (long c = 0; c < O; c++) swc[c] = strtof(p, &p), p += *p == ',';
  int32_t *r = malloc(sizeof(int32_t) * (size_t)no);
  for (long i = 0; i < no; i++) {
    long c = i % O;
    int32_t q;
    int e;
    /* PopulateConvolutionQuantizationParams */
    quantize_multiplier((double)sx * (double)swc[c] / (double)so, &q, &e);
    int32_t v;
    if (bits == 8) v = mbqm((int32_t)(acci[i] + bi[c]), q, e) + zo;
    else v = mbqm64(acci[i] + bi[c], q, e);
    r[i] = clamp(v, (int32_t)lo, (int32_t)hi);
  }
  int32_t *b32 = malloc(sizeof(int32_t) * (size_t)O);
  for (long c = 0; c < O; c++) b32[c] = (int32_t)bi[c];
  write_ints(dir, "in0.bin", xi, nx, bits);
  write_ints(dir, "in1.bin", wi, nw, 8);
  if (bits == 8) write_file(dir, "in2.bin", b32, sizeof(int32_t) * (size_t)O);
  else write_file(dir, "in2.bin", bi, sizeof(int64_t) * (size_t)O);
  write_ints(dir, "ref.bin", r, no, bits);
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 10 && !strcmp(argv[2], "binary16")) return binary16(argv[1], argv + 3);
  if (argc >= 10 && !strcmp(argv[2], "requant")) return requant(argv[1], argv + 3);
  if (argc >= 10 && !strcmp(argv[2], "act16")) return act16(argv[1], argv + 3);
  if (argc >= 18 && !strcmp(argv[2], "tconv")) return tconv(argv[1], argv + 3);
  if (argc >= 6 && !strcmp(argv[2], "sig16")) return sig16(argv[1], argv + 3);
  if (argc >= 10 && !strcmp(argv[2], "bmm")) return bmm(argv[1], argv + 3);
  fprintf(stderr, "usage: see the comment at the top of tflm_oracle.c\n");
  return 2;
}
