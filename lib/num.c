#include <stddef.h>
#include <stdio.h>

#include "num.h"

/* Parse the digits at s; *end gets the first non-digit.  NULL on success. */
static const char *
digits(const char *s, const char **end, uint64_t *out)
{
	uint64_t v = 0;
	unsigned d;

	if (*s < '0' || *s > '9')
		return "invalid";
	for (; *s >= '0' && *s <= '9'; s++) {
		d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return "too large";
		v = v * 10 + d;
	}
	*end = s;
	*out = v;
	return NULL;
}

static const char *
bounds(uint64_t v, uint64_t min, uint64_t max, uint64_t *out)
{
	if (v < min)
		return "too small";
	if (v > max)
		return "too large";
	*out = v;
	return NULL;
}

const char *
num_parse(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	const char *end, *e;
	uint64_t v;

	if ((e = digits(s, &end, &v)) != NULL)
		return e;
	if (*end != '\0')
		return "invalid";
	return bounds(v, min, max, out);
}

const char *
num_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	const char *end, *e;
	unsigned shift;
	uint64_t v;

	if ((e = digits(s, &end, &v)) != NULL)
		return e;
	switch (*end) {
	case '\0': shift = 0; break;
	case 'k': shift = 10; break;
	case 'M': shift = 20; break;
	case 'G': shift = 30; break;
	default: return "invalid";
	}
	if (shift != 0 && end[1] != '\0')
		return "invalid";
	if (v > UINT64_MAX >> shift)
		return "too large";
	return bounds(v << shift, min, max, out);
}

const char *
num_format_size(uint64_t bytes, char *buf, size_t cap)
{
	static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB", "PiB",
	    "EiB" };
	uint64_t size, tenths;
	unsigned u;

	if (bytes < 1024) {
		snprintf(buf, cap, "%llu %s", (unsigned long long)bytes,
		    bytes == 1 ? "byte" : "bytes");
		return buf;
	}
	for (u = 0; u < 5 && bytes >> (10 * (u + 2)) != 0; u++)
		;
	/* In tenths of the unit, rounded; no product here can overflow:
	 * the remainder is below 2^60, and 10 times that below 2^64. */
	for (;;) {
		size = (uint64_t)1 << (10 * (u + 1));
		tenths = bytes / size * 10 + (bytes % size * 10 + size / 2) /
		    size;
		/* Rounding up to 1024 of a unit is 1 of the next. */
		if (tenths < 10240 || u == 5)
			break;
		u++;
	}
	if (tenths % 10 == 0)
		snprintf(buf, cap, "%llu %s", (unsigned long long)(tenths / 10),
		    unit[u]);
	else
		snprintf(buf, cap, "%llu.%llu %s",
		    (unsigned long long)(tenths / 10),
		    (unsigned long long)(tenths % 10), unit[u]);
	return buf;
}
