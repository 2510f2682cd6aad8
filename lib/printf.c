#include "printf.h"
#include "str.h"

struct out {
	char *buf;
	size_t size;
	size_t len;
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void put_padded(struct out *o, const char *s, size_t n, int width,
		       bool left, char pad)
{
	size_t w = width > 0 ? (size_t)width : 0;

	/* Zero padding goes after a sign. */
	if (pad == '0' && n && *s == '-') {
		put(o, '-');
		s++;
		n--;
		if (w)
			w--;
	}
	if (!left)
		for (size_t i = n; i < w; i++)
			put(o, pad);
	for (size_t i = 0; i < n; i++)
		put(o, s[i]);
	if (left)
		for (size_t i = n; i < w; i++)
			put(o, ' ');
}

/* Writes the digits of v, terminated, so that they end at `end`;
 * returns where they start. */
static char *utoa(char *end, u64 v, unsigned base, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";

	*--end = 0;
	do {
		*--end = digits[v % base];
		v /= base;
	} while (v);
	return end;
}

int vsnprintf_(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };
	char tmp[24];

	for (; *fmt; fmt++) {
		bool left = false;
		char pad = ' ';
		int width = 0, prec = -1, lng = 0;

		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		fmt++;
		for (;; fmt++) {
			if (*fmt == '-')
				left = true;
			else if (*fmt == '0')
				pad = '0';
			else
				break;
		}
		if (*fmt == '*') {
			width = va_arg(ap, int);
			if (width < 0) {
				left = true;
				width = width < -1000 ? 1000 : -width;
			}
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9' && width < 1000)
			width = width * 10 + (*fmt++ - '0');
		if (width > 1000)
			width = 1000;
		if (*fmt == '.') {
			prec = 0;
			fmt++;
			if (*fmt == '*') {
				prec = va_arg(ap, int);
				fmt++;
			}
			while (*fmt >= '0' && *fmt <= '9' && prec < 100000)
				prec = prec * 10 + (*fmt++ - '0');
		}
		while (*fmt == 'l' || *fmt == 'z') {
			lng++;
			fmt++;
		}
		if (left)
			pad = ' ';
		switch (*fmt) {
		case 'd':
		case 'i': {
			s64 v = lng ? va_arg(ap, s64) : va_arg(ap, int);
			/* Negate in unsigned arithmetic: INT64_MIN is safe. */
			u64 mag = v < 0 ? 0 - (u64)v : (u64)v;
			char *s = utoa(tmp + sizeof(tmp), mag, 10, false);

			if (v < 0)
				*--s = '-';
			put_padded(&o, s, strlen(s), width, left, pad);
			break;
		}
		case 'u':
		case 'x':
		case 'X': {
			u64 v = lng ? va_arg(ap, u64) : va_arg(ap, unsigned);
			unsigned base = *fmt == 'u' ? 10 : 16;
			char *s = utoa(tmp + sizeof(tmp), v, base, *fmt == 'X');

			put_padded(&o, s, strlen(s), width, left, pad);
			break;
		}
		case 'p': {
			u64 v = (u64)(uintptr_t)va_arg(ap, void *);
			char *s = utoa(tmp + sizeof(tmp), v, 16, false);

			put(&o, '0');
			put(&o, 'x');
			put_padded(&o, s, strlen(s), width, left, pad);
			break;
		}
		case 's': {
			const char *s = va_arg(ap, const char *);
			size_t n;

			if (!s)
				s = "(null)";
			n = prec >= 0 ? strnlen(s, (size_t)prec) : strlen(s);
			put_padded(&o, s, n, width, left, ' ');
			break;
		}
		case 'c':
			tmp[0] = (char)va_arg(ap, int);
			put_padded(&o, tmp, 1, width, left, ' ');
			break;
		case '%':
			put(&o, '%');
			break;
		case 0:
			fmt--; /* a lone '%' at the end: stop at the terminator */
			break;
		default:
			/* Unknown conversion: print it as written. */
			put(&o, '%');
			put(&o, *fmt);
			break;
		}
	}
	if (size)
		buf[o.len < size ? o.len : size - 1] = 0;
	return (int)o.len;
}

int snprintf_(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf_(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

char *fx(char *buf, size_t size, s64 v, int decimals)
{
	u64 scale = 1, mag = v < 0 ? 0 - (u64)v : (u64)v;
	u64 ip, fp;
	char frac[12];
	int n;

	if (decimals < 0)
		decimals = 0;
	if (decimals > 9)
		decimals = 9;
	for (int i = 0; i < decimals; i++)
		scale *= 10;
	ip = mag / scale;
	fp = mag % scale;
	snprintf_(frac, sizeof(frac), "%0*lu", decimals, fp);
	/* Drop trailing zeros of the fraction. */
	for (n = decimals; n > 0 && frac[n - 1] == '0'; n--)
		frac[n - 1] = 0;
	if (n == 0)
		frac[0] = 0;
	snprintf_(buf, size, "%s%lu%s%s", v < 0 && (ip || fp) ? "-" : "", ip,
		  n ? "." : "", frac);
	return buf;
}
