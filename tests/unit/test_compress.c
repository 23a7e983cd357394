/* The DEFLATE layer of COMPRESS (server/net/compress.c) without sockets:
 * one side's output is the other side's input. Inflated output never
 * exceeds the room the caller gives, however much the input holds. */
#include "tests/unit/unit.h"
#include "server/core/buf.h"
#include "server/net/compress.h"

#include <stdlib.h>
#include <zlib.h>

/* Deflates all of data on `from` and moves the compressed bytes into `to`'s
 * input, as conn.c does through the transport. */
static void carry(struct net_compress *from, struct net_compress *to, const void *data, size_t len)
{
	size_t done = 0;

	while (done < len) {
		size_t n, room;
		const uint8_t *out;

		done += net_compress_deflate(from, (const uint8_t *)data + done, len - done);
		out = net_compress_out(from, &n);
		while (n > 0) {
			uint8_t *in = net_compress_in_room(to, &room);
			size_t take = n < room ? n : room;
			memcpy(in, out, take);
			net_compress_in_added(to, take);
			net_compress_out_sent(from, take);
			out = net_compress_out(from, &n);
		}
	}
}

/* Inflates everything available, step bytes at a time at most. */
static void drain(struct net_compress *z, struct buf *got, size_t step)
{
	uint8_t piece[256];
	const char *err;
	ssize_t n;

	while ((n = net_compress_inflate(z, piece, step, &err)) > 0) {
		CHECK((size_t)n <= step);
		buf_append(got, piece, (size_t)n);
	}
	CHECK(n == 0);
}

static void test_round_trip_in_any_piece_size(void)
{
	static const size_t steps[] = { 1, 3, 256 };
	struct buf plain, got;
	size_t i;

	buf_init(&plain);
	for (i = 0; i < 5000; i++)
		buf_appendf(&plain, "* %zu FETCH (UID %zu FLAGS (\\Seen))\r\n", i + 1, i + 100);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		struct net_compress *server = net_compress_new(NULL, 0);
		struct net_compress *client = net_compress_new(NULL, 0);

		buf_init(&got);
		carry(server, client, plain.data, plain.len);
		drain(client, &got, steps[i]);
		CHECK_MEM(got.data, got.len, plain.data, plain.len);
		/* Each batch is flushed: a second one arrives whole too. */
		buf_clear(&got);
		carry(server, client, "a OK done\r\n", 11);
		drain(client, &got, steps[i]);
		CHECK_MEM(got.data, got.len, "a OK done\r\n", 11);
		buf_free(&got);
		net_compress_free(&server);
		net_compress_free(&client);
		CHECK(server == NULL && client == NULL);
	}
	buf_free(&plain);
}

/* Input that arrived before compression started is inflated first. */
static void test_pending_input_comes_first(void)
{
	struct net_compress *peer = net_compress_new(NULL, 0);
	struct net_compress *z;
	struct buf got;
	size_t n;
	const uint8_t *early;

	net_compress_deflate(peer, "n NOOP\r\n", 8);
	early = net_compress_out(peer, &n);
	z = net_compress_new(early, n);
	net_compress_out_sent(peer, n);
	buf_init(&got);
	drain(z, &got, 256);
	CHECK_MEM(got.data, got.len, "n NOOP\r\n", 8);
	buf_free(&got);
	net_compress_free(&z);
	net_compress_free(&peer);
}

/* 10 MB of one byte, about 10 KB compressed: each call gives at most the
 * room offered, and the input is taken only as the output is. */
static void test_bomb_inflates_only_into_the_room_given(void)
{
	size_t big = 10 * 1000 * 1000, total = 0;
	uint8_t *plain = malloc(big), out[4096];
	struct net_compress *peer = net_compress_new(NULL, 0), *z = net_compress_new(NULL, 0);
	const char *err;
	ssize_t n;
	int calls = 0;

	memset(plain, 'a', big);
	carry(peer, z, plain, big);
	while ((n = net_compress_inflate(z, out, sizeof(out), &err)) > 0) {
		CHECK((size_t)n <= sizeof(out));
		total += (size_t)n;
		calls++;
	}
	CHECK(n == 0 && total == big && calls >= (int)(big / sizeof(out)));
	free(plain);
	net_compress_free(&z);
	net_compress_free(&peer);
}

static void feed(struct net_compress *z, const void *data, size_t len)
{
	size_t room;
	uint8_t *in = net_compress_in_room(z, &room);

	CHECK(room >= len);
	memcpy(in, data, len);
	net_compress_in_added(z, len);
}

/* A whole raw DEFLATE stream of text, ended by a final block (Z_FINISH),
 * into wire (size bytes); returns its length. */
static size_t finished_stream(const char *text, uint8_t *wire, size_t size)
{
	z_stream zs;
	size_t len;

	memset(&zs, 0, sizeof(zs));
	CHECK(deflateInit2(&zs, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK);
	zs.next_in = (Bytef *)(uintptr_t)text;   /* zlib without ZLIB_CONST */
	zs.avail_in = (uInt)strlen(text);
	zs.next_out = wire;
	zs.avail_out = (uInt)size;
	CHECK(deflate(&zs, Z_FINISH) == Z_STREAM_END);
	len = size - zs.avail_out;
	deflateEnd(&zs);
	return len;
}

static void test_corrupt_and_finished_streams(void)
{
	struct net_compress *z = net_compress_new(NULL, 0);
	uint8_t out[64], fin[64];
	const char *err = NULL;

	/* BFINAL 1, BTYPE 3: a reserved block type. */
	feed(z, "\x07\xff", 2);
	CHECK(net_compress_inflate(z, out, sizeof(out), &err) == -1 && err != NULL);
	net_compress_free(&z);

	/* A final block (Z_FINISH): its data, then the end, which is no error. */
	z = net_compress_new(fin, finished_stream("o LOGOUT\r\n", fin, sizeof(fin)));
	CHECK(net_compress_inflate(z, out, sizeof(out), &err) == 10);
	CHECK_MEM(out, 10, "o LOGOUT\r\n", 10);
	CHECK(net_compress_inflate(z, out, sizeof(out), &err) == -1 && err == NULL);
	net_compress_free(&z);
}

/* RFC 8437 §4.1: the client's final block, then plain bytes; and our
 * own final block ends a stream that zlib's inflate sees end. */
static void test_ending_both_streams(void)
{
	struct net_compress *server = net_compress_new(NULL, 0);
	struct net_compress *client = net_compress_new(NULL, 0);
	uint8_t out[64], wire[64];
	const uint8_t *unread, *fin;
	size_t len, n;
	const char *err = NULL;

	/* The client: "u UNAUTHENTICATE\r\n", its final block, then plain. */
	len = finished_stream("u UNAUTHENTICATE\r\n", wire, sizeof(wire));
	feed(server, wire, len);
	feed(server, "l LOGIN", 7);
	CHECK(!net_compress_peer_ended(server));
	CHECK(net_compress_inflate(server, out, sizeof(out), &err) == 18);
	CHECK(net_compress_inflate(server, out, sizeof(out), &err) == -1 && err == NULL);
	CHECK(net_compress_peer_ended(server));
	unread = net_compress_unread(server, &n);
	CHECK_MEM(unread, n, "l LOGIN", 7);

	/* The server: its OK, then its final block; the client inflates the
	 * OK and sees the end of the stream. */
	carry(server, client, "u OK\r\n", 6);
	net_compress_finish(server);
	fin = net_compress_out(server, &n);
	feed(client, fin, n);
	net_compress_out_sent(server, n);
	CHECK(net_compress_inflate(client, out, sizeof(out), &err) == 6);
	CHECK_MEM(out, 6, "u OK\r\n", 6);
	CHECK(net_compress_inflate(client, out, sizeof(out), &err) == -1 && err == NULL);
	CHECK(net_compress_peer_ended(client));
	net_compress_free(&server);
	net_compress_free(&client);
}

int main(void)
{
	UNIT_RUN(test_round_trip_in_any_piece_size);
	UNIT_RUN(test_pending_input_comes_first);
	UNIT_RUN(test_bomb_inflates_only_into_the_room_given);
	UNIT_RUN(test_corrupt_and_finished_streams);
	UNIT_RUN(test_ending_both_streams);
	return unit_report("test_compress");
}
