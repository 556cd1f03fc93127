/*
 * The 64-bit code and data segments, control registers and EFER that put a fresh vCPU straight into
 * long mode with paging on; shared by the recorder and the calibrator, whose guests differ only in
 * where their page tables live.
 */
#ifndef S2BENCH_LONGMODE_H
#define S2BENCH_LONGMODE_H

#include <linux/kvm.h>
#include <stdint.h>

static inline void set_long_mode(struct kvm_sregs *sregs, uint64_t cr3)
{
	struct kvm_segment code = {
		.base = 0, .limit = 0xffffffff, .selector = 8, .type = 11, .present = 1, .dpl = 0, .db = 0, .s = 1, .l = 1, .g = 1,
	};
	struct kvm_segment data = code;
	data.selector = 16;
	data.type = 3;
	data.l = 0;
	data.db = 1;
	sregs->cs = code;
	sregs->ds = sregs->es = sregs->fs = sregs->gs = sregs->ss = data;
	sregs->cr3 = cr3;
	sregs->cr4 = 0x20;       /* PAE */
	sregs->cr0 = 0x80050033; /* PG | AM | WP | NE | ET | MP | PE */
	sregs->efer = 0x500;     /* LME | LMA */
}

#endif
