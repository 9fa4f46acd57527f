/*
 * chain.h - fallback chains: per tier, an ordered list of providers and models from the
 * configuration ([fallback] fast, balanced, premium), for example
 *     premium = anthropic:claude-sonnet-4-0 -> openai:gpt-4o -> sim
 * A member is "kind" (the request's model, i.e. the tier's model in config/pricing.conf) or
 * "kind:model"; members are separated by "->". A call is tried on each member in order,
 * skipping members whose circuit breaker is open (recovery/breaker.h); the first answer wins
 * and says who served (llm_response.served_by) and whether it was a fallback (not the first
 * member). A fatal error (the request itself is wrong) ends the chain at once. When every
 * member is open or failed retryably, the call fails as LLM_ERR_RETRYABLE: an outage, which
 * the caller parks rather than blaming the story. The router is made by llm_provider_new()
 * when any tier has a chain; a tier without one uses [providers] kind with the request's
 * model, as before there were chains.
 *
 * Pricing: the cost layer reserves the dearest member's price and records the price of the
 * model that served (config/pricing.conf; a model missing there is priced as its tier's
 * model).
 *
 * Threads: the parsing helpers are pure. A router holds its members' CURL handles and belongs
 * to one thread, like any network provider.
 */
#ifndef NEWSROOM_LLM_CHAIN_H
#define NEWSROOM_LLM_CHAIN_H

#include "llm/llm.h"

#include <stddef.h>

#define LLM_CHAIN_MAX      8
#define LLM_CHAIN_NAME_MAX 96

struct llm_chain_member_spec {
    char kind[16];                  /* sim, openai, anthropic */
    char model[LLM_CHAIN_NAME_MAX]; /* "" : the request's model */
};

/* Parses spec ("" or blanks: no chain, *n = 0). Returns 0 with out[0..*n), or -1 with *why
 * naming the bad member (free it): an unknown kind, an empty member, a model with blanks or
 * control characters, more than LLM_CHAIN_MAX members. Pure. */
int llm_chain_parse(const char *spec, struct llm_chain_member_spec *out, size_t *n, char **why);
/* llm_chain_parse() as a configuration check (config.c's string checks). */
int llm_chain_spec_check(const char *spec, char **why);

#endif
