/* See privileges.h. */
#include "server/privileges.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "server/core/log.h"

static int lookup_ids(const struct config *cfg, uid_t *uid_r, gid_t *gid_r, char *err,
		      size_t errlen)
{
	struct passwd *pw;
	struct group *gr;

	errno = 0;
	pw = getpwnam(cfg->user);
	if (pw == NULL) {
		snprintf(err, errlen, "user '%s' does not exist (config key user)%s%s", cfg->user,
			 errno != 0 ? ": " : "", errno != 0 ? strerror(errno) : "");
		return -1;
	}
	*uid_r = pw->pw_uid;
	*gid_r = pw->pw_gid;
	if (cfg->group[0] == '\0')
		return 0;
	errno = 0;
	gr = getgrnam(cfg->group);
	if (gr == NULL) {
		snprintf(err, errlen, "group '%s' does not exist (config key group)", cfg->group);
		return -1;
	}
	*gid_r = gr->gr_gid;
	return 0;
}

static int refuse_root(const struct config *cfg, char *err, size_t errlen)
{
	if (cfg->allow_root) {
		log_warning("running as root (allow_root = yes)");
		return 0;
	}
	snprintf(err, errlen, "refusing to run as root: set user (an unprivileged account, e.g. "
		 "kairan) in the configuration, or allow_root = yes");
	return -1;
}

/* Setting the IDs back must fail now; if any of them succeeds, the drop did
 * not happen as we believe, and going on would be running as root. */
static void prove_dropped(uid_t uid, gid_t gid)
{
	uid_t ruid, euid, suid;
	gid_t rgid, egid, sgid;

	if (setuid(0) == 0 || seteuid(0) == 0 || setgid(0) == 0 || setegid(0) == 0) {
		log_error("privileges: root could be regained after dropping it");
		abort();
	}
	if (getresuid(&ruid, &euid, &suid) < 0 || getresgid(&rgid, &egid, &sgid) < 0 ||
	    ruid != uid || euid != uid || suid != uid || rgid != gid || egid != gid || sgid != gid) {
		log_error("privileges: the user and group IDs are not the ones set");
		abort();
	}
}

int privileges_drop(const struct config *cfg, int *dropped_r, char *err, size_t errlen)
{
	uid_t uid;
	gid_t gid;

	*dropped_r = 0;
	if (geteuid() != 0) {
		/* Not root: nothing to drop, but a user we cannot become is a
		 * configuration mistake worth saying. */
		if (cfg->user[0] == '\0')
			return 0;
		if (lookup_ids(cfg, &uid, &gid, err, errlen) < 0)
			return -1;
		if (uid != geteuid()) {
			snprintf(err, errlen, "cannot become user '%s': kairand was not started as root",
				 cfg->user);
			return -1;
		}
		return 0;
	}
	if (cfg->user[0] == '\0')
		return refuse_root(cfg, err, errlen);
	if (lookup_ids(cfg, &uid, &gid, err, errlen) < 0)
		return -1;
	if (uid == 0)
		return refuse_root(cfg, err, errlen);
	/* Only the one group: supplementary groups of root must not survive,
	 * and the key is meant to be readable by this group (docs/config.md). */
	if (setgroups(1, &gid) < 0) {
		snprintf(err, errlen, "setgroups: %s", strerror(errno));
		return -1;
	}
	if (setgid(gid) < 0) {
		snprintf(err, errlen, "setgid(%u): %s", (unsigned)gid, strerror(errno));
		return -1;
	}
	if (setuid(uid) < 0) {
		snprintf(err, errlen, "setuid(%u): %s", (unsigned)uid, strerror(errno));
		return -1;
	}
	prove_dropped(uid, gid);
	*dropped_r = 1;
	return 0;
}
