/* Our printf (vsnprintf_, snprintf_) and fixed-point decimals (fx). It
 * must not print anywhere: it formats into buffers, lib/console prints. */
#include "printf.h"
#include "offload.h"
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

/* n bytes of s, as n put()s would store them (memcpy: where the guest is
 * interpreted a string instruction's step is ~4x cheaper than a loop's). */
static void put_n(struct out *o, const char *s, size_t n)
{
	if (o->len + 1 < o->size)
		memcpy(o->buf + o->len, s, MIN(n, o->size - 1 - o->len));
	o->len += n;
}

/* n copies of c, likewise. */
static void put_rep(struct out *o, char c, size_t n)
{
	if (o->len + 1 < o->size)
		memset(o->buf + o->len, c, MIN(n, o->size - 1 - o->len));
	o->len += n;
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
	if (!left && n < w)
		put_rep(o, pad, w - n);
	put_n(o, s, n);
	if (left && n < w)
		put_rep(o, ' ', w - n);
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

/* A conversion's flags, width, precision and length modifiers. */
struct spec {
	bool left;
	char pad;
	int width, prec, lng;
};

/* Reads what follows a '%' up to the conversion character, taking '*'
 * arguments from ap; returns where the conversion character is. */
static const char *parse_spec(const char *fmt, va_list *ap, struct spec *sp)
{
	*sp = (struct spec){ .pad = ' ', .prec = -1 };
	for (;; fmt++) {
		if (*fmt == '-')
			sp->left = true;
		else if (*fmt == '0')
			sp->pad = '0';
		else
			break;
	}
	if (*fmt == '*') {
		sp->width = va_arg(*ap, int);
		if (sp->width < 0) {
			sp->left = true;
			sp->width = sp->width < -1000 ? 1000 : -sp->width;
		}
		fmt++;
	}
	while (*fmt >= '0' && *fmt <= '9' && sp->width < 1000)
		sp->width = sp->width * 10 + (*fmt++ - '0');
	if (sp->width > 1000)
		sp->width = 1000;
	if (*fmt == '.') {
		sp->prec = 0;
		fmt++;
		if (*fmt == '*') {
			sp->prec = va_arg(*ap, int);
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9' && sp->prec < 100000)
			sp->prec = sp->prec * 10 + (*fmt++ - '0');
	}
	while (*fmt == 'l' || *fmt == 'z') {
		sp->lng++;
		fmt++;
	}
	if (sp->left)
		sp->pad = ' ';
	return fmt;
}

/* Writes conversion c (not 0) with its spec, taking its argument from ap. */
static void convert(struct out *o, char c, const struct spec *sp, va_list *ap)
{
	char tmp[24];

	switch (c) {
	case 'd':
	case 'i': {
		s64 v = sp->lng ? va_arg(*ap, s64) : va_arg(*ap, int);
		/* Negate in unsigned arithmetic: INT64_MIN is safe. */
		u64 mag = v < 0 ? 0 - (u64)v : (u64)v;
		char *s = utoa(tmp + sizeof(tmp), mag, 10, false);

		if (v < 0)
			*--s = '-';
		put_padded(o, s, strlen(s), sp->width, sp->left, sp->pad);
		break;
	}
	case 'u':
	case 'x':
	case 'X': {
		u64 v = sp->lng ? va_arg(*ap, u64) : va_arg(*ap, unsigned);
		unsigned base = c == 'u' ? 10 : 16;
		char *s = utoa(tmp + sizeof(tmp), v, base, c == 'X');

		put_padded(o, s, strlen(s), sp->width, sp->left, sp->pad);
		break;
	}
	case 'p': {
		u64 v = (u64)(uintptr_t)va_arg(*ap, void *);
		char *s = utoa(tmp + sizeof(tmp), v, 16, false);

		put(o, '0');
		put(o, 'x');
		put_padded(o, s, strlen(s), sp->width, sp->left, sp->pad);
		break;
	}
	case 's': {
		const char *s = va_arg(*ap, const char *);
		size_t n;

		if (!s)
			s = "(null)";
		n = sp->prec >= 0 ? strnlen(s, (size_t)sp->prec) : strlen(s);
		put_padded(o, s, n, sp->width, sp->left, ' ');
		break;
	}
	case 'c':
		tmp[0] = (char)va_arg(*ap, int);
		put_padded(o, tmp, 1, sp->width, sp->left, ' ');
		break;
	case '%':
		put(o, '%');
		break;
	default:
		/* Unknown conversion: print it as written. */
		put(o, '%');
		put(o, c);
		break;
	}
}

static int format(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };
	struct spec sp;
	const char *end;
	va_list args;

	/* A copy, so that the helpers can take it by pointer. */
	va_copy(args, ap);
	end = fmt + strlen(fmt);
	for (;;) {
		/* The text up to the next conversion, at once. */
		const char *pct = memchr(fmt, '%', (size_t)(end - fmt));
		size_t run = pct ? (size_t)(pct - fmt) : (size_t)(end - fmt);

		put_n(&o, fmt, run);
		if (!pct)
			break;
		fmt = parse_spec(pct + 1, &args, &sp);
		if (!*fmt)
			break;	/* a lone '%' at the end: stop at the terminator */
		convert(&o, *fmt, &sp, &args);
		fmt++;
	}
	va_end(args);
	if (size)
		buf[o.len < size ? o.len : size - 1] = 0;
	return (int)o.len;
}

/* vsnprintf_'s arguments and result, for offload(). */
struct format_job {
	char *buf;
	size_t size;
	const char *fmt;
	va_list ap;
	int n;
};

static u64 format_job(void *arg)
{
	struct format_job *j = arg;

	j->n = format(j->buf, j->size, j->fmt, j->ap);
	return 0;
}

/* Formatting is pure and costs a few hundred instructions a conversion:
 * offloaded (lib/offload.h), where the kernel's own instructions are
 * interpreted a measure line took ~0.9 ms to format. */
int vsnprintf_(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct format_job j = { .buf = buf, .size = size, .fmt = fmt };

	va_copy(j.ap, ap);
	offload(format_job, &j);
	va_end(j.ap);
	return j.n;
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

static char *fixed(char *buf, size_t size, s64 v, int decimals)
{
	u64 scale = 1, mag = v < 0 ? 0 - (u64)v : (u64)v;
	u64 ip, fp;
	char tmp[32], *p = tmp + sizeof(tmp);
	bool neg = false;
	int n;

	if (decimals < 0)
		decimals = 0;
	if (decimals > 9)
		decimals = 9;
	for (int i = 0; i < decimals; i++)
		scale *= 10;
	ip = mag / scale;
	fp = mag % scale;
	/* Right to left, without printf (each call costs where the guest is
	 * interpreted): the fraction's digits less its trailing zeros, the
	 * point, the integer part, the sign. */
	*--p = 0;
	n = decimals;
	while (n > 0 && fp % 10 == 0) {
		fp /= 10;
		n--;
	}
	if (n) {
		for (int i = 0; i < n; i++, fp /= 10)
			*--p = (char)('0' + fp % 10);
		*--p = '.';
	}
	if (v < 0 && (ip || n))
		neg = true;
	do {
		*--p = (char)('0' + ip % 10);
		ip /= 10;
	} while (ip);
	if (neg)
		*--p = '-';
	str_copy(buf, p, size);
	return buf;
}

/* fx's arguments, for offload(). */
struct fx_job {
	char *buf;
	size_t size;
	s64 v;
	int decimals;
};

static u64 fx_job(void *arg)
{
	struct fx_job *j = arg;

	fixed(j->buf, j->size, j->v, j->decimals);
	return 0;
}

/* Offloaded too: its divisions by ten cost ~0.2 ms interpreted. */
char *fx(char *buf, size_t size, s64 v, int decimals)
{
	struct fx_job j = { buf, size, v, decimals };

	offload(fx_job, &j);
	return buf;
}
