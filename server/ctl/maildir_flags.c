/* The info part of a Maildir file name, ":2," and its letters
 * (server/ctl/import_source.h): one table for import and export. */
#include "server/ctl/import_source.h"
#include "schema/db.h"

#include <string.h>

/* In ASCII order, the order maildir(5) asks the letters to be in. */
static const struct { char letter; unsigned flag; } letters_table[] = {
	{ 'D', DB_FLAG_DRAFT },
	{ 'F', DB_FLAG_FLAGGED },
	{ 'P', 0 },                 /* passed: IMP_FORWARDED */
	{ 'R', DB_FLAG_ANSWERED },
	{ 'S', DB_FLAG_SEEN },
	{ 'T', DB_FLAG_DELETED },
};

#define N_LETTERS (sizeof(letters_table) / sizeof(letters_table[0]))

unsigned imp_maildir_flags(const char *info, bool *forwarded_r, char letters[27])
{
	unsigned flags = 0;
	size_t nkw = 0;

	*forwarded_r = false;
	for (; *info != '\0'; info++) {
		if (*info >= 'a' && *info <= 'z') {
			if (nkw < 26 && memchr(letters, *info, nkw) == NULL)
				letters[nkw++] = *info;
			continue;
		}
		for (size_t i = 0; i < N_LETTERS; i++)
			if (letters_table[i].letter == *info) {
				flags |= letters_table[i].flag;
				if (*info == 'P')
					*forwarded_r = true;
			}
	}
	letters[nkw] = '\0';
	return flags;
}

void imp_maildir_letters(unsigned flags, bool forwarded, const char *kw, char out[40])
{
	size_t n = 0;

	for (size_t i = 0; i < N_LETTERS; i++)
		if (letters_table[i].flag != 0 ? (flags & letters_table[i].flag) != 0 : forwarded)
			out[n++] = letters_table[i].letter;
	for (; *kw != '\0' && n < 39; kw++)
		out[n++] = *kw;
	out[n] = '\0';
}
