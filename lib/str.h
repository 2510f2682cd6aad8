/* Freestanding string and memory functions (the compiler may also call
 * memcpy/memset/memmove/memcmp itself). */
#ifndef LIB_STR_H
#define LIB_STR_H

#include "types.h"

void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
/* The first c in s[0..n), or NULL. */
void *memchr(const void *s, int c, size_t n);
/* Length of s, but never reads past max bytes. */
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
/* Copies at most size-1 bytes and always terminates; returns strlen(src). */
size_t str_copy(char *dst, const char *src, size_t size);
/* True when text matches the glob pattern ('*' any run, '?' one char). */
bool glob_match(const char *pattern, const char *text);
/* Parses an unsigned decimal or 0x-hex number filling all of s[0..len);
 * returns false on an empty, malformed or overflowing number. */
bool parse_u64(const char *s, size_t len, u64 *out);

#endif
