/* The wall clock the agent stamps and ages things with. */
#ifndef HG_CLOCK_H
#define HG_CLOCK_H
#include <stdint.h>

/* Wall clock in ns since the epoch (CLOCK_REALTIME). */
int64_t hg_now_ns(void);

#endif
