/* runtime/semihost.c: Arm semihosting (QEMU -semihosting) on Cortex-M and RISC-V. */
#include "runtime/board.h"

enum {
  SYS_WRITE0 = 0x04,
  SYS_EXIT = 0x18,
  SYS_EXIT_EXTENDED = 0x20,
  ADP_STOPPED_APPLICATION_EXIT = 0x20026,
  ADP_STOPPED_RUNTIME_ERROR_UNKNOWN = 0x20023,
};

/* noinline: the RISC-V sequence must sit in one aligned place (see below). */
__attribute__((noinline)) static uintptr_t semihost_call(uintptr_t op, uintptr_t arg) {
#if defined(__arm__)
  register uintptr_t r0 __asm__("r0") = op;
  register uintptr_t r1 __asm__("r1") = arg;
  __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory"); /* the M-profile trap */
  return r0;
#elif defined(__riscv)
  register uintptr_t a0 __asm__("a0") = op;
  register uintptr_t a1 __asm__("a1") = arg;
  /* The RISC-V semihosting trap is this exact uncompressed triple, in one page (hence the
   * alignment), so that a debugger can tell it from a plain ebreak. */
  __asm__ volatile(".option push\n"
                   ".option norvc\n"
                   ".balign 16\n"
                   "slli zero, zero, 0x1f\n"
                   "ebreak\n"
                   "srai zero, zero, 7\n"
                   ".option pop\n"
                   : "+r"(a0)
                   : "r"(a1)
                   : "memory");
  return a0;
#else
#error "runtime/semihost.c: no semihosting trap for this architecture"
#endif
}

void tm_semihost_write(const char *s) { semihost_call(SYS_WRITE0, (uintptr_t)s); }

_Noreturn void tm_semihost_exit(int code) {
  /* On 32-bit targets SYS_EXIT only tells success from failure; SYS_EXIT_EXTENDED carries
   * the code.  The plain call is the fallback for hosts without the extension. */
  uintptr_t block[2] = {ADP_STOPPED_APPLICATION_EXIT, (uintptr_t)code};
  semihost_call(SYS_EXIT_EXTENDED, (uintptr_t)block);
  semihost_call(SYS_EXIT, code ? ADP_STOPPED_RUNTIME_ERROR_UNKNOWN : ADP_STOPPED_APPLICATION_EXIT);
  for (;;) {
  }
}

void tm_write_u64(const char *s, uint64_t v) {
  char buf[24], *p = buf + sizeof buf;
  *--p = '\0';
  do {
    *--p = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  tm_semihost_write(s);
  tm_semihost_write(p);
}

void tm_write_hex(const char *s, uint32_t v) {
  char buf[11] = "0x";
  for (int i = 0; i < 8; i++) buf[2 + i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 15];
  buf[10] = '\0';
  tm_semihost_write(s);
  tm_semihost_write(buf);
}
