/* runtime/board.h: what a program running on an emulated board gets from runtime/: output and
 * exit through semihosting (semihost.c), and the stack high-water mark (crt.c). */
#ifndef TINYML_RUNTIME_BOARD_H
#define TINYML_RUNTIME_BOARD_H

#include <stddef.h>
#include <stdint.h>

/* Semihosting: QEMU runs with -semihosting. */
void tm_semihost_write(const char *s); /* SYS_WRITE0: a NUL-terminated string to stdout */
_Noreturn void tm_semihost_exit(int code); /* SYS_EXIT_EXTENDED: QEMU exits with `code` */

/* Writes the decimal / hexadecimal text of v after s (no printf: keeps flash small and the
 * measured program free of stdio). */
void tm_write_u64(const char *s, uint64_t v);
void tm_write_hex(const char *s, uint32_t v);

/* Stack high-water mark.  The free stack is filled with TM_STACK_PAINT; a word that no longer
 * holds it was used.  crt.c paints everything below the reset stack pointer;
 * tm_stack_paint() repaints below its caller's frame, so that tm_stack_used(sp) right after
 * a call made at stack pointer sp tells how deep that call went. */
#define TM_STACK_PAINT 0xA5A5A5A5u
void tm_stack_paint(void);
size_t tm_stack_used(uintptr_t sp); /* bytes between sp and the deepest word used */
int tm_stack_overflowed(void);      /* the bottom word was overwritten */

static inline uintptr_t tm_stack_pointer(void) {
  uintptr_t sp;
#if defined(__arm__)
  __asm__ volatile("mov %0, sp" : "=r"(sp));
#else
  __asm__ volatile("mv %0, sp" : "=r"(sp));
#endif
  return sp;
}

/* Reports an unexpected trap (fault, illegal instruction) and exits with code 3. */
_Noreturn void tm_fault(const char *what, uint32_t cause, uint32_t pc);

#endif /* TINYML_RUNTIME_BOARD_H */
