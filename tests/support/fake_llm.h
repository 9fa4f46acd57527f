/*
 * fake_llm.h - a local stand-in for the OpenAI chat completions and Anthropic messages APIs,
 * for the provider tests: libmicrohttpd on 127.0.0.1, a port the kernel picks. It checks each
 * request's method, path, headers and body against the documented API and answers with the
 * documented success body, or with what the model name asks for:
 *   scenario-429        429 with Retry-After: 2 and the API's rate-limit error body
 *   scenario-429-once   odd requests (the first) 429 with Retry-After: 1, even ones succeed
 *   scenario-429-date   429 with Retry-After as an HTTP date 3 s ahead
 *   scenario-500        500 with an error body
 *   scenario-529        529 overloaded (Anthropic's error body)
 *   scenario-401        401 whose message echoes the key, as OpenAI's "Incorrect API key"
 *   scenario-timeout    the answer comes after FAKE_LLM_DELAY_MS (past the client's timeout)
 *   scenario-malformed  200 with a body that is not JSON
 *   scenario-missing    200 with JSON that lacks the usage and content fields
 * For OpenAI it also answers POST /v1/embeddings (model, input, encoding_format, dimensions):
 * vectors of the asked dimension made from each input's bytes; models scenario-401,
 * scenario-malformed and scenario-dim-mismatch (one dimension more than asked).
 * A request that breaks the API gets 400 with a message starting "fake:" that says what was
 * wrong, so the test fails visibly; fake_llm_violation() returns the last such message.
 * Every chat request's messages are kept (fake_llm_prompt_with).
 *
 * Threads: the server answers on its own threads; the getters take its mutex.
 */
#ifndef NEWSROOM_FAKE_LLM_H
#define NEWSROOM_FAKE_LLM_H

enum fake_llm_api { FAKE_OPENAI, FAKE_ANTHROPIC };

#define FAKE_LLM_DELAY_MS 1500

struct fake_llm;

/* Starts a server for api that expects key. Aborts the test program if it cannot. */
struct fake_llm *fake_llm_start(enum fake_llm_api api, const char *key);
/* Stops it and frees everything. */
void fake_llm_stop(struct fake_llm *f);
/* "http://127.0.0.1:PORT", owned by f. */
const char *fake_llm_url(const struct fake_llm *f);
int fake_llm_requests(struct fake_llm *f);
/* The last violation found (a new string, free it), or NULL when there was none. */
char *fake_llm_violation(struct fake_llm *f);
/* The last request's body (a new string, free it), or NULL. */
char *fake_llm_last_body(struct fake_llm *f);
/* The latest chat request whose messages (joined with newlines, the system prompt first)
 * contain marker (and also, when not NULL), as that text (a new string, free it), or NULL. */
char *fake_llm_prompt_with(struct fake_llm *f, const char *marker, const char *also);

/* An outage: from now on every valid request is answered with status (500, 502, 503, 529:
 * the API's error body), until fake_llm_fail(f, 0) brings the normal answers back. */
void fake_llm_fail(struct fake_llm *f, unsigned status);
/* Valid requests answered with a success, and with an outage's error, so far. */
int fake_llm_succeeded(struct fake_llm *f);
int fake_llm_failed(struct fake_llm *f);

/* The answer's content for a valid request: answer(ctx, body) returns a new string (malloc)
 * that becomes choices[0].message.content (OpenAI) or content[0].text (Anthropic), or NULL
 * for the built-in one. body is the parsed request (borrowed). Called on the server's
 * threads; NULL restores the built-in answer. Set before requests come. */
struct json_t;
void fake_llm_set_answer(struct fake_llm *f, char *(*answer)(void *ctx, struct json_t *body),
                         void *ctx);

#endif
