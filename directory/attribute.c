/* dir_user_attribute: one attribute of a person's entry, as text (the
 * quota limits of ldap_quota_attribute, docs/config.md "Quotas"). */
#include "directory/dir_private.h"
#include "directory/filter.h"

#include <string.h>

struct attribute_op {
	const char *dn, *attr;
	char *out;
	size_t size;
};

static void attribute_reset(void *arg)
{
	struct attribute_op *op = arg;

	op->out[0] = '\0';
}

/* Appends the values, space-separated, while they fit; a value with a NUL
 * or another control byte is skipped (it could not be one of ours). */
static void attribute_take(struct attribute_op *op, struct berval **vals)
{
	size_t at = 0;

	for (size_t i = 0; vals != NULL && vals[i] != NULL; i++) {
		const struct berval *v = vals[i];
		bool clean = v->bv_len > 0;

		for (size_t k = 0; clean && k < v->bv_len; k++)
			clean = (unsigned char)v->bv_val[k] >= ' ' && v->bv_val[k] != 0x7f;
		if (!clean || at + v->bv_len + 2 > op->size)
			continue;
		if (at > 0)
			op->out[at++] = ' ';
		memcpy(op->out + at, v->bv_val, v->bv_len);
		at += v->bv_len;
		op->out[at] = '\0';
	}
}

static enum dir_result attribute_run(dir *d, struct dir_attempt *a, void *arg, char *err,
				     size_t errlen)
{
	struct attribute_op *op = arg;
	char *attrs[] = { (char *)op->attr, NULL };
	struct berval **vals;
	LDAPMessage *res = NULL, *e;
	enum dir_result r = dir_read_user_entry(d, a, op->dn, attrs, &res, err, errlen);

	if (r != DIR_OK) {
		ldap_msgfree(res);
		return r;
	}
	e = dir_first_entry(d, res);
	vals = e != NULL ? dir_attr_values(d, e, op->attr) : NULL;
	attribute_take(op, vals);
	if (vals != NULL)
		ldap_value_free_len(vals);
	ldap_msgfree(res);
	return DIR_OK;
}

enum dir_result dir_user_attribute(dir *d, const char *user_dn, const char *attr, char *out,
				   size_t out_size, char *err, size_t errlen)
{
	struct attribute_op op = { user_dn, attr, out, out_size };

	if (out_size == 0)
		return DIR_FAIL;
	out[0] = '\0';
	if (!dir_attribute_valid(attr)) {
		dir_set_err(err, errlen, "invalid attribute name");
		return DIR_FAIL;
	}
	return dir_run(d, attribute_run, attribute_reset, &op, err, errlen);
}
