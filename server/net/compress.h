/* COMPRESS=DEFLATE (RFC 4978): the two raw DEFLATE streams (RFC 1951, no
 * zlib or gzip wrapper) of one connection and their buffers, with no I/O of
 * their own: conn.c moves the compressed bytes between them and the
 * transport (TLS or TCP), so compression sits above TLS as §3 requires.
 * Shared between conn.c and compress.c only.
 *
 * Memory, per connection, bounded whatever the peer sends:
 * - the deflater: a 8 KiB window (windowBits 13) and memLevel 6, 64 KiB
 *   (zlib's formula: (1 << (13 + 2)) + (1 << (6 + 9))). IMAP output
 *   repeats itself over short distances (FETCH lines, header names), so a
 *   small window loses little, and 10,000 idle sessions cost 640 MB rather
 *   than the 2.5 GB of zlib's defaults (32 KiB window, memLevel 8);
 * - the inflater: a 32 KiB window (the client chooses its window, up to
 *   2^15, and the receiver must hold it) and about 7 KiB of state;
 * - the compressed input read ahead (COMPRESS_READ_CHUNK, more only for what
 *   the client sent before the OK) and the compressed output waiting for the
 *   transport (at most one chunk's worth): both are released when they
 *   empty, so an idle session keeps neither.
 * Inflated output goes only into the caller's buffer, never further than
 * the room it offers: a small input that inflates to gigabytes (a
 * "decompression bomb") costs no memory here, only the parser's limits
 * decide how much of it is read (parser.h, long_line_fatal). */
#ifndef KAIRAN_NET_COMPRESS_H
#define KAIRAN_NET_COMPRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Compressed bytes read from the transport at a time. */
#define COMPRESS_READ_CHUNK 4096

struct net_compress;

/* Both streams start; `pending` (len bytes, may be 0) was read from the
 * transport after the command that started compression and is inflated
 * first. Out of memory is fatal. */
struct net_compress *net_compress_new(const void *pending, size_t len);
void net_compress_free(struct net_compress **zp);

/* Input. Room for compressed bytes from the transport (at least
 * COMPRESS_READ_CHUNK), then how many were put there. */
uint8_t *net_compress_in_room(struct net_compress *z, size_t *len_r);
void net_compress_in_added(struct net_compress *z, size_t n);
/* Inflates what has been read into out, at most len bytes: > 0 bytes
 * produced; 0 when it needs more compressed input; -1 when the input is not
 * valid DEFLATE (*err_r: why) or the client ended its stream (*err_r NULL:
 * an orderly end, like a close). */
ssize_t net_compress_inflate(struct net_compress *z, void *out, size_t len, const char **err_r);

/* Output. Deflates from data (len > 0), as much as one chunk, into the
 * output waiting for the transport, which must be empty; returns the bytes
 * taken. When they are the last of data, the output is flushed
 * (Z_SYNC_FLUSH) so that the client can inflate everything sent so far. */
size_t net_compress_deflate(struct net_compress *z, const void *data, size_t len);
/* The compressed output waiting for the transport, and how much of it the
 * transport took. */
const uint8_t *net_compress_out(const struct net_compress *z, size_t *len_r);
void net_compress_out_sent(struct net_compress *z, size_t n);

/* The end of compression (RFC 8437 §4.1, UNAUTHENTICATE). The client's
 * stream ended with a final block: inflating stops there, and what
 * follows it was sent uncompressed. */
bool net_compress_peer_ended(const struct net_compress *z);
/* Ends our stream with a final block, into the output waiting. */
void net_compress_finish(struct net_compress *z);
/* The bytes read from the transport and not inflated: after the client's
 * stream ended, or once the client stopped compressing, they are plain. */
const uint8_t *net_compress_unread(const struct net_compress *z, size_t *len_r);

#endif
