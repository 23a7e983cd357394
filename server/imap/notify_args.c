/* NOTIFY SET's arguments (RFC 5465 §8):
 *
 *   notify-set  = "SET" [SP "STATUS"] SP event-group *(SP event-group)
 *   event-group = "(" filter-mailboxes SP events ")"
 *   filter-mailboxes = "selected" / "selected-delayed" / "inboxes" /
 *                 "personal" / "subscribed" /
 *                 ("subtree" SP one-or-more-mailbox) /
 *                 ("mailboxes" SP one-or-more-mailbox)
 *   events      = "(" event *(SP event) ")" / "NONE"
 *   message-event = "MessageNew" [SP "(" fetch-att *(SP fetch-att) ")"] /
 *                 "MessageExpunge" / "FlagChange" / "AnnotationChange"
 *
 * Everything is checked here, before any SQL: the grammar and RFC 5465's
 * rules are BAD, an event Kairan does not deliver is NO [BADEVENT] (after
 * the whole command parsed, so that a syntax error wins), too many names
 * is NO [NOTIFICATIONOVERFLOW], too many groups NO [LIMIT]. */
#include "server/imap/args.h"
#include "server/imap/fetch_args.h"
#include "server/imap/mailbox_name.h"
#include "server/imap/notify.h"
#include "server/bus/bus.h"
#include "server/core/buf.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const event_names[] = {
	"MessageNew", "MessageExpunge", "FlagChange", "AnnotationChange",
	"MailboxName", "SubscriptionChange", "MailboxMetadataChange", "ServerMetadataChange",
};
#define NEVENTS (sizeof(event_names) / sizeof(event_names[0]))

struct parse {
	struct imap_session *s;
	struct imap_notify *n;
	unsigned unsupported;      /* events asked for that Kairan does not deliver */
	unsigned unknown;          /* events no RFC defines */
	size_t nnames;
	unsigned filters_seen;     /* inboxes, personal, subscribed: once each */
	const char *problem;       /* the BAD's text */
	bool overflow;
};

static bool fail(struct parse *p, const char *problem)
{
	if (p->problem == NULL)
		p->problem = problem;
	return false;
}

/* A heap copy of a parsed argument tree (the fetch attributes outlive the
 * command's arena). Spooled literals never appear in fetch attributes. */
static void arg_copy(struct imap_arg *to, const struct imap_arg *from)
{
	*to = *from;
	to->spool = NULL;
	if (from->type == IMAP_ARG_LIST) {
		size_t n = from->u.list.count;
		to->u.list.items = xcalloc(n + 1, sizeof(*to->u.list.items));
		for (size_t i = 0; i < n; i++)
			arg_copy(&to->u.list.items[i], &from->u.list.items[i]);
		to->u.list.items[n].type = IMAP_ARG_EOL;
	} else if (from->type != IMAP_ARG_EOL) {
		char *data = xmalloc(from->u.str.len + 1);
		if (from->u.str.len > 0)
			memcpy(data, from->u.str.data, from->u.str.len);
		data[from->u.str.len] = '\0';
		to->u.str.data = data;
	}
}

static void arg_free(struct imap_arg *a)
{
	if (a->type == IMAP_ARG_LIST) {
		for (size_t i = 0; i < a->u.list.count; i++)
			arg_free(&a->u.list.items[i]);
		free(a->u.list.items);
	} else if (a->type != IMAP_ARG_EOL)
		free((char *)a->u.str.data);
}

void imap_notify_free(struct imap_notify **np)
{
	struct imap_notify *n = *np;

	if (n == NULL)
		return;
	for (size_t i = 0; i < n->nboxes; i++) {
		bus_unwatch(n->bus, n->boxes[i].mailbox_id, n->account);
		free(n->boxes[i].name);
	}
	free(n->boxes);
	for (size_t i = 0; i < n->ngroups; i++) {
		for (size_t j = 0; j < n->groups[i].nnames; j++)
			free(n->groups[i].names[j]);
		free(n->groups[i].names);
	}
	free(n->groups);
	if (n->fetch_atts != NULL) {
		arg_free(n->fetch_atts);
		free(n->fetch_atts);
	}
	free(n);
	*np = NULL;
}

static int event_bit(const struct imap_arg *a)
{
	for (size_t i = 0; i < NEVENTS; i++)
		if (imap_arg_atom_is(a, event_names[i]))
			return 1 << i;
	return 0;
}

/* events = "(" event *(SP event) ")" / "NONE"; fetch attributes only
 * after MessageNew, and only for the selected mailbox. */
static bool parse_events(struct parse *p, const struct imap_arg *a, bool selected,
			 unsigned *events_r)
{
	unsigned events = 0;
	const struct imap_arg *items;

	*events_r = 0;
	if (imap_arg_atom_is(a, "NONE"))
		return true;
	if (a->type != IMAP_ARG_LIST)
		return fail(p, "NOTIFY events must be a parenthesised list or NONE");
	if (a->u.list.count == 0)
		return fail(p, "NOTIFY event list is empty");
	items = a->u.list.items;
	for (size_t i = 0; i < a->u.list.count; i++) {
		int bit;

		if (items[i].type != IMAP_ARG_ATOM)
			return fail(p, "NOTIFY event must be an atom");
		if ((bit = event_bit(&items[i])) == 0) {
			/* event-ext: an event this server does not know */
			p->unknown |= 1;
			continue;
		}
		if (events & (unsigned)bit)
			return fail(p, "NOTIFY event given twice in one group");
		events |= (unsigned)bit;
		if (!(bit & IMAP_NOTIFY_SUPPORTED))
			p->unsupported |= (unsigned)bit;
		if (bit == IMAP_NOTIFY_MESSAGE_NEW && i + 1 < a->u.list.count &&
		    items[i + 1].type == IMAP_ARG_LIST) {
			struct imap_fetch_request req;
			const char *error;

			i++;
			if (!selected)
				return fail(p, "MessageNew fetch attributes are only for the selected mailbox");
			if (imap_fetch_parse(&p->s->arena, &items[i], &req, &error) < 0)
				return fail(p, error);
			/* An unsolicited FETCH must not change the message:
			 * BODY[] would set \Seen behind the client's back. */
			if (req.sets_seen)
				return fail(p, "MessageNew fetch attributes must not set \\Seen (use BODY.PEEK)");
			p->n->fetch_atts = xcalloc(1, sizeof(*p->n->fetch_atts));
			arg_copy(p->n->fetch_atts, &items[i]);
		}
	}
	/* RFC 5465 §5.2, §5.1: MessageNew and MessageExpunge come together,
	 * and FlagChange or AnnotationChange only with them. */
	if (!!(events & IMAP_NOTIFY_MESSAGE_NEW) != !!(events & IMAP_NOTIFY_MESSAGE_EXPUNGE))
		return fail(p, "MessageNew and MessageExpunge must be given together");
	if ((events & (IMAP_NOTIFY_FLAG_CHANGE | IMAP_NOTIFY_ANNOTATION_CHANGE)) &&
	    !(events & IMAP_NOTIFY_MESSAGE_NEW))
		return fail(p, "FlagChange and AnnotationChange need MessageNew and MessageExpunge");
	if (selected && (events & ~(unsigned)IMAP_NOTIFY_MESSAGE_EVENTS))
		return fail(p, "Only message events apply to the selected mailbox");
	*events_r = events;
	return true;
}

/* one-or-more-mailbox = mailbox / "(" mailbox *(SP mailbox) ")" */
static bool parse_names(struct parse *p, const struct imap_arg *a, struct imap_notify_group *g)
{
	const struct imap_arg *items = a;
	size_t n = 1;

	if (a->type == IMAP_ARG_LIST) {
		items = a->u.list.items;
		n = a->u.list.count;
		if (n == 0)
			return fail(p, "NOTIFY mailbox list is empty");
	}
	if (p->nnames + n > IMAP_NOTIFY_MAX_NAMES) {
		p->overflow = true;
		return false;
	}
	p->nnames += n;
	g->names = xcalloc(n, sizeof(*g->names));
	for (size_t i = 0; i < n; i++) {
		const char *name, *problem;
		size_t len;
		enum imap_name_status st;

		if (items[i].type == IMAP_ARG_LIST)
			return fail(p, "NOTIFY mailbox lists do not nest");
		st = imap_mailbox_arg(p->s, &items[i], &name, &len, &problem);
		if (st != IMAP_NAME_OK)
			return fail(p, problem);
		g->names[g->nnames++] = xstrdup(name);
	}
	return true;
}

static const struct {
	const char *word;
	enum imap_notify_filter filter;
	bool names;
} filters[] = {
	{ "inboxes", IMAP_NOTIFY_INBOXES, false },
	{ "personal", IMAP_NOTIFY_PERSONAL, false },
	{ "subscribed", IMAP_NOTIFY_SUBSCRIBED, false },
	{ "subtree", IMAP_NOTIFY_SUBTREE, true },
	{ "mailboxes", IMAP_NOTIFY_MAILBOXES, true },
};

static bool parse_group(struct parse *p, const struct imap_arg *a)
{
	struct imap_notify *n = p->n;
	const struct imap_arg *items;
	size_t count, f;

	if (a->type != IMAP_ARG_LIST)
		return fail(p, "NOTIFY SET expects parenthesised event groups");
	items = a->u.list.items;
	count = a->u.list.count;
	if (count == 0 || items[0].type != IMAP_ARG_ATOM)
		return fail(p, "NOTIFY event group must start with a filter");
	if (imap_arg_atom_is(&items[0], "selected") || imap_arg_atom_is(&items[0], "selected-delayed")) {
		if (n->selected_set)
			return fail(p, "NOTIFY names the selected mailbox twice");
		if (count != 2)
			return fail(p, "NOTIFY selected filter takes one list of events");
		n->selected_set = true;
		n->selected_delayed = imap_arg_atom_is(&items[0], "selected-delayed");
		return parse_events(p, &items[1], true, &n->selected_events);
	}
	for (f = 0; f < sizeof(filters) / sizeof(filters[0]); f++)
		if (imap_arg_atom_is(&items[0], filters[f].word))
			break;
	if (f == sizeof(filters) / sizeof(filters[0]))
		return fail(p, "Unknown NOTIFY filter");
	if (count != (filters[f].names ? 3u : 2u))
		return fail(p, filters[f].names ? "NOTIFY filter expects mailboxes and events" :
					   "NOTIFY filter expects one list of events");
	if (!filters[f].names) {
		if (p->filters_seen & (1u << f))
			return fail(p, "NOTIFY names the same filter twice");
		p->filters_seen |= 1u << f;
	}
	if (n->ngroups == IMAP_NOTIFY_MAX_GROUPS)
		return fail(p, "LIMIT");
	n->groups = xrealloc(n->groups, (n->ngroups + 1) * sizeof(*n->groups));
	memset(&n->groups[n->ngroups], 0, sizeof(n->groups[0]));
	n->groups[n->ngroups].filter = filters[f].filter;
	n->ngroups++;
	if (filters[f].names && !parse_names(p, &items[1], &n->groups[n->ngroups - 1]))
		return false;
	if (!parse_events(p, &items[count - 1], false, &n->groups[n->ngroups - 1].events))
		return false;
	n->group_events |= n->groups[n->ngroups - 1].events;
	return true;
}

/* RFC 5465 §3.1 (BADEVENT): the events this server supports. */
static const char *badevent_code(struct imap_session *s)
{
	struct buf b;
	const char *code;

	buf_init(&b);
	buf_append_str(&b, "BADEVENT (");
	for (size_t i = 0, first = 1; i < NEVENTS; i++)
		if (IMAP_NOTIFY_SUPPORTED & (1u << i)) {
			buf_appendf(&b, "%s%s", first ? "" : " ", event_names[i]);
			first = 0;
		}
	buf_append_str(&b, ")");
	code = arena_strndup(&s->arena, b.data, b.len);
	buf_free(&b);
	return code;
}

struct imap_result imap_notify_parse(struct imap_session *s, const struct imap_arg *args,
				     struct imap_notify **n_r, bool *status_r)
{
	struct parse p = { .s = s };
	size_t i = 0;

	p.n = xcalloc(1, sizeof(*p.n));
	p.n->account = s->account_id;
	*status_r = false;
	if (imap_arg_atom_is(&args[0], "STATUS")) {
		*status_r = true;
		i++;
	}
	if (args[i].type == IMAP_ARG_EOL)
		fail(&p, "NOTIFY SET expects at least one event group");
	for (; args[i].type != IMAP_ARG_EOL && p.problem == NULL && !p.overflow; i++)
		parse_group(&p, &args[i]);
	if (p.problem != NULL || p.overflow || p.unsupported || p.unknown) {
		struct imap_result r;

		if (p.problem != NULL && strcmp(p.problem, "LIMIT") == 0)
			r = imap_no(s, "LIMIT", "NOTIFY takes at most %d event groups",
				    IMAP_NOTIFY_MAX_GROUPS);
		else if (p.problem != NULL)
			r = imap_bad(s, NULL, "%s", p.problem);
		else if (p.overflow)
			r = imap_no(s, "NOTIFICATIONOVERFLOW", "NOTIFY names at most %d mailboxes",
				    IMAP_NOTIFY_MAX_NAMES);
		else
			r = imap_no(s, badevent_code(s), "Unsupported NOTIFY event");
		imap_notify_free(&p.n);
		return r;
	}
	*n_r = p.n;
	return imap_ok(s, NULL, "checked");
}
