/* Durations, sizes and ${VAR} expansion of the config loader. */
#include <stdlib.h>
#include "config.h"
#include "check.h"

static int64_t dur(const char *s)
{
	int64_t ns = -12345;
	if (hg_parse_duration(s, &ns) < 0)
		return -1;
	return ns;
}

static long long size(const char *s)
{
	uint64_t b = 0;
	if (hg_parse_size(s, &b) < 0)
		return -1;
	return (long long)b;
}

static void check_expand(const char *in, const char *want)
{
	char err[128] = "";
	char *out = hg_env_expand(in, err, sizeof(err));
	if (!out)
		fprintf(stderr, "env_expand(\"%s\"): %s\n", in, err);
	CHECK_STR(out, want);
	free(out);
}

static void check_expand_fails(const char *in)
{
	char err[128] = "";
	char *out = hg_env_expand(in, err, sizeof(err));
	CHECK(out == NULL);
	CHECK(err[0] != '\0');
	free(out);
}

static void test_durations(void)
{
	CHECK_INT(dur("10s"), 10000000000LL);
	CHECK_INT(dur("1m30s"), 90000000000LL);
	CHECK_INT(dur("500ms"), 500000000LL);
	CHECK_INT(dur("1h"), 3600000000000LL);
	CHECK_INT(dur("2us"), 2000LL);
	CHECK_INT(dur("2\xc2\xb5s"), 2000LL);
	CHECK_INT(dur("100ns"), 100LL);
	CHECK_INT(dur("1.5s"), 1500000000LL);
	CHECK_INT(dur(".5m"), 30000000000LL);
	CHECK_INT(dur("1h2m3s4ms5us6ns"), 3723004005006LL);
	CHECK_INT(dur("0s"), 0);
	/* Telegraf reads a bare integer as seconds. */
	CHECK_INT(dur("15"), 15000000000LL);
	CHECK_INT(dur("0"), 0);
	CHECK_INT(dur("2562047h"), 2562047LL * 3600000000000LL);
	CHECK_INT(dur("2562048h"), -1); /* past INT64_MAX ns */
	CHECK_INT(dur("9223372036854775807"), -1);
	CHECK_INT(dur(""), -1);
	CHECK_INT(dur("s"), -1);
	CHECK_INT(dur("10"), 10000000000LL);
	CHECK_INT(dur("10x"), -1);
	CHECK_INT(dur("10 s"), -1);
	CHECK_INT(dur("-1s"), -1);
	CHECK_INT(dur("1.s"), 1000000000LL);
	CHECK_INT(dur("."), -1);
	/* Telegraf reads a bare number as seconds, and a day as 24 h. */
	CHECK_INT(dur("1.5"), 1500000000LL);
	CHECK_INT(dur(".25"), 250000000LL);
	CHECK_INT(dur("10d"), 864000000000000LL);
	CHECK_INT(dur("1.5d"), 129600000000000LL);
	CHECK_INT(dur("1d12h"), 129600000000000LL);
	CHECK_INT(dur("106752d"), -1); /* past INT64_MAX ns */
	CHECK_INT(dur("1.5.5"), -1);
}

static void test_sizes(void)
{
	CHECK_INT(size("512"), 512);
	CHECK_INT(size("512B"), 512);
	CHECK_INT(size("1KiB"), 1024);
	CHECK_INT(size("1KB"), 1000);
	CHECK_INT(size("10MB"), 10000000);
	CHECK_INT(size("64MiB"), 64LL << 20);
	CHECK_INT(size("1.5GiB"), 3LL << 29);
	CHECK_INT(size("2 GB"), 2000000000LL);
	CHECK_INT(size("1kib"), 1024);
	CHECK_INT(size(""), -1);
	CHECK_INT(size("MiB"), -1);
	CHECK_INT(size("10XB"), -1);
	CHECK_INT(size("1.5"), -1);
	CHECK_INT(size("-1"), -1);
	{
		uint64_t b = 0;
		CHECK_INT(hg_parse_size("15EiB", &b), 0);
		CHECK(b == 15ULL << 60);
		CHECK_INT(hg_parse_size("16EiB", &b), -1);
		CHECK_INT(hg_parse_size("18446744073709551615", &b), 0);
		CHECK(b == UINT64_MAX);
		CHECK_INT(hg_parse_size("18446744073709551616", &b), -1);
	}
}

static void test_expand(void)
{
	setenv("HG_T_HOST", "node-1", 1);
	setenv("HG_T_EMPTY", "", 1);
	unsetenv("HG_T_UNSET");
	check_expand("plain text", "plain text");
	check_expand("${HG_T_HOST}", "node-1");
	check_expand("http://${HG_T_HOST}:8086/write?x=${HG_T_HOST}", "http://node-1:8086/write?x=node-1");
	check_expand("a${HG_T_UNSET}b", "ab");
	check_expand("${HG_T_UNSET:-fallback}", "fallback");
	check_expand("${HG_T_EMPTY:-fallback}", "fallback");
	check_expand("${HG_T_HOST:-fallback}", "node-1");
	check_expand("${HG_T_UNSET:-}", "");
	/* Without the colon the default is for an unset variable only, as in the shell: a set
	 * but empty one gives "" (what Telegraf gives for a declared empty $VAR). */
	check_expand("${HG_T_UNSET-fallback}", "fallback");
	check_expand("${HG_T_EMPTY-fallback}", "");
	check_expand("${HG_T_HOST-fallback}", "node-1");
	check_expand("${HG_T_UNSET-$HG_T_UNSET}", "$HG_T_UNSET");
	check_expand("${HG_T_UNSET-${HG_T_HOST}}", "node-1");
	check_expand("${HG_T_UNSET:-http://${HG_T_HOST}:1}/x", "http://node-1:1/x");
	check_expand("${HG_T_UNSET:-${HG_T_UNSET:-deep}}", "deep");
	check_expand("${HG_T_UNSET:-a:b-c}", "a:b-c");
	check_expand("$${HG_T_HOST}", "${HG_T_HOST}");
	check_expand("cost: $5 $HG_T_HOST $", "cost: $5 $HG_T_HOST $");
	check_expand("$$", "$$");
	check_expand("", "");
	check_expand_fails("${HG_T_HOST");
	check_expand_fails("${HG_T_UNSET:-abc");
	check_expand_fails("${}");
	check_expand_fails("${1A}");
	check_expand_fails("${A B}");
	check_expand_fails("${A:-${B:-${C:-${D:-${E:-${F:-${G:-${H:-${I:-${J:-x}}}}}}}}}}");
	/* A literal IPv6 address that is a URL's whole host gets its brackets
	 * (an IPv6 cluster's status.hostIP in "https://${NODE_IP}:10250");
	 * IPv4, names, bracketed values, values with a port, and the same
	 * address anywhere but a host are left as they are. */
	setenv("HG_T_V6", "fd00:ec2::1", 1);
	setenv("HG_T_V4", "10.0.3.7", 1);
	setenv("HG_T_V6B", "[fd00::2]", 1);
	setenv("HG_T_V4P", "10.0.3.7:8080", 1);
	setenv("HG_T_V6Z", "fe80::1%eth0", 1);
	check_expand("https://${HG_T_V6}:10250", "https://[fd00:ec2::1]:10250");
	check_expand("https://${HG_T_V4}:10250", "https://10.0.3.7:10250");
	check_expand("https://${HG_T_HOST}:10250", "https://node-1:10250");
	check_expand("http://${HG_T_V6}", "http://[fd00:ec2::1]");
	check_expand("http://${HG_T_V6}/metrics?a=1", "http://[fd00:ec2::1]/metrics?a=1");
	check_expand("http://${HG_T_V6}?a", "http://[fd00:ec2::1]?a");
	check_expand("http://${HG_T_V6}#f", "http://[fd00:ec2::1]#f");
	check_expand("https://user:pw@${HG_T_V6}:443/", "https://user:pw@[fd00:ec2::1]:443/");
	check_expand("tcp://${HG_T_V6}:8094", "tcp://[fd00:ec2::1]:8094");
	check_expand("https://[${HG_T_V6}]:10250", "https://[fd00:ec2::1]:10250");
	check_expand("https://${HG_T_V6B}:10250", "https://[fd00::2]:10250");
	check_expand("http://${HG_T_V4P}/x", "http://10.0.3.7:8080/x");
	check_expand("https://${HG_T_V6Z}:1", "https://fe80::1%eth0:1"); /* a zone needs %25: left to the user */
	check_expand("${HG_T_V6}", "fd00:ec2::1");
	check_expand("${HG_T_V6}:10250", "fd00:ec2::1:10250");
	check_expand("http://x/${HG_T_V6}", "http://x/fd00:ec2::1");
	check_expand("http://x/a@${HG_T_V6}:1", "http://x/a@fd00:ec2::1:1");
	check_expand("http://${HG_T_V6}${HG_T_HOST}", "http://fd00:ec2::1node-1");
	check_expand("http://${HG_T_V6}.x", "http://fd00:ec2::1.x");
	check_expand("https://${HG_T_UNSET:-::1}:10250", "https://[::1]:10250");
	check_expand("https://${HG_T_UNSET:-${HG_T_V6}}:10250", "https://[fd00:ec2::1]:10250");
	check_expand("${HG_T_UNSET:-https://${HG_T_V6}:1}", "https://[fd00:ec2::1]:1");
	check_expand("https://${HG_T_UNSET}:10250", "https://:10250");
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_durations),
		CHECK_CASE(test_sizes),
		CHECK_CASE(test_expand),
	};
	return CHECK_RUN(argc, argv, cases);
}
