/* runtime/riscv/start.S: reset for QEMU's riscv32 virt board (-bios none: QEMU's reset stub
 * jumps here in machine mode).  Sets gp, sp and the trap vector, turns the FPU on for hard-
 * float builds, and enters crt.c. */
  .option arch, +zicsr   /* binutils 2.40 splits the CSR instructions out of rv32imc */
  .section .text.start, "ax"
  .globl _start
_start:
  .option push
  .option norelax
  la gp, __global_pointer$
  .option pop
  la sp, __stack_top
  la t0, tm_trap
  csrw mtvec, t0
#ifdef __riscv_flen
  li t0, 0x2000          /* mstatus.FS = Initial: the F/D instructions no longer trap */
  csrs mstatus, t0
  csrw fcsr, zero
#endif
  call tm_crt_start
1:
  j 1b

/* Any trap is a bug here (nothing enables interrupts): report mcause and mepc. */
  .balign 4
tm_trap:
  la sp, __stack_top
  la a0, tm_trap_name
  csrr a1, mcause
  csrr a2, mepc
  call tm_fault

  .section .rodata
tm_trap_name:
  .string "trap"
