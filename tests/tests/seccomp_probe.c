/* Calls each syscall rlxc's default seccomp list denies, with arguments
 * that make it fail harmlessly when nothing filters it, and prints the
 * errno each one got (0: it ran). Also keyctl through the i386 entry
 * (int 0x80) and the x32 number, which a filter must catch too. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

static void show(const char *name, long r) { printf("%s %d\n", name, r < 0 ? errno : 0); }

static long int80(long nr, long a, long b, long c) {
    long r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
    if (r < 0 && r > -4096) { errno = (int)-r; return -1; }
    return r;
}

int main(void) {
    show("kexec_load", syscall(SYS_kexec_load, 0, 1000000, 0, 0));
    show("kexec_file_load", syscall(SYS_kexec_file_load, -1, -1, 0, 0, 0));
    show("open_by_handle_at", syscall(SYS_open_by_handle_at, -1, 0, 0));
    show("init_module", syscall(SYS_init_module, 0, 0, 0));
    show("finit_module", syscall(SYS_finit_module, -1, 0, 0));
    show("delete_module", syscall(SYS_delete_module, "rlxc_no_such_module", 0));
    show("keyctl", syscall(SYS_keyctl, 0, -3, 0));
    show("add_key", syscall(SYS_add_key, 0, 0, 0, 0, 0));
    show("request_key", syscall(SYS_request_key, 0, 0, 0, 0));
    show("swapon", syscall(SYS_swapon, "/rlxc-no-such-swap", 0));
    show("swapoff", syscall(SYS_swapoff, "/rlxc-no-such-swap"));
    show("syslog", syscall(SYS_syslog, 10, 0, 0));
    show("umount2-force", syscall(SYS_umount2, "/rlxc-no-such-mount", 1));
    show("umount2", syscall(SYS_umount2, "/rlxc-no-such-mount", 0));
    show("keyctl-i386", int80(288, 0, -3, 0));
    show("keyctl-x32", syscall(0x40000000 | 250, 0, -3, 0));
    show("getpid", syscall(SYS_getpid));
    return 0;
}
