/*
 * s2bench recorder: performs trace rows on the real /dev/kvm and prints what the kernel answered.
 *
 * Input (stdin), written by src/record/protocol.ts, one line each:
 *   S                                    start a sequence (a fresh VM)
 *   <op> <present> <vcpu> <gpa> <size> <slot> <flags> <hva> <fd> <offset> <attrs>
 *                                        one row; numbers in hex, present = the trace's field bits
 *   E                                    end of the sequence: perform it
 * Output (stdout), one line per row, then "E" per sequence:
 *   i <n>                  ioctl/syscall result: 0, a count (dirty_get) or -errno (decimal)
 *   a <outcome> [<gpa>]    access: ok | mmio <gpa> | memfault <gpa> | enosys | other <why>
 *   x <why>                not performed (op the recorder cannot do on this host)
 *   F <why>                the whole sequence failed (then "E")
 *   T <ns>                 wall time the sequence spent in KVM_RUN (before its "E")
 *
 * Guest: long mode, identity-mapped with 2 MiB pages over [0, 64 GiB). Its page tables, code and stack
 * live in a recorder-owned memslot at RECORDER_GPA (outside any trace slot), so the CPU's accessed/dirty
 * bit writes to guest page tables never land in a trace's dirty-logged slot. Each access sets rdi = gpa
 * and rip = the entry for its kind: `mov al,[rdi]; hlt`, `mov [rdi],al; hlt` (al = 0xc3) or
 * `call rdi; hlt` (the target byte is pre-set to 0xc3 = ret through the host mapping).
 *
 * Trace hvas are used as they are: the recorder maps anonymous memory at a memslot's hva with
 * MAP_FIXED_NOREPLACE before the ioctl, and runs with address-space randomisation off so that its own
 * mappings sit at the top of the address space, away from trace hvas. Invalid hvas reach the kernel
 * unchanged.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "kvm_uapi.h"
#include "longmode.h"

#define GUEST_MAPPED_LIMIT (64ULL << 30) /* the guest's identity map: [0, 64 GiB) in 2 MiB pages */
#define RECORDER_GPA (GUEST_MAPPED_LIMIT - 0x100000ULL) /* its last MiB: no trace slot may overlap it */
#define RECORDER_PML4 0x0000
#define RECORDER_PDPT 0x1000
#define RECORDER_CODE 0x2000
#define RECORDER_STACK_TOP 0x10000
#define RECORDER_PD 0x10000 /* 64 page directories, one per GiB */
#define RECORDER_SIZE (RECORDER_PD + (GUEST_MAPPED_LIMIT >> 30) * 0x1000)
#define ENTRY_READ 0x00
#define ENTRY_WRITE 0x10
#define ENTRY_EXEC 0x20

#define USER_LIMIT 0x7ffffffff000ULL
#define MAX_MAP_BYTES (1ULL << 40)
#define MAX_VCPUS 4
#define MAX_ROWS 1000000
#define MAX_RUNS_PER_ACCESS 16

/* Trace field bits (src/trace/schema.ts FIELDS). */
#define F_VCPU 1
#define F_GPA 2
#define F_SIZE 3
#define F_SLOT 4
#define F_FLAGS 5
#define F_HVA 6
#define F_FD 7
#define F_OFFSET 8
#define F_ATTRS 9

struct row {
	char op[24];
	uint64_t present, vcpu, gpa, size, slot, flags, hva, fd, offset, attrs;
};

struct slot_info {
	uint32_t slot;
	uint64_t gpa, size, hva;
};

struct fd_map {
	uint64_t id;
	int fd; /* -1 once closed */
};

struct range {
	uint64_t start, end;
};

static int kvm_fd = -1;
static int vcpu_mmap_size;
static struct kvm_cpuid2 *cpuid;

/* Per-sequence state. */
static int vm_fd = -1;
static int vcpu_fd[MAX_VCPUS];
static struct kvm_run *vcpu_run[MAX_VCPUS];
static uint8_t *rec_mem;
static uint32_t rec_slot;
/* Wall time the sequence spent in KVM_RUN (its guest time), printed as `T <ns>` before its `E`. */
static uint64_t guest_ns;
static int rec_slot_wanted;
static struct slot_info *slots;
static size_t nslots, cap_slots;
static struct fd_map *fds;
static size_t nfds, cap_fds;
static struct range *maps;
static size_t nmaps, cap_maps;

static void *grow(void *p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return p;
	size_t ncap = *cap ? *cap * 2 : 16;
	while (ncap < need)
		ncap *= 2;
	void *q = realloc(p, ncap * elem);
	if (!q) {
		fprintf(stderr, "s2bench-recorder: out of memory\n");
		exit(3);
	}
	*cap = ncap;
	return q;
}

static void warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("s2bench-recorder: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* ---- host mappings behind trace hvas ---- */

static int range_cmp(const void *a, const void *b)
{
	const struct range *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* Map anonymous memory over every part of [start, end) the recorder has not mapped yet. */
static void ensure_mapped(uint64_t start, uint64_t end)
{
	uint64_t cur = start;
	qsort(maps, nmaps, sizeof(*maps), range_cmp);
	for (size_t i = 0; i <= nmaps && cur < end; i++) {
		uint64_t gap_end = i < nmaps ? maps[i].start : end;
		if (gap_end > end)
			gap_end = end;
		if (i < nmaps && maps[i].end <= cur)
			continue;
		if (gap_end > cur) {
			void *p = mmap((void *)cur, gap_end - cur, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
			if (p == MAP_FAILED || (uint64_t)p != cur) {
				if (p != MAP_FAILED)
					munmap(p, gap_end - cur);
				warn("cannot map hva 0x%llx..0x%llx (%s): guest accesses there will fault", (unsigned long long)cur,
				     (unsigned long long)gap_end, strerror(errno));
			} else {
				maps = grow(maps, &cap_maps, nmaps + 1, sizeof(*maps));
				maps[nmaps++] = (struct range){ cur, gap_end };
			}
		}
		if (i < nmaps && maps[i].end > cur)
			cur = maps[i].end;
	}
}

static int hva_is_ours(uint64_t hva)
{
	for (size_t i = 0; i < nmaps; i++)
		if (hva >= maps[i].start && hva < maps[i].end)
			return 1;
	return 0;
}

/* ---- trace ids to real things ---- */

static struct slot_info *find_slot(uint32_t slot)
{
	for (size_t i = 0; i < nslots; i++)
		if (slots[i].slot == slot)
			return &slots[i];
	return NULL;
}

static struct fd_map *find_fd(uint64_t id)
{
	for (size_t i = nfds; i-- > 0;)
		if (fds[i].id == id)
			return &fds[i];
	return NULL;
}

/* The real fd behind a trace fd id; -1 (EBADF in the kernel) for ids never created or closed. */
static int real_fd(const struct row *r)
{
	if (!(r->present & (1u << F_FD)))
		return -1;
	struct fd_map *m = find_fd(r->fd);
	return m ? m->fd : -1;
}

/* ---- the VM ---- */

static void teardown(void)
{
	for (int v = 0; v < MAX_VCPUS; v++) {
		if (vcpu_run[v])
			munmap(vcpu_run[v], vcpu_mmap_size);
		if (vcpu_fd[v] >= 0)
			close(vcpu_fd[v]);
		vcpu_run[v] = NULL;
		vcpu_fd[v] = -1;
	}
	for (size_t i = 0; i < nfds; i++)
		if (fds[i].fd >= 0)
			close(fds[i].fd);
	nfds = 0;
	if (vm_fd >= 0)
		close(vm_fd);
	vm_fd = -1;
	for (size_t i = 0; i < nmaps; i++)
		munmap((void *)maps[i].start, maps[i].end - maps[i].start);
	nmaps = 0;
	nslots = 0;
	if (rec_mem)
		munmap(rec_mem, RECORDER_SIZE);
	rec_mem = NULL;
}

static int setup_recorder_slot(void)
{
	rec_mem = mmap(NULL, RECORDER_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (rec_mem == MAP_FAILED) {
		rec_mem = NULL;
		return -1;
	}
	uint64_t *pml4 = (uint64_t *)(rec_mem + RECORDER_PML4);
	uint64_t *pdpt = (uint64_t *)(rec_mem + RECORDER_PDPT);
	/* 2 MiB pages, not 1 GiB: KVM does not offer pdpe1gb to guests on every host (nested ones). */
	pml4[0] = (RECORDER_GPA + RECORDER_PDPT) | 0x7; /* present, writable, user */
	for (uint64_t g = 0; g < (GUEST_MAPPED_LIMIT >> 30); g++) {
		uint64_t *pd = (uint64_t *)(rec_mem + RECORDER_PD + g * 0x1000);
		pdpt[g] = (RECORDER_GPA + RECORDER_PD + g * 0x1000) | 0x7;
		for (uint64_t i = 0; i < 512; i++)
			pd[i] = (g << 30) + (i << 21) + 0x87; /* present, writable, user, PS */
	}
	static const uint8_t read_entry[] = { 0x8a, 0x07, 0xf4 };  /* mov al,[rdi]; hlt */
	static const uint8_t write_entry[] = { 0x88, 0x07, 0xf4 }; /* mov [rdi],al; hlt */
	static const uint8_t exec_entry[] = { 0xff, 0xd7, 0xf4 };  /* call rdi; hlt */
	memcpy(rec_mem + RECORDER_CODE + ENTRY_READ, read_entry, sizeof(read_entry));
	memcpy(rec_mem + RECORDER_CODE + ENTRY_WRITE, write_entry, sizeof(write_entry));
	memcpy(rec_mem + RECORDER_CODE + ENTRY_EXEC, exec_entry, sizeof(exec_entry));
	struct kvm_userspace_memory_region2 region = {
		.slot = rec_slot,
		.flags = 0,
		.guest_phys_addr = RECORDER_GPA,
		.memory_size = RECORDER_SIZE,
		.userspace_addr = (uint64_t)rec_mem,
	};
	return ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION2, &region);
}

static int setup_vcpu(int v)
{
	vcpu_fd[v] = ioctl(vm_fd, KVM_CREATE_VCPU, v);
	if (vcpu_fd[v] < 0)
		return -1;
	vcpu_run[v] = mmap(NULL, vcpu_mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu_fd[v], 0);
	if (vcpu_run[v] == MAP_FAILED) {
		vcpu_run[v] = NULL;
		return -1;
	}
	/* The host's CPUID: 1 GiB pages must be visible to KVM's own page walker (MMIO emulation). */
	if (ioctl(vcpu_fd[v], KVM_SET_CPUID2, cpuid) < 0)
		return -1;
	struct kvm_sregs sregs;
	if (ioctl(vcpu_fd[v], KVM_GET_SREGS, &sregs) < 0)
		return -1;
	set_long_mode(&sregs, RECORDER_GPA + RECORDER_PML4);
	return ioctl(vcpu_fd[v], KVM_SET_SREGS, &sregs);
}

static int new_vm(void)
{
	vm_fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	if (vm_fd < 0)
		return -1;
	if (rec_slot_wanted && setup_recorder_slot() < 0)
		return -1;
	return 0;
}

/* ---- rows ---- */

static void print_ret(long r)
{
	printf("i %ld\n", r < 0 ? -(long)errno : r);
}

static void do_memslot(const struct row *r)
{
	struct kvm_userspace_memory_region2 region = {
		.slot = (uint32_t)r->slot,
		.flags = (uint32_t)r->flags,
		.guest_phys_addr = r->gpa,
		.memory_size = r->size,
		.userspace_addr = r->hva,
		.guest_memfd_offset = r->offset,
		.guest_memfd = (uint32_t)real_fd(r),
	};
	if (r->size != 0 && (r->hva & 0xfff) == 0 && r->size <= MAX_MAP_BYTES && r->hva < USER_LIMIT &&
	    r->size <= USER_LIMIT - r->hva && (r->size & 0xfff) == 0)
		ensure_mapped(r->hva, r->hva + r->size);
	long ret = ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION2, &region);
	print_ret(ret);
	if (ret != 0)
		return;
	struct slot_info *s = find_slot(region.slot);
	if (r->size == 0) {
		if (s)
			*s = slots[--nslots];
		return;
	}
	if (!s) {
		slots = grow(slots, &cap_slots, nslots + 1, sizeof(*slots));
		s = &slots[nslots++];
	}
	*s = (struct slot_info){ region.slot, r->gpa, r->size, r->hva };
}

static void do_gmem_create(const struct row *r)
{
	struct kvm_create_guest_memfd args = { .size = r->size, .flags = r->flags };
	int fd = ioctl(vm_fd, KVM_CREATE_GUEST_MEMFD, &args);
	print_ret(fd < 0 ? -1 : 0);
	if (fd < 0)
		return;
	fds = grow(fds, &cap_fds, nfds + 1, sizeof(*fds));
	fds[nfds++] = (struct fd_map){ r->fd, fd };
}

/* gmem_punch is PUNCH_HOLE|KEEP_SIZE; gmem_alloc is the mode in its flags cell, plain 0 when absent. */
static void do_gmem_fallocate(const struct row *r, int punch)
{
	int mode = punch ? FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE : (r->present & (1u << F_FLAGS)) ? (int)r->flags : 0;
	print_ret(fallocate(real_fd(r), mode, (off_t)r->offset, (off_t)r->size));
}

static void do_gmem_close(const struct row *r)
{
	struct fd_map *m = (r->present & (1u << F_FD)) ? find_fd(r->fd) : NULL;
	print_ret(close(m ? m->fd : -1));
	if (m)
		m->fd = -1;
}

static void do_attrs(const struct row *r)
{
	struct kvm_memory_attributes args = { .address = r->gpa, .size = r->size, .attributes = r->attrs, .flags = r->flags };
	print_ret(ioctl(vm_fd, KVM_SET_MEMORY_ATTRIBUTES, &args));
}

static void do_dirty_get(const struct row *r)
{
	struct slot_info *s = find_slot((uint32_t)r->slot);
	uint64_t npages = s ? s->size >> 12 : 64;
	size_t bytes = ((npages + 63) / 64) * 8;
	uint64_t *bitmap = calloc(1, bytes);
	struct kvm_dirty_log log = { .slot = (uint32_t)r->slot, .dirty_bitmap = bitmap };
	long ret = ioctl(vm_fd, KVM_GET_DIRTY_LOG, &log);
	if (ret == 0) {
		long count = 0;
		for (size_t i = 0; i < bytes / 8; i++)
			count += __builtin_popcountll(bitmap[i]);
		ret = count;
	}
	print_ret(ret);
	free(bitmap);
}

static void do_dirty_clear(const struct row *r)
{
	uint64_t npages = r->size > (1ULL << 24) ? (1ULL << 24) : r->size;
	size_t bytes = ((npages + 63) / 64) * 8 + 8;
	uint8_t *bitmap = malloc(bytes);
	memset(bitmap, 0xff, bytes);
	struct kvm_clear_dirty_log log = {
		.slot = (uint32_t)r->slot, .num_pages = (uint32_t)r->size, .first_page = r->offset, .dirty_bitmap = bitmap,
	};
	print_ret(ioctl(vm_fd, KVM_CLEAR_DIRTY_LOG, &log));
	free(bitmap);
}

/* The hva behind a gpa in a slot the kernel accepted, or 0. */
static uint64_t gpa_to_hva(uint64_t gpa)
{
	for (size_t i = 0; i < nslots; i++)
		if ((slots[i].slot >> 16) == 0 && gpa >= slots[i].gpa && gpa - slots[i].gpa < slots[i].size)
			return slots[i].hva + (gpa - slots[i].gpa);
	return 0;
}

enum outcome { OUT_OK, OUT_MMIO, OUT_MEMFAULT, OUT_ENOSYS, OUT_INTERNAL, OUT_OTHER };

/* One guest access of one byte at gpa; fills *why for OUT_OTHER and *addr for mmio/memfault. */
static enum outcome guest_access(int v, const char *op, uint64_t gpa, uint64_t *addr, char *why, size_t whylen)
{
	struct kvm_regs regs;
	memset(&regs, 0, sizeof(regs));
	regs.rflags = 2;
	regs.rdi = gpa;
	regs.rax = 0xc3;
	regs.rsp = RECORDER_GPA + RECORDER_STACK_TOP - 16;
	uint64_t entry = op[0] == 'r' ? ENTRY_READ : op[0] == 'w' ? ENTRY_WRITE : ENTRY_EXEC;
	regs.rip = RECORDER_GPA + RECORDER_CODE + entry;
	if (entry == ENTRY_EXEC) {
		uint64_t hva = gpa_to_hva(gpa);
		if (hva && hva_is_ours(hva))
			*(volatile uint8_t *)hva = 0xc3; /* ret: the fetch returns straight to the hlt */
	}
	if (ioctl(vcpu_fd[v], KVM_SET_REGS, &regs) < 0) {
		snprintf(why, whylen, "set_regs_%d", errno);
		return OUT_OTHER;
	}
	struct kvm_run *run = vcpu_run[v];
	enum outcome first = OUT_OTHER;
	int have_first = 0;
	for (int n = 0; n < MAX_RUNS_PER_ACCESS; n++) {
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		int ret = ioctl(vcpu_fd[v], KVM_RUN, 0);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		guest_ns += (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000000ULL + (uint64_t)t1.tv_nsec - (uint64_t)t0.tv_nsec;
		if (ret < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (ret < 0) {
			int err = errno;
			if (run->exit_reason == KVM_EXIT_MEMORY_FAULT) {
				uint64_t *mf = (uint64_t *)&run->mmio; /* memory_fault { flags, gpa, size } */
				*addr = mf[1];
				return have_first ? first : OUT_MEMFAULT;
			}
			if (have_first)
				return first;
			if (err == ENOSYS)
				return OUT_ENOSYS;
			snprintf(why, whylen, "kvm_run_errno_%d", err);
			return OUT_OTHER;
		}
		switch (run->exit_reason) {
		case KVM_EXIT_HLT:
			return have_first ? first : OUT_OK;
		case KVM_EXIT_MMIO:
			if (!have_first) {
				*addr = run->mmio.phys_addr;
				first = OUT_MMIO;
				have_first = 1;
			}
			memset(run->mmio.data, 0, sizeof(run->mmio.data));
			continue; /* complete the emulated access; the guest then reaches its hlt */
		case KVM_EXIT_MEMORY_FAULT: {
			uint64_t *mf = (uint64_t *)&run->mmio;
			*addr = mf[1];
			return have_first ? first : OUT_MEMFAULT;
		}
		case KVM_EXIT_INTERNAL_ERROR:
			if (have_first)
				return first;
			/* An instruction fetch from a gpa with no memslot: the emulator cannot fetch it. */
			if (run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION)
				return OUT_INTERNAL;
			snprintf(why, whylen, "internal_error_%u", run->internal.suberror);
			return OUT_OTHER;
		case KVM_EXIT_SHUTDOWN:
			if (have_first)
				return first;
			if (getenv("S2BENCH_RECORDER_DEBUG")) {
				struct kvm_regs dr;
				struct kvm_sregs ds;
				ioctl(vcpu_fd[v], KVM_GET_REGS, &dr);
				ioctl(vcpu_fd[v], KVM_GET_SREGS, &ds);
				warn("shutdown: rip 0x%llx rsp 0x%llx cr0 0x%llx cr3 0x%llx cr4 0x%llx efer 0x%llx", dr.rip, dr.rsp, ds.cr0,
				     ds.cr3, ds.cr4, ds.efer);
			}
			snprintf(why, whylen, "shutdown");
			return OUT_OTHER;
		default:
			if (have_first)
				return first;
			snprintf(why, whylen, "exit_%u", run->exit_reason);
			return OUT_OTHER;
		}
	}
	if (have_first)
		return first;
	snprintf(why, whylen, "no_hlt");
	return OUT_OTHER;
}

static void do_access(const struct row *r)
{
	uint64_t v = (r->present & (1u << F_VCPU)) ? r->vcpu : 0;
	if (r->present & (1u << F_FLAGS) && r->flags != 0) {
		printf("x access flags 0x%llx need a confidential or arm64 guest\n", (unsigned long long)r->flags);
		return;
	}
	if (v >= MAX_VCPUS) {
		printf("x vcpu %llu beyond the recorder's %d\n", (unsigned long long)v, MAX_VCPUS);
		return;
	}
	uint64_t size = (r->present & (1u << F_SIZE)) ? r->size : 0;
	uint64_t pages = size == 0 ? 1 : (((r->gpa & 0xfff) + size - 1) >> 12) + 1;
	uint64_t last = (r->gpa & ~0xfffULL) + ((pages - 1) << 12);
	if (last >= GUEST_MAPPED_LIMIT || last < (r->gpa & ~0xfffULL) ||
	    (last + 0x1000 > RECORDER_GPA && r->gpa < RECORDER_GPA + RECORDER_SIZE)) {
		printf("x gpa beyond the recorder guest's identity map [0, 0x%llx) or inside its own slot\n",
		       (unsigned long long)(RECORDER_GPA));
		return;
	}
	if (vcpu_fd[v] < 0 && setup_vcpu((int)v) < 0) {
		printf("x vcpu setup failed: %s\n", strerror(errno));
		return;
	}
	for (uint64_t p = 0; p < pages; p++) {
		uint64_t gpa = p == 0 ? r->gpa : (r->gpa & ~0xfffULL) + (p << 12);
		uint64_t addr = 0;
		char why[64] = "";
		enum outcome out = guest_access((int)v, r->op, gpa, &addr, why, sizeof(why));
		if (out == OUT_OK)
			continue;
		switch (out) {
		case OUT_MMIO:
			printf("a mmio 0x%llx\n", (unsigned long long)addr);
			break;
		case OUT_MEMFAULT:
			printf("a memfault 0x%llx\n", (unsigned long long)addr);
			break;
		case OUT_ENOSYS:
			printf("a enosys\n");
			break;
		case OUT_INTERNAL:
			printf("a internal\n");
			break;
		default:
			printf("a other %s\n", why);
			break;
		}
		return;
	}
	printf("a ok\n");
}

static void do_host(const struct row *r, int write)
{
	uint64_t end = r->hva + r->size;
	for (uint64_t a = r->hva & ~0xfffULL; a < end; a += 0x1000) {
		if (!hva_is_ours(a)) {
			printf("x host access to an hva the recorder did not map\n");
			return;
		}
	}
	for (uint64_t a = r->hva & ~0xfffULL; a < end; a += 0x1000) {
		volatile uint8_t *p = (volatile uint8_t *)(a < r->hva ? r->hva : a);
		if (write)
			*p = *p;
		else
			(void)*p;
	}
	printf("i 0\n");
}

/* `backing`: anon and anon|thp are anonymous memory with THP advice off or on; other kinds are not done. */
static void do_backing(const struct row *r)
{
	uint64_t start = r->hva & ~0xfffULL, end = (r->hva + r->size + 0xfff) & ~0xfffULL;
	if ((r->flags & ~0x3ULL) != 0 || end <= start || end > USER_LIMIT || end - start > MAX_MAP_BYTES) {
		printf("x backing kind 0x%llx is not recorded (anon and anon|thp only)\n", (unsigned long long)r->flags);
		return;
	}
	ensure_mapped(start, end);
	print_ret(madvise((void *)start, end - start, (r->flags & 0x2) ? MADV_HUGEPAGE : MADV_NOHUGEPAGE));
}

static void do_row(const struct row *r)
{
	const char *op = r->op;
	if (!strcmp(op, "memslot"))
		do_memslot(r);
	else if (!strcmp(op, "gmem_create"))
		do_gmem_create(r);
	else if (!strcmp(op, "gmem_punch"))
		do_gmem_fallocate(r, 1);
	else if (!strcmp(op, "gmem_alloc"))
		do_gmem_fallocate(r, 0);
	else if (!strcmp(op, "gmem_close"))
		do_gmem_close(r);
	else if (!strcmp(op, "attrs"))
		do_attrs(r);
	else if (!strcmp(op, "dirty_get"))
		do_dirty_get(r);
	else if (!strcmp(op, "dirty_clear"))
		do_dirty_clear(r);
	else if (!strcmp(op, "read") || !strcmp(op, "write") || !strcmp(op, "exec"))
		do_access(r);
	else if (!strcmp(op, "backing"))
		do_backing(r);
	else if (!strcmp(op, "unmap_hva")) {
		if (hva_is_ours(r->hva) && madvise((void *)(r->hva & ~0xfffULL), (r->size + 0xfff) & ~0xfffULL, MADV_DONTNEED) == 0)
			printf("i 0\n");
		else
			printf("x unmap_hva of an hva the recorder did not map\n");
	} else if (!strcmp(op, "host_read") || !strcmp(op, "host_write"))
		do_host(r, op[5] == 'w');
	else
		printf("x op %s is not recorded on this host\n", op);
}

/* ---- the sequence loop ---- */

static int parse_row(char *line, struct row *r)
{
	unsigned long long v[10];
	int n = sscanf(line, "%23s %llx %llx %llx %llx %llx %llx %llx %llx %llx %llx", r->op, &v[0], &v[1], &v[2], &v[3], &v[4],
		       &v[5], &v[6], &v[7], &v[8], &v[9]);
	if (n != 11)
		return -1;
	r->present = v[0];
	r->vcpu = v[1];
	r->gpa = v[2];
	r->size = v[3];
	r->slot = v[4];
	r->flags = v[5];
	r->hva = v[6];
	r->fd = v[7];
	r->offset = v[8];
	r->attrs = v[9];
	return 0;
}

static int is_access(const struct row *r)
{
	return !strcmp(r->op, "read") || !strcmp(r->op, "write") || !strcmp(r->op, "exec");
}

static void run_sequence(struct row *rows, size_t n)
{
	/* The recorder's own slot: only when the guest runs, with an id no row of the sequence names. */
	rec_slot_wanted = 0;
	for (size_t i = 0; i < n; i++)
		if (is_access(&rows[i]))
			rec_slot_wanted = 1;
	if (rec_slot_wanted) {
		rec_slot = 32763;
		for (;;) {
			int used = 0;
			for (size_t i = 0; i < n && !used; i++)
				used = (rows[i].present & (1u << F_SLOT)) && (rows[i].slot & 0xffff) == rec_slot;
			if (!used)
				break;
			rec_slot--;
		}
		for (size_t i = 0; i < n; i++) {
			const struct row *r = &rows[i];
			if (!strcmp(r->op, "memslot") && r->size != 0 && r->gpa < RECORDER_GPA + RECORDER_SIZE &&
			    r->gpa + r->size > RECORDER_GPA && r->gpa + r->size > r->gpa) {
				printf("F row %zu: memslot overlaps gpa [0x%llx, 0x%llx), reserved for the recorder's guest\nE\n", i + 1,
				       RECORDER_GPA, RECORDER_GPA + RECORDER_SIZE);
				return;
			}
		}
	}
	if (new_vm() < 0) {
		printf("F cannot create a VM: %s\nE\n", strerror(errno));
		teardown();
		return;
	}
	guest_ns = 0;
	for (size_t i = 0; i < n; i++)
		do_row(&rows[i]);
	teardown();
	printf("T %llu\nE\n", (unsigned long long)guest_ns);
}

static int open_kvm(char *why, size_t whylen)
{
	kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm_fd < 0) {
		snprintf(why, whylen, "cannot open /dev/kvm: %s", strerror(errno));
		return -1;
	}
	int api = ioctl(kvm_fd, KVM_GET_API_VERSION, 0);
	if (api < 0) {
		snprintf(why, whylen, "/dev/kvm is not a usable KVM device (KVM_GET_API_VERSION: %s)", strerror(errno));
		return -1;
	}
	if (api != 12) {
		snprintf(why, whylen, "/dev/kvm API version %d, expected 12", api);
		return -1;
	}
	if (ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY) <= 0) {
		snprintf(why, whylen, "/dev/kvm lacks KVM_CAP_USER_MEMORY");
		return -1;
	}
	vcpu_mmap_size = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vcpu_mmap_size <= 0) {
		snprintf(why, whylen, "KVM_GET_VCPU_MMAP_SIZE failed: %s", strerror(errno));
		return -1;
	}
	int nent = 256;
	cpuid = calloc(1, sizeof(*cpuid) + nent * sizeof(struct kvm_cpuid_entry2));
	cpuid->nent = nent;
	if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid) < 0) {
		snprintf(why, whylen, "KVM_GET_SUPPORTED_CPUID failed: %s", strerror(errno));
		return -1;
	}
	int vm = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	if (vm < 0) {
		snprintf(why, whylen, "KVM_CREATE_VM failed: %s", strerror(errno));
		return -1;
	}
	close(vm);
	return 0;
}

int main(int argc, char **argv)
{
	/* Trace hvas are absolute: keep this process's own mappings at fixed, high addresses. */
	int pers = personality(0xffffffff);
	if (pers != -1 && !(pers & ADDR_NO_RANDOMIZE) && !getenv("S2BENCH_RECORDER_REEXEC")) {
		if (personality(pers | ADDR_NO_RANDOMIZE) != -1) {
			setenv("S2BENCH_RECORDER_REEXEC", "1", 1);
			execv("/proc/self/exe", argv);
		}
	}
	for (int v = 0; v < MAX_VCPUS; v++)
		vcpu_fd[v] = -1;
	char why[256];
	if (open_kvm(why, sizeof(why)) < 0) {
		if (argc > 1 && !strcmp(argv[1], "--probe")) {
			printf("unusable %s\n", why);
			return 0;
		}
		fprintf(stderr, "s2bench-recorder: %s\n", why);
		return 2;
	}
	if (argc > 1 && !strcmp(argv[1], "--probe")) {
		struct utsname u;
		uname(&u);
		printf("ok %s %s gmem=%d attrs=%d slots=%d\n", u.release, u.machine, ioctl(kvm_fd, KVM_CHECK_EXTENSION, 234),
		       ioctl(kvm_fd, KVM_CHECK_EXTENSION, 233), ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS));
		return 0;
	}
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	size_t cap = 0, n = 0;
	struct row *rows = NULL;
	char *line = NULL;
	size_t linecap = 0;
	int in_seq = 0;
	long lineno = 0;
	while (getline(&line, &linecap, stdin) > 0) {
		lineno++;
		if (line[0] == 'S') {
			in_seq = 1;
			n = 0;
		} else if (line[0] == 'E') {
			if (in_seq)
				run_sequence(rows, n);
			in_seq = 0;
			fflush(stdout);
		} else if (in_seq) {
			if (n >= MAX_ROWS) {
				fprintf(stderr, "s2bench-recorder: input line %ld: more than %d rows in one sequence\n", lineno, MAX_ROWS);
				return 2;
			}
			rows = grow(rows, &cap, n + 1, sizeof(*rows));
			if (parse_row(line, &rows[n]) < 0) {
				fprintf(stderr, "s2bench-recorder: input line %ld: malformed row\n", lineno);
				return 2;
			}
			n++;
		}
	}
	free(line);
	free(rows);
	return 0;
}
