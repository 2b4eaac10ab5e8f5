#include <stddef.h>

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
