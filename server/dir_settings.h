/* The directory settings of kairan.conf as directory/ wants them. One
 * translation for both programs, so that kairanctl looks people and groups
 * up exactly as kairand does (same filters, same group schema, same TLS). */
#ifndef KAIRAN_SERVER_DIR_SETTINGS_H
#define KAIRAN_SERVER_DIR_SETTINGS_H

#include "directory/dir.h"
#include "server/core/config.h"

/* Fills *dc_r from cfg's ldap_* keys. The strings point into cfg, which
 * must outlive *dc_r (dir_open copies them, so it may be freed after). */
void server_dir_config(const struct config *cfg, struct dir_config *dc_r);

#endif
