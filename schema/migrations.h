/* The database migrations compiled into this binary.
 *
 * The table is generated at build time by schema/embed_migrations.sh from
 * migrations/NNNN_name.sql into $(BUILD)/gen/migrations.c.  Embedding them
 * (rather than reading files at run time) means a binary always knows exactly
 * which schema versions it understands: kairand refuses a database that is
 * older or newer than that, and kairanctl migrate can bring it up to date
 * with nothing but a DSN. */
#ifndef KAIRAN_SCHEMA_MIGRATIONS_H
#define KAIRAN_SCHEMA_MIGRATIONS_H

#include <stddef.h>

struct db_migration {
	int version;        /* NNNN from the file name: 1, 2, 3, ... without gaps */
	const char *name;   /* file name without ".sql", e.g. "0001_initial" */
	const char *sql;    /* the file's contents, run as one transaction */
};

/* Sorted by version; db_migrations[i].version == i + 1 (the generator
 * refuses anything else).  Static storage, never freed. */
extern const struct db_migration db_migrations[];
extern const size_t db_migrations_count;

#endif
