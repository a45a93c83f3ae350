/* runtime/crt.c: C run-time start shared by the boards (called by arm/startup.c's reset
 * handler and riscv/start.S once the stack pointer is set): initialized data, zeroed data,
 * thread pointer, stack paint, then main; its return value becomes QEMU's exit code. */
#include <string.h>

#include "runtime/board.h"

/* From sections.ld. */
extern char __data_start[], __data_end[], __data_source[], __bss_start[], __bss_end[];
extern char __tls_base[], __stack_limit[];
extern void (*const __init_array_start[])(void), (*const __init_array_end[])(void);

void _set_tls(void *tls); /* picolibc: errno lives in thread-local storage */
int main(void);
_Noreturn void tm_crt_start(void);

/* Word by word through a volatile pointer: a memset call here would put its own frame in
 * the area being painted. */
static void paint(uintptr_t from, uintptr_t to) {
  for (volatile uint32_t *p = (uint32_t *)from; (uintptr_t)p < to; p++) *p = TM_STACK_PAINT;
}

__attribute__((noinline)) void tm_stack_paint(void) { paint((uintptr_t)__stack_limit, tm_stack_pointer()); }

size_t tm_stack_used(uintptr_t sp) {
  const uint32_t *p = (const uint32_t *)(uintptr_t)__stack_limit;
  while ((uintptr_t)p < sp && *p == TM_STACK_PAINT) p++;
  return (uintptr_t)p < sp ? sp - (uintptr_t)p : 0;
}

int tm_stack_overflowed(void) { return *(const volatile uint32_t *)(uintptr_t)__stack_limit != TM_STACK_PAINT; }

_Noreturn void tm_fault(const char *what, uint32_t cause, uint32_t pc) {
  tm_semihost_write("tinyml: error=");
  tm_semihost_write(what);
  tm_write_hex(" cause=", cause);
  tm_write_hex(" pc=", pc);
  tm_semihost_write("\n");
  tm_semihost_exit(3);
}

_Noreturn void tm_crt_start(void) {
  memcpy(__data_start, __data_source, (size_t)(__data_end - __data_start));
  memset(__bss_start, 0, (size_t)(__bss_end - __bss_start));
  _set_tls(__tls_base);
  paint((uintptr_t)__stack_limit, tm_stack_pointer());
  for (void (*const *f)(void) = __init_array_start; f < __init_array_end; f++) (*f)();
  tm_semihost_exit(main());
}
