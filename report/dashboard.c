/* Lays out the dashboard on a character grid and keeps a shadow of it, so
 * that only cells that change are written to the screen. It must not
 * print to the console nor decide verdicts: callers pass text and
 * verdicts in, the serial stream stays the record. */
#include "dashboard.h"
#include "arch-x86/cpu.h"
#include "arch-x86/delay.h"
#include "lib/offload.h"
#include "lib/str.h"

#define MAX_COLS	256
#define MAX_ROWS	96
#define TITLE		SCREEN_ATTR(COL_BLACK, COL_CYAN)
#define TEXT		SCREEN_ATTR(COL_GREY, COL_BLACK)
#define BRIGHT		SCREEN_ATTR(COL_WHITE, COL_BLACK)
#define DIM		SCREEN_ATTR(COL_DARKGREY, COL_BLACK)
#define SUMMARY_ROWS_KEPT	32

static const struct screen *scr;
static u16 shadow[MAX_ROWS][MAX_COLS];	/* attr << 8 | char; 0 = unknown */
static int cols, rows;
static int ntests, ndone, nbad;
static u64 t0;
static int table_row;			/* next row of the summary */
/* The summary rows as given, for the notes a narrow screen cut off. */
static char table_text[SUMMARY_ROWS_KEPT][232];
static int ntable;

static u8 verdict_attr(enum verdict v)
{
	static const u8 fg[] = { COL_LGREEN, COL_YELLOW, COL_LRED, COL_LMAGENTA };

	return SCREEN_ATTR(fg[v], COL_BLACK);
}

/* Rows' quads of cells changed and not yet drawn, where the screen draws
 * four cells a store (put4): bit q is cells 4q..4q+3. */
static u64 dirty[MAX_ROWS];

static void cell(int r, int c, u8 ch, u8 attr)
{
	u16 v = (u16)attr << 8 | ch;

	if (r < 0 || r >= rows || c < 0 || c >= cols || shadow[r][c] == v)
		return;
	shadow[r][c] = v;
	if (scr->put4)
		dirty[r] |= 1ull << (c / 4);
	else
		scr->put(r, c, ch, attr);
}

/* Draws the quads changed since the last flush: each public function
 * ends with it. */
static void flush(void)
{
	if (!scr || !scr->put4)
		return;
	for (int r = 0; r < rows; r++)
		for (int q = 0; dirty[r]; q++)
			if (dirty[r] & 1ull << q) {
				dirty[r] &= ~(1ull << q);
				scr->put4(r, 4 * q, &shadow[r][4 * q]);
			}
}

static int text_cells(int r, int c, const char *s, u8 attr, bool fill)
{
	for (; *s && c < cols; s++)
		cell(r, c++, (u8)*s, attr);
	if (fill)
		for (int x = c; x < cols; x++)
			cell(r, x, ' ', attr);
	return c;
}

/* text_cells' arguments and result, for offload(). */
struct text_job {
	int r, c;
	const char *s;
	u8 attr;
	bool fill;
};

static u64 text_job(void *arg)
{
	struct text_job *j = arg;

	return (u64)text_cells(j->r, j->c, j->s, j->attr, j->fill);
}

/*
 * Writes text at (r, c) in attr and returns the column after it; with
 * fill, the rest of the row is cleared in attr. Where the screen draws
 * quads (put4), cell() only marks the shadow, which is pure work and is
 * offloaded (lib/offload.h): where the kernel's own instructions are
 * interpreted (kvm_pvm, ~0.6 us each) a row's 80 cells cost about a
 * millisecond of every dashboard call, twice a test. A screen drawn cell
 * by cell draws as it goes, from ring 0.
 */
static int text_at(int r, int c, const char *s, u8 attr, bool fill)
{
	struct text_job j = { r, c, s, attr, fill };

	if (!scr->put4)
		return text_cells(r, c, s, attr, fill);
	return (int)offload(text_job, &j);
}

/* The shadow as the driver blanked the screen (2000 cells: offloaded). */
static u64 blank_job(void *arg)
{
	(void)arg;
	for (int r = 0; r < rows; r++)
		for (int c = 0; c < cols; c++)
			shadow[r][c] = scr->blank;
	return 0;
}

void dashboard_init(const struct screen *s)
{
	scr = s;
	if (!s)
		return;
	cols = MIN(s->cols, MAX_COLS);
	rows = MIN(s->rows, MAX_ROWS);
	/* Quads need whole ones in a row, and a row's in a mask. */
	if (s->put4 && cols % 4) {
		scr = NULL;
		return;
	}
	/* A screen the driver blanked as we would is not written again
	 * (each cell an exit under a hypervisor, VGA text). */
	if (s->blank == (TEXT << 8 | ' '))
		offload(blank_job, NULL);
	else
		for (int r = 0; r < rows; r++)
			text_at(r, 0, "", TEXT, true);
	flush();
	t0 = rdtsc();
}

void dashboard_header(int n, const char *fmt, ...)
{
	char line[MAX_COLS + 1];
	va_list ap;

	if (!scr || n < 0 || n >= DASH_HEADER_LINES)
		return;
	va_start(ap, fmt);
	vsnprintf_(line, sizeof(line), fmt, ap);
	va_end(ap);
	text_at(n, 0, line, n == 0 ? TITLE : TEXT, true);
	flush();
}

/* The progress line and bar sit under the header; the table under them. */
#define PROGRESS_ROW	(DASH_HEADER_LINES + 1)
#define BAR_ROW		(PROGRESS_ROW + 1)
#define TABLE_ROW	(rows >= 30 ? BAR_ROW + 2 : BAR_ROW + 1)

static u64 elapsed_ds(void)
{
	return tsc_to_ns(rdtsc() - t0) / 100000000;
}

/* The bar as last drawn: its filled width and colour (-1: not drawn). */
static int bar_full = -1;
static u8 bar_attr;

static void bar_cells(void)
{
	int width = cols - 2, full = ntests ? (int)((u64)width * ndone / ntests) : 0;
	u8 attr = nbad ? SCREEN_ATTR(COL_LRED, COL_BLACK) : SCREEN_ATTR(COL_LGREEN, COL_BLACK);
	/* Only the cells that can have changed: each visited cell costs
	 * ~1 us where the guest is interpreted, and the bar is redrawn after
	 * every test. */
	int from = bar_full < 0 || attr != bar_attr ? 0 : MIN(full, bar_full);
	int to = bar_full < 0 ? width : MAX(full, bar_full);

	cell(BAR_ROW, 0, '[', TEXT);
	for (int i = from; i < to && i < width; i++)
		cell(BAR_ROW, 1 + i, i < full ? GLYPH_FULL_BLOCK : GLYPH_LIGHT_SHADE,
		     i < full ? attr : DIM);
	cell(BAR_ROW, cols - 1, ']', TEXT);
	bar_full = full;
	bar_attr = attr;
}

static u64 bar_job(void *arg)
{
	(void)arg;
	bar_cells();
	return 0;
}

/* The bar, redrawn after every test: offloaded as text_at is. */
static void draw_bar(void)
{
	if (scr->put4)
		offload(bar_job, NULL);
	else
		bar_cells();
}

void dashboard_plan(int n)
{
	ntests = n;
	if (scr)
		draw_bar();
	flush();
}

void dashboard_test_begin(const char *suite, const char *name)
{
	char line[MAX_COLS + 1];

	if (!scr)
		return;
	snprintf_(line, sizeof(line), "test %d of %d, %lu.%lu s: %s.%s", ndone + 1, ntests,
		  elapsed_ds() / 10, elapsed_ds() % 10, suite, name);
	text_at(PROGRESS_ROW, 0, line, BRIGHT, true);
	flush();
}

void dashboard_test_end(enum verdict v)
{
	ndone++;
	nbad += v == FAIL || v == ERROR;
	if (scr)
		draw_bar();
	flush();
}

void dashboard_table_heading(const char *text)
{
	char line[MAX_COLS + 1];

	if (!scr)
		return;
	snprintf_(line, sizeof(line), "done: %d tests in %lu.%lu s", ndone, elapsed_ds() / 10,
		  elapsed_ds() % 10);
	text_at(PROGRESS_ROW, 0, line, BRIGHT, true);
	table_row = TABLE_ROW;
	for (int r = table_row; r < rows; r++)
		text_at(r, 0, "", TEXT, true);
	text_at(table_row++, 0, text, SCREEN_ATTR(COL_WHITE, COL_BLUE), true);
	flush();
}

void dashboard_table_row(const char *text, enum verdict v)
{
	int c = 0;

	if (!scr)
		return;
	if (ntable < SUMMARY_ROWS_KEPT)
		str_copy(table_text[ntable++], text, sizeof(table_text[0]));
	if (table_row >= rows)
		return;
	text_at(table_row, 0, text, TEXT, true);
	/* The verdict, the second word (a long source name shifts it), is
	 * drawn in its colour. */
	while (text[c] && text[c] != ' ')
		c++;
	while (text[c] == ' ')
		c++;
	for (; text[c] && text[c] != ' ' && c < cols; c++)
		cell(table_row, c, (u8)text[c], verdict_attr(v));
	table_row++;
	flush();
}

void dashboard_table_totals(const char *text, enum verdict overall)
{
	if (!scr || table_row >= rows)
		return;
	text_at(table_row++, 0, text, verdict_attr(overall), true);
	flush();
}

void dashboard_reason(const char *text, enum verdict v)
{
	/* Keep the last row for the status line. */
	if (!scr || table_row >= rows - 1)
		return;
	text_at(table_row++, 0, text, verdict_attr(v), true);
	flush();
}

/* The notes of a summary row: what follows its seven columns. */
static const char *row_notes(const char *t)
{
	for (int f = 0; f < 7; f++) {
		while (*t == ' ')
			t++;
		while (*t && *t != ' ')
			t++;
	}
	while (*t == ' ')
		t++;
	return t;
}

void dashboard_table_end(void)
{
	int width = cols - 4;

	/* A screen with rows to spare shows, under a blank line, the notes
	 * of every row its width cut, in full and wrapped. */
	if (!scr || width < 20)
		return;
	table_row++;
	for (int i = 0; i < ntable && table_row < rows - 1; i++) {
		const char *t = table_text[i], *notes = row_notes(t);
		size_t len = strlen(notes), at = 0;
		char line[MAX_COLS + 1];
		int name = 0;

		if (strlen(t) <= (size_t)cols)
			continue;
		while (t[name] && t[name] != ' ')
			name++;
		snprintf_(line, sizeof(line), "%.*s notes:", name, t);
		text_at(table_row++, 0, line, DIM, true);
		while (at < len && table_row < rows - 1) {
			snprintf_(line, sizeof(line), "    %.*s", width, notes + at);
			text_at(table_row++, 0, line, TEXT, true);
			at += (size_t)width;
		}
	}
	flush();
}

void dashboard_status(const char *fmt, ...)
{
	char line[MAX_COLS + 1];
	va_list ap;

	if (!scr)
		return;
	va_start(ap, fmt);
	vsnprintf_(line, sizeof(line), fmt, ap);
	va_end(ap);
	text_at(rows - 1, 0, line, TITLE, true);
	flush();
}
