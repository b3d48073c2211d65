/* ULIDs: 26-character, time-sortable unique ids (48-bit milliseconds then
 * 80 random bits, Crockford base32).  Ids made within one millisecond by
 * this process increase strictly, so sorting by id is sorting by creation. */
#ifndef BOSUN_ULID_H
#define BOSUN_ULID_H

#include <stdbool.h>

#define ULID_LEN 26

/* Writes a new id and its terminating NUL into out (ULID_LEN + 1 bytes). */
void ulid_new(char out[ULID_LEN + 1]);
/* Whether s looks like a ULID (26 Crockford base32 characters). */
bool ulid_valid(const char *s);

#endif
