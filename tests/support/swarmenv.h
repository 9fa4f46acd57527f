/*
 * swarmenv.h - what the tests of a swarm of agents share (test_agents, test_debate,
 * test_production, test_publish, test_pipeline): a swarm's options on the shared test Redis
 * that scripts/test starts, the configuration and price table its agents read, starting it
 * with a failure that names the cause, counting the stories in a status, and AWAIT, a wait
 * for a condition with a deadline (never a blind sleep). Single-threaded test code (the
 * swarm's threads are the code under test); fails the current cmocka test on error.
 */
#ifndef NEWSROOM_SWARMENV_H
#define NEWSROOM_SWARMENV_H

#include "agents/agent.h"
#include "core/clock.h"

#include <stdbool.h>
#include <stdint.h>

struct bb;
struct config;
struct pricing;

/* The default configuration in *cfg (with the sim provider at zero latency when
 * zero_latency: a test about the flow, not the wait) and the default price table in *pricing.
 * Free with config_free() and pricing_free(). */
void swarmenv_models(bool zero_latency, struct config **cfg, struct pricing **pricing);

/* A test's link to the shared test server in database db (emptied first), a blackboard on it
 * acting as "test", and the models of swarmenv_models(). Free with swarmenv_fx_free(). */
struct swarmenv_fx {
    struct rlink *l;
    struct bb *bb;
    struct config *cfg;
    struct pricing *pricing;
};
struct swarmenv_fx *swarmenv_fx_new(int db, const char *name, bool zero_latency);
void swarmenv_fx_free(struct swarmenv_fx *f);

/* Fills *o (every other field zero) for a swarm of roles on the shared test server's Unix
 * socket (NEWSROOM_TEST_REDIS_SOCKET, with NEWSROOM_TEST_REDIS_PASSWORD) in database db, with
 * short link timeouts and a 5 s heartbeat; cfg and pricing are borrowed and must outlive the
 * swarm. stories > 0 runs the wire simulator for that many stories from seed; 0: no wire. */
void swarmenv_options(struct swarm_options *o, int db, const struct config *cfg,
                      const struct pricing *pricing, const char *roles, long stories,
                      uint64_t seed);

/* swarm_new() and swarm_start() on o; fails the test with the cause when either fails. Stop
 * and free the result with swarm_stop() and swarm_free(). */
struct swarm *swarmenv_start(const struct swarm_options *o);

/* The stories in status st (enum bb_status) over every section; fails the test when the
 * counts cannot be read. */
long swarmenv_count(struct bb *bb, int st);

/* The stories in no terminal status (every status and section), or -1 when the counts cannot
 * be read (the link is down: a caller polling through an outage goes on). */
long swarmenv_open(struct bb *bb);

/* The Redis server's clock in ms (TIME); fails the test when it cannot be read. */
struct rlink;
int64_t swarmenv_server_ms(struct rlink *l);

/* Polls cond every 10 ms until it holds; fails the test, naming cond, once secs pass. */
#define AWAIT(secs, cond)                                                                          \
    do {                                                                                           \
        int64_t end_ = clock_mono_ms() + (secs)*1000;                                              \
        while (!(cond)) {                                                                          \
            if (clock_mono_ms() > end_)                                                            \
                fail_msg("timed out after %ds waiting for %s", (int)(secs), #cond);                \
            clock_sleep_ms(10, NULL);                                                              \
        }                                                                                          \
    } while (0)

#endif
