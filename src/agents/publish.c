/*
 * publish.c - package folders and the publish webhook; see publish.h. No state between calls:
 * each folder write works on its own temporary directory and each webhook on its own CURL
 * easy handle, so any thread may call anything here (curl_global_init runs once, guarded by
 * pthread_once).
 */
#define _GNU_SOURCE /* renameat2 (RENAME_EXCHANGE) */
#include "agents/publish.h"

#include "core/config.h"
#include "core/fail.h"
#include "core/paths.h"
#include "store/news_item.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *publish_dir(const struct config *c)
{
    char *data, *dir;

    if (c->publish_dir[0] != '\0')
        return xstrdup(c->publish_dir);
    data = config_data_dir(c);
    dir = xasprintf("%s/publish", data);
    free(data);
    return dir;
}

bool publish_id_ok(const char *id)
{
    size_t n = strlen(id);

    if (n == 0 || n > NEWS_ID_MAX || id[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == ':' || c == '-'))
            return false;
    }
    return true;
}

/* Whether path holds exactly len bytes equal to data. */
static bool same_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "rb");
    char buf[8192];
    size_t off = 0, got;
    bool same = true;

    if (f == NULL)
        return false;
    while (same && (got = fread(buf, 1, sizeof buf, f)) > 0) {
        if (off + got > len || memcmp(buf, data + off, got) != 0)
            same = false;
        off += got;
    }
    if (ferror(f))
        same = false;
    fclose(f);
    return same && off == len;
}

/* Whether folder holds every one of the files with the same contents. */
static bool same_folder(const char *folder, const struct publish_file *files, size_t n)
{
    struct stat sb;
    bool same = true;

    if (stat(folder, &sb) == -1 || !S_ISDIR(sb.st_mode))
        return false;
    for (size_t i = 0; same && i < n; i++) {
        char *p = xasprintf("%s/%s", folder, files[i].name);

        same = same_file(p, files[i].data, files[i].len);
        free(p);
    }
    return same;
}

static int write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, data, len);

        if (w == -1) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        data += w;
        len -= (size_t)w;
    }
    return 0;
}

static int fsync_path(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

    if (fd == -1)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

/* Writes the files into the new directory tmp, each fsync'd, then tmp itself. */
static int fill_dir(const char *tmp, const struct publish_file *files, size_t n, char **cause)
{
    for (size_t i = 0; i < n; i++) {
        char *p = xasprintf("%s/%s", tmp, files[i].name);
        int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

        if (fd == -1 || write_all(fd, files[i].data, files[i].len) == -1 || fsync(fd) == -1) {
            *cause = xasprintf("cannot write %s: %s", p, strerror(errno));
            if (fd != -1)
                close(fd);
            free(p);
            return -1;
        }
        if (close(fd) == -1) {
            *cause = xasprintf("cannot write %s: %s", p, strerror(errno));
            free(p);
            return -1;
        }
        free(p);
    }
    if (chmod(tmp, 0755) == -1 || fsync_path(tmp) == -1) {
        *cause = xasprintf("cannot sync %s: %s", tmp, strerror(errno));
        return -1;
    }
    return 0;
}

int publish_folder(const char *dir, const char *id, const struct publish_file *files, size_t n,
                   bool *unchanged, char **cause)
{
    char *folder, *tmp;
    int rc = -1;

    *unchanged = false;
    if (!publish_id_ok(id)) {
        *cause = xasprintf("story id \"%s\" cannot name a folder", id);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (strchr(files[i].name, '/') != NULL || files[i].name[0] == '.') {
            *cause = xasprintf("bad package file name \"%s\"", files[i].name);
            return -1;
        }
    if (paths_mkdir_p(dir, 0755, cause) == -1)
        return -1;
    folder = xasprintf("%s/%s", dir, id);
    if (same_folder(folder, files, n)) {
        *unchanged = true;
        free(folder);
        return 0;
    }
    tmp = xasprintf("%s/.%s.XXXXXX", dir, id);
    if (mkdtemp(tmp) == NULL) {
        *cause = xasprintf("cannot make a temporary folder in %s: %s", dir, strerror(errno));
        goto out;
    }
    if (fill_dir(tmp, files, n, cause) == -1)
        goto out;
    if (rename(tmp, folder) == -1) {
        /* A folder is there with other contents: swap the new one in atomically, then remove
         * the old one (now at tmp). */
        if ((errno != EEXIST && errno != ENOTEMPTY) ||
            renameat2(AT_FDCWD, tmp, AT_FDCWD, folder, RENAME_EXCHANGE) == -1) {
            *cause = xasprintf("cannot move the package into %s: %s", folder, strerror(errno));
            goto out;
        }
    }
    if (fsync_path(dir) == -1) {
        *cause = xasprintf("cannot sync %s: %s", dir, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    /* On success tmp is gone or holds the replaced package; on failure the half-made one. */
    paths_rmrf(tmp);
    free(tmp);
    free(folder);
    return rc;
}

void publish_sign(const char *secret, const char *body, size_t len, char out[72])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    static const char hex[] = "0123456789abcdef";

    if (HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)body, len, md,
             &mdlen) == NULL)
        fail("HMAC-SHA256 failed");
    memcpy(out, "sha256=", 7);
    for (unsigned int i = 0; i < mdlen && i < 32; i++) {
        out[7 + 2 * i] = hex[md[i] >> 4];
        out[7 + 2 * i + 1] = hex[md[i] & 15];
    }
    out[7 + 64] = '\0';
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        fail("curl_global_init failed");
}

/* The answer's body is not kept: only its status matters. */
static size_t discard(char *data, size_t size, size_t n, void *user)
{
    (void)data;
    (void)user;
    return size * n;
}

static struct curl_slist *add_header(struct curl_slist *l, const char *h)
{
    struct curl_slist *next = curl_slist_append(l, h);

    if (next == NULL)
        fail("out of memory building HTTP headers");
    return next;
}

int publish_webhook(const char *url, const char *secret, int timeout_ms, const char *key,
                    const char *body, long *status, char **cause)
{
    struct curl_slist *hl = NULL;
    char *idem = xasprintf("Idempotency-Key: %s", key);
    CURLcode rc;
    CURL *c;

    *status = 0;
    pthread_once(&curl_once, curl_init_once);
    if ((c = curl_easy_init()) == NULL)
        fail("curl_easy_init failed");
    hl = add_header(hl, "Content-Type: application/json");
    hl = add_header(hl, idem);
    hl = add_header(hl, "Expect:");
    if (secret != NULL && secret[0] != '\0') {
        char sig[72], *h;

        publish_sign(secret, body, strlen(body), sig);
        h = xasprintf("X-Newsroom-Signature: %s", sig);
        hl = add_header(hl, h);
        free(h);
    }
    free(idem);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "newsroom/" NEWSROOM_VERSION);
    rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK) {
        *cause = rc == CURLE_OPERATION_TIMEDOUT
                     ? xasprintf("webhook: no answer within %d ms", timeout_ms)
                     : xasprintf("webhook: %s", curl_easy_strerror(rc));
        return -1;
    }
    if (*status < 200 || *status > 299) {
        *cause = xasprintf("webhook: answered HTTP %ld", *status);
        return -1;
    }
    return 0;
}
