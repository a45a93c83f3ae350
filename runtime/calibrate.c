/* runtime/calibrate.c: checks the instruction counter against a loop of known length.
 *
 * The loop is 2n+1 instructions (one move, then n times a decrement and a branch), in one
 * asm statement so that the compiler adds nothing to it.  The program prints one line,
 *   tinyml: calibrate target=T n=N expected=2N+1 ticks=K empty=E wraps=W instructions=I
 * with instructions computed the way harness.c computes them (Cortex-M: ticks * 1e9 /
 * TM_COUNTER_HZ; RISC-V: instret delta minus the empty-region delta); run-on-qemu.py
 * --calibrate checks it against the expected count.  wraps: SysTick exceptions taken in the
 * region, whose handler's few instructions the Cortex-M count includes. */
#include "runtime/board.h"
#include "runtime/counter.h"

#ifndef TM_CALIB_N
#define TM_CALIB_N 100000000u
#endif
#ifndef TM_TARGET
#define TM_TARGET "unknown"
#endif

static volatile uint32_t calib_n = TM_CALIB_N; /* volatile: no constant folding into the loop */

int main(void) {
  tm_counter_init();
  tm_counter_t e0 = tm_counter_read(), e1 = tm_counter_read();
  uint32_t n = calib_n;
  __asm__ volatile("" : "+r"(n)::"memory"); /* n is in a register before the region starts */
  tm_counter_t a = tm_counter_read();
#if defined(__arm__)
  __asm__ volatile(".syntax unified\n\t" /* GCC gives Thumb-1 inline asm the old syntax */
                   "mov r0, %0\n"
                   "1:\n\t"
                   "subs r0, r0, #1\n\t"
                   "bne 1b"
                   :
                   : "r"(n)
                   : "r0", "cc", "memory");
#else
  __asm__ volatile("mv t0, %0\n"
                   "1:\n\t"
                   "addi t0, t0, -1\n\t"
                   "bnez t0, 1b"
                   :
                   : "r"(n)
                   : "t0", "memory");
#endif
  tm_counter_t b = tm_counter_read();
  uint64_t ticks = tm_counter_ticks(a, b), empty = tm_counter_ticks(e0, e1);
#if defined(__arm__)
  uint64_t instructions = ticks * 1000000000u / TM_COUNTER_HZ;
  uint32_t wraps = b.hi - a.hi; /* SysTick exceptions taken inside the region */
#else
  uint64_t instructions = ticks - empty;
  uint32_t wraps = 0;
#endif
  tm_semihost_write("tinyml: calibrate target=" TM_TARGET);
  tm_write_u64(" n=", n);
  tm_write_u64(" expected=", 2 * (uint64_t)n + 1);
  tm_write_u64(" ticks=", ticks);
  tm_write_u64(" empty=", empty);
  tm_write_u64(" wraps=", wraps);
  tm_write_u64(" instructions=", instructions);
  tm_semihost_write("\n");
  return 0;
}
