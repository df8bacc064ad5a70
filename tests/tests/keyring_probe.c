/* Prints the serial of the caller's session keyring (KEYCTL_GET_KEYRING_ID,
 * KEY_SPEC_SESSION_KEYRING, no create), or "none". */
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void) {
    long id = syscall(SYS_keyctl, 0 /* GET_KEYRING_ID */, -3 /* SESSION */, 0);
    if (id < 0) { puts("none"); return 0; }
    printf("%ld\n", id);
    return 0;
}
