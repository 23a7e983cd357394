/* Dropping root (OpenBSD daemons' habit, docs/shared DESIGN "Security"):
 * kairand binds its ports and reads its TLS key and certificate as root,
 * then becomes the configured `user` and `group` for the rest of its life. */
#ifndef KAIRAN_SERVER_PRIVILEGES_H
#define KAIRAN_SERVER_PRIVILEGES_H

#include <stddef.h>

#include "server/core/config.h"

/* Becomes cfg->user / cfg->group if started as root, with setgroups, setgid
 * and setuid in that order, then checks that root cannot be regained
 * (aborts if it can: a broken invariant). Must run before any thread
 * starts, so that every thread has the same credentials.
 *
 * Refuses (returns -1 with the reason in err) to go on as root unless
 * cfg->allow_root is set, and refuses a `user` other than the current one
 * when not started as root. 0 on success; *dropped_r says whether the
 * process changed its user. */
int privileges_drop(const struct config *cfg, int *dropped_r, char *err, size_t errlen);

#endif
