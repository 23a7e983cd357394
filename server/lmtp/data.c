#include "server/lmtp/data.h"

void lmtp_data_init(struct lmtp_data *d, struct buf *out, size_t max_size, size_t line_max)
{
	*d = (struct lmtp_data){ .out = out, .max_size = max_size, .line_max = line_max,
				 .prev_crlf = true };
}

void lmtp_data_init_chunked(struct lmtp_data *d, struct buf *out, size_t max_size,
			    size_t line_max)
{
	lmtp_data_init(d, out, max_size, line_max);
	d->chunked = true;
}

static void emit(struct lmtp_data *d, const char *p, size_t len)
{
	if (d->written + len > d->max_size)
		d->too_big = true;
	else if (!d->too_big)
		buf_append(d->out, p, len);
	d->written += len;
}

/* A content byte of the current line (not its line end). */
static void content(struct lmtp_data *d, char c)
{
	/* The line has more than its first '.': RFC 5321 §4.5.2, the '.' was
	 * stuffing and goes. */
	d->held_dot = false;
	if (++d->line_len > d->line_max)
		d->line_too_long = true;
	if (c == '\0')
		d->has_nul = true;
	emit(d, &c, 1);
}

void lmtp_data_finish(struct lmtp_data *d)
{
	if (d->held_cr) {
		d->held_cr = false;
		content(d, '\r');
	}
}

size_t lmtp_data_input(struct lmtp_data *d, const char *p, size_t len, bool *done_r)
{
	*done_r = false;
	for (size_t i = 0; i < len; i++) {
		char c = p[i];

		if (c == '\n') {
			bool crlf = d->held_cr;
			if (d->held_dot && crlf && d->prev_crlf) {
				*done_r = true;
				return i + 1;
			}
			if (d->held_dot)
				emit(d, ".", 1);   /* a lone '.' that ends nothing */
			emit(d, "\r\n", 2);
			d->prev_crlf = crlf;
			d->held_dot = d->held_cr = false;
			d->line_len = 0;
			continue;
		}
		if (d->held_cr) {
			d->held_cr = false;
			content(d, '\r');      /* a bare CR is data */
		}
		if (c == '\r') {
			d->held_cr = true;
		} else if (c == '.' && d->line_len == 0 && !d->held_dot && !d->chunked) {
			d->held_dot = true;
			d->line_len = 1;
		} else {
			if (d->held_dot)
				d->line_len = 0;   /* the stuffed '.' does not count */
			content(d, c);
		}
	}
	return len;
}
