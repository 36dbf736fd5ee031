/* Unsigned integers in decimal without printf: done for every binding
 * written to the database and every Contact of a 200 OK, where printf's
 * generality showed in the profile. */
#ifndef LOCUS_DECIMAL_H
#define LOCUS_DECIMAL_H

#include <stddef.h>
#include <stdint.h>

enum {
	DECIMAL_SIZE = 21,       /* UINT64_MAX's 20 digits and a NUL */
};

/* Writes V into OUT, NUL-terminated; returns the number of digits. */
size_t decimal_write(char out[DECIMAL_SIZE], uint64_t v);

#endif
