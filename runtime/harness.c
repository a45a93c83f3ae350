/* runtime/harness.c: runs a generated model (the NAME.h / NAME_invoke contract of the C and
 * LLVM backends) on the embedded test data of harness.h, and prints one line:
 *
 *   tinyml: model=M target=T cases=N ok=1 bitexact=1 rc=0 instructions=I ticks=K empty=E
 *           stack_bytes=S stack_overflow=0 arena_bytes=A
 *
 * Every case runs once (the first run is the warm-up), then case 0 runs again between two
 * counter reads: that run is the one measured, and its outputs are checked too.  ok: every
 * output matched (int outputs byte for byte; float32 outputs within max|diff| <= 1e-5 *
 * max|ref| + 1e-6, per output tensor); bitexact: every byte matched.  stack_bytes: how deep
 * the measured call went below the caller's stack pointer.  The exit code is 0 when ok and
 * every call returned 0.
 *
 * A header with NAME_INPUTi_OFFSET / NAME_OUTPUTi_OFFSET (inputs and outputs in the arena)
 * gets its inputs written into the arena and its outputs read there, NULL pointers passed:
 * no separate input/output buffers, as on a device, so RAM = arena + stack + .data/.bss.
 *
 * Build with -DMODEL=name -DMODEL_HEADER=name.h -DTM_TARGET='"cortex-m4"' -DTM_COUNTER_HZ=hz
 * (boards.def); run-on-qemu.py does. */
#include <string.h>

#include "runtime/board.h"
#include "runtime/counter.h"
#include "runtime/harness.h"

#define TM_STR_(x) #x
#define TM_STR(x) TM_STR_(x)
#define TM_CAT_(a, b) a##b
#define TM_CAT(a, b) TM_CAT_(a, b)

#include TM_STR(MODEL_HEADER)

#define INVOKE TM_CAT(MODEL, _invoke)
#define ARENA_BYTES TM_CAT(MODEL, _ARENA_BYTES)
#define NUM_INPUTS TM_CAT(MODEL, _NUM_INPUTS)
#define NUM_OUTPUTS TM_CAT(MODEL, _NUM_OUTPUTS)

#ifndef TM_COUNTER_HZ
#error "TM_COUNTER_HZ (boards.def) is required"
#endif

static unsigned char arena[ARENA_BYTES > 0 ? ARENA_BYTES : 16] __attribute__((aligned(16)));
static const void *inputs[NUM_INPUTS + 1];
static void *outputs[NUM_OUTPUTS + 1];
static int reported; /* only the first mismatch is printed */

/* Where tensor t lives: its own buffer or the arena. */
static unsigned char *data_of(const tm_tensor *t) {
  return t->arena_offset >= 0 ? arena + t->arena_offset : (unsigned char *)t->buf;
}

/* Outputs and the whole arena poisoned, so that an output the model leaves unwritten cannot
 * pass on the previous case's values; then fresh inputs (last: in the arena, an input may
 * share bytes with an output, which the model writes once the input is dead). */
static void load(uint32_t c) {
  memset(arena, 0x5A, sizeof arena);
  for (uint32_t o = 0; o < tm_num_outputs; o++) memset(data_of(&tm_outputs[o]), 0x5A, tm_outputs[o].bytes);
  for (uint32_t i = 0; i < tm_num_inputs; i++)
    memcpy(data_of(&tm_inputs[i]), tm_case_inputs[c * tm_num_inputs + i], tm_inputs[i].bytes);
}

static float f32_at(const unsigned char *p, uint32_t i) {
  float f;
  memcpy(&f, p + 4 * i, 4);
  return f;
}

static float absf(float x) { return x < 0 ? -x : x; }

static void mismatch(uint32_t c, uint32_t o, uint32_t i, uint32_t got, uint32_t want) {
  if (reported++) return;
  tm_write_u64("tinyml: mismatch case=", c);
  tm_write_u64(" output=", o);
  tm_write_u64(" index=", i);
  tm_write_hex(" got=", got);
  tm_write_hex(" want=", want);
  tm_semihost_write("\n");
}

/* Returns 1 when output o of case c matches its golden; clears *exact on any byte difference. */
static int check(uint32_t c, int *exact) {
  int ok = 1;
  for (uint32_t o = 0; o < tm_num_outputs; o++) {
    const tm_tensor *t = &tm_outputs[o];
    const unsigned char *got = data_of(t), *want = tm_case_outputs[c * tm_num_outputs + o];
    if (!memcmp(got, want, t->bytes)) continue;
    *exact = 0;
    if (!t->is_f32) {
      uint32_t i = 0;
      while (got[i] == want[i]) i++;
      mismatch(c, o, i, got[i], want[i]);
      ok = 0;
      continue;
    }
    uint32_t n = t->bytes / 4;
    float max_ref = 0;
    for (uint32_t i = 0; i < n; i++)
      if (absf(f32_at(want, i)) > max_ref) max_ref = absf(f32_at(want, i));
    float tol = 1e-5f * max_ref + 1e-6f;
    for (uint32_t i = 0; i < n; i++) {
      float g = f32_at(got, i), w = f32_at(want, i);
      if (!(absf(g - w) <= tol)) { /* written so that a NaN fails */
        uint32_t gb, wb;
        memcpy(&gb, got + 4 * i, 4);
        memcpy(&wb, want + 4 * i, 4);
        mismatch(c, o, i, gb, wb);
        ok = 0;
        break;
      }
    }
  }
  return ok;
}

int main(void) {
  tm_counter_init();
  for (uint32_t i = 0; i < tm_num_inputs; i++) inputs[i] = tm_inputs[i].arena_offset >= 0 ? NULL : tm_inputs[i].buf;
  for (uint32_t o = 0; o < tm_num_outputs; o++) outputs[o] = tm_outputs[o].arena_offset >= 0 ? NULL : tm_outputs[o].buf;

  int ok = 1, exact = 1, rc = 0;
  for (uint32_t c = 0; c < tm_num_cases; c++) {
    load(c);
    rc |= INVOKE(arena, inputs, outputs);
    ok &= check(c, &exact);
  }

  load(0);
  tm_stack_paint();
  uintptr_t sp = tm_stack_pointer();
  tm_counter_t e0 = tm_counter_read(), e1 = tm_counter_read();
  tm_counter_t t0 = tm_counter_read();
  rc |= INVOKE(arena, inputs, outputs);
  tm_counter_t t1 = tm_counter_read();
  size_t stack = tm_stack_used(sp);
  ok &= check(0, &exact);

  uint64_t ticks = tm_counter_ticks(t0, t1), empty = tm_counter_ticks(e0, e1);
#if TM_COUNTER_HZ
  uint64_t instructions = ticks * 1000000000u / TM_COUNTER_HZ; /* 1 ns per instruction */
#else
  uint64_t instructions = ticks - empty; /* instret */
#endif
  tm_semihost_write("tinyml: model=");
  tm_semihost_write(tm_model_name);
  tm_semihost_write(" target=");
  tm_semihost_write(tm_target_name);
  tm_write_u64(" cases=", tm_num_cases);
  tm_write_u64(" ok=", (uint64_t)(ok && !rc));
  tm_write_u64(" bitexact=", (uint64_t)(exact && !rc));
  tm_write_u64(" rc=", (uint64_t)(rc != 0));
  tm_write_u64(" instructions=", instructions);
  tm_write_u64(" ticks=", ticks);
  tm_write_u64(" empty=", empty);
  tm_write_u64(" stack_bytes=", stack);
  tm_write_u64(" stack_overflow=", (uint64_t)tm_stack_overflowed());
  tm_write_u64(" arena_bytes=", ARENA_BYTES);
  tm_semihost_write("\n");
  return ok && !rc ? 0 : 1;
}
