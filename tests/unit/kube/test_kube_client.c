/* The Kubernetes client against the test API server: server-side apply,
 * get/list/delete, discovery, errors in plain words (401/403/404/409/422),
 * client certificates, and exec credential plugins (expiry, 401 refresh). */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "kube_client.h"
#include "kube_server.h"
#include "kube_util.h"

static struct kube_server ks;
static uv_loop_t loop;
static char err[2048];

static struct kube_client *client_for(const char *kubeconfig, struct kube_config *kc)
{
	struct kube_config_opts o = { .kubeconfig = kubeconfig };
	if (hg_kube_config_load(kc, &o, err, sizeof(err)) != 0) {
		fprintf(stderr, "kubeconfig: %s\n", err);
		return NULL;
	}
	return hg_kube_client_new(&loop, NULL, kc, err, sizeof(err));
}

static int apply(struct kube_client *c, const char *doc, const char *manager, bool force, bool *changed)
{
	struct kube_apply_opts o = { .field_manager = manager, .force = force };
	return hg_kube_apply(c, doc, strlen(doc), &o, NULL, changed, err, sizeof(err));
}

static const char NS[] = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: kt\n";
static const char CM[] = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  labels: {app: hg}\n"
			 "data:\n  retention: 7d\n";
static const char CM2[] = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  labels: {app: hg}\n"
			  "data:\n  retention: 30d\n";
static const char BAD_DEPLOY[] =
	"{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"bad\"},"
	"\"spec\":{\"selector\":{\"matchLabels\":{\"app\":\"a\"}},\"template\":{\"metadata\":{\"labels\":{\"app\":\"b\"}},"
	"\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}}}";

static struct kube_config admin_kc;
static struct kube_client *admin; /* the client with the admin token, shared by the cases */

static void test_objects(void)
{
	struct kube_client *c = admin;
	bool changed = false;
	CHECK_INT(apply(c, NS, NULL, true, &changed), 0);
	CHECK(changed);
	CHECK_INT(apply(c, CM, NULL, true, &changed), 0);
	CHECK(changed);
	CHECK_INT(apply(c, CM, NULL, true, &changed), 0); /* the same again: no change */
	CHECK(!changed);
	CHECK_INT(apply(c, CM2, NULL, true, &changed), 0);
	CHECK(changed);

	char *body = NULL;
	CHECK_INT(hg_kube_get(c, "v1", "ConfigMap", "kt", "settings", &body, err, sizeof(err)), 0);
	CHECK(body && strstr(body, "\"retention\": \"30d\""));
	CHECK(body && strstr(body, "\"manager\": \"agentctl\""));
	free(body);
	body = NULL;
	CHECK_INT(hg_kube_list(c, "v1", "ConfigMap", "kt", "app=hg", NULL, &body, err, sizeof(err)), 0);
	CHECK(body && strstr(body, "\"ConfigMapList\"") && strstr(body, "\"settings\""));
	free(body);
	body = NULL;
	CHECK_INT(hg_kube_list(c, "v1", "ConfigMap", "kt", "app in (other)", NULL, &body, err, sizeof(err)), 0);
	CHECK(body && !strstr(body, "\"settings\""));
	free(body);

	/* 404 */
	CHECK_INT(hg_kube_get(c, "v1", "ConfigMap", "kt", "nope", NULL, err, sizeof(err)), KUBE_ENOTFOUND);
	CHECK(strstr(err, "not found (404)") && strstr(err, "configmaps \"nope\" not found"));
	/* 422 with the field */
	CHECK_INT(apply(c, BAD_DEPLOY, NULL, true, NULL), KUBE_EINVALID);
	CHECK(strstr(err, "invalid (422)") && strstr(err, "spec.template.metadata.labels"));
	/* 409: another manager changing a field agentctl owns */
	CHECK_INT(apply(c, CM, "someone-else", false, NULL), KUBE_ECONFLICT);
	CHECK(strstr(err, "conflict (409)") && strstr(err, "conflict with \"agentctl\"") && strstr(err, ".data.retention") &&
	      strstr(err, "force"));
	CHECK_INT(apply(c, CM, "someone-else", true, NULL), 0);
	/* 404 for a namespace that does not exist */
	CHECK_INT(apply(c, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: ghost}\n", NULL, true, NULL),
		  KUBE_ENOTFOUND);
	CHECK(strstr(err, "namespaces \"ghost\" not found"));

	CHECK_INT(hg_kube_delete(c, "v1", "ConfigMap", "kt", "settings", err, sizeof(err)), 0);
	CHECK_INT(hg_kube_get(c, "v1", "ConfigMap", "kt", "settings", NULL, err, sizeof(err)), KUBE_ENOTFOUND);
	CHECK_INT(hg_kube_delete(c, "v1", "ConfigMap", "kt", "settings", err, sizeof(err)), KUBE_ENOTFOUND);
}

static void test_paths(void)
{
	struct kube_client *c = admin;
	char path[512];
	bool nsd = false;
	CHECK_INT(hg_kube_resource_path(c, "apps/v1", "Deployment", "m", "web", path, sizeof(path), &nsd, err, sizeof(err)), 0);
	CHECK_STR(path, "/apis/apps/v1/namespaces/m/deployments/web");
	CHECK(nsd);
	CHECK_INT(hg_kube_resource_path(c, "v1", "Node", "m", NULL, path, sizeof(path), &nsd, err, sizeof(err)), 0);
	CHECK_STR(path, "/api/v1/nodes");
	CHECK(!nsd);
	/* not in the built-in table: discovery */
	CHECK_INT(hg_kube_resource_path(c, "apps/v1", "ControllerRevision", "m", "r", path, sizeof(path), &nsd, err,
				     sizeof(err)),
		  0);
	CHECK_STR(path, "/apis/apps/v1/namespaces/m/controllerrevisions/r");
	CHECK_INT(hg_kube_resource_path(c, "v1", "LimitRange", NULL, NULL, path, sizeof(path), &nsd, err, sizeof(err)), 0);
	CHECK_STR(path, "/api/v1/limitranges");
	CHECK(nsd);
	CHECK_INT(hg_kube_resource_path(c, "apps/v1", "Rollout", "m", NULL, path, sizeof(path), &nsd, err, sizeof(err)),
		  KUBE_ENOTFOUND);
	CHECK(strstr(err, "no kind Rollout in apps/v1"));
	CHECK_INT(hg_kube_resource_path(c, "argoproj.io/v1alpha1", "Rollout", "m", NULL, path, sizeof(path), &nsd, err,
				     sizeof(err)),
		  KUBE_ENOTFOUND);
	CHECK(strstr(err, "does not serve argoproj.io/v1alpha1"));
}

/* The namespace kt that the cases after test_objects read: test_objects creates it through
 * the client (and checks that it did); a case run alone has the test server store it. */
static void have_namespace(void)
{
	CHECK_INT(ks_control(&ks, "/_control/objects", "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"kt\"}}"),
		  200);
}

static void test_auth_errors(void)
{
	have_namespace();
	struct kube_config kc;
	struct kube_client *c = client_for(ks_kubeconfig(&ks, "wrong", "    token: wrong-secret-token"), &kc);
	CHECK_INT(hg_kube_get(c, "v1", "Namespace", NULL, "kt", NULL, err, sizeof(err)), KUBE_EAUTH);
	CHECK(strstr(err, "401") && strstr(err, "user \"tester\"") && strstr(err, "context \"t\""));
	CHECK(!strstr(err, "wrong-secret-token"));
	hg_kube_client_free(c);
	hg_kube_config_free(&kc);

	c = client_for(ks_kubeconfig(&ks, "ro", "    token: ro-token"), &kc);
	CHECK_INT(hg_kube_get(c, "v1", "Namespace", NULL, "kt", NULL, err, sizeof(err)), 0);
	CHECK_INT(apply(c, CM, NULL, true, NULL), KUBE_EAUTH);
	CHECK(strstr(err, "403") && strstr(err, "cannot patch resource \"configmaps\"") && strstr(err, "RBAC"));
	hg_kube_client_free(c);
	hg_kube_config_free(&kc);
}

static void test_client_cert(void)
{
	have_namespace();
	char crt[512], key[512];
	snprintf(crt, sizeof(crt), "%s/tls/client.crt", ks.dir);
	snprintf(key, sizeof(key), "%s/tls/client.key", ks.dir);
	char user[1200];
	snprintf(user, sizeof(user), "    client-certificate: %s\n    client-key: %s", crt, key);
	struct kube_config kc;
	struct kube_client *c = client_for(ks_kubeconfig(&ks, "cert", user), &kc);
	CHECK_INT(hg_kube_get(c, "v1", "Namespace", NULL, "kt", NULL, err, sizeof(err)), 0);
	hg_kube_client_free(c);
	hg_kube_config_free(&kc);
}

/* An exec plugin: counts its runs, records KUBERNETES_EXEC_INFO, prints a
 * token "exec-tok-<run>" expiring EXPIRY seconds from now. */
static void write_plugin(void)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/cred.sh", ks.dir);
	FILE *f = fopen(p, "w");
	fprintf(f, "#!/bin/sh\n"
		   "n=$(($(cat \"$COUNTER\" 2>/dev/null || echo 0) + 1)); echo $n >\"$COUNTER\"\n"
		   "printf '%%s' \"$KUBERNETES_EXEC_INFO\" >\"$COUNTER.info\"\n"
		   "exp=$(date -u -d \"+$EXPIRY seconds\" +%%Y-%%m-%%dT%%H:%%M:%%SZ)\n"
		   "echo \"cred plugin run $n\" >&2\n"
		   "printf '{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",'\n"
		   "printf '\"spec\":{},\"status\":{\"expirationTimestamp\":\"%%s\",\"token\":\"exec-tok-%%s\"}}\\n' \"$exp\" \"$n\"\n");
	fclose(f);
	chmod(p, 0700);
}

static const char *exec_user(const char *counter, int expiry)
{
	static char user[1024];
	snprintf(user, sizeof(user),
		 "    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: ./cred.sh\n"
		 "      args: [eks, get-token]\n      env:\n      - {name: COUNTER, value: %s/%s}\n"
		 "      - {name: EXPIRY, value: \"%d\"}",
		 ks.dir, counter, expiry);
	return user;
}

static void test_exec_expiry(void)
{
	have_namespace();
	ks_control(&ks, "/_control/tokens", "{\"tokens\":[\"admin\",\"exec-tok-1\",\"exec-tok-2\",\"exec-tok-3\"],"
					     "\"readonly\":[\"ro-token\"]}");
	struct kube_config kc;
	struct kube_client *c = client_for(ks_kubeconfig(&ks, "exec1", exec_user("count1", 2)), &kc);
	CHECK_INT(hg_kube_get(c, "v1", "Namespace", NULL, "kt", NULL, err, sizeof(err)), 0);
	CHECK_INT(hg_kube_get(c, "v1", "Namespace", NULL, "kt", NULL, err, sizeof(err)), 0);
	CHECK_INT(hg_kube_client_exec_runs(c), 1); /* cached until it expires */
	sleep(3);
	CHECK_INT(hg_kube_get(c, "v1", "Namespace", NULL, "kt", NULL, err, sizeof(err)), 0);
	CHECK_INT(hg_kube_client_exec_runs(c), 2);
	char p[512], *info = NULL;
	snprintf(p, sizeof(p), "%s/count1.info", ks.dir);
	CHECK_INT(hg_kube_read_file(p, 4096, &info, NULL, err, sizeof(err)), 0);
	CHECK(info && strstr(info, "\"apiVersion\":\"client.authentication.k8s.io/v1beta1\"") &&
	      strstr(info, "\"kind\":\"ExecCredential\"") && strstr(info, "\"interactive\":false"));
	free(info);
	hg_kube_client_free(c);
	hg_kube_config_free(&kc);
}

/* An exec plugin that returns a client certificate (clientCertificateData,
 * clientKeyData) and no token: the requests authenticate with it (the
 * server knows no token here), and nothing is written under TMPDIR. */
static void test_exec_client_cert(void)
{
	have_namespace();
	ks_control(&ks, "/_control/tokens", "{\"tokens\":[\"admin\"],\"readonly\":[\"ro-token\"]}");
	char p[512], tmpdir[600], user[1024];
	snprintf(p, sizeof(p), "%s/certcred.sh", ks.dir);
	FILE *f = fopen(p, "w");
	fprintf(f, "#!/bin/sh\n"
		   "exec python3 -c 'import json,sys; d=sys.argv[1]; print(json.dumps({\"kind\":\"ExecCredential\","
		   "\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"status\":{"
		   "\"clientCertificateData\":open(d+\"/tls/client.crt\").read(),"
		   "\"clientKeyData\":open(d+\"/tls/client.key\").read()}}))' \"%s\"\n",
		ks.dir);
	fclose(f);
	chmod(p, 0700);
	snprintf(tmpdir, sizeof(tmpdir), "%s/exec-tmp", ks.dir);
	CHECK_INT(mkdir(tmpdir, 0700), 0);
	char *old = getenv("TMPDIR") ? strdup(getenv("TMPDIR")) : NULL;
	setenv("TMPDIR", tmpdir, 1);
	snprintf(user, sizeof(user),
		 "    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: ./certcred.sh");
	struct kube_config kc;
	struct kube_client *c = client_for(ks_kubeconfig(&ks, "execcert", user), &kc);
	int rc = hg_kube_get(c, "v1", "Namespace", NULL, "kt", NULL, err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "exec client cert: %s\n", err);
	CHECK_INT(rc, 0);
	CHECK_INT(hg_kube_client_exec_runs(c), 1);
	hg_kube_client_free(c);
	hg_kube_config_free(&kc);
	CHECK_INT(rmdir(tmpdir), 0); /* empty: nothing was written there */
	if (old)
		setenv("TMPDIR", old, 1);
	else
		unsetenv("TMPDIR");
	free(old);
}

static void test_exec_401(void)
{
	have_namespace();
	ks_control(&ks, "/_control/tokens", "{\"tokens\":[\"admin\",\"exec-tok-1\"],\"readonly\":[\"ro-token\"]}");
	struct kube_config kc;
	struct kube_client *c = client_for(ks_kubeconfig(&ks, "exec2", exec_user("count2", 3600)), &kc);
	CHECK_INT(hg_kube_get(c, "v1", "Namespace", NULL, "kt", NULL, err, sizeof(err)), 0);
	CHECK_INT(hg_kube_client_exec_runs(c), 1);
	/* The server stops accepting the cached token (revoked, or expired early):
	 * the 401 makes the client run the plugin again and retry once. */
	ks_control(&ks, "/_control/tokens", "{\"tokens\":[\"admin\",\"exec-tok-2\"],\"readonly\":[\"ro-token\"]}");
	CHECK_INT(hg_kube_get(c, "v1", "Namespace", NULL, "kt", NULL, err, sizeof(err)), 0);
	CHECK_INT(hg_kube_client_exec_runs(c), 2);
	/* A plugin token the server never accepts: one retry, then the 401 in words. */
	ks_control(&ks, "/_control/tokens", "{\"tokens\":[\"admin\"],\"readonly\":[\"ro-token\"]}");
	CHECK_INT(hg_kube_get(c, "v1", "Namespace", NULL, "kt", NULL, err, sizeof(err)), KUBE_EAUTH);
	CHECK_INT(hg_kube_client_exec_runs(c), 3);
	CHECK(strstr(err, "401") && strstr(err, "exec plugin") && !strstr(err, "exec-tok"));
	hg_kube_client_free(c);
	hg_kube_config_free(&kc);

	/* A plugin that cannot run */
	char user[600];
	snprintf(user, sizeof(user), "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n"
				     "      command: hg-no-such-plugin\n      installHint: install it with apt");
	c = client_for(ks_kubeconfig(&ks, "exec3", user), &kc);
	CHECK_INT(hg_kube_get(c, "v1", "Namespace", NULL, "kt", NULL, err, sizeof(err)), KUBE_ERR);
	CHECK(strstr(err, "cannot run \"hg-no-such-plugin\"") && strstr(err, "install it with apt"));
	hg_kube_client_free(c);
	hg_kube_config_free(&kc);
}

/* ---- plugins that misbehave: nothing may wait on them but their requests ---- */

static void write_script(const char *name, const char *body)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", ks.dir, name);
	FILE *f = fopen(p, "w");
	fprintf(f, "#!/bin/sh\n%s", body);
	fclose(f);
	chmod(p, 0700);
}

static const char *script_user(const char *name)
{
	static char user[1024];
	snprintf(user, sizeof(user),
		 "    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: ./%s\n"
		 "      env:\n      - {name: DIR, value: %s}\n      - {name: PLUGIN_SECRET, value: hunter2-secret}",
		 name, ks.dir);
	return user;
}

static pid_t read_pid(const char *name)
{
	char p[512], *t = NULL;
	snprintf(p, sizeof(p), "%s/%s", ks.dir, name);
	if (hg_kube_read_file(p, 64, &t, NULL, err, sizeof(err)) != 0)
		return 0;
	pid_t pid = (pid_t)atoi(t);
	free(t);
	return pid;
}

/* Runs the loop until pid is gone (reaped by libuv, or by init when it was
 * a grandchild), at most 20 s. */
static bool gone(pid_t pid)
{
	uint64_t end = uv_now(&loop) + 20000;
	while (pid > 0 && kill(pid, 0) == 0) {
		if (uv_now(&loop) > end)
			return false;
		uv_run(&loop, UV_RUN_NOWAIT);
		usleep(10000);
		uv_update_time(&loop);
	}
	return true;
}

struct got {
	int n;
	long status;
	char msg[1024];
};

static void got_done(void *arg, const struct kube_response *r)
{
	struct got *g = arg;
	g->n++;
	g->status = r->status;
	snprintf(g->msg, sizeof g->msg, "%s", r->message);
}

static void tick(uv_timer_t *t)
{
	(*(int *)t->data)++;
}

/* Runs the loop until *n reaches want (at most 20 s); counts the ticks of a
 * 10 ms timer meanwhile, which show that the loop was not blocked. */
static int run_until(const int *n, int want)
{
	int ticks = 0;
	uv_timer_t t;
	uv_timer_init(&loop, &t);
	t.data = &ticks;
	uv_timer_start(&t, tick, 10, 10);
	uint64_t end = uv_now(&loop) + 20000;
	while (*n < want && uv_now(&loop) < end)
		uv_run(&loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(&loop, UV_RUN_NOWAIT);
	return ticks;
}

static void test_exec_misbehaving(void)
{
	have_namespace();
	struct kube_config kc;
	struct kube_client *c;

	/* Hangs holding stdout: ended at the timeout with SIGTERM. */
	write_script("hang.sh", "echo $$ >\"$DIR/hang.pid\"\nexec sleep 1000\n");
	c = client_for(ks_kubeconfig(&ks, "hang", script_user("hang.sh")), &kc);
	hg_kube_client_set_exec_timeout(c, 300);
	CHECK_INT(hg_kube_get(c, "v1", "Namespace", NULL, "kt", NULL, err, sizeof(err)), KUBE_ERR);
	CHECK(strstr(err, "/hang.sh\" did not answer within 0.3 s; stopped it") != NULL);
	CHECK(!strstr(err, "hunter2"));
	CHECK(gone(read_pid("hang.pid")));
	hg_kube_client_free(c);
	hg_kube_config_free(&kc);

	/* Ignores SIGTERM and keeps stdout open (its sleep holds it too): SIGKILL after the grace. */
	write_script("stubborn.sh", "trap '' TERM\necho $$ >\"$DIR/stubborn.pid\"\nwhile :; do sleep 1; done\n");
	c = client_for(ks_kubeconfig(&ks, "stubborn", script_user("stubborn.sh")), &kc);
	hg_kube_client_set_exec_timeout(c, 300);
	CHECK_INT(hg_kube_get(c, "v1", "Namespace", NULL, "kt", NULL, err, sizeof(err)), KUBE_ERR);
	CHECK(strstr(err, "did not answer within 0.3 s") != NULL);
	CHECK(gone(read_pid("stubborn.pid")));
	hg_kube_client_free(c);
	hg_kube_config_free(&kc);

	/* Hangs after starting two children that hold its stdout too, one of
	 * them deaf to SIGTERM: at the timeout its whole group is stopped, the
	 * deaf one by SIGKILL after the grace. The timeout leaves the script
	 * time to write its pid files on a busy machine; the pids are checked
	 * to be there, so that the test cannot pass without them. */
	write_script("group.sh", "sleep 1000 &\necho $! >\"$DIR/group.sleep\"\n"
				 "sh -c 'trap \"\" TERM; exec sleep 1000' &\necho $! >\"$DIR/group.deaf\"\n"
				 "echo $$ >\"$DIR/group.pid\"\nsleep 1000\n");
	c = client_for(ks_kubeconfig(&ks, "group", script_user("group.sh")), &kc);
	hg_kube_client_set_exec_timeout(c, 2000);
	CHECK_INT(hg_kube_get(c, "v1", "Namespace", NULL, "kt", NULL, err, sizeof(err)), KUBE_ERR);
	CHECK(strstr(err, "/group.sh\" did not answer within 2 s; stopped it") != NULL);
	pid_t group[] = { read_pid("group.pid"), read_pid("group.sleep"), read_pid("group.deaf") };
	for (size_t i = 0; i < sizeof group / sizeof *group; i++) {
		CHECK(group[i] > 0);
		CHECK(gone(group[i]));
		if (group[i] > 0 && kill(group[i], 0) == 0)
			kill(group[i], SIGKILL); /* not to leave it behind when the check failed */
	}
	hg_kube_client_free(c);
	hg_kube_config_free(&kc);

	/* Answers, but leaves a child holding its stdout: the answer counts at
	 * its exit, and the child, which nothing will read from, is stopped
	 * with the plugin's group. */
	ks_control(&ks, "/_control/tokens", "{\"tokens\":[\"admin\",\"fork-tok\"],\"readonly\":[\"ro-token\"]}");
	write_script("forks.sh", "sleep 1000 &\necho $! >\"$DIR/forks.child\"\n"
				 "echo '{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1beta1\","
				 "\"status\":{\"token\":\"fork-tok\"}}'\n");
	c = client_for(ks_kubeconfig(&ks, "forks", script_user("forks.sh")), &kc);
	CHECK_INT(hg_kube_get(c, "v1", "Namespace", NULL, "kt", NULL, err, sizeof(err)), 0);
	pid_t child = read_pid("forks.child");
	CHECK(child > 0);
	CHECK(gone(child));
	if (child > 0 && kill(child, 0) == 0)
		kill(child, SIGKILL);
	hg_kube_client_free(c);
	hg_kube_config_free(&kc);

	/* Exits non-zero; prints garbage; prints too much: each a clear error. */
	write_script("fails.sh", "echo 'fails.sh: no network' >&2\nexit 3\n");
	c = client_for(ks_kubeconfig(&ks, "fails", script_user("fails.sh")), &kc);
	CHECK_INT(hg_kube_get(c, "v1", "Namespace", NULL, "kt", NULL, err, sizeof(err)), KUBE_ERR);
	CHECK(strstr(err, "/fails.sh\" failed (exit status 3)") != NULL);
	hg_kube_client_free(c);
	hg_kube_config_free(&kc);
	write_script("garbage.sh", "echo '<html>hunter2</html>'\n");
	c = client_for(ks_kubeconfig(&ks, "garbage", script_user("garbage.sh")), &kc);
	CHECK_INT(hg_kube_get(c, "v1", "Namespace", NULL, "kt", NULL, err, sizeof(err)), KUBE_ERR);
	CHECK(strstr(err, "/garbage.sh\": its output is not a JSON ExecCredential") != NULL);
	CHECK(!strstr(err, "hunter2"));
	hg_kube_client_free(c);
	hg_kube_config_free(&kc);
	write_script("flood.sh", "exec head -c 3000000 /dev/zero\n");
	c = client_for(ks_kubeconfig(&ks, "flood", script_user("flood.sh")), &kc);
	CHECK_INT(hg_kube_get(c, "v1", "Namespace", NULL, "kt", NULL, err, sizeof(err)), KUBE_ERR);
	CHECK(strstr(err, "/flood.sh\" printed more than 1048576 bytes; stopped it") != NULL);
	hg_kube_client_free(c);
	hg_kube_config_free(&kc);

	/* A plugin that answers when the test says so (a line in a FIFO):
	 * requests wait for it in order, the loop runs meanwhile, one run serves
	 * them all, and a request whose own timeout passes first ends alone. */
	char fifo[512];
	snprintf(fifo, sizeof fifo, "%s/go.fifo", ks.dir);
	CHECK_INT(mkfifo(fifo, 0600), 0);
	ks_control(&ks, "/_control/tokens", "{\"tokens\":[\"admin\",\"slow-tok\"],\"readonly\":[\"ro-token\"]}");
	write_script("slow.sh", "echo $$ >\"$DIR/slow.pid\"\nread line <\"$DIR/go.fifo\"\n"
				"echo '{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1beta1\","
				"\"status\":{\"token\":\"slow-tok\"}}'\n");
	c = client_for(ks_kubeconfig(&ks, "slow", script_user("slow.sh")), &kc);
	struct got a = { 0 }, b = { 0 }, shortt = { 0 };
	struct kube_request rq = { .method = "GET", .path = "/api/v1/namespaces/kt" };
	struct kube_request rq_short = { .method = "GET", .path = "/api/v1/namespaces/kt", .what = "short",
					  .timeout_ms = 200 };
	CHECK_INT(hg_kube_send(c, &rq, got_done, &a, err, sizeof err), 0);
	CHECK_INT(hg_kube_send(c, &rq_short, got_done, &shortt, err, sizeof err), 0);
	CHECK_INT(hg_kube_send(c, &rq, got_done, &b, err, sizeof err), 0);
	int ticks = run_until(&shortt.n, 1);
	CHECK(ticks >= 1); /* the loop ran while the plugin waited */
	CHECK_INT(shortt.status, 0);
	CHECK(strncmp(shortt.msg, "short: no credentials: the exec plugin \"", 40) == 0 &&
	      strstr(shortt.msg, "/slow.sh\" has not answered within the request's timeout") != NULL);
	CHECK_INT(a.n + b.n, 0);
	FILE *go = fopen(fifo, "w"); /* opens once the plugin reads it */
	fputs("go\n", go);
	fclose(go);
	struct got *both[] = { &a, &b };
	for (int i = 0; i < 2; i++) /* their answers may come in either order */
		run_until(&both[i]->n, 1);
	CHECK_INT(a.n, 1);
	CHECK_INT(b.n, 1);
	CHECK_INT(a.status, 200);
	CHECK_INT(b.status, 200);
	CHECK_INT(hg_kube_client_exec_runs(c), 1);
	hg_kube_client_free(c);
	hg_kube_config_free(&kc);

	/* The client closes while the plugin runs: its requests end, the plugin is stopped. */
	c = client_for(ks_kubeconfig(&ks, "slow2", script_user("slow.sh")), &kc);
	unlink(fifo);
	CHECK_INT(mkfifo(fifo, 0600), 0);
	char pidfile[512];
	snprintf(pidfile, sizeof pidfile, "%s/slow.pid", ks.dir);
	unlink(pidfile);
	struct got d = { 0 };
	CHECK_INT(hg_kube_send(c, &rq, got_done, &d, err, sizeof err), 0);
	pid_t pid = 0;
	for (int i = 0; i < 2000 && !(pid = read_pid("slow.pid")); i++) {
		uv_run(&loop, UV_RUN_NOWAIT);
		usleep(10000);
	}
	CHECK(pid > 0);
	hg_kube_client_free(c);
	hg_kube_config_free(&kc);
	CHECK_INT(d.n, 1);
	CHECK(strstr(d.msg, "the Kubernetes client was closed before the exec plugin answered") != NULL);
	CHECK(gone(pid));
	unlink(fifo);
}

static int suite_setup(void)
{
	uv_loop_init(&loop);
	if (ks_start(&ks, "admin", "ro-token") != 0) {
		fprintf(stderr, "cannot start kube_api_server.py\n");
		return 1;
	}
	admin = client_for(ks_kubeconfig(&ks, "admin", "    token: admin"), &admin_kc);
	CHECK(admin != NULL);
	if (!admin) {
		ks_stop(&ks);
		return 1;
	}
	write_plugin();
	return 0;
}

static void suite_teardown(void)
{
	hg_kube_client_free(admin);
	hg_kube_config_free(&admin_kc);
	ks_stop(&ks);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_objects),
		CHECK_CASE(test_paths),
		CHECK_CASE(test_auth_errors),
		CHECK_CASE(test_client_cert),
		CHECK_CASE(test_exec_expiry),
		CHECK_CASE(test_exec_401),
		CHECK_CASE(test_exec_client_cert),
		CHECK_CASE(test_exec_misbehaving),
	};
	return CHECK_RUN_WITH(argc, argv, cases, suite_setup, suite_teardown);
}
