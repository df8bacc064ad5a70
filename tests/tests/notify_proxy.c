/* A seccomp notification proxy speaking LXC's format, for the tests:
 * notify_proxy SOCKET ERRNO answers every call with -ERRNO and logs the
 * syscall number and the cookie to stderr. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 3) return 2;
    int s = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    strncpy(a.sun_path, argv[1], sizeof a.sun_path - 1);
    unlink(argv[1]);
    if (bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 1)) return 3;
    printf("ready\n");
    fflush(stdout);
    int c = accept(s, 0, 0);
    char buf[4096];
    for (;;) {
        /* The fds LXC's format passes are dropped: no control buffer. */
        ssize_t n = recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        uint16_t nsz = *(uint16_t *)(buf + 16), rsz = *(uint16_t *)(buf + 18);
        uint64_t cookie_len = *(uint64_t *)(buf + 24);
        char *req = buf + 32, *resp = req + nsz;
        memcpy(resp, req, 8);
        *(int64_t *)(resp + 8) = 0;
        *(int32_t *)(resp + 16) = -atoi(argv[2]);
        *(uint32_t *)(resp + 20) = 0;
        fprintf(stderr, "nr=%d cookie=%.*s\n", *(int32_t *)(req + 16), (int)cookie_len, resp + rsz);
        fflush(stderr);
        send(c, buf, 32 + nsz + rsz, 0);
    }
    return 0;
}
