/* hg_url_redact: what log lines, errors and agentctl show of a URL. */
#include <string.h>
#include "check.h"
#include "influx_http.h"
#include "url_redact.h"

static void want(const char *url, const char *shown)
{
	char buf[256];
	CHECK_STR(hg_url_redact(url, buf, sizeof buf), shown);
}

static void test_redact(void)
{
	want("https://user:pa@ss@api.example:6443", "https://api.example:6443"); /* the last '@' ends it */
	want("https://api.example:6443", "https://api.example:6443");
	want("http://u@h/metrics", "http://h/metrics");
	want("http://h:9100/metrics?token=abc&x=1&API_KEY=zz&access_token=q#frag",
	     "http://h:9100/metrics?token=redacted&x=1&API_KEY=redacted&access_token=redacted#frag");
	want("http://h/m?password=p&key=k&secret=s&apikey=a&auth=x&X-Amz-Signature=9&pass=1&pwd=2&private_token=t",
	     "http://h/m?password=redacted&key=redacted&secret=redacted&apikey=redacted&auth=redacted"
	     "&X-Amz-Signature=redacted&pass=redacted&pwd=redacted&private_token=redacted");
	/* not secret-looking, or no value: as given */
	want("http://h/m?name[]=a&format=text&flag&token", "http://h/m?name[]=a&format=text&flag&token");
	/* a "://" inside the path or query is not an authority */
	want("http://h/p?next=http://a:b@c", "http://h/p?next=http://a:b@c");
	want("/relative?token=1", "/relative?token=redacted");
	/* cut to the buffer, always terminated */
	char small[12];
	CHECK_STR(hg_url_redact("http://user:pw@host.example/x", small, sizeof small), "http://host");
}

/* hg_url_host: the host after the last '@' of the authority, with or without a scheme */
static void test_host(void)
{
	size_t hl;
	const char *h = hg_url_host("https://u:p@ss@db.example:8086/write?p=x", &hl);
	CHECK_INT((int)hl, 15);
	CHECK(strncmp(h, "db.example:8086", hl) == 0);
	h = hg_url_host("u:pw@db:8086/x", &hl);
	CHECK(strncmp(h, "db:8086", hl) == 0 && hl == 7);
}

static void test_influx_redact(void)
{
	/* hg_influx_url_redact (the InfluxDB outputs' log lines) keeps scheme, host and path only,
	 * and a password holding '@' no longer shows its tail */
	char buf[128];
	hg_influx_url_redact("https://u:p@ss@db.example:8086/write?db=x&p=secret#f", buf, sizeof buf);
	CHECK_STR(buf, "https://db.example:8086/write");
	hg_influx_url_redact("http://db:8086", buf, sizeof buf);
	CHECK_STR(buf, "http://db:8086");
}

static void test_param_secret(void)
{
	CHECK(hg_url_param_secret("Bearer_Token", 12));
	CHECK(!hg_url_param_secret("passenger", 9)); /* "pass" only as the whole name */
	CHECK(!hg_url_param_secret("target", 6));
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_redact),
		CHECK_CASE(test_host),
		CHECK_CASE(test_influx_redact),
		CHECK_CASE(test_param_secret),
	};
	return CHECK_RUN(argc, argv, cases);
}
