/* When libcurl cannot be loaded (this test is built with base/curl_lazy.c pointing at a
 * soname that does not exist), HTTP fails with a clear error and nothing crashes: the
 * handle constructors return NULL, the others their failure values, hg_httpc_send says why,
 * and the log names the library once. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>
#include "check.h"
#include "httpc.h"
#include "log.h"

static void never(void *arg, const struct httpc_response *r)
{
	(void)r;
	*(int *)arg += 1;
}

static void test_without_libcurl(void)
{
	char logpath[] = "/tmp/hg-curl-lazy.XXXXXX";
	int fd = mkstemp(logpath);
	CHECK(fd >= 0);
	close(fd);
	CHECK(hg_log_open(logpath, false, false) == 0);

	CHECK_INT(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_FAILED_INIT);
	CHECK(curl_easy_init() == NULL);
	CHECK(curl_multi_init() == NULL);
	CHECK(curl_url() == NULL);
	CHECK(curl_slist_append(NULL, "a: b") == NULL);
	CHECK(curl_easy_escape(NULL, "a b", 3) == NULL);
	CHECK_INT(curl_easy_setopt(NULL, CURLOPT_TIMEOUT_MS, 5L), CURLE_FAILED_INIT);
	CHECK_INT(curl_getdate("Wed, 21 Oct 2015 07:28:00 GMT", NULL), -1);
	CHECK(strstr(curl_easy_strerror(CURLE_OK), "could not be loaded") != NULL);
	curl_free(NULL);
	curl_slist_free_all(NULL);
	curl_global_cleanup();

	uv_loop_t loop;
	uv_loop_init(&loop);
	struct httpc *c = hg_httpc_new(&loop); /* needs no libcurl until a request */
	CHECK(c != NULL);
	struct httpc_request q = { .method = "GET", .url = "http://127.0.0.1:9/" };
	char err[256] = "";
	int called = 0;
	CHECK_INT(hg_httpc_send(c, &q, never, &called, err, sizeof err), -1);
	CHECK(strstr(err, "libcurl could not be loaded") != NULL);
	hg_httpc_free(c);
	uv_run(&loop, UV_RUN_DEFAULT);
	CHECK_INT(called, 0);
	CHECK_INT(uv_loop_close(&loop), 0);
	hg_log_close();

	/* One error line naming the library, however many calls failed. */
	FILE *f = fopen(logpath, "r");
	char line[512];
	int lines = 0;
	while (f && fgets(line, sizeof line, f)) {
		if (strstr(line, "cannot load libheliograph-missing.so.0")) {
			lines++;
			CHECK(strstr(line, "HTTP (libcurl) is unavailable") != NULL);
		}
	}
	if (f)
		fclose(f);
	CHECK_INT(lines, 1);
	unlink(logpath);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_without_libcurl),
	};
	return CHECK_RUN(argc, argv, cases);
}
