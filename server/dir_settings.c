#include "server/dir_settings.h"

void server_dir_config(const struct config *cfg, struct dir_config *dc_r)
{
	*dc_r = (struct dir_config){
		.uri = cfg->ldap_uri,
		.bind_dn = cfg->ldap_bind_dn,
		.bind_password = cfg->ldap_bind_password,
		.base_dn = cfg->ldap_base_dn,
		.user_filter = cfg->ldap_user_filter,
		.login_attribute = cfg->ldap_login_attribute,
		.timeout_sec = (int)cfg->ldap_timeout,
		.mail_attributes = cfg->ldap_mail_attributes,
		.group_base_dn = cfg->ldap_group_base_dn,
		.group_filter = cfg->ldap_group_filter,
		.group_name_attribute = cfg->ldap_group_name_attribute,
		.group_membership = cfg->ldap_group_membership,
		.team_filter = cfg->ldap_team_filter,
		.team_mail_attribute = cfg->ldap_team_mail_attribute,
		.starttls = cfg->ldap_starttls,
		.tls_ca_file = cfg->ldap_tls_ca_file,
		.tls_skip_verify = !cfg->ldap_tls_require_cert,
	};
}
