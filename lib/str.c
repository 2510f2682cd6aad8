/* Freestanding string and memory functions, glob matching and number
 * parsing. It must not depend on anything but lib/types.h. */
#include "str.h"

/* The host build (unit tests) uses libc's versions of these. */
#ifndef HOST_TEST
/*
 * memset and memcpy by REP STOS / REP MOVS, eight bytes a step, then the
 * remaining bytes. Where the guest's instructions are interpreted (kvm_pvm
 * emulates ring-0 code, ~1 us an instruction) a byte loop cost ~4 us a
 * byte and a string instruction's step ~0.3 us; on hardware and under TCG
 * both are fast. DF is clear (boot.S, and the interrupt stubs' ABI).
 */
void *memset(void *dst, int c, size_t n)
{
	void *d = dst;
	u64 v = 0x0101010101010101ull * (u8)c;
	size_t q = n / 8, r = n % 8;

	__asm__ volatile("rep stosq" : "+D"(d), "+c"(q) : "a"(v) : "memory");
	__asm__ volatile("rep stosb" : "+D"(d), "+c"(r) : "a"(v) : "memory");
	return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
	void *d = dst;
	const void *s = src;
	size_t q = n / 8, r = n % 8;

	__asm__ volatile("rep movsq" : "+D"(d), "+S"(s), "+c"(q) : : "memory");
	__asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(r) : : "memory");
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	u8 *d = dst;
	const u8 *s = src;

	if (d < s)
		return memcpy(dst, src, n);
	while (n--)
		d[n] = s[n];
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const u8 *x = a, *y = b;

	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}

/* strlen, strnlen and memchr scan by REPNE SCASB: where the guest is
 * interpreted (kvm_pvm) a step costs ~0.5 us and a C loop's byte ~2 us,
 * and the report's formatting scans every string it prints. */
void *memchr(const void *s, int c, size_t n)
{
	const u8 *p = s;

	if (!n)
		return NULL;
	__asm__ volatile("repne scasb" : "+D"(p), "+c"(n) : "a"((u8)c) : "memory", "cc");
	/* p is one past the last byte compared: the match, or s[n - 1]. */
	return p[-1] == (u8)c ? (void *)(uintptr_t)(p - 1) : NULL;
}

size_t strlen(const char *s)
{
	const char *p = s;
	size_t n = ~(size_t)0;

	__asm__ volatile("repne scasb" : "+D"(p), "+c"(n) : "a"(0) : "memory", "cc");
	return (size_t)(p - s) - 1;
}

size_t strnlen(const char *s, size_t max)
{
	const char *z = memchr(s, 0, max);

	return z ? (size_t)(z - s) : max;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (u8)*a - (u8)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (a[i] != b[i])
			return (u8)a[i] - (u8)b[i];
		if (!a[i])
			return 0;
	}
	return 0;
}

#endif

size_t str_copy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size) {
		size_t n = len < size - 1 ? len : size - 1;

		memcpy(dst, src, n);
		dst[n] = 0;
	}
	return len;
}

bool glob_match(const char *p, const char *t)
{
	/* Iterative matcher with one backtrack point: linear in practice. */
	const char *star = NULL, *resume = NULL;

	while (*t) {
		if (*p == '*') {
			star = p++;
			resume = t;
		} else if (*p == '?' || *p == *t) {
			p++;
			t++;
		} else if (star) {
			p = star + 1;
			t = ++resume;
		} else {
			return false;
		}
	}
	while (*p == '*')
		p++;
	return *p == 0;
}

bool parse_u64(const char *s, size_t len, u64 *out)
{
	u64 v = 0, base = 10;
	size_t i = 0;

	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i == len)
		return false;
	for (; i < len; i++) {
		char c = s[i];
		u64 d;

		if (c >= '0' && c <= '9')
			d = (u64)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = (u64)(c - 'a' + 10);
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = (u64)(c - 'A' + 10);
		else
			return false;
		if (v > (UINT64_MAX - d) / base)
			return false;
		v = v * base + d;
	}
	*out = v;
	return true;
}
