/* print_lines — an agent that writes fast: N lines (default 1,000,000) of
 * exactly 100 bytes including the newline, as fast as stdio allows.  Line i
 * (from 1) starts with i as ten digits, so a store can be checked for lost,
 * duplicated or garbled lines:
 *   0000000001 xxxxxxxx...x\n      (10 digits, a space, 88 'x', '\n') */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 1000000;
    if (n < 0 || n > 9999999999L) {
        fprintf(stderr, "usage: print_lines [N]\n");
        return 64;
    }
    static char buf[1 << 16];
    setvbuf(stdout, buf, _IOFBF, sizeof buf);
    char line[101];
    memset(line, 'x', sizeof line);
    line[10] = ' ';
    line[99] = '\n';
    for (long i = 1; i <= n; i++) {
        /* ten digits, written by hand: printf would dominate the cost */
        long v = i;
        for (int d = 9; d >= 0; d--) {
            line[d] = (char)('0' + v % 10);
            v /= 10;
        }
        if (fwrite(line, 1, 100, stdout) != 100)
            return 1;
    }
    return fflush(stdout) == 0 ? 0 : 1;
}
