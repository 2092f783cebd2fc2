/* url_redact: what log lines, errors and agentctl show of a URL. */
#include "check.h"
#include "url_redact.h"

static void want(const char *url, const char *shown)
{
	char buf[256];
	CHECK_STR(url_redact(url, buf, sizeof buf), shown);
}

int main(void)
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
	CHECK_STR(url_redact("http://user:pw@host.example/x", small, sizeof small), "http://host");
	CHECK(url_param_secret("Bearer_Token", 12));
	CHECK(!url_param_secret("passenger", 9)); /* "pass" only as the whole name */
	CHECK(!url_param_secret("target", 6));
	CHECK_DONE();
}
