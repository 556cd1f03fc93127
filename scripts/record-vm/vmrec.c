/*
 * s2bench VMM recorder: an LD_PRELOAD library that `s2bench record-vm` loads into a VMM (QEMU, ...).
 * It interposes ioctl(), fallocate() and close(), passes every call through unchanged and returns the
 * kernel's own result, and writes one text record per memory-relevant event to the file descriptor
 * named by S2BENCH_VMREC_FD. The TypeScript side (src/record-vm/) turns the records into trace rows.
 * Record grammar: docs/record-vm.md ("Record stream"). Numbers are hex except ret (signed decimal).
 *
 * First touches: every RAM memslot's host range is registered with userfaultfd (missing mode, thread
 * ids on). A handler thread logs each fault and resolves it with the zero page (read) or a zero-filled
 * copy (write), as the kernel's demand_paging_test does: the page was missing, so its content is zeros
 * either way and the VMM sees no difference. Without userfaultfd (permissions), ioctls only.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../recorder/kvm_uapi.h"

#define MAX_FDS 65536
#define MAX_VCPUS 1024
#define MAX_SLOTS (2 * 65536) /* slot ids with their address space (as_id << 16) */
#define PAGE 4096UL

/* What an fd is to the recorder: only fds created by KVM ioctls seen here are tracked. */
enum fd_kind { FD_NONE = 0, FD_VM, FD_VCPU, FD_GMEM };

static int (*real_ioctl)(int, unsigned long, ...);
static int (*real_close)(int);
static int (*real_fallocate)(int, int, off_t, off_t);

static int stream_fd = -1; /* inherited, not yet claimed */
static int out_fd = -1;    /* claimed: this process is the VMM */
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static struct timespec t0;

static unsigned char fd_kind[MAX_FDS];
static short vcpu_of_fd[MAX_FDS];
static struct kvm_run *run_of_vcpu[MAX_VCPUS];
/* The thread id inside KVM_RUN for each vCPU, 0 when none: tells a guest fault from a host one. */
static volatile pid_t running_tid[MAX_VCPUS];
static volatile int nr_vcpus;
static long run_size;

/* Slot id (with address space) -> pages, for sizing dirty bitmaps. */
static uint32_t slot_pages[MAX_SLOTS];

static int uffd = -1;
static int uffd_tried;
static char uffd_why[160];
static unsigned long faults, resolved;
static char zero_page[PAGE] __attribute__((aligned(PAGE)));


static pid_t gettid_(void) { return (pid_t)syscall(SYS_gettid); }

static unsigned long long now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (unsigned long long)(t.tv_sec - t0.tv_sec) * 1000000ULL + (t.tv_nsec - t0.tv_nsec) / 1000;
}

/* One record, written whole under the lock so that records of different threads never interleave. */
static void emit_raw(const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(out_fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			out_fd = -1; /* the reader is gone: stop recording, keep passing calls through */
			return;
		}
		buf += n;
		len -= (size_t)n;
	}
}

static void emit(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	if (out_fd < 0)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	int saved = errno;
	pthread_mutex_lock(&out_lock);
	if (out_fd >= 0)
		emit_raw(buf, (size_t)n);
	pthread_mutex_unlock(&out_lock);
	errno = saved;
}

static void resolve_symbols(void)
{
	if (real_ioctl)
		return;
	real_close = (int (*)(int))dlsym(RTLD_NEXT, "close");
	real_fallocate = (int (*)(int, int, off_t, off_t))dlsym(RTLD_NEXT, "fallocate");
	real_ioctl = (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT, "ioctl");
}

/*
 * The stream's fd moves to a high number so that the VMM's own fd numbers stay what they would be.
 * It stays inheritable until this process issues its first KVM ioctl: the command may be a wrapper
 * (timeout, taskset, a script) that execs or forks the real VMM, which finds the fd through the same
 * environment variable. The process that talks to KVM then marks it close-on-exec and owns it.
 */
__attribute__((constructor)) static void vmrec_init(void)
{
	resolve_symbols();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	const char *fdtext = getenv("S2BENCH_VMREC_FD");
	if (!fdtext)
		return; /* not under s2bench record-vm: pass everything through */
	int fd = atoi(fdtext);
	if (fcntl(fd, F_GETFD) < 0)
		return;
	if (fd < 900) {
		int high = fcntl(fd, F_DUPFD, 900);
		if (high < 0)
			return;
		real_close(fd);
		fd = high;
		char text[16];
		snprintf(text, sizeof(text), "%d", fd);
		setenv("S2BENCH_VMREC_FD", text, 1);
	}
	stream_fd = fd;
}

/* First KVM ioctl of this process: it is the VMM; start writing. */
static void claim_stream(void)
{
	if (stream_fd < 0 || out_fd >= 0)
		return;
	fcntl(stream_fd, F_SETFD, FD_CLOEXEC);
	out_fd = stream_fd;
	emit("I %x %d\n", (unsigned)getpid(), 1);
}

__attribute__((destructor)) static void vmrec_fini(void)
{
	emit("Z %llx %lx %lx\n", now_us(), faults, resolved);
}

/* ---- userfaultfd --------------------------------------------------------------------------- */

static int vcpu_running_on(pid_t tid)
{
	int n = nr_vcpus;
	for (int i = 0; i < n; i++)
		if (running_tid[i] == tid)
			return i;
	return -1;
}

static void uffd_wake(unsigned long addr)
{
	struct uffdio_range r = { .start = addr, .len = PAGE };
	real_ioctl(uffd, UFFDIO_WAKE, &r);
}

static void resolve_fault(unsigned long addr, int write)
{
	for (int attempt = 0; attempt < 100; attempt++) {
		int rc;
		if (write) {
			struct uffdio_copy c = { .dst = addr, .src = (unsigned long)zero_page, .len = PAGE, .mode = 0 };
			rc = real_ioctl(uffd, UFFDIO_COPY, &c);
		} else {
			struct uffdio_zeropage z = { .range = { .start = addr, .len = PAGE }, .mode = 0 };
			rc = real_ioctl(uffd, UFFDIO_ZEROPAGE, &z);
		}
		if (rc == 0) {
			resolved++;
			return;
		}
		if (errno == EEXIST) { /* filled meanwhile (another thread's fault on the page) */
			uffd_wake(addr);
			return;
		}
		if (errno != EAGAIN)
			break;
	}
	/* Could not fill (the range went away): let the thread retry the access by itself. */
	uffd_wake(addr);
}

static void *uffd_handler(void *arg)
{
	(void)arg;
	struct uffd_msg msgs[64];
	for (;;) {
		struct pollfd p = { .fd = uffd, .events = POLLIN };
		if (poll(&p, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return NULL;
		}
		ssize_t n = read(uffd, msgs, sizeof(msgs));
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return NULL;
		}
		for (size_t i = 0; i < (size_t)n / sizeof(msgs[0]); i++) {
			if (msgs[i].event != UFFD_EVENT_PAGEFAULT)
				continue;
			unsigned long addr = msgs[i].arg.pagefault.address & ~(PAGE - 1);
			int write = (msgs[i].arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WRITE) != 0;
			pid_t tid = (pid_t)msgs[i].arg.pagefault.feat.ptid;
			faults++;
			/* Logged before it is resolved: the faulting thread waits, so its later records follow. */
			emit("U %llx %x %lx %d %d\n", now_us(), (unsigned)tid, addr, write, vcpu_running_on(tid));
			resolve_fault(addr, write);
		}
	}
}

static void uffd_start(void)
{
	uffd_tried = 1;
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		snprintf(uffd_why, sizeof(uffd_why), "userfaultfd: %s", strerror(errno));
		return;
	}
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_THREAD_ID };
	if (real_ioctl(fd, UFFDIO_API, &api) < 0) {
		snprintf(uffd_why, sizeof(uffd_why), "UFFDIO_API with UFFD_FEATURE_THREAD_ID: %s", strerror(errno));
		real_close(fd);
		return;
	}
	/* The stream's fd and uffd stay far from the VMM's own fd numbers. */
	int high = fcntl(fd, F_DUPFD_CLOEXEC, 900);
	real_close(fd);
	if (high < 0) {
		snprintf(uffd_why, sizeof(uffd_why), "fcntl: %s", strerror(errno));
		return;
	}
	uffd = high;
	pthread_t th;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&th, &attr, uffd_handler, NULL) != 0) {
		snprintf(uffd_why, sizeof(uffd_why), "handler thread: %s", strerror(errno));
		real_close(uffd);
		uffd = -1;
	}
	pthread_attr_destroy(&attr);
}

/* Registers a RAM slot's host range; emits `R hva size ok|why`. */
static void uffd_register(uint64_t hva, uint64_t size)
{
	if (!uffd_tried) {
		uffd_start();
		emit("N uffd %s\n", uffd >= 0 ? "on" : uffd_why);
	}
	if (uffd < 0)
		return;
	struct uffdio_register reg = { .range = { .start = hva, .len = size }, .mode = UFFDIO_REGISTER_MODE_MISSING };
	if (real_ioctl(uffd, UFFDIO_REGISTER, &reg) < 0) {
		emit("R %lx %lx %s\n", (unsigned long)hva, (unsigned long)size, strerror(errno));
		return;
	}
	if (!(reg.ioctls & (1ULL << _UFFDIO_ZEROPAGE))) {
		/* hugetlbfs: faults would need whole huge pages filled; leave such ranges alone. */
		real_ioctl(uffd, UFFDIO_UNREGISTER, &reg.range);
		emit("R %lx %lx hugetlb\n", (unsigned long)hva, (unsigned long)size);
		return;
	}
	emit("R %lx %lx ok\n", (unsigned long)hva, (unsigned long)size);
}

/* ---- ioctl --------------------------------------------------------------------------------- */

static int ret_of(int rc) { return rc < 0 ? -errno : rc; }

static unsigned long popcount_bits(const uint64_t *words, uint64_t nbits)
{
	unsigned long n = 0;
	for (uint64_t w = 0; w < (nbits + 63) / 64; w++) {
		uint64_t v = words[w];
		if ((w + 1) * 64 > nbits && nbits % 64)
			v &= (1ULL << (nbits % 64)) - 1;
		n += (unsigned long)__builtin_popcountll(v);
	}
	return n;
}

/*
 * Dirty pages as runs `start+len,...` (pages, hex) after a `B` record header, split over lines of
 * bounded length; a final `E` line closes the list. Written under the lock as one unit.
 */
static void emit_bitmap_runs(const uint64_t *words, uint64_t nbits)
{
	char line[4096];
	size_t len = 0;
	uint64_t page = 0;
	while (page < nbits) {
		if (!(words[page / 64] & (1ULL << (page % 64)))) {
			page++;
			continue;
		}
		uint64_t start = page;
		while (page < nbits && (words[page / 64] & (1ULL << (page % 64))))
			page++;
		if (len > sizeof(line) - 64) {
			line[len++] = '\n';
			emit_raw(line, len);
			len = 0;
		}
		if (len == 0)
			len += (size_t)snprintf(line, sizeof(line), "B");
		len += (size_t)snprintf(line + len, sizeof(line) - len, " %lx+%lx", (unsigned long)start, (unsigned long)(page - start));
	}
	if (len > 0) {
		line[len++] = '\n';
		emit_raw(line, len);
	}
	emit_raw("E\n", 2);
}

static void record_dirty(char kind, int fd, int ret, uint32_t slot, uint64_t first, uint64_t npages, const uint64_t *bitmap)
{
	unsigned long pop = ret == 0 && bitmap ? popcount_bits(bitmap, npages) : 0;
	char head[160];
	int n = snprintf(head, sizeof(head), "%c %llx %x %d %d %x %lx %lx %lx\n", kind, now_us(), (unsigned)gettid_(), fd, ret, slot,
			 (unsigned long)first, (unsigned long)npages, pop);
	if (out_fd < 0)
		return;
	pthread_mutex_lock(&out_lock);
	if (out_fd >= 0) {
		emit_raw(head, (size_t)n);
		if (ret == 0 && bitmap)
			emit_bitmap_runs(bitmap, npages);
		else
			emit_raw("E\n", 2);
	}
	pthread_mutex_unlock(&out_lock);
}

static void track_fd(int fd, enum fd_kind kind)
{
	if (fd >= 0 && fd < MAX_FDS)
		fd_kind[fd] = (unsigned char)kind;
}

static void record_memslot(int fd, int ret, const struct kvm_userspace_memory_region2 *r, int v2)
{
	emit("M %llx %x %d %d %x %x %lx %lx %lx %x %lx %d\n", now_us(), (unsigned)gettid_(), fd, ret, r->slot, r->flags,
	     (unsigned long)r->guest_phys_addr, (unsigned long)r->memory_size, (unsigned long)r->userspace_addr,
	     v2 ? r->guest_memfd : 0, v2 ? (unsigned long)r->guest_memfd_offset : 0UL, v2 ? 2 : 1);
	if (ret != 0)
		return;
	if (r->slot < MAX_SLOTS)
		slot_pages[r->slot] = (uint32_t)(r->memory_size / PAGE);
	if (r->memory_size > 0 && !(r->flags & KVM_MEM_GUEST_MEMFD))
		uffd_register(r->userspace_addr, r->memory_size);
}

static void after_create_vcpu(int vmfd, int ret, unsigned long id)
{
	emit("P %llx %x %d %d %lx\n", now_us(), (unsigned)gettid_(), vmfd, ret, id);
	if (ret < 0 || ret >= MAX_FDS || nr_vcpus >= MAX_VCPUS)
		return;
	int index = nr_vcpus;
	track_fd(ret, FD_VCPU);
	vcpu_of_fd[ret] = (short)index;
	if (run_size == 0) {
		int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
		if (kvm >= 0) {
			run_size = real_ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
			real_close(kvm);
		}
	}
	/* A second, read-only view of the vCPU's kvm_run page: the exit reason after KVM_RUN. */
	void *run = run_size > 0 ? mmap(NULL, (size_t)run_size, PROT_READ, MAP_SHARED, ret, 0) : MAP_FAILED;
	run_of_vcpu[index] = run == MAP_FAILED ? NULL : (struct kvm_run *)run;
	__atomic_store_n(&nr_vcpus, index + 1, __ATOMIC_RELEASE);
}

static void after_run(int fd, int rc, int err)
{
	int v = vcpu_of_fd[fd];
	struct kvm_run *run = run_of_vcpu[v];
	if (!run)
		return;
	if (rc < 0 && err != EFAULT)
		return; /* EINTR, EAGAIN: no exit to report */
	switch (run->exit_reason) {
	case KVM_EXIT_MMIO:
		if (rc < 0)
			return;
		emit("X %llx %x %d %d %x %lx %x %d\n", now_us(), (unsigned)gettid_(), v, 0, KVM_EXIT_MMIO,
		     (unsigned long)run->mmio.phys_addr, run->mmio.len, run->mmio.is_write);
		return;
	case KVM_EXIT_MEMORY_FAULT: {
		const uint64_t *mf = (const uint64_t *)&run->mmio; /* memory_fault { flags, gpa, size } */
		emit("X %llx %x %d %d %x %lx %lx %lx\n", now_us(), (unsigned)gettid_(), v, rc < 0 ? -err : 0, KVM_EXIT_MEMORY_FAULT,
		     (unsigned long)mf[1], (unsigned long)mf[2], (unsigned long)mf[0]);
		return;
	}
	case KVM_EXIT_INTERNAL_ERROR:
		if (rc < 0)
			return;
		emit("X %llx %x %d %d %x %x 0 0\n", now_us(), (unsigned)gettid_(), v, 0, KVM_EXIT_INTERNAL_ERROR, run->internal.suberror);
		return;
	}
}

static int kvm_ioctl(int fd, unsigned long request, void *arg)
{
	/*
	 * The kernel takes the request as an unsigned int; VMMs that hold it in an int (QEMU's
	 * kvm_vm_ioctl()) pass _IOR/_IOWR numbers sign-extended, e.g. KVM_CLEAR_DIRTY_LOG as 0xffffffffc018aec0.
	 */
	unsigned int req = (unsigned int)request;
	enum fd_kind kind = fd >= 0 && fd < MAX_FDS ? (enum fd_kind)fd_kind[fd] : FD_NONE;
	if (req == KVM_RUN && kind == FD_VCPU) {
		int v = vcpu_of_fd[fd];
		running_tid[v] = gettid_();
		int rc = real_ioctl(fd, request, arg);
		int err = errno;
		running_tid[v] = 0;
		after_run(fd, rc, err);
		errno = err;
		return rc;
	}
	int rc = real_ioctl(fd, request, arg);
	int err = errno;
	int ret = rc < 0 ? -err : rc;
	switch (req) {
	case KVM_CREATE_VM:
		emit("V %llx %x %d %d\n", now_us(), (unsigned)gettid_(), fd, ret);
		if (rc >= 0)
			track_fd(rc, FD_VM);
		break;
	case KVM_CREATE_VCPU:
		if (kind == FD_VM)
			after_create_vcpu(fd, ret, (unsigned long)arg);
		break;
	case KVM_SET_USER_MEMORY_REGION:
		if (kind == FD_VM && arg) {
			const struct kvm_userspace_memory_region *r1 = arg;
			struct kvm_userspace_memory_region2 r = { .slot = r1->slot, .flags = r1->flags, .guest_phys_addr = r1->guest_phys_addr,
								  .memory_size = r1->memory_size, .userspace_addr = r1->userspace_addr };
			record_memslot(fd, ret, &r, 0);
		}
		break;
	case KVM_SET_USER_MEMORY_REGION2:
		if (kind == FD_VM && arg)
			record_memslot(fd, ret, arg, 1);
		break;
	case KVM_CREATE_GUEST_MEMFD:
		if (kind == FD_VM && arg) {
			const struct kvm_create_guest_memfd *g = arg;
			emit("G %llx %x %d %d %lx %lx\n", now_us(), (unsigned)gettid_(), fd, ret, (unsigned long)g->size, (unsigned long)g->flags);
			if (rc >= 0)
				track_fd(rc, FD_GMEM);
		}
		break;
	case KVM_SET_MEMORY_ATTRIBUTES:
		if (kind == FD_VM && arg) {
			const struct kvm_memory_attributes *a = arg;
			emit("A %llx %x %d %d %lx %lx %lx %lx\n", now_us(), (unsigned)gettid_(), fd, ret, (unsigned long)a->address,
			     (unsigned long)a->size, (unsigned long)a->attributes, (unsigned long)a->flags);
		}
		break;
	case KVM_GET_DIRTY_LOG:
		if (kind == FD_VM && arg) {
			const struct kvm_dirty_log *d = arg;
			uint64_t npages = d->slot < MAX_SLOTS ? slot_pages[d->slot] : 0;
			record_dirty('D', fd, ret, d->slot, 0, npages, d->dirty_bitmap);
		}
		break;
	case KVM_CLEAR_DIRTY_LOG:
		if (kind == FD_VM && arg) {
			const struct kvm_clear_dirty_log *c = arg;
			record_dirty('C', fd, ret, c->slot, c->first_page, c->num_pages, c->dirty_bitmap);
		}
		break;
	case KVM_ENABLE_CAP:
		/* VM capabilities only (a vCPU fd takes its own); the model knows KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2. */
		if (kind == FD_VM && arg) {
			const struct kvm_enable_cap *e = arg;
			emit("Q %llx %x %d %d %x %x %lx\n", now_us(), (unsigned)gettid_(), fd, ret, e->cap, e->flags, (unsigned long)e->args[0]);
		}
		break;
	}
	errno = err;
	return rc;
}

int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	va_start(ap, req);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	resolve_symbols();
	if (((req >> 8) & 0xff) != KVMIO || stream_fd < 0)
		return real_ioctl(fd, req, arg);
	claim_stream();
	if (out_fd < 0)
		return real_ioctl(fd, req, arg);
	return kvm_ioctl(fd, req, arg);
}

int fallocate(int fd, int mode, off_t offset, off_t len)
{
	resolve_symbols();
	int rc = real_fallocate(fd, mode, offset, len);
	if (out_fd >= 0 && fd >= 0 && fd < MAX_FDS && fd_kind[fd] == FD_GMEM) {
		int err = errno;
		emit("F %llx %x %d %d %x %lx %lx\n", now_us(), (unsigned)gettid_(), fd, ret_of(rc), (unsigned)mode, (unsigned long)offset,
		     (unsigned long)len);
		errno = err;
	}
	return rc;
}

int fallocate64(int fd, int mode, off_t offset, off_t len) __attribute__((alias("fallocate")));

int close(int fd)
{
	resolve_symbols();
	enum fd_kind kind = fd >= 0 && fd < MAX_FDS ? (enum fd_kind)fd_kind[fd] : FD_NONE;
	if (fd == stream_fd && fd >= 0) {
		/* The VMM closes fds it does not know (e.g. closing every fd before exec): keep ours. */
		return 0;
	}
	int rc = real_close(fd);
	if (kind != FD_NONE && out_fd >= 0) {
		int err = errno;
		if (rc == 0)
			fd_kind[fd] = FD_NONE;
		emit("K %llx %x %d %d %d\n", now_us(), (unsigned)gettid_(), fd, ret_of(rc), (int)kind);
		errno = err;
	}
	return rc;
}
