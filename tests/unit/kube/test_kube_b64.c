/* hg_kube_b64_decode, used for the kubeconfig's *-data fields: standard base64 with padding,
 * whitespace and line breaks ignored (kubectl config view wraps nothing, but hand-edited and
 * generated files do), and anything else rejected. */
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "kube_util.h"

static void ok(const char *in, const char *want, size_t want_len)
{
	unsigned char *out = NULL;
	size_t len = 0;
	CHECK_INT(hg_kube_b64_decode(in, &out, &len), 0);
	CHECK_INT(len, want_len);
	CHECK(out && memcmp(out, want, want_len) == 0);
	CHECK(out && out[len] == '\0'); /* PEM text is used as a C string */
	free(out);
}

static void bad(const char *in)
{
	unsigned char *out = (unsigned char *)"untouched";
	size_t len = 99;
	CHECK_INT(hg_kube_b64_decode(in, &out, &len), -1);
	CHECK(strcmp((char *)out, "untouched") == 0 && len == 99);
}

static void test_decodes(void)
{
	ok("", "", 0);
	ok("Zg==", "f", 1);
	ok("Zm8=", "fo", 2);
	ok("Zm9v", "foo", 3);
	ok("LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t", "-----BEGIN CERTIFICATE-----", 27);
	ok("Zm9v\nYmFy\r\n", "foobar", 6);
	ok("  Zm9v YmE= ", "fooba", 5);
	ok("AP8A", "\0\xff\0", 3); /* binary, with NULs */
}

static void test_rejects(void)
{
	bad("Zm9");      /* a quantum short */
	bad("Zm9v!");    /* not in the alphabet */
	bad("Zg=a");     /* data after padding */
	bad("Zm9v-_8="); /* URL-safe alphabet is not what kubeconfig uses */
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_decodes),
		CHECK_CASE(test_rejects),
	};
	return CHECK_RUN(argc, argv, cases);
}
