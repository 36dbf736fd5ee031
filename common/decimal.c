#include <string.h>
#include "common/decimal.h"


size_t decimal_write(char out[DECIMAL_SIZE], uint64_t v)
{
	char buf[DECIMAL_SIZE];
	size_t i = sizeof(buf) - 1, n;

	buf[i] = '\0';
	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	n = sizeof(buf) - 1 - i;
	memcpy(out, buf + i, n + 1);
	return n;
}
