/* Runs a model whose inputs and outputs live in the arena (NAME_INPUTi_OFFSET) every way
 * the header contract allows, on one input file, and prints each run's first output as
 * signed bytes:
 *   arena:  input written at arena + OFFSET, NULL arrays, output read at arena + OFFSET
 *   copy:   pointers in both arrays (copied in and out)
 *   mixed:  NULL input entry (already in the arena), a pointer for the output
 * then the -1 returns (NULL or misaligned arena).
 *
 *   cc -DMODEL=NAME -include NAME.h io_in_arena.c NAME.c|NAME.a -o run;  run in0.bin */
#include <stdio.h>
#include <string.h>

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define M(x) CAT(MODEL, x)

static _Alignas(16) unsigned char arena[M(_ARENA_BYTES) + 16];
static unsigned char in[M(_INPUT0_BYTES)], out[M(_OUTPUT0_BYTES)];

static void show(const char *how, int rc, const unsigned char *y) {
  printf("%s: rc=%d", how, rc);
  for (int i = 0; i < M(_OUTPUT0_BYTES); i++) printf(" %d", (signed char)y[i]);
  printf("\n");
}

int main(int argc, char **argv) {
  FILE *f = argc == 2 ? fopen(argv[1], "rb") : NULL;
  if (!f || fread(in, 1, sizeof in, f) != sizeof in) return 2;
  fclose(f);
  _Static_assert(M(_INPUT0_OFFSET) % 16 == 0 && M(_INPUT0_OFFSET) + M(_INPUT0_BYTES) <= M(_ARENA_BYTES), "input");
  _Static_assert(M(_OUTPUT0_OFFSET) + M(_OUTPUT0_BYTES) <= M(_ARENA_BYTES), "output");

  memset(arena, 0xA5, sizeof arena);
  memcpy(arena + M(_INPUT0_OFFSET), in, sizeof in);
  show("arena", M(_invoke)(arena, NULL, NULL), arena + M(_OUTPUT0_OFFSET));

  const void *inputs[1] = {in};
  void *outputs[1] = {out};
  memset(arena, 0xA5, sizeof arena);
  memset(out, 0x5A, sizeof out);
  show("copy", M(_invoke)(arena, inputs, outputs), out);

  const void *no_input[1] = {NULL};
  memset(arena, 0xA5, sizeof arena);
  memset(out, 0x5A, sizeof out);
  memcpy(arena + M(_INPUT0_OFFSET), in, sizeof in);
  show("mixed", M(_invoke)(arena, no_input, outputs), out);

  printf("null arena: %d\n", M(_invoke)(NULL, inputs, outputs));
  printf("misaligned arena: %d\n", M(_invoke)(arena + 1, inputs, outputs));
  return 0;
}
