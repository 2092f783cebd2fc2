/* The prometheus input's protobuf decoder: the delimited MetricFamily
 * captures decode (family and sample counts, exact values), the Prometheus
 * 1.x capture maps to exactly what its text twin maps to, and broken
 * streams (truncated, oversized, garbage) cost counted errors only. */
#include "check.h"
#include "prom_check.h"

static void same_as_text(int version)
{
	size_t bl, tl;
	char *bin = pr_read("cadvisor/expfmt-prometheus1x-server-protobuf-delimited.bin", &bl);
	char *txt = pr_read("prometheus-text/expfmt-prometheus1x-server-text.prom", &tl);
	struct prom_run pb, pb1, tx;
	pr_proto(&pb, bin, bl, version, 0);
	pr_proto(&pb1, bin, bl, version, 1);
	pr_text(&tx, txt, tl, false, version, 0);
	CHECK_INT(pb.errors, 0);
	CHECK_INT(pb.families, 37); /* the text twin's # TYPE lines */
	CHECK_INT(pb.samples, 248); /* and its sample lines */
	CHECK(strcmp(pb.out, tx.out) == 0);
	CHECK(strcmp(pb.out, pb1.out) == 0);
	if (version == 1)
		CHECK(strstr(pb.out, "http_request_duration_microseconds,handler=prometheus 0.5=1307.275,0.9=1858.632,"
				     "0.99=3087.384,count=119,sum=179886.5000000001 NOW\n") != NULL);
	else
		CHECK(strstr(pb.out, "prometheus,handler=prometheus,quantile=0.99 "
				     "http_request_duration_microseconds=3087.384 NOW\n") != NULL);
	pr_free(&pb);
	pr_free(&pb1);
	pr_free(&tx);
	free(bin);
	free(txt);
}

static void test_decode(void)
{
	same_as_text(1);
	same_as_text(2);

	size_t len;
	char *d = pr_read("cadvisor/expfmt-telegraf-protobuf-delimited-multimessage.bin", &len);
	struct prom_run r;
	pr_proto(&r, d, len, 1, 5);
	CHECK_INT(r.errors, 0);
	CHECK_INT(r.families, 6);
	CHECK_STR(r.out, "swap_free,host=omsk gauge=977911808 NOW\n"
			 "swap_in,host=omsk counter=2031616 NOW\n"
			 "swap_out,host=omsk counter=15790080 NOW\n"
			 "swap_total,host=omsk gauge=993185792 NOW\n"
			 "swap_used,host=omsk gauge=15273984 NOW\n"
			 "swap_used_percent,host=omsk gauge=1.5378778193395661 NOW\n");
	pr_free(&r);

	/* Cut inside the last message: five families and one error. */
	pr_proto(&r, d, len - 3, 1, 0);
	CHECK_INT(r.families, 5);
	CHECK_INT(r.errors, 1);
	CHECK(strstr(r.first_error, "stream ends inside a message") != NULL);
	pr_free(&r);

	/* A message over the bound is skipped by its length, the next decodes. */
	{
		size_t big = (1u << 20) + 10;
		unsigned char *s = calloc(1, big + 16 + len);
		size_t n = 0, v = big; /* varint length prefix */
		while (v >= 0x80) {
			s[n++] = (unsigned char)((v & 0x7f) | 0x80);
			v >>= 7;
		}
		s[n++] = (unsigned char)v;
		memset(s + n, 0x41, big);
		n += big;
		memcpy(s + n, d, len);
		n += len;
		pr_proto(&r, (char *)s, n, 1, 65536);
		CHECK_INT(r.errors, 1);
		CHECK(strstr(r.first_error, "over the") != NULL);
		CHECK_INT(r.families, 6);
		pr_free(&r);
		free(s);
	}

	/* Garbage of the right length is one undecodable message. */
	{
		char g[] = "\x04\xff\xff\xff\xff";
		pr_proto(&r, g, 5, 1, 0);
		CHECK_INT(r.errors, 1);
		CHECK_INT(r.families, 0);
		CHECK_STR(r.out, "");
		pr_free(&r);
	}
	free(d);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_decode),
	};
	return CHECK_RUN(argc, argv, cases);
}
