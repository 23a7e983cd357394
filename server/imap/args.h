/* Typed access to parsed arguments: each accessor checks the shape the
 * grammar requires (RFC 3501 §9) and returns false when the argument does not
 * have it, so a command's "check" step is a sequence of these calls. */
#ifndef KAIRAN_IMAP_ARGS_H
#define KAIRAN_IMAP_ARGS_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "server/imap/parser.h"

/* astring = 1*ASTRING-CHAR / string. */
bool imap_arg_astring(const struct imap_arg *a, const char **s_r, size_t *len_r);
/* string = quoted / literal. */
bool imap_arg_string(const struct imap_arg *a, const char **s_r, size_t *len_r);
/* An atom, returned as it was sent. */
bool imap_arg_atom(const struct imap_arg *a, const char **s_r);
/* An atom equal to word, ignoring case. */
bool imap_arg_atom_is(const struct imap_arg *a, const char *word);
/* The number of arguments before the terminating EOL. */
size_t imap_args_count(const struct imap_arg *args);
/* A decimal atom up to max (no sign, no spaces); leading zeros are fine,
 * as number = 1*DIGIT. nz forbids the value 0. */
bool imap_arg_number(const struct imap_arg *a, uint64_t max, bool nz, uint64_t *v_r);
/* mod-sequence-valzer (RFC 7162 §7): an atom, "0" or a positive 63-bit
 * integer. */
bool imap_arg_modseq(const struct imap_arg *a, uint64_t *value_r);

#endif
