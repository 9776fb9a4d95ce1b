/* Shared by the unit tests: a cmocka group setup that sends the daemon's log
 * to /dev/null, so that expected warnings do not clutter the test output. */
#ifndef FC_UNIT_QUIET_H
#define FC_UNIT_QUIET_H

#include "../common/log.h"

static int
setup_quiet(void **state)
{
	(void)state;
	log_init(0, "/dev/null", LOG_LVL_ERR);
	return 0;
}

#endif
