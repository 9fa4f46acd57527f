/*
 * fake_visual.h - a local stand-in for the four picture and clip services of the visual chain
 * (media/visual.h), for their tests: libmicrohttpd on 127.0.0.1, a port the kernel picks, one
 * server for all four (each provider's base URL points at it). Every request is checked
 * against the provider's documented API, and one that breaks it gets the provider's error
 * status and is kept as the violation:
 *
 *   Pexels   GET /v1/search: "Authorization: KEY" (the bare key), a non-empty query, only
 *            documented parameters (query, orientation, size, color, locale, page, per_page),
 *            per_page 1-80, orientation landscape | portrait | square. Answers photos whose
 *            src.large2x is a JPEG this server serves, with photographer and url.
 *   OpenAI   POST /v1/images/generations: "Authorization: Bearer KEY", JSON; a prompt of at most
 *            32000 characters, n 1-10, size and quality valid for gpt-image-1, no
 *            response_format (gpt-image models refuse it), only documented fields. Answers
 *            {"created", "data": [{"b64_json": a PNG}]}.
 *   HeyGen   POST /v2/video/generate: "X-Api-Key: KEY", JSON; video_inputs of 1-50 with an
 *            avatar character (avatar_id) and a text voice (input_text under 5000 characters,
 *            voice_id), dimension of integers, only documented fields. Answers {"error": null,
 *            "data": {"video_id"}}. GET /v1/video_status.get?video_id=ID plays the job's
 *            lifecycle: waiting, pending, processing, then completed (video_url, duration) or
 *            failed (error {code, message, detail}), or processing for ever.
 *   Runway   POST /v1/image_to_video: "Authorization: Bearer KEY", "X-Runway-Version:
 *            2024-11-06", JSON; model gen4_turbo or gen3a_turbo, promptImage an https URL or a
 *            data URI of a JPEG or PNG (decoded and checked), promptText of at most 1000
 *            characters, a ratio the model makes, duration 5 or 10, only documented fields.
 *            Answers {"id"}. GET /v1/tasks/ID (same headers) plays PENDING, RUNNING, then
 *            SUCCEEDED (output [URL]) or FAILED (failure, failureCode), or RUNNING for ever;
 *            DELETE /v1/tasks/ID cancels (204).
 *   Files    GET /files/photo-N.jpg (a 1280x720 JPEG), /files/clip.mp4 (a 3 s MP4), made with
 *            ffmpeg when the server starts.
 *
 * Threads: the server answers on its own threads; everything else takes its mutex.
 */
#ifndef NEWSROOM_FAKE_VISUAL_H
#define NEWSROOM_FAKE_VISUAL_H

/* How a job of HeyGen or Runway ends. */
enum fake_job { FAKE_JOB_DONE, FAKE_JOB_FAIL, FAKE_JOB_NEVER };

struct fake_visual;

/* Starts a server expecting key (every provider's); dir is scratch space for its files. Aborts
 * the test program if it cannot. */
struct fake_visual *fake_visual_start(const char *key, const char *dir);
void fake_visual_stop(struct fake_visual *f);
/* "http://127.0.0.1:PORT", owned by f. */
const char *fake_visual_url(const struct fake_visual *f);

/* How the next jobs go: their end, after how many status polls. */
void fake_visual_jobs(struct fake_visual *f, const char *api, enum fake_job end, int polls);
/* Makes api ("pexels", "openai", "heygen", "runway") answer every creating request with
 * status (0: answer normally again). */
void fake_visual_fail(struct fake_visual *f, const char *api, unsigned status);

/* Requests of one kind so far: "pexels.search", "openai.generate", "heygen.generate",
 * "heygen.status", "runway.create", "runway.task", "runway.cancel", "file". */
int fake_visual_count(struct fake_visual *f, const char *what);
/* The last request that broke the documented API (a new string), or NULL. */
char *fake_visual_violation(struct fake_visual *f);
/* The last HeyGen input_text, Runway promptText and OpenAI prompt (new strings), or NULL. */
char *fake_visual_last(struct fake_visual *f, const char *api);

#endif
