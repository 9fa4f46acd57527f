/*
 * store.h - the package store: where a story's package files (the producer's video, captions,
 * thumbnail, manifest; the publisher's published copy) live, so that a producer on one machine
 * and a publisher, a preview server or `ctl` on another need no shared filesystem. Two
 * backends, chosen by [store] kind:
 *
 *   local  folders on this machine (the default): packages under <data dir>/packages/<id>/,
 *          published copies under the publish folder, as before the store existed;
 *   s3     any S3-compatible object store (AWS S3, MinIO, Ceph, R2, ...): objects
 *          <prefix><area>/<id>/<name> in one bucket, requests signed with AWS Signature V4 by
 *          libcurl (CURLOPT_AWS_SIGV4), the payload's SHA-256 sent and signed, files above
 *          [store] multipart_threshold_mb uploaded in parts of part_size_mb (a failed upload
 *          is aborted, so S3 never shows half an object).
 *
 * What a package is, and where, is one JSON object the story records ("where"):
 *   {"kind": "local", "folder": DIR, "files": [NAME, ...]}
 *   {"kind": "s3", "bucket": B, "endpoint": URL, "files": [NAME, ...],
 *    "keys": {NAME: OBJECT KEY, ...}}
 * and every read goes through it, so a package made by one backend stays readable.
 *
 * Keys come from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN)
 * or [store]'s secret keys; they go into request signatures only, never into a cause, a log
 * line or a "where".
 *
 * Threads: a store owns a CURL easy handle, so it belongs to one thread at a time (each agent
 * opens its own); nothing is shared between stores.
 */
#ifndef NEWSROOM_MEDIA_STORE_H
#define NEWSROOM_MEDIA_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct config;
struct pstore;

enum pstore_kind { PSTORE_LOCAL, PSTORE_S3 };

/* The two places a package lives: as the producer made it, and as the publisher published it. */
enum pstore_area { PSTORE_PACKAGES, PSTORE_PUBLISHED };

/* One file of a package in memory: name (no '/', not starting with '.'), contents (borrowed). */
struct pstore_file {
    const char *name;
    const char *data;
    size_t len;
};

/* Makes the folder dir/id/ hold exactly files[0..n) (dir is made when missing), so that no
 * reader ever sees half of it: written into a hidden temporary folder beside it
 * (".<id>.XXXXXX"), every file and the folder fsync'd, then renamed into place (or exchanged
 * with an older version, which is then removed). A folder that already holds the same files is
 * left alone and *unchanged set. Returns 0, or -1 with *cause; on failure nothing is left
 * behind and an existing folder is as it was. The local backend's way of writing; any thread. */
int pstore_folder_write(const char *dir, const char *id, const struct pstore_file *files, size_t n,
                        bool *unchanged, char **cause);

/* Whether value names a backend ("local", "s3"); for the configuration's check. Returns 0, or
 * -1 with *why (free it). */
int pstore_kind_check(const char *value, char **why);
/* Whether value is an S3 URL style: auto (virtual-hosted on AWS's own endpoint, path-style on
 * any other), path or virtual. Returns 0, or -1 with *why. */
int pstore_url_style_check(const char *value, char **why);

/* The local backend's folder of an area: the packages folder (<data dir>/packages), or the
 * publish folder ([publish] dir, else <data dir>/publish). A new string; free it. */
char *pstore_area_dir(const struct config *c, enum pstore_area area);

/* A store as [store] configures it (s3: bucket, region and keys checked here, nothing asked
 * of the server yet). Returns a store to free with pstore_free(), or NULL with *cause naming
 * the key that is wrong. */
struct pstore *pstore_open(const struct config *c, char **cause);
void pstore_free(struct pstore *s);

enum pstore_kind pstore_kind(const struct pstore *s);
/* "local (PACKAGES DIR, PUBLISH DIR)" or "s3://BUCKET/PREFIX at ENDPOINT": for messages,
 * never holding a key. Owned by the store. */
const char *pstore_describe(const struct pstore *s);

/* Puts files names[0..n) of the local folder dir as the package of story id in area, in that
 * order (put the file that marks a package complete, the manifest, last). local: the folder
 * becomes <area folder>/<id>/ (renamed when dir is elsewhere on the same filesystem, else
 * copied through a temporary folder), so readers never see half of it. s3: every file is
 * uploaded; when one fails, those already uploaded by this call are deleted again. On success
 * *where is a new reference to the package's "where" object. Returns 0, or -1 with *cause. */
int pstore_put_folder(struct pstore *s, enum pstore_area area, const char *id, const char *dir,
                      const char *const *names, size_t n, json_t **where, char **cause);

/* Files in memory as story id's package in area, files[n - 1] last (the one that marks it
 * complete). local: pstore_folder_write() into the area's folder (*unchanged when it already
 * held them); s3: one object each (those already put by this call deleted again when one
 * fails). On success *where is a new reference to the package's "where". Returns 0, or -1 with
 * *cause. */
int pstore_put_files(struct pstore *s, enum pstore_area area, const char *id,
                     const struct pstore_file *files, size_t n, bool *unchanged, json_t **where,
                     char **cause);

/* One file in memory as <area>/<id>/<name> (s3), or written atomically into the area folder
 * (local). Returns 0, or -1 with *cause. */
int pstore_put(struct pstore *s, enum pstore_area area, const char *id, const char *name,
               const void *data, size_t len, char **cause);

/* One local file path as <area>/<id>/<name>; on s3 streamed in parts above the multipart
 * threshold (an interrupted upload leaves no object). Returns 0, or -1 with *cause. */
int pstore_put_file(struct pstore *s, enum pstore_area area, const char *id, const char *name,
                    const char *path, char **cause);

/* File name of the package described by where (borrowed), read into a new buffer *data
 * (NUL-terminated beyond *len; free it). Returns 0, 1 when the package has no such file or the
 * store has not got it, or -1 with *cause. */
int pstore_get(struct pstore *s, const json_t *where, const char *name, char **data, size_t *len,
               char **cause);

/* The same into the local file path (written aside, then renamed into place). Returns as
 * pstore_get(). */
int pstore_get_file(struct pstore *s, const json_t *where, const char *name, const char *path,
                    char **cause);

/* Puts a rendered package (the JSON video_render() made: "folder" and "files") into the store
 * as story id's, its manifest last, and records where in the package as "store"
 * (pstore_put_folder()'s "where"). With s3 the local folder is removed afterwards and the
 * package's own paths ("folder", "mp4", "thumbnail", ...) are dropped: only the store knows
 * where it is. Returns 0, or -1 with *cause (the package is then as it was). */
int pstore_put_package(struct pstore *s, const char *id, json_t *pkg, char **cause);

/* The "where" of a package as a story records it (body "package"): its "store" object, or,
 * for a package made before the store recorded one, {"kind": "local", "folder", "files"} from
 * its own "folder" and "files"; NULL when it has neither (a storyboard). A new reference. */
json_t *pstore_where_of(const json_t *pkg);

/* Whether where is a package of the s3 backend. */
bool pstore_where_is_s3(const json_t *where);

/* A local path to file name of where: the file itself for a local package, else a copy
 * fetched into folder dir. Returns 0 with *path (free it), 1 when the package has no such
 * file, -1 with *cause. */
int pstore_localize(struct pstore *s, const json_t *where, const char *name, const char *dir,
                    char **path, char **cause);

/* Removes every file of the package described by where (retention). Missing files are no
 * error. Returns 0, or -1 with *cause. */
int pstore_remove(struct pstore *s, const json_t *where, char **cause);

/* Whether the store works: local, its folders can be made and written; s3, a probe object
 * can be written, read back and deleted (so keys, bucket and permissions are right). Returns
 * 0, or -1 with *cause saying what failed. */
int pstore_check(struct pstore *s, char **cause);

/* Bytes sent to the store by this process's stores since start (for benchmarks). Any thread. */
long long pstore_bytes_sent(void);

#endif
