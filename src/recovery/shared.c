/*
 * shared.c - starting and stopping a process's breakers' board and usage journal together;
 * see shared.h. The thread that starts swarms.
 */
#include "recovery/shared.h"

#include "core/config.h"
#include "core/fail.h"
#include "cost/journal.h"
#include "recovery/breaker.h"

#include <stdlib.h>

int recovery_shared_start(const struct config *c, const struct redis_addr *addr,
                          const struct rlink_options *lo, char **cause)
{
    struct breaker_policy p;
    char *data = config_data_dir(c), *dir = xasprintf("%s/journal", data);
    int rc;

    free(data);
    breaker_policy_from_config(&p, c);
    rc = journal_open(dir, cause);
    free(dir);
    if (rc == -1)
        return -1;
    if (breaker_board_start(addr, lo, &p, cause) == -1) {
        journal_close();
        return -1;
    }
    return 0;
}

void recovery_shared_stop(void)
{
    breaker_board_stop();
    journal_close();
}
