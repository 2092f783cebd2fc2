/* kubeconfig loading (merge as kubectl does, contexts, -data fields, the
 * aws-cli EKS fixtures), in-cluster config, ExecCredential parsing. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "kube_auth.h"
#include "kube_util.h"
#include "kubeconfig.h"

static char tmp[64];
static char fixtures[1024];

static void write_file(const char *name, const char *text)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", tmp, name);
	FILE *f = fopen(p, "w");
	fputs(text, f);
	fclose(f);
}

static char *slurp(const char *path)
{
	char *s = NULL, err[256];
	return hg_kube_read_file(path, 1 << 20, &s, NULL, err, sizeof(err)) == 0 ? s : NULL;
}

static void test_aws_single(void)
{
	char path[1200], err[512];
	snprintf(path, sizeof(path), "%s/k8s-api/auth/aws-cli-kubeconfig-output_single.yaml", fixtures);
	struct kube_config kc;
	struct kube_config_opts o = { .kubeconfig = path };
	CHECK_INT(hg_kube_config_load(&kc, &o, err, sizeof(err)), 0);
	CHECK_STR(kc.context, "arn:aws:eks:region:111222333444:cluster/ExampleCluster");
	CHECK_STR(kc.server, "https://endpoint.amazonaws.com");
	CHECK_STR(kc.namespace, "default");
	CHECK(kc.exec != NULL);
	if (kc.exec) {
		CHECK_STR(kc.exec->api_version, "client.authentication.k8s.io/v1beta1");
		CHECK_STR(kc.exec->command, "aws");
		CHECK_STR(kc.exec->argv[0], "aws");
		CHECK_STR(kc.exec->argv[3], "eks");
		CHECK_STR(kc.exec->argv[6], "ExampleCluster");
		CHECK(kc.exec->argv[9] == NULL);
	}
	/* certificate-authority-data is decoded in memory (a libcurl blob), no file. */
	CHECK(kc.ca_file == NULL);
	CHECK_INT(kc.ca_pem_len, 612);
	CHECK(kc.ca_pem && strncmp(kc.ca_pem, "-----BEGIN CERTIFICATE-----", 27) == 0);
	hg_kube_config_free(&kc);
}

static void test_aws_combined_context(void)
{
	char path[1200], err[512];
	snprintf(path, sizeof(path), "%s/k8s-api/auth/aws-cli-kubeconfig-output_combined.yaml", fixtures);
	struct kube_config kc;
	struct kube_config_opts o = { .kubeconfig = path };
	CHECK_INT(hg_kube_config_load(&kc, &o, err, sizeof(err)), 0);
	CHECK_STR(kc.context, "arn:aws:eks:region:111222333444:cluster/ExampleCluster");
	CHECK_STR(kc.server, "https://endpoint.amazonaws.com");
	CHECK(kc.exec && strcmp(kc.exec->argv[6], "ExampleCluster") == 0);
	hg_kube_config_free(&kc);
	/* The other context's CA data ("DATADATA...=", 169 chars) is not valid
	 * base64; kubectl (Go's StdEncoding) refuses it too. */
	o.context = "arn:aws:eks:us-west-2:111222333444:cluster/Existing";
	CHECK_INT(hg_kube_config_load(&kc, &o, err, sizeof(err)), -1);
	CHECK(strstr(err, "certificate-authority-data is not valid base64") != NULL);
	o.context = "nope";
	CHECK_INT(hg_kube_config_load(&kc, &o, err, sizeof(err)), -1);
	CHECK(strstr(err, "context \"nope\" not found") != NULL);
}

static void test_aws_old_api(void)
{
	char path[1200], err[512];
	snprintf(path, sizeof(path), "%s/k8s-api/auth/aws-cli-kubeconfig-valid_old_api_version.yaml", fixtures);
	struct kube_config kc;
	struct kube_config_opts o = { .kubeconfig = path };
	CHECK_INT(hg_kube_config_load(&kc, &o, err, sizeof(err)), -1);
	CHECK(strstr(err, "v1alpha1") && strstr(err, "update-kubeconfig"));
}

static void test_merge(void)
{
	write_file("a.yaml", "apiVersion: v1\nkind: Config\n"
			     "clusters:\n- name: c1\n  cluster: {server: 'https://a.example:6443/', insecure-skip-tls-verify: true}\n"
			     "users:\n- name: u1\n  user: {token: from-a}\n"
			     "contexts:\n- name: shared\n  context: {cluster: c1, user: u1, namespace: apps}\n");
	write_file("b.yaml", "apiVersion: v1\nkind: Config\ncurrent-context: shared\n"
			     "clusters:\n- name: c1\n  cluster: {server: 'https://b.example'}\n"
			     "- name: c2\n  cluster: {server: 'https://c2.example', certificate-authority: certs/ca.pem}\n"
			     "users:\n- name: u1\n  user: {token: from-b}\n"
			     "- name: u2\n  user: {client-certificate-data: aGVsbG8=, client-key-data: a2V5, tokenFile: tok}\n"
			     "contexts:\n- name: shared\n  context: {cluster: c2, user: u2}\n"
			     "- name: other\n  context: {cluster: c2, user: u2}\n");
	write_file("c.yaml", "current-context: other\n");
	char env[2048], err[512];
	/* a missing file in the list is skipped, as kubectl does */
	snprintf(env, sizeof(env), "%s/a.yaml:%s/missing.yaml:%s/b.yaml:%s/c.yaml", tmp, tmp, tmp, tmp);
	struct kube_config kc;
	struct kube_config_opts o = { .env_kubeconfig = env };
	CHECK_INT(hg_kube_config_load(&kc, &o, err, sizeof(err)), 0);
	/* current-context from b (a sets none, b before c); context/cluster/user from a (first wins) */
	CHECK_STR(kc.context, "shared");
	CHECK_STR(kc.server, "https://a.example:6443");
	CHECK(kc.insecure_skip_tls_verify);
	CHECK_STR(kc.token, "from-a");
	CHECK_STR(kc.namespace, "apps");
	hg_kube_config_free(&kc);

	o.context = "other";
	CHECK_INT(hg_kube_config_load(&kc, &o, err, sizeof(err)), 0);
	char want[512];
	snprintf(want, sizeof(want), "%s/certs/ca.pem", tmp); /* relative to b.yaml's directory */
	CHECK_STR(kc.ca_file, want);
	char want_ca[512];
	snprintf(want_ca, sizeof(want_ca), "%s", want);
	snprintf(want, sizeof(want), "%s/tok", tmp);
	CHECK_STR(kc.token_file, want);
	CHECK(!kc.insecure_skip_tls_verify);
	/* -data fields stay in memory: no file for the key, ever */
	CHECK(kc.cert_file == NULL && kc.key_file == NULL);
	CHECK(kc.cert_pem && kc.cert_pem_len == 5 && memcmp(kc.cert_pem, "hello", 5) == 0);
	CHECK(kc.key_pem && kc.key_pem_len == 3 && memcmp(kc.key_pem, "key", 3) == 0);
	struct kube_auth a;
	hg_kube_auth_init(&a, &kc, NULL, NULL, NULL);
	struct httpc_tls tls;
	hg_kube_auth_tls(&a, &tls);
	CHECK(tls.cert_file == NULL && tls.key_file == NULL);
	CHECK(tls.cert.data == kc.cert_pem && tls.cert.len == 5);
	CHECK(tls.key.data == kc.key_pem && tls.key.len == 3);
	CHECK_STR(tls.ca_file, want_ca);
	hg_kube_auth_free(&a);
	hg_kube_config_free(&kc);

	/* --kubeconfig wins over KUBECONFIG and is the only file read */
	snprintf(env, sizeof(env), "%s/c.yaml", tmp);
	o.kubeconfig = env;
	o.context = NULL;
	CHECK_INT(hg_kube_config_load(&kc, &o, err, sizeof(err)), -1);
	CHECK(strstr(err, "context \"other\" not found") != NULL);
}

static void test_exec_conf(void)
{
	write_file("e.yaml", "current-context: x\nclusters:\n- name: c\n  cluster: {server: 'https://x'}\n"
			     "contexts:\n- name: x\n  context: {cluster: c, user: u}\n"
			     "users:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n"
			     "      command: ./bin/cred\n      args: [--a, b]\n      env:\n      - {name: AWS_PROFILE, value: prod}\n"
			     "      provideClusterInfo: true\n      installHint: install cred\n");
	char path[512], err[512], want[512];
	snprintf(path, sizeof(path), "%s/e.yaml", tmp);
	struct kube_config kc;
	struct kube_config_opts o = { .kubeconfig = path };
	CHECK_INT(hg_kube_config_load(&kc, &o, err, sizeof(err)), 0);
	snprintf(want, sizeof(want), "%s/./bin/cred", tmp);
	CHECK(kc.exec != NULL);
	if (kc.exec) {
		CHECK_STR(kc.exec->command, want);
		CHECK_STR(kc.exec->argv[1], "--a");
		CHECK_STR(kc.exec->env[0], "AWS_PROFILE=prod");
		CHECK(kc.exec->env[1] == NULL);
		CHECK(kc.exec->provide_cluster_info);
		CHECK_STR(kc.exec->install_hint, "install cred");
	}
	hg_kube_config_free(&kc);
}

static void test_exec_parse(void)
{
	char path[1200], err[512];
	snprintf(path, sizeof(path), "%s/k8s-api/auth/aws-cli-get-token-example-1.execcredential.json", fixtures);
	char *json = slurp(path);
	struct kube_exec_result r;
	CHECK_INT(hg_kube_exec_parse(json, "client.authentication.k8s.io/v1beta1", &r, err, sizeof(err)), 0);
	CHECK_STR(r.token, "k8s-aws-v1.EXAMPLE_TOKEN_DATA_STRING...");
	CHECK_INT(r.expiry, 1712869196);
	hg_kube_exec_result_free(&r);
	CHECK_INT(hg_kube_exec_parse(json, "client.authentication.k8s.io/v1", &r, err, sizeof(err)), -1);
	CHECK(strstr(err, "apiVersion") != NULL);
	CHECK(strstr(err, "EXAMPLE_TOKEN") == NULL); /* never the secret */
	free(json);
	CHECK_INT(hg_kube_exec_parse("{\"kind\":\"ExecCredential\",\"apiVersion\":\"v\",\"status\":{}}", "v", &r, err,
				  sizeof(err)),
		  -1);
	CHECK_INT(hg_kube_exec_parse("not json", NULL, &r, err, sizeof(err)), -1);
	time_t t;
	CHECK_INT(hg_kube_parse_time("2024-04-11T22:59:56.123+02:00", &t), 0);
	CHECK_INT(t, 1712869196);
	CHECK_INT(hg_kube_parse_time("2024-04-11 20:59:56", &t), -1);
	/* An offset must be "HH:MM": "+1:2" used to skip past the string's end. */
	CHECK_INT(hg_kube_parse_time("2024-04-11T20:59:56+1:2", &t), -1);
	CHECK_INT(hg_kube_parse_time("2024-04-11T20:59:56+01:0", &t), -1);
	CHECK_INT(hg_kube_parse_time("2024-04-11T20:59:56-01:30", &t), 0);
	CHECK_INT(t, 1712869196 + 5400);
}

static void test_in_cluster(void)
{
	char dir[512], err[512];
	snprintf(dir, sizeof(dir), "%s/sa", tmp);
	mkdir(dir, 0700);
	write_file("sa/token", "tok-1\n");
	write_file("sa/ca.crt", "x");
	write_file("sa/namespace", "monitoring");
	struct kube_config kc;
	unsetenv("KUBERNETES_SERVICE_HOST");
	CHECK_INT(hg_kube_config_in_cluster(&kc, dir, err, sizeof(err)), -1);
	setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	CHECK_INT(hg_kube_config_in_cluster(&kc, dir, err, sizeof(err)), 0);
	CHECK_STR(kc.server, "https://[fd00::1]:443");
	CHECK_STR(kc.namespace, "monitoring");
	CHECK(kc.in_cluster);
	/* the token file is read on use and re-read when it changes */
	struct kube_auth a;
	hg_kube_auth_init(&a, &kc, NULL, NULL, NULL);
	CHECK_INT(hg_kube_auth_refresh(&a, err, sizeof(err)), 0);
	CHECK_STR(a.token, "tok-1");
	write_file("sa/token", "tok-2-rotated");
	CHECK_INT(hg_kube_auth_refresh(&a, err, sizeof(err)), 0);
	CHECK_STR(a.token, "tok-2-rotated");
	hg_kube_auth_free(&a);
	hg_kube_config_free(&kc);
	unsetenv("KUBERNETES_SERVICE_HOST");
}

/* hg_kube_read_file names why it failed: the size bound, or the read itself
 * (a directory opens but cannot be read; it was called "larger than
 * allowed" before). */
static void test_read_file_errors(void)
{
	char p[512], err[256], *s = NULL;
	size_t len = 0;
	write_file("ten", "0123456789");
	snprintf(p, sizeof(p), "%s/ten", tmp);
	CHECK_INT(hg_kube_read_file(p, 10, &s, &len, err, sizeof(err)), 0);
	CHECK_STR(s, "0123456789");
	CHECK_INT((long long)len, 10);
	free(s);
	s = NULL;
	CHECK_INT(hg_kube_read_file(p, 9, &s, &len, err, sizeof(err)), -1);
	CHECK(s == NULL && strstr(err, ": larger than allowed") != NULL);
	CHECK_INT(hg_kube_read_file(tmp, 9, &s, &len, err, sizeof(err)), -1);
	CHECK(s == NULL && strstr(err, ": read error") != NULL);
}

static char tmpdir[128];

/* Loading writes nothing under TMPDIR (the -data fields once went to
 * $TMPDIR/hgkube.* files, which a killed agentctl left behind). */
static int suite_setup(void)
{
	const char *f = getenv("FIXTURES");
	snprintf(fixtures, sizeof(fixtures), "%s", f ? f : "fixtures");
	snprintf(tmp, sizeof(tmp), "/tmp/test_kube_config.XXXXXX");
	if (!mkdtemp(tmp))
		return 1;
	snprintf(tmpdir, sizeof(tmpdir), "%s/tmpdir", tmp);
	CHECK_INT(mkdir(tmpdir, 0700), 0);
	setenv("TMPDIR", tmpdir, 1);
	return 0;
}

static void suite_teardown(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	while (d && (e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
			fprintf(stderr, "left under TMPDIR: %s\n", e->d_name);
			CHECK(0);
		}
	if (d)
		closedir(d);
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup failed\n");
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_aws_single),
		CHECK_CASE(test_aws_combined_context),
		CHECK_CASE(test_aws_old_api),
		CHECK_CASE(test_merge),
		CHECK_CASE(test_exec_conf),
		CHECK_CASE(test_exec_parse),
		CHECK_CASE(test_in_cluster),
		CHECK_CASE(test_read_file_errors),
	};
	return CHECK_RUN_WITH(argc, argv, cases, suite_setup, suite_teardown);
}
