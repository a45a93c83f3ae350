/* runtime/counter.h: counting the instructions a region of code executes.
 *
 *   tm_counter_init();                        once
 *   tm_counter_t a = tm_counter_read();
 *   ... region ...
 *   tm_counter_t b = tm_counter_read();
 *   uint64_t n = tm_counter_ticks(a, b);      Cortex-M: SysTick ticks; RISC-V: instret delta
 *
 * Cortex-M: QEMU's SysTick with CLKSOURCE = processor clock runs at the board's SYSCLK, and
 * under -icount shift=0 the virtual clock advances 1 ns per instruction, so instructions =
 * ticks * 1e9 / TM_COUNTER_HZ (x40 on the 25 MHz mps2 boards), within one tick.  This is how
 * ../shared/baseline measured TFLite Micro.  SysTick counts down from a 24-bit reload value;
 * its exception counts the wraps (tm_systick_wraps, arm/startup.c), so regions longer than
 * 2^24 ticks (671M instructions at 25 MHz) measure right too.
 *
 * RISC-V: the instret CSR counts retired instructions exactly at -icount shift=0 (it scales
 * with other shifts).  Subtract the delta of an empty region (tm_counter_ticks of two
 * back-to-back reads) to get the region's own count. */
#ifndef TINYML_RUNTIME_COUNTER_H
#define TINYML_RUNTIME_COUNTER_H

#include <stdint.h>

typedef struct {
  uint32_t hi, lo; /* Cortex-M: SysTick wraps and SYST_CVR; RISC-V: instreth and instret */
} tm_counter_t;

#if defined(__arm__)

#define TM_SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define TM_SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define TM_SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define TM_SYST_ENABLE 1u
#define TM_SYST_TICKINT 2u
#define TM_SYST_CLKSOURCE 4u /* the processor clock, not the external reference clock */
#ifndef TM_SYSTICK_RELOAD
#define TM_SYSTICK_RELOAD 0xFFFFFFu /* the largest; a test build shrinks it to exercise wraps */
#endif

extern volatile uint32_t tm_systick_wraps; /* incremented by SysTick_Handler (arm/startup.c) */

static inline void tm_counter_init(void) {
  TM_SYST_CSR = 0;
  TM_SYST_RVR = TM_SYSTICK_RELOAD;
  TM_SYST_CVR = 0; /* clears the count; it reloads on the next tick */
  tm_systick_wraps = 0;
  TM_SYST_CSR = TM_SYST_ENABLE | TM_SYST_TICKINT | TM_SYST_CLKSOURCE;
}

/* Kept to two loads so that little else lands inside the measured region; the arithmetic
 * is left to tm_counter_ticks. */
static inline tm_counter_t tm_counter_read(void) {
  tm_counter_t c;
  do {
    c.hi = tm_systick_wraps;
    c.lo = TM_SYST_CVR;
  } while (c.hi != tm_systick_wraps);
  return c;
}

/* Ticks since tm_counter_init.  The counter goes R, R-1, ..., 1, 0 and the SysTick exception
 * fires as it reaches 0 (QEMU: "trigger only on decrement"), then it reloads R; so a
 * reading of 0 already has its wrap counted and the others do not yet. */
static inline uint64_t tm_counter_value(tm_counter_t c) {
  const uint64_t period = (uint64_t)TM_SYSTICK_RELOAD + 1;
  return c.lo ? (uint64_t)(c.hi + 1) * period - c.lo : (uint64_t)c.hi * period;
}

#elif defined(__riscv)

static inline void tm_counter_init(void) {}

static inline tm_counter_t tm_counter_read(void) {
  tm_counter_t c;
  uint32_t again;
  do {
    __asm__ volatile("rdinstreth %0" : "=r"(c.hi));
    __asm__ volatile("rdinstret %0" : "=r"(c.lo));
    __asm__ volatile("rdinstreth %0" : "=r"(again));
  } while (again != c.hi);
  return c;
}

static inline uint64_t tm_counter_value(tm_counter_t c) { return (uint64_t)c.hi << 32 | c.lo; }

#else
#error "runtime/counter.h: no instruction counter for this architecture"
#endif

static inline uint64_t tm_counter_ticks(tm_counter_t start, tm_counter_t end) {
  return tm_counter_value(end) - tm_counter_value(start);
}

#endif /* TINYML_RUNTIME_COUNTER_H */
