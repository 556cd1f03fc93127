/*
 * s2bench calibrator: measures what the events s2bench models cost on this machine's /dev/kvm, with a
 * tiny long-mode guest that touches pages in a loop (the way KVM's demand_paging_test and
 * dirty_log_perf_test time their passes). `s2bench calibrate` (src/calibrate/) drives it, takes the
 * median and spread of the samples and writes the cost table.
 *
 * Usage: s2bench-calibrate [--repeats R] [--pages N] [--huge H]
 *   R repeats (a fresh VM each), N 4 KiB pages per batch, H 2 MiB pages per THP batch.
 * Output, one line each:
 *   m <key> <value...>                    metadata (kernel release, VM types offered, ...)
 *   c <cost> <per> <sample> <sample> ...  samples in ns per <per> (one per repeat)
 *   n <cost> <key>=<value> ...            how the cost was measured (batch size, mappings zapped, ...)
 *   s <cost> <why>                        not measurable on this host
 *
 * Every sample is the wall time of a whole batch divided by its size, so one sample is long enough to
 * be stable (milliseconds), and a fault's cost is the first-touch pass minus a pass over the same, now
 * mapped, pages: what the guest loses to the fault (exit, kernel work, entry), not the loop itself.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "kvm_uapi.h"
#include "longmode.h"

#ifndef KVM_CAP_VM_TYPES
#define KVM_CAP_VM_TYPES 235
#endif
#ifndef KVM_CAP_MEMORY_ATTRIBUTES
#define KVM_CAP_MEMORY_ATTRIBUTES 233
#endif
#ifndef KVM_MEMORY_ATTRIBUTE_PRIVATE
#define KVM_MEMORY_ATTRIBUTE_PRIVATE (1ULL << 3)
#endif
#define VM_TYPE_DEFAULT 0
#define VM_TYPE_SW_PROTECTED 1 /* KVM_X86_SW_PROTECTED_VM */

/* The guest's own memory: page tables identity-mapping [0, 4 GiB) with 2 MiB pages, code, stack. */
#define CTL_GPA 0xc0000000ULL
#define CTL_PML4 0x0000
#define CTL_PDPT 0x1000
#define CTL_PD 0x2000 /* four page directories, one per GiB */
#define CTL_CODE 0x6000
#define CTL_STACK_TOP 0x10000
#define CTL_SIZE 0x10000
#define CTL_SLOT 100
#define ENTRY_WRITE_LOOP 0x00
#define ENTRY_HLT 0x20

/* Measured memory: slot 0 at 1 GiB (up to 2 GiB of it); slot 1 at 512 MiB for memslot costs. */
#define MEM_GPA 0x40000000ULL
#define MEM2_GPA 0x20000000ULL
#define PAGE 4096ULL
#define HUGE (2ULL << 20)

static int kvm_fd;
static int vcpu_mmap_size;
static struct kvm_cpuid2 *cpuid;

struct vm {
	int fd, vcpu;
	struct kvm_run *run;
	uint8_t *ctl;
};

static void die(const char *what)
{
	fprintf(stderr, "s2bench-calibrate: %s: %s\n", what, strerror(errno));
	exit(2);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int set_region(int vm_fd, uint32_t slot, uint32_t flags, uint64_t gpa, uint64_t size, void *hva, int gmem_fd)
{
	struct kvm_userspace_memory_region2 r = {
		.slot = slot, .flags = flags, .guest_phys_addr = gpa, .memory_size = size, .userspace_addr = (uint64_t)hva,
		.guest_memfd = (uint32_t)gmem_fd,
	};
	return ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION2, &r);
}

/* Anonymous memory aligned to 2 MiB (so THP can back it), with or without THP advice. */
static uint8_t *anon(uint64_t size, int thp)
{
	uint8_t *p = mmap(NULL, size + HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		die("mmap");
	uint8_t *a = (uint8_t *)(((uint64_t)p + HUGE - 1) & ~(HUGE - 1));
	if (a > p)
		munmap(p, a - p);
	munmap(a + size, (p + size + HUGE) - (a + size));
	if (madvise(a, size, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE) < 0)
		die("madvise");
	return a;
}

static struct vm vm_new(int type)
{
	struct vm v;
	v.fd = ioctl(kvm_fd, KVM_CREATE_VM, type);
	if (v.fd < 0)
		die("KVM_CREATE_VM");
	v.ctl = anon(CTL_SIZE, 0);
	uint64_t *pml4 = (uint64_t *)(v.ctl + CTL_PML4), *pdpt = (uint64_t *)(v.ctl + CTL_PDPT);
	pml4[0] = (CTL_GPA + CTL_PDPT) | 0x7;
	for (uint64_t g = 0; g < 4; g++) {
		uint64_t *pd = (uint64_t *)(v.ctl + CTL_PD + g * 0x1000);
		pdpt[g] = (CTL_GPA + CTL_PD + g * 0x1000) | 0x7;
		for (uint64_t i = 0; i < 512; i++)
			pd[i] = (g << 30) + (i << 21) + 0x87; /* present, writable, user, 2 MiB */
	}
	/* loop: mov [rdi],al; add rdi,rdx; dec rsi; jnz loop; hlt */
	static const uint8_t loop[] = { 0x88, 0x07, 0x48, 0x01, 0xd7, 0x48, 0xff, 0xce, 0x75, 0xf6, 0xf4 };
	memcpy(v.ctl + CTL_CODE + ENTRY_WRITE_LOOP, loop, sizeof(loop));
	v.ctl[CTL_CODE + ENTRY_HLT] = 0xf4;
	if (set_region(v.fd, CTL_SLOT, 0, CTL_GPA, CTL_SIZE, v.ctl, 0) < 0)
		die("control memslot");
	v.vcpu = ioctl(v.fd, KVM_CREATE_VCPU, 0);
	if (v.vcpu < 0)
		die("KVM_CREATE_VCPU");
	v.run = mmap(NULL, vcpu_mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, v.vcpu, 0);
	if (v.run == MAP_FAILED)
		die("mmap kvm_run");
	if (ioctl(v.vcpu, KVM_SET_CPUID2, cpuid) < 0)
		die("KVM_SET_CPUID2");
	struct kvm_sregs sregs;
	if (ioctl(v.vcpu, KVM_GET_SREGS, &sregs) < 0)
		die("KVM_GET_SREGS");
	set_long_mode(&sregs, CTL_GPA + CTL_PML4);
	if (ioctl(v.vcpu, KVM_SET_SREGS, &sregs) < 0)
		die("KVM_SET_SREGS");
	return v;
}

static void vm_free(struct vm *v)
{
	munmap(v->run, vcpu_mmap_size);
	close(v->vcpu);
	close(v->fd);
	munmap(v->ctl, CTL_SIZE);
}

/* Runs the guest from `entry` until its hlt; returns the wall time in ns. */
static uint64_t guest(struct vm *v, int entry, uint64_t gpa, uint64_t count, uint64_t stride)
{
	struct kvm_regs regs;
	memset(&regs, 0, sizeof(regs));
	regs.rflags = 2;
	regs.rip = CTL_GPA + CTL_CODE + entry;
	regs.rsp = CTL_GPA + CTL_STACK_TOP - 16;
	regs.rdi = gpa;
	regs.rsi = count;
	regs.rdx = stride;
	regs.rax = 0xc3;
	if (ioctl(v->vcpu, KVM_SET_REGS, &regs) < 0)
		die("KVM_SET_REGS");
	uint64_t t0 = now_ns();
	for (;;) {
		int r = ioctl(v->vcpu, KVM_RUN, 0);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r < 0)
			die("KVM_RUN");
		if (v->run->exit_reason == KVM_EXIT_HLT)
			break;
		fprintf(stderr, "s2bench-calibrate: guest exit %u, expected hlt\n", v->run->exit_reason);
		exit(2);
	}
	return now_ns() - t0;
}

/* Writes one byte to each of `count` pages `stride` apart from gpa, in one guest run. */
static uint64_t touch(struct vm *v, uint64_t gpa, uint64_t count, uint64_t stride)
{
	return guest(v, ENTRY_WRITE_LOOP, gpa, count, stride);
}

static double per(uint64_t ns, uint64_t n)
{
	return (double)ns / (double)n;
}

/* A difference of two passes can come out below zero when the machine is busy: keep it, the median decides. */
static double diff_per(uint64_t a, uint64_t b, uint64_t n)
{
	return ((double)a - (double)b) / (double)n;
}

/* ---- samples ---- */

#define MAX_COSTS 32
#define MAX_REPEATS 1000
struct cost {
	const char *name, *per;
	double samples[MAX_REPEATS];
	int n;
};
static struct cost costs[MAX_COSTS];
static int ncosts;

static void sample(const char *name, const char *unit, double value)
{
	int i;
	for (i = 0; i < ncosts && strcmp(costs[i].name, name); i++)
		;
	if (i == ncosts) {
		if (ncosts == MAX_COSTS) {
			fprintf(stderr, "s2bench-calibrate: too many costs\n");
			exit(2);
		}
		costs[ncosts++] = (struct cost){ .name = name, .per = unit };
	}
	if (costs[i].n < MAX_REPEATS)
		costs[i].samples[costs[i].n++] = value;
}

static void print_costs(void)
{
	for (int i = 0; i < ncosts; i++) {
		printf("c %s %s", costs[i].name, costs[i].per);
		for (int k = 0; k < costs[i].n; k++)
			printf(" %.1f", costs[i].samples[k]);
		printf("\n");
	}
}

/* ---- THP: how much of a range the host really backs with huge pages ---- */

static uint64_t anon_huge_bytes(const void *addr)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	if (!f)
		return 0;
	char line[512];
	int inside = 0;
	uint64_t kb = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long lo, hi;
		if (sscanf(line, "%llx-%llx ", &lo, &hi) == 2 && strchr(line, '-') == line + strspn(line, "0123456789abcdef"))
			inside = (uint64_t)addr >= lo && (uint64_t)addr < hi;
		else if (inside && sscanf(line, "AnonHugePages: %llu kB", &lo) == 1)
			kb += lo;
	}
	fclose(f);
	return kb * 1024;
}

/* ---- userfaultfd: a handler thread that resolves each missing fault with UFFDIO_COPY ---- */

struct uffd_handler {
	int uffd, stop_fd;
	uint8_t *src;
	uint64_t resolved;
};

static void *uffd_thread(void *arg)
{
	struct uffd_handler *h = arg;
	struct pollfd pfd[2] = { { .fd = h->uffd, .events = POLLIN }, { .fd = h->stop_fd, .events = POLLIN } };
	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents)
			break;
		struct uffd_msg msg;
		if (read(h->uffd, &msg, sizeof(msg)) != sizeof(msg))
			continue;
		if (msg.event != UFFD_EVENT_PAGEFAULT)
			continue;
		struct uffdio_copy copy = {
			.dst = msg.arg.pagefault.address & ~(PAGE - 1), .src = (uint64_t)h->src, .len = PAGE, .mode = 0,
		};
		if (ioctl(h->uffd, UFFDIO_COPY, &copy) == 0 || errno == EEXIST)
			h->resolved++;
	}
	return NULL;
}

/* ---- the measurements, one repeat each ---- */

/* 4K first touch, a hit and the recorder's KVM_RUN round trip (the floor of one recorded access). */
static void measure_faults_4k(uint64_t n)
{
	struct vm v = vm_new(VM_TYPE_DEFAULT);
	uint8_t *mem = anon(n * PAGE, 0);
	if (set_region(v.fd, 0, 0, MEM_GPA, n * PAGE, mem, 0) < 0)
		die("memslot");
	guest(&v, ENTRY_HLT, 0, 0, 0); /* maps the guest's own code and page tables */
	uint64_t first = touch(&v, MEM_GPA, n, PAGE);
	uint64_t again = touch(&v, MEM_GPA, n, PAGE);
	sample("fault_4k", "fault", diff_per(first, again, n));
	sample("hit", "access", per(again, n));
	uint64_t rt = 0, runs = n < 256 ? 256 : n;
	for (uint64_t i = 0; i < runs; i++)
		rt += guest(&v, ENTRY_HLT, 0, 0, 0);
	sample("run_roundtrip", "KVM_RUN", per(rt, runs));
	vm_free(&v);
	munmap(mem, n * PAGE);
}

/* 2M first touch on THP-advised memory; returns the fraction of the range the host backed with THP. */
static double measure_fault_2m(uint64_t huge)
{
	struct vm v = vm_new(VM_TYPE_DEFAULT);
	uint64_t size = huge * HUGE;
	uint8_t *mem = anon(size, 1);
	if (set_region(v.fd, 0, 0, MEM_GPA, size, mem, 0) < 0)
		die("memslot");
	guest(&v, ENTRY_HLT, 0, 0, 0);
	uint64_t first = touch(&v, MEM_GPA, huge, HUGE);
	uint64_t again = touch(&v, MEM_GPA, huge, HUGE);
	double given = (double)anon_huge_bytes(mem) / (double)size;
	if (given > 1)
		given = 1; /* the VMA merged with a neighbour: all of this range is huge at most */
	if (given > 0)
		sample("fault_2m", "fault", diff_per(first, again, huge));
	vm_free(&v);
	munmap(mem, size);
	return given;
}

static long get_dirty_log(int vm_fd, uint32_t slot, uint64_t *bitmap, uint64_t npages, uint64_t *ns)
{
	memset(bitmap, 0, (npages + 63) / 64 * 8);
	struct kvm_dirty_log log = { .slot = slot, .dirty_bitmap = bitmap };
	uint64_t t0 = now_ns();
	long r = ioctl(vm_fd, KVM_GET_DIRTY_LOG, &log);
	*ns = now_ns() - t0;
	if (r < 0)
		die("KVM_GET_DIRTY_LOG");
	long count = 0;
	for (uint64_t i = 0; i < (npages + 63) / 64; i++)
		count += __builtin_popcountll(bitmap[i]);
	return count;
}

#define WP_ROUNDS 4
#define CALL_ROUNDS 16 /* cheap calls are timed this many times per sample */

/* Write-protect faults on a dirty-logged slot, and KVM_GET_DIRTY_LOG per slot and per dirty page. */
static void measure_dirty_log(uint64_t n)
{
	struct vm v = vm_new(VM_TYPE_DEFAULT);
	uint8_t *mem = anon(n * PAGE, 0);
	uint64_t *bitmap = calloc((n + 63) / 64, 8);
	if (set_region(v.fd, 0, KVM_MEM_LOG_DIRTY_PAGES, MEM_GPA, n * PAGE, mem, 0) < 0)
		die("memslot");
	guest(&v, ENTRY_HLT, 0, 0, 0);
	uint64_t ns, wp = 0, hit = 0;
	touch(&v, MEM_GPA, n, PAGE);
	/* Harvest (every page write-protected again), a pass of wp faults, a pass of hits; alternated, so
	 * that a busy spell of the machine lands on both kinds of pass alike. */
	for (int k = 0; k < WP_ROUNDS; k++) {
		get_dirty_log(v.fd, 0, bitmap, n, &ns);
		wp += touch(&v, MEM_GPA, n, PAGE);
		hit += touch(&v, MEM_GPA, n, PAGE);
	}
	uint64_t full_ns, empty_ns = 0, ns1;
	long dirty = get_dirty_log(v.fd, 0, bitmap, n, &full_ns);
	for (int k = 0; k < CALL_ROUNDS; k++) {
		get_dirty_log(v.fd, 0, bitmap, n, &ns1);
		empty_ns += ns1;
	}
	double empty = per(empty_ns, CALL_ROUNDS);
	sample("wp_fault", "fault", diff_per(wp, hit, n * WP_ROUNDS));
	sample("dirty_log_slot", "call", empty);
	sample("dirty_log_page", "dirty page", ((double)full_ns - empty) / (double)(dirty > 0 ? dirty : 1));
	if ((uint64_t)dirty != n)
		fprintf(stderr, "s2bench-calibrate: KVM_GET_DIRTY_LOG saw %ld of %llu written pages\n", dirty, (unsigned long long)n);
	vm_free(&v);
	free(bitmap);
	munmap(mem, n * PAGE);
}

static uint64_t timed_region(int vm_fd, uint32_t slot, uint32_t flags, uint64_t gpa, uint64_t size, void *hva)
{
	uint64_t t0 = now_ns();
	if (set_region(vm_fd, slot, flags, gpa, size, hva, 0) < 0)
		die("KVM_SET_USER_MEMORY_REGION2");
	return now_ns() - t0;
}

/*
 * KVM_SET_USER_MEMORY_REGION2 create, flags change and delete, on an empty slot (CALL_ROUNDS cycles,
 * so one sample is long enough to be stable) and on one with n mappings (n makes those long).
 */
static void measure_memslots(uint64_t n)
{
	struct vm v = vm_new(VM_TYPE_DEFAULT);
	uint64_t size = n * PAGE;
	uint8_t *mem = anon(size, 0);
	guest(&v, ENTRY_HLT, 0, 0, 0);
	uint64_t create = 0, flags_empty = 0, delete_empty = 0;
	for (int k = 0; k < CALL_ROUNDS; k++) {
		create += timed_region(v.fd, 1, 0, MEM2_GPA, size, mem);
		flags_empty += timed_region(v.fd, 1, KVM_MEM_LOG_DIRTY_PAGES, MEM2_GPA, size, mem);
		timed_region(v.fd, 1, 0, MEM2_GPA, size, mem);
		delete_empty += timed_region(v.fd, 1, 0, MEM2_GPA, 0, mem);
	}
	timed_region(v.fd, 1, 0, MEM2_GPA, size, mem);
	touch(&v, MEM2_GPA, n, PAGE); /* n 4K mappings */
	uint64_t flags_mapped = timed_region(v.fd, 1, KVM_MEM_LOG_DIRTY_PAGES, MEM2_GPA, size, mem);
	timed_region(v.fd, 1, 0, MEM2_GPA, size, mem);
	touch(&v, MEM2_GPA, n, PAGE);
	uint64_t delete_mapped = timed_region(v.fd, 1, 0, MEM2_GPA, 0, mem);
	sample("memslot_create", "call", per(create, CALL_ROUNDS));
	sample("memslot_flags", "call", per(flags_empty, CALL_ROUNDS));
	sample("memslot_delete", "call", per(delete_empty, CALL_ROUNDS));
	sample("memslot_zap", "mapping", ((double)delete_mapped - per(delete_empty, CALL_ROUNDS)) / (double)n);
	sample("memslot_wrprot", "mapping", ((double)flags_mapped - per(flags_empty, CALL_ROUNDS)) / (double)n);
	vm_free(&v);
	munmap(mem, size);
}

/* A userfaultfd round trip: a first touch resolved by a handler thread, minus a plain first touch. */
static const char *measure_uffd(uint64_t n)
{
	int uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0)
		return errno == EPERM ? "userfaultfd: EPERM (vm.unprivileged_userfaultfd is 0 and this process lacks CAP_SYS_PTRACE)"
				      : "userfaultfd syscall failed";
	struct uffdio_api api = { .api = UFFD_API };
	if (ioctl(uffd, UFFDIO_API, &api) < 0) {
		close(uffd);
		return "UFFDIO_API failed";
	}
	struct vm v = vm_new(VM_TYPE_DEFAULT);
	uint64_t size = n * PAGE;
	uint8_t *plain = anon(size, 0), *mem = anon(size, 0);
	if (set_region(v.fd, 0, 0, MEM_GPA, size, plain, 0) < 0 || set_region(v.fd, 1, 0, MEM2_GPA, size, mem, 0) < 0)
		die("memslot");
	struct uffdio_register reg = { .range = { .start = (uint64_t)mem, .len = size }, .mode = UFFDIO_REGISTER_MODE_MISSING };
	if (ioctl(uffd, UFFDIO_REGISTER, &reg) < 0)
		die("UFFDIO_REGISTER");
	int stop[2];
	if (pipe(stop) < 0)
		die("pipe");
	struct uffd_handler h = { .uffd = uffd, .stop_fd = stop[0], .src = anon(PAGE, 0) };
	memset(h.src, 0x5a, PAGE);
	pthread_t thread;
	pthread_create(&thread, NULL, uffd_thread, &h);
	guest(&v, ENTRY_HLT, 0, 0, 0);
	uint64_t base = touch(&v, MEM_GPA, n, PAGE);
	uint64_t faulted = touch(&v, MEM2_GPA, n, PAGE);
	if (write(stop[1], "x", 1) != 1)
		die("write");
	pthread_join(thread, NULL);
	sample("uffd_roundtrip", "fault", diff_per(faulted, base, n));
	if (h.resolved != n)
		fprintf(stderr, "s2bench-calibrate: userfaultfd resolved %llu of %llu pages\n", (unsigned long long)h.resolved,
			(unsigned long long)n);
	close(stop[0]);
	close(stop[1]);
	close(uffd);
	vm_free(&v);
	munmap(h.src, PAGE);
	munmap(plain, size);
	munmap(mem, size);
	return NULL;
}

static uint64_t timed_punch(int fd, uint64_t first, uint64_t pages)
{
	uint64_t t0 = now_ns();
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)(first * PAGE), (off_t)(pages * PAGE)) < 0)
		die("fallocate punch");
	return now_ns() - t0;
}

/*
 * guest_memfd hole punches (fallocate PUNCH_HOLE|KEEP_SIZE) of allocated pages: one page, then the
 * other n - 1. With cost(k) = call + k x page: page = (t(n-1) - t(1)) / (n - 2), call = t(1).
 */
static const char *measure_gmem_punch(uint64_t n, int vm_type)
{
	struct vm v = vm_new(vm_type);
	struct kvm_create_guest_memfd args = { .size = n * PAGE };
	int fd = ioctl(v.fd, KVM_CREATE_GUEST_MEMFD, &args);
	if (fd < 0) {
		vm_free(&v);
		return "KVM_CREATE_GUEST_MEMFD failed on this VM type";
	}
	uint64_t one = 0, rest = 0;
	for (int k = 0; k < CALL_ROUNDS; k++) {
		if (fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, (off_t)(n * PAGE)) < 0) /* guest_memfd allocates only with KEEP_SIZE */
			die("fallocate");
		one += timed_punch(fd, 0, 1);
		rest += timed_punch(fd, 1, n - 1);
	}
	sample("gmem_punch", "call", per(one, CALL_ROUNDS));
	sample("gmem_punch_page", "page", diff_per(rest, one, (n > 2 ? n - 2 : 1) * CALL_ROUNDS));
	close(fd);
	vm_free(&v);
	return NULL;
}

static uint64_t set_attributes(int vm_fd, uint64_t gpa, uint64_t size, uint64_t attrs)
{
	struct kvm_memory_attributes a = { .address = gpa, .size = size, .attributes = attrs };
	uint64_t t0 = now_ns();
	if (ioctl(vm_fd, KVM_SET_MEMORY_ATTRIBUTES, &a) < 0)
		die("KVM_SET_MEMORY_ATTRIBUTES");
	return now_ns() - t0;
}

/* KVM_SET_MEMORY_ATTRIBUTES shared -> private -> shared over one page and over n pages. */
static void measure_attributes(uint64_t n)
{
	struct vm v = vm_new(VM_TYPE_SW_PROTECTED);
	struct kvm_create_guest_memfd args = { .size = n * PAGE };
	int fd = ioctl(v.fd, KVM_CREATE_GUEST_MEMFD, &args);
	if (fd < 0)
		die("KVM_CREATE_GUEST_MEMFD");
	uint8_t *mem = anon(n * PAGE, 0);
	if (set_region(v.fd, 0, KVM_MEM_GUEST_MEMFD, MEM_GPA, n * PAGE, mem, fd) < 0)
		die("guest_memfd memslot");
	uint64_t one = set_attributes(v.fd, MEM_GPA, PAGE, KVM_MEMORY_ATTRIBUTE_PRIVATE);
	one += set_attributes(v.fd, MEM_GPA, PAGE, 0);
	uint64_t all = set_attributes(v.fd, MEM_GPA, n * PAGE, KVM_MEMORY_ATTRIBUTE_PRIVATE);
	all += set_attributes(v.fd, MEM_GPA, n * PAGE, 0);
	sample("attributes_call", "call", (double)one / 2);
	sample("attributes_page", "page", diff_per(all, one, 2 * (n - 1))); /* cost(k) = call + (k - 1) x page */
	close(fd);
	vm_free(&v);
	munmap(mem, n * PAGE);
}

/* ---- main ---- */

static void open_kvm(void)
{
	kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm_fd < 0)
		die("cannot open /dev/kvm");
	if (ioctl(kvm_fd, KVM_GET_API_VERSION, 0) != 12)
		die("/dev/kvm API version is not 12");
	vcpu_mmap_size = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vcpu_mmap_size <= 0)
		die("KVM_GET_VCPU_MMAP_SIZE");
	int nent = 256;
	cpuid = calloc(1, sizeof(*cpuid) + nent * sizeof(struct kvm_cpuid_entry2));
	cpuid->nent = nent;
	if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid) < 0)
		die("KVM_GET_SUPPORTED_CPUID");
}

static uint64_t arg(int argc, char **argv, const char *name, uint64_t dflt, uint64_t min, uint64_t max)
{
	for (int i = 1; i + 1 < argc; i++) {
		if (strcmp(argv[i], name))
			continue;
		char *end;
		unsigned long long v = strtoull(argv[i + 1], &end, 10);
		if (*end || v < min || v > max) {
			fprintf(stderr, "s2bench-calibrate: %s takes a whole number in [%llu, %llu], not '%s'\n", name,
				(unsigned long long)min, (unsigned long long)max, argv[i + 1]);
			exit(2);
		}
		return v;
	}
	return dflt;
}

int main(int argc, char **argv)
{
	uint64_t repeats = arg(argc, argv, "--repeats", 15, 1, MAX_REPEATS);
	uint64_t n = arg(argc, argv, "--pages", 4096, 2, 1 << 17); /* MEM2_GPA + n pages stays below MEM_GPA */
	uint64_t huge = arg(argc, argv, "--huge", 32, 1, 512);
	open_kvm();
	struct utsname u;
	uname(&u);
	printf("m kernel %s\nm machine %s\n", u.release, u.machine);
	int types = ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_VM_TYPES);
	int sw_protected = types > 0 && (types & (1 << VM_TYPE_SW_PROTECTED));
	printf("m vm_types 0x%x\nm vm_type default\nm repeats %llu\nm pages %llu\nm huge %llu\n", types > 0 ? types : 0,
	       (unsigned long long)repeats, (unsigned long long)n, (unsigned long long)huge);
	double thp_min = 1, thp_max = 0;
	const char *uffd_skip = NULL, *punch_skip = NULL;
	for (uint64_t r = 0; r < repeats; r++) {
		measure_faults_4k(n);
		double given = measure_fault_2m(huge);
		thp_min = given < thp_min ? given : thp_min;
		thp_max = given > thp_max ? given : thp_max;
		measure_dirty_log(n);
		measure_memslots(n);
		if (!uffd_skip)
			uffd_skip = measure_uffd(n);
		if (!punch_skip)
			punch_skip = measure_gmem_punch(n, VM_TYPE_DEFAULT);
		if (sw_protected)
			measure_attributes(n);
	}
	printf("m thp_given %.4f %.4f\n", thp_min, thp_max);
	print_costs();
	printf("n fault_4k pages=%llu backing=anon,MADV_NOHUGEPAGE access=write\n", (unsigned long long)n);
	printf("n hit pages=%llu\n", (unsigned long long)n);
	printf("n fault_2m huge_pages=%llu backing=anon,MADV_HUGEPAGE thp_given_min=%.4f\n", (unsigned long long)huge, thp_min);
	printf("n wp_fault pages=%llu rounds=%d\n", (unsigned long long)n, WP_ROUNDS);
	printf("n dirty_log_slot slot_pages=%llu dirty=0 calls_per_sample=%d\n", (unsigned long long)n, CALL_ROUNDS);
	printf("n dirty_log_page slot_pages=%llu dirty=%llu\n", (unsigned long long)n, (unsigned long long)n);
	printf("n memslot_create slot_pages=%llu calls_per_sample=%d\n", (unsigned long long)n, CALL_ROUNDS);
	printf("n memslot_flags slot_pages=%llu change=LOG_DIRTY_PAGES-on mappings=0 calls_per_sample=%d\n", (unsigned long long)n, CALL_ROUNDS);
	printf("n memslot_delete slot_pages=%llu mappings_zapped=0 calls_per_sample=%d\n", (unsigned long long)n, CALL_ROUNDS);
	printf("n memslot_zap slot_pages=%llu mappings_zapped=%llu\n", (unsigned long long)n, (unsigned long long)n);
	printf("n memslot_wrprot slot_pages=%llu mappings_write_protected=%llu\n", (unsigned long long)n, (unsigned long long)n);
	printf("n gmem_punch pages=1 allocated=yes mappings_zapped=0 calls_per_sample=%d\n", CALL_ROUNDS);
	printf("n gmem_punch_page pages=%llu allocated=yes mappings_zapped=0\n", (unsigned long long)n - 1);
	if (thp_max == 0)
		printf("s fault_2m the host backed none of the MADV_HUGEPAGE range with THP (AnonHugePages 0 in smaps)\n");
	if (uffd_skip)
		printf("s uffd_roundtrip %s\n", uffd_skip);
	if (punch_skip)
		printf("s gmem_punch %s\ns gmem_punch_page %s\n", punch_skip, punch_skip);
	if (!sw_protected) {
		printf("s attributes_call KVM_CAP_VM_TYPES does not offer KVM_X86_SW_PROTECTED_VM, and the default VM type has no "
		       "KVM_CAP_MEMORY_ATTRIBUTES (KVM_SET_MEMORY_ATTRIBUTES fails with ENOTTY)\n");
		printf("s attributes_page as attributes_call\n");
	} else {
		printf("n attributes_call vm_type=sw_protected pages=1\nn attributes_page vm_type=sw_protected pages=%llu\n",
		       (unsigned long long)n);
	}
	return 0;
}
