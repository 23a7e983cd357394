/* Intrusive doubly linked lists (Dovecot's llist.h in spirit): an item
 * carries its own prev and next pointers, named by the caller, so one
 * struct can sit on several lists (all clients, the dead, the idlers of a
 * mailbox). head is an lvalue of the item's pointer type. */
#ifndef KAIRAN_CORE_LLIST_H
#define KAIRAN_CORE_LLIST_H

#include <stddef.h>

/* Puts item first on the list. */
#define LLIST_PREPEND_FULL(head, item, prev, next) do { \
	(item)->prev = NULL; \
	(item)->next = (head); \
	if ((head) != NULL) \
		(head)->prev = (item); \
	(head) = (item); \
} while (0)

/* Takes item off the list it is on (head is that list's head). */
#define LLIST_REMOVE_FULL(head, item, prev, next) do { \
	if ((item)->prev != NULL) \
		(item)->prev->next = (item)->next; \
	else \
		(head) = (item)->next; \
	if ((item)->next != NULL) \
		(item)->next->prev = (item)->prev; \
	(item)->prev = (item)->next = NULL; \
} while (0)

#define LLIST_PREPEND(head, item) LLIST_PREPEND_FULL(head, item, prev, next)
#define LLIST_REMOVE(head, item) LLIST_REMOVE_FULL(head, item, prev, next)

#endif
