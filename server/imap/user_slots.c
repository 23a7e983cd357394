#include "server/imap/user_slots.h"
#include "server/core/buf.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* A chained hash table; entries disappear when their count drops to zero,
 * so the table holds only users with open sessions. */
#define SLOT_BUCKETS 1024

struct slot {
	struct slot *next;
	long count;
	char login[];
};

struct imap_user_slots {
	pthread_mutex_t lock;
	struct slot *buckets[SLOT_BUCKETS];
};

static unsigned slot_hash(const char *s)
{
	unsigned h = 2166136261u; /* FNV-1a */

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h % SLOT_BUCKETS;
}

struct imap_user_slots *imap_user_slots_new(void)
{
	struct imap_user_slots *s = xcalloc(1, sizeof(*s));

	pthread_mutex_init(&s->lock, NULL);
	return s;
}

void imap_user_slots_free(struct imap_user_slots **sp)
{
	struct imap_user_slots *s = *sp;

	if (s == NULL)
		return;
	for (size_t i = 0; i < SLOT_BUCKETS; i++)
		while (s->buckets[i] != NULL) {
			struct slot *e = s->buckets[i];
			s->buckets[i] = e->next;
			free(e);
		}
	pthread_mutex_destroy(&s->lock);
	free(s);
	*sp = NULL;
}

bool imap_user_slot_take(struct imap_user_slots *s, const char *login, long max)
{
	struct slot **head = &s->buckets[slot_hash(login)], *e;
	bool ok = true;

	pthread_mutex_lock(&s->lock);
	for (e = *head; e != NULL && strcmp(e->login, login) != 0; e = e->next)
		;
	if (e == NULL) {
		size_t len = strlen(login);
		e = xmalloc(sizeof(*e) + len + 1);
		memcpy(e->login, login, len + 1);
		e->count = 0;
		e->next = *head;
		*head = e;
	}
	if (e->count >= max)
		ok = false;
	else
		e->count++;
	pthread_mutex_unlock(&s->lock);
	return ok;
}

void imap_user_slot_release(struct imap_user_slots *s, const char *login)
{
	struct slot **pp = &s->buckets[slot_hash(login)], *e;

	pthread_mutex_lock(&s->lock);
	for (; (e = *pp) != NULL; pp = &e->next)
		if (strcmp(e->login, login) == 0) {
			if (--e->count <= 0) {
				*pp = e->next;
				free(e);
			}
			break;
		}
	pthread_mutex_unlock(&s->lock);
}
