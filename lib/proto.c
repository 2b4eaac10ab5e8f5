#include <string.h>

#include "proto.h"

int
proto_stream_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > STREAM_NAME_MAX)
		return 0;
	return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._-") == n;
}
