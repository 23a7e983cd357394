/* The one clock for timeouts, delays and quiet periods: CLOCK_MONOTONIC in
 * milliseconds (never jumps with the wall clock). */
#ifndef KAIRAN_CORE_CLOCK_H
#define KAIRAN_CORE_CLOCK_H

#include <stdint.h>

uint64_t clock_now_ms(void);

#endif
