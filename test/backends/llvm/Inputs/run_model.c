/* Runs the model of a generated NAME.h + NAME.a (or NAME.c) on raw tensor files and
 * compares every output with reference bytes: integers exactly, floats (-f) within
 * max|diff| <= 1e-5 * max|ref| + 1e-6 (the tolerance of ../shared/models/README.md);
 * with -o it writes the outputs to those files instead.
 *
 *   cc -DMODEL=NAME -include NAME.h run_model.c NAME.a -lm -o run
 *   run [-f|-o] in0.bin ... ref0.bin ... [in0.bin ... ref0.bin ...]   (groups of
 *        NUM_INPUTS inputs then NUM_OUTPUTS references, one group per run)
 *
 * Prints one line per output, then checks the -1 returns of the header contract. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define M(x) CAT(MODEL, x)

static const long in_bytes[] = {M(_INPUT0_BYTES)
#if M(_NUM_INPUTS) > 1
                                , M(_INPUT1_BYTES)
#endif
};
static const long out_bytes[] = {M(_OUTPUT0_BYTES)
#if M(_NUM_OUTPUTS) > 1
                                 , M(_OUTPUT1_BYTES)
#endif
};
static _Alignas(16) unsigned char arena[M(_ARENA_BYTES) + 16];

static unsigned char *read_file(const char *path, long want) {
  FILE *f = fopen(path, "rb");
  unsigned char *buf = malloc((size_t)want + 1);
  long n = f ? (long)fread(buf, 1, (size_t)want + 1, f) : -1;
  if (f) fclose(f);
  if (n != want) {
    fprintf(stderr, "%s: expected %ld bytes, got %ld\n", path, want, n);
    exit(2);
  }
  return buf;
}

int main(int argc, char **argv) {
  int is_float = argc > 1 && !strcmp(argv[1], "-f"), write = argc > 1 && !strcmp(argv[1], "-o");
  int first = 1 + (is_float || write), group = M(_NUM_INPUTS) + M(_NUM_OUTPUTS), bad = 0;
  if (M(_NUM_INPUTS) > 2 || M(_NUM_OUTPUTS) > 2 || argc == first || (argc - first) % group)
    return fprintf(stderr, "usage: run [-f|-o] inputs... references... [...]\n"), 2;
  const void *inputs[2] = {NULL, NULL};
  void *outputs[2] = {NULL, NULL};
  for (int a = first; a < argc; a += group) {
    unsigned char *refs[2];
    for (int i = 0; i < M(_NUM_INPUTS); i++) inputs[i] = read_file(argv[a + i], in_bytes[i]);
    for (int i = 0; i < M(_NUM_OUTPUTS); i++) {
      refs[i] = write ? NULL : read_file(argv[a + M(_NUM_INPUTS) + i], out_bytes[i]);
      outputs[i] = calloc(1, (size_t)out_bytes[i]);
    }
    int rc = M(_invoke)(arena, inputs, outputs);
    for (int i = 0; write && i < M(_NUM_OUTPUTS); i++) {
      FILE *f = fopen(argv[a + M(_NUM_INPUTS) + i], "wb");
      bad |= !f || fwrite(outputs[i], 1, (size_t)out_bytes[i], f) != (size_t)out_bytes[i] || fclose(f) || rc;
      printf("rc=%d output %d: written\n", rc, i);
    }
    for (int i = 0; !write && i < M(_NUM_OUTPUTS); i++) {
      int ok = !memcmp(outputs[i], refs[i], (size_t)out_bytes[i]);
      if (is_float) {
        float maxref = 0, maxdiff = 0, *o = outputs[i], *r = (float *)refs[i];
        for (long k = 0; k < out_bytes[i] / 4; k++) {
          if (fabsf(r[k]) > maxref) maxref = fabsf(r[k]);
          if (!(fabsf(o[k] - r[k]) <= maxdiff)) maxdiff = fabsf(o[k] - r[k]);
        }
        ok = maxdiff <= 1e-5f * maxref + 1e-6f;
      }
      printf("rc=%d output %d: %s\n", rc, i, ok ? (is_float ? "within tolerance" : "exact") : "MISMATCH");
      bad |= !ok || rc;
    }
  }
  const void *no_inputs[2] = {NULL, NULL};
  printf("null input: %d\n", M(_invoke)(arena, no_inputs, outputs));
  printf("null outputs: %d\n", M(_invoke)(arena, inputs, NULL));
#if M(_ARENA_BYTES) > 0
  printf("misaligned arena: %d\n", M(_invoke)(arena + 1, inputs, outputs));
#endif
  return bad;
}
