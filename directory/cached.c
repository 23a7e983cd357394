/* The cached look-ups of dir.h: the directory call wrapped in cache.c's
 * get and put, failing closed. */
#include "directory/cache.h"

#include <stdlib.h>
#include <string.h>

/* "g:LOGIN" or "m:address": the two kinds of entry never share a key. For
 * addresses ASCII letters are lower-cased, since the mail attributes match
 * case-insensitively and "Alice@Example.org" is alice's address too; other
 * bytes are kept (a miss on a case variant only costs a query). NULL on
 * out-of-memory. */
static char *dir_cache_key(char kind, const char *s, size_t len)
{
	char *key = malloc(len + 3);

	if (key == NULL)
		return NULL;
	key[0] = kind;
	key[1] = ':';
	for (size_t i = 0; i < len; i++)
		key[i + 2] = kind == 'm' && s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] - 'A' + 'a') : s[i];
	key[len + 2] = '\0';
	return key;
}

enum dir_result dir_user_groups_cached(dir_cache *c, dir *d, const char *user_dn,
		const char *login, char ***groups_r, size_t *n_r, char *err, size_t errlen)
{
	enum dir_result r;
	char *key;

	if (!dir_cache_enabled(c) || login == NULL || user_dn == NULL)
		return dir_user_groups(d, user_dn, login, groups_r, n_r, err, errlen);
	key = dir_cache_key('g', login, strlen(login));
	if (key != NULL && dir_cache_get(c, key, user_dn, NULL, 0, NULL, 0, groups_r, n_r) == 1) {
		if (err != NULL && errlen > 0)
			err[0] = '\0';
		free(key);
		return DIR_OK;
	}
	r = dir_user_groups(d, user_dn, login, groups_r, n_r, err, errlen);
	if (key != NULL) {
		if (r == DIR_OK)
			(void)dir_cache_put(c, key, &(struct dir_cache_item){
				.dn = user_dn, .groups = *groups_r });
		else
			dir_cache_remove(c, key); /* fail closed: see dir.h */
	}
	free(key);
	return r;
}

enum dir_result dir_lookup_by_mail_cached(dir_cache *c, dir *d, const char *address, size_t len,
		char *dn_r, size_t dn_size, char *login_r, size_t login_size,
		char *err, size_t errlen)
{
	enum dir_result r;
	char *key = NULL;

	/* Addresses dir_lookup_by_mail would reject never become keys. */
	if (dir_cache_enabled(c) && address != NULL && len > 0 && len <= DIR_ADDRESS_MAX &&
	    memchr(address, '\0', len) == NULL)
		key = dir_cache_key('m', address, len);
	if (key != NULL && dir_cache_get(c, key, NULL, dn_r, dn_size, login_r, login_size,
			NULL, NULL) == 1) {
		if (err != NULL && errlen > 0)
			err[0] = '\0';
		free(key);
		return DIR_OK;
	}
	r = dir_lookup_by_mail(d, address, len, dn_r, dn_size, login_r, login_size, err, errlen);
	if (key != NULL) {
		/* Only a found account is kept: "no such address" must not outlive
		 * the account's creation. Both dn_r and login_r are needed to fill
		 * an entry a later hit can answer from. */
		if (r == DIR_OK && dn_r != NULL && login_r != NULL)
			(void)dir_cache_put(c, key, &(struct dir_cache_item){
				.dn = dn_r, .login = login_r });
		else if (r != DIR_OK)
			dir_cache_remove(c, key);
	}
	free(key);
	return r;
}

void dir_cache_forget_user(dir_cache *c, const char *login)
{
	char *key;

	if (c == NULL || login == NULL)
		return;
	key = dir_cache_key('g', login, strlen(login));
	if (key != NULL)
		dir_cache_remove(c, key);
	free(key);
}
