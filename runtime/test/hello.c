/* runtime/test/hello.c: y = clamp(round_half_up((3x + 7) / 2) - 1, -128, 127) on int8,
 * through an int16 buffer in the arena; make_goldens.py computes the same in Python. */
#include <stdint.h>

#include "hello.h"

int hello_invoke(void *arena, const void *const inputs[], void *const outputs[]) {
  if (!arena || ((uintptr_t)arena & 15u) || !inputs || !inputs[0] || !outputs || !outputs[0]) return -1;
  const int8_t *x = inputs[0];
  int16_t *t = arena;
  int8_t *y = outputs[0];
  for (int i = 0; i < 16; i++) t[i] = (int16_t)(3 * x[i] + 7);
  for (int i = 0; i < 16; i++) {
    int v = (t[i] + 1) / 2 - ((t[i] + 1) % 2 < 0) - 1; /* floor((t + 1) / 2) - 1 */
    y[i] = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
  }
  return 0;
}
