#include "server/net/compress.h"
#include "server/core/buf.h"
#include "server/core/log.h"

#include <stdlib.h>
#include <string.h>
#define ZLIB_CONST
#include <zlib.h>

/* See compress.h for why these values. Negative window bits: raw DEFLATE
 * (RFC 4978 §4: "-8 to -15"; zlib turns -8 into -9 for deflate). */
#define DEFLATE_WINDOW_BITS (-13)
#define DEFLATE_MEM_LEVEL 6
#define INFLATE_WINDOW_BITS (-15)
/* Uncompressed bytes deflated per call: bounds the output waiting. */
#define COMPRESS_WRITE_CHUNK (16 * 1024)
/* A buffer that has emptied is kept if no bigger than this (an idle
 * session's leftovers stay small). */
#define COMPRESS_KEEP (COMPRESS_READ_CHUNK + 512)

struct net_compress {
	z_stream in;          /* inflater: next_in/avail_in point into raw */
	z_stream out;         /* deflater */
	struct buf raw;       /* compressed input from the transport */
	size_t raw_pos;       /* inflated up to here */
	struct buf pending;   /* compressed output for the transport */
	size_t pending_pos;   /* sent up to here */
	bool ended;           /* the client's stream had its final block */
};

/* Out of memory is fatal (STYLE.md); any other failure of the init calls
 * is a broken invariant (wrong parameters). */
static void zlib_failed(const char *what, int ret)
{
	log_error("%s failed: %d", what, ret);
	abort();
}

struct net_compress *net_compress_new(const void *pending, size_t len)
{
	struct net_compress *z = xcalloc(1, sizeof(*z));
	int ret;

	ret = deflateInit2(&z->out, Z_DEFAULT_COMPRESSION, Z_DEFLATED, DEFLATE_WINDOW_BITS,
			   DEFLATE_MEM_LEVEL, Z_DEFAULT_STRATEGY);
	if (ret != Z_OK)
		zlib_failed("deflateInit2", ret);
	ret = inflateInit2(&z->in, INFLATE_WINDOW_BITS);
	if (ret != Z_OK)
		zlib_failed("inflateInit2", ret);
	buf_init(&z->raw);
	buf_init(&z->pending);
	buf_append(&z->raw, pending, len);
	return z;
}

void net_compress_free(struct net_compress **zp)
{
	struct net_compress *z = *zp;

	if (z == NULL)
		return;
	deflateEnd(&z->out);
	inflateEnd(&z->in);
	buf_free(&z->raw);
	buf_free(&z->pending);
	free(z);
	*zp = NULL;
}

/* An emptied buffer starts again at its beginning, and gives its memory
 * back if it grew past what an idle session should keep. */
static void buffer_emptied(struct buf *b, size_t *pos)
{
	*pos = 0;
	if (b->cap > COMPRESS_KEEP)
		buf_free(b);
	else
		buf_clear(b);
}

uint8_t *net_compress_in_room(struct net_compress *z, size_t *len_r)
{
	if (z->raw_pos == z->raw.len)
		buffer_emptied(&z->raw, &z->raw_pos);
	buf_reserve(&z->raw, COMPRESS_READ_CHUNK);
	*len_r = z->raw.cap - z->raw.len;
	return z->raw.data + z->raw.len;
}

void net_compress_in_added(struct net_compress *z, size_t n)
{
	z->raw.len += n;
}

ssize_t net_compress_inflate(struct net_compress *z, void *out, size_t len, const char **err_r)
{
	size_t avail_in = z->raw.len - z->raw_pos;
	size_t produced;
	int ret;

	*err_r = NULL;
	if (z->ended)
		return -1;
	if (len > UINT_MAX)
		len = UINT_MAX;
	if (avail_in > UINT_MAX)
		avail_in = UINT_MAX;
	z->in.next_in = avail_in > 0 ? z->raw.data + z->raw_pos : NULL;
	z->in.avail_in = (uInt)avail_in;
	z->in.next_out = out;
	z->in.avail_out = (uInt)len;
	ret = inflate(&z->in, Z_SYNC_FLUSH);
	z->raw_pos += avail_in - z->in.avail_in;
	produced = len - z->in.avail_out;
	switch (ret) {
	case Z_OK:
	case Z_BUF_ERROR:    /* no progress possible: needs input */
		break;
	case Z_STREAM_END:   /* a final block: nothing may follow it */
		z->ended = true;
		break;
	case Z_NEED_DICT:    /* cannot happen in raw DEFLATE */
	case Z_DATA_ERROR:
		*err_r = z->in.msg != NULL ? z->in.msg : "invalid compressed data";
		return -1;
	default:             /* Z_MEM_ERROR, Z_STREAM_ERROR */
		zlib_failed("inflate", ret);
	}
	if (produced > 0)
		return (ssize_t)produced;
	return z->ended ? -1 : 0;
}

size_t net_compress_deflate(struct net_compress *z, const void *data, size_t len)
{
	size_t take = len < COMPRESS_WRITE_CHUNK ? len : COMPRESS_WRITE_CHUNK;
	int flush = take == len ? Z_SYNC_FLUSH : Z_NO_FLUSH;
	int ret;

	z->out.next_in = data;
	z->out.avail_in = (uInt)take;
	do {
		/* Room for the chunk as it is (incompressible data grows by a
		 * few bytes per block) and for what deflate held back. */
		buf_reserve(&z->pending, take + 1024);
		z->out.next_out = z->pending.data + z->pending.len;
		z->out.avail_out = (uInt)(z->pending.cap - z->pending.len);
		ret = deflate(&z->out, flush);
		if (ret != Z_OK && ret != Z_BUF_ERROR)
			zlib_failed("deflate", ret);
		z->pending.len = z->pending.cap - z->out.avail_out;
	} while (z->out.avail_out == 0);
	return take;
}

const uint8_t *net_compress_out(const struct net_compress *z, size_t *len_r)
{
	*len_r = z->pending.len - z->pending_pos;
	return z->pending.data + z->pending_pos;
}

void net_compress_out_sent(struct net_compress *z, size_t n)
{
	z->pending_pos += n;
	if (z->pending_pos == z->pending.len)
		buffer_emptied(&z->pending, &z->pending_pos);
}

bool net_compress_peer_ended(const struct net_compress *z)
{
	return z->ended;
}

void net_compress_finish(struct net_compress *z)
{
	int ret;

	z->out.next_in = NULL;
	z->out.avail_in = 0;
	do {
		buf_reserve(&z->pending, 64);
		z->out.next_out = z->pending.data + z->pending.len;
		z->out.avail_out = (uInt)(z->pending.cap - z->pending.len);
		ret = deflate(&z->out, Z_FINISH);
		if (ret != Z_STREAM_END && ret != Z_OK && ret != Z_BUF_ERROR)
			zlib_failed("deflate", ret);
		z->pending.len = z->pending.cap - z->out.avail_out;
	} while (ret != Z_STREAM_END);
}

const uint8_t *net_compress_unread(const struct net_compress *z, size_t *len_r)
{
	*len_r = z->raw.len - z->raw_pos;
	return z->raw.data + z->raw_pos;
}
