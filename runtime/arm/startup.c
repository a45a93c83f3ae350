/* runtime/arm/startup.c: Cortex-M vector table and reset (every mps2/mps3 board in
 * boards.def).  Only the 16 system exceptions: nothing enables a device interrupt. */
#include <stdint.h>

#include "runtime/board.h"
#include "runtime/counter.h"

extern char __stack_top[];
_Noreturn void tm_crt_start(void);
void Reset_Handler(void);
void SysTick_Handler(void);
void tm_arm_fault(const uint32_t *frame, uint32_t exc_return);
__attribute__((naked)) void Fault_Handler(void);

volatile uint32_t tm_systick_wraps;

#define SCB_CPACR (*(volatile uint32_t *)0xE000ED88u)
#define SCB_ICSR (*(volatile uint32_t *)0xE000ED04u)
#define SCB_CFSR (*(volatile uint32_t *)0xE000ED28u) /* not on armv6-m: reads as 0 there */

void Reset_Handler(void) {
#if defined(__ARM_FP) || defined(__ARM_FEATURE_MVE)
  /* Full access to CP10/CP11 (the FPU and MVE), before any compiled code may use them. */
  SCB_CPACR |= 0xFu << 20;
  __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
  tm_crt_start();
}

void SysTick_Handler(void) { tm_systick_wraps++; }

/* Passes the stacked exception frame (r0-r3, r12, lr, pc, xpsr) of whichever stack was in
 * use; written for armv6-m, which lacks ite and wide branches. */
__attribute__((naked)) void Fault_Handler(void) {
  __asm__ volatile(".syntax unified\n\t" /* GCC gives Thumb-1 inline asm the old syntax */
                   "mov r1, lr\n\t"
                   "movs r0, #4\n\t"
                   "tst r0, r1\n\t"
                   "bne 1f\n\t"
                   "mrs r0, msp\n\t"
                   "b 2f\n"
                   "1:\n\t"
                   "mrs r0, psp\n"
                   "2:\n\t"
                   "ldr r2, =tm_arm_fault\n\t"
                   "bx r2\n\t"
                   ".ltorg");
}

void tm_arm_fault(const uint32_t *frame, uint32_t exc_return) {
  (void)exc_return;
  uint32_t exception = SCB_ICSR & 0x1FFu, cfsr = SCB_CFSR;
  static const char *const names[] = {"exception",  "exception", "nmi",      "hardfault",
                                      "memmanage",  "busfault",  "usagefault", "securefault"};
  tm_fault(exception < 8 ? names[exception] : "exception", exception < 8 ? cfsr : exception, frame[6]);
}

__attribute__((section(".vectors"), used)) static void (*const vectors[16])(void) = {
    (void (*)(void))(uintptr_t)__stack_top, /* initial main stack pointer */
    Reset_Handler,
    Fault_Handler, /* NMI */
    Fault_Handler, /* HardFault */
    Fault_Handler, /* MemManage */
    Fault_Handler, /* BusFault */
    Fault_Handler, /* UsageFault */
    Fault_Handler, /* SecureFault (armv8-m) */
    0,
    0,
    0,
    Fault_Handler, /* SVCall */
    Fault_Handler, /* DebugMonitor */
    0,
    Fault_Handler, /* PendSV */
    SysTick_Handler,
};
