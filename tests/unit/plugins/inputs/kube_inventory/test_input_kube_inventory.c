/* inputs.kube_inventory against the test API server (tests/integration/
 * kube_api_server.py) seeded with real captured objects: the honeycomb
 * home-lab NodeList and kubelet PodList, kind's kube-system DeploymentList,
 * minikube's PodList (terminated containers), plus a DaemonSet, StatefulSet
 * and Deployment made from the values of Telegraf's README example output,
 * so those lines can be compared with Telegraf's. Exact values per
 * measurement, paging, selectors, namespace and node filters, a 403 that
 * names the missing RBAC rule, leader election, the README schema, each
 * series once when a continue token expires mid-list, and a body broken off
 * mid-list reported as such. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "ki_obj.h"
#include "kube_inventory_check.h"

static void seed_file(const char *rel)
{
	char *b = fixture_slurp(rel);
	CHECK_INT(ks_control(&ks, "/_control/objects", b), 200);
	free(b);
}

/* Test-made objects carrying the values of Telegraf's README example lines. */
static const char telegraf_example_objects[] =
	"[{\"apiVersion\":\"apps/v1\",\"kind\":\"DaemonSet\",\"metadata\":{\"name\":\"telegraf\",\"namespace\":\"logging\","
	"\"generation\":16,\"creationTimestamp\":\"2018-05-31T09:24:59Z\"},\"spec\":{\"selector\":{\"matchLabels\":"
	"{\"select1\":\"s1\"}}},\"status\":{\"currentNumberScheduled\":11,\"desiredNumberScheduled\":11,"
	"\"numberAvailable\":11,\"numberMisscheduled\":8,\"numberReady\":11,\"updatedNumberScheduled\":11,\"observedGeneration\":16}},"
	"{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"deployd\",\"namespace\":\"default\","
	"\"generation\":1,\"creationTimestamp\":\"2018-12-06T13:31:22Z\"},\"spec\":{\"selector\":{\"matchLabels\":"
	"{\"select1\":\"s1\"}}},\"status\":{\"availableReplicas\":1,\"observedGeneration\":1}},"
	"{\"apiVersion\":\"apps/v1\",\"kind\":\"StatefulSet\",\"metadata\":{\"name\":\"etcd\",\"namespace\":\"default\","
	"\"generation\":1,\"creationTimestamp\":\"2018-12-06T13:07:49Z\"},\"spec\":{\"replicas\":3,\"selector\":"
	"{\"matchLabels\":{\"select1\":\"s1\"}}},\"status\":{\"replicas\":3,\"currentReplicas\":3,\"readyReplicas\":3,"
	"\"updatedReplicas\":3,\"observedGeneration\":1}}]";

/* Telegraf's image split (at ':', a version only from exactly two parts):
 * an image without a tag, and one from a registry with a port. */
static const char split_image_pod[] =
	"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"split-image\",\"namespace\":\"images\","
	"\"creationTimestamp\":\"2026-01-02T03:04:05Z\"},\"spec\":{\"nodeName\":\"duckboat-02\",\"containers\":["
	"{\"name\":\"plain\",\"image\":\"busybox\",\"resources\":{\"limits\":{\"cpu\":\"1\",\"memory\":\"1Gi\"}}},"
	"{\"name\":\"ported\",\"image\":\"registry.local:5000/app:1.2\"}]},\"status\":{\"phase\":\"Failed\","
	"\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\"}],\"containerStatuses\":["
	"{\"name\":\"plain\",\"restartCount\":1,\"ready\":false,\"state\":{\"terminated\":{\"reason\":\"Error\",\"exitCode\":1}}}]}}";

/* ---- plugin config through its option table ---- */

static char *star[] = { "*", NULL }, *none[] = { NULL }, *select1[] = { "select1", "beta.kubernetes.io/os", NULL };

static void *config(void)
{
	void *c = config_new(&hg_input_kube_inventory);
	set_str(c, "kubeconfig", kubeconfig);
	set_str(c, "namespace", NULL); /* all */
	set_int(c, "response_timeout", 5000000000LL);
	set_int(c, "page_size", 250);
	config_list(&hg_input_kube_inventory, c, "selector_include", none);
	config_list(&hg_input_kube_inventory, c, "selector_exclude", star);
	config_bool(&hg_input_kube_inventory, c, "leader_election", false);
	set_str(c, "mode", "list");
	return c;
}

static bool has_line(const char *text, const char *want)
{
	const char *sp = strchr(want, ' ');
	char prefix[512], got[4096];
	snprintf(prefix, sizeof prefix, "%.*s", (int)(sp - want), want);
	if (!lp_find(text, prefix, 0, got, sizeof got)) {
		fprintf(stderr, "missing: %s\n", prefix);
		return false;
	}
	if (strcmp(got, want) != 0) {
		fprintf(stderr, "got:  %s\nwant: %s\n", got, want);
		return false;
	}
	return true;
}

#define NODE1 "kubernetes_node,node_name=duckboat-01,version=v1.21.2-13+d2965f0db10712"

static int count_of(const char *t, const char *what)
{
	int n = 0;
	for (const char *p = t; (p = strstr(p, what)); p++)
		n++;
	return n;
}

/* kubernetes_pod_container points of containers (not of pod conditions). */
static int container_points(const char *t)
{
	int n = 0;
	for (const char *p = t; (p = strstr(p, "kubernetes_pod_container,container_name=")); p++)
		n++;
	return n;
}

static void test_all_resources(void)
{
	void *cfg = config();
	config_list(&hg_input_kube_inventory, cfg, "selector_include", select1);
	config_list(&hg_input_kube_inventory, cfg, "selector_exclude", none);
	set_int(cfg, "page_size", 5);
	void *s = start(cfg);
	run_until(never, NULL, true, 0.05);
	struct acc *a = gather(s);
	const char *t = hg_acc_capture_text(a);
	CHECK_STR(hg_acc_capture_errors(a), "");

	/* Nodes: quantities truncated as Telegraf's convertQuantity (7910m = 7 cores). */
	CHECK(has_line(t, NODE1 " capacity_cpu_cores=8i,capacity_millicpu_cores=8000i,"
			  "capacity_ephemeral_storage_bytes=137416912896i,capacity_memory_bytes=32916127744i,"
			  "capacity_pods=58i,allocatable_cpu_cores=7i,allocatable_millicpu_cores=7910i,"
			  "allocatable_ephemeral_storage_bytes=122601479578i,allocatable_memory_bytes=31874891776i,"
			  "allocatable_pods=58i,spec_unschedulable=false,condition_disk_pressure=false,"
			  "condition_memory_pressure=false,condition_network_available=false,condition_pid_pressure=false,"
			  "condition_ready=true"));
	CHECK(has_line(t, "kubernetes_node,condition=Ready,node_name=duckboat-02,status=True,"
			  "version=v1.21.2-13+d2965f0db10712 status_condition=1i,ready=1i"));
	CHECK(has_line(t, "kubernetes_node,condition=MemoryPressure,node_name=duckboat-01,status=False,"
			  "version=v1.21.2-13+d2965f0db10712 status_condition=0i,ready=0i"));
	CHECK(has_line(t, "kubernetes_node node_count=2i"));
	CHECK_INT(lp_count(t, "kubernetes_node"), 1);

	/* Deployments: the real coredns one and Telegraf's example. */
	CHECK(has_line(t, "kubernetes_deployment,deployment_name=coredns,namespace=kube-system "
			  "replicas_available=2i,replicas_unavailable=0i,created=1781496885000000000i"));
	CHECK(has_line(t, "kubernetes_deployment,deployment_name=deployd,namespace=default,selector_select1=s1 "
			  "replicas_available=1i,replicas_unavailable=0i,created=1544103082000000000i"));
	CHECK(has_line(t, "kubernetes_daemonset,daemonset_name=telegraf,namespace=logging,selector_select1=s1 "
			  "generation=16i,current_number_scheduled=11i,desired_number_scheduled=11i,number_available=11i,"
			  "number_misscheduled=8i,number_ready=11i,number_unavailable=0i,updated_number_scheduled=11i,"
			  "created=1527758699000000000i"));
	CHECK(has_line(t, "kubernetes_statefulset,namespace=default,selector_select1=s1,statefulset_name=etcd "
			  "created=1544101669000000000i,generation=1i,replicas=3i,replicas_current=3i,replicas_ready=3i,"
			  "replicas_updated=3i,observed_generation=1i,spec_replicas=3i"));

	/* Pod containers: requests/limits, restarts, states, node selectors as tags. */
	CHECK(has_line(t, "kubernetes_pod_container,container_name=speaker,image=metallb/speaker,namespace=metallb-system,"
			  "node_name=duckboat-01,node_selector_beta.kubernetes.io/os=linux,phase=Running,"
			  "pod_name=speaker-cpxhz,readiness=ready,state=running,version=v0.9.3 restarts_total=54i,state_code=0i,"
			  "resource_requests_millicpu_units=100i,resource_requests_memory_bytes=104857600i,"
			  "resource_limits_millicpu_units=100i,resource_limits_memory_bytes=104857600i"));
	CHECK(has_line(t, "kubernetes_pod_container,container_name=alpine,image=docker.io/library/alpine,namespace=scraper,"
			  "node_name=datagen-1-35,phase=Running,pod_name=e2e-container-creating,readiness=unready,state=terminated,"
			  "version=3.22.1 "
			  "restarts_total=2i,state_code=1i,terminated_reason=\"Completed\",state_reason=\"Completed\","
			  "resource_requests_millicpu_units=5i,resource_requests_memory_bytes=5000000i,"
			  "resource_limits_millicpu_units=5i,resource_limits_memory_bytes=5000000i"));
	CHECK(has_line(t, "kubernetes_pod_container,container_name=calico-node,image=calico/node,namespace=kube-system,"
			  "node_name=duckboat-01,phase=Running,pod_name=calico-node-h2bjp,readiness=ready,state=running,"
			  "version=v3.13.2 restarts_total=28i,state_code=0i,resource_requests_millicpu_units=250i"));
	/* One point per pod condition and container (Telegraf >= 1.27): image/version, no phase. */
	CHECK(has_line(t, "kubernetes_pod_container,condition=Ready,container_name=alpine,image=docker.io/library/alpine,"
			  "namespace=scraper,node_name=datagen-1-35,pod_name=e2e-container-creating,status=False,"
			  "version=3.22.1 status_condition=0i,ready=0i"));
	CHECK(has_line(t, "kubernetes_pod_container,condition=Ready,container_name=speaker,image=metallb/speaker,"
			  "namespace=metallb-system,node_name=duckboat-01,pod_name=speaker-cpxhz,status=True,"
			  "version=v0.9.3 status_condition=1i,ready=1i"));
	CHECK(has_line(t, "kubernetes_pod_container,condition=PodScheduled,container_name=speaker,image=metallb/speaker,"
			  "namespace=metallb-system,node_name=duckboat-01,pod_name=speaker-cpxhz,status=True,"
			  "version=v0.9.3 status_condition=1i,ready=0i"));
	CHECK(has_line(t, "kubernetes_pod_container,container_name=plain,image=busybox,namespace=images,node_name=duckboat-02,"
			  "phase=Failed,pod_name=split-image,readiness=unready,state=terminated restarts_total=1i,state_code=1i,"
			  "terminated_reason=\"Error\",state_reason=\"Error\",resource_limits_millicpu_units=1000i,"
			  "resource_limits_memory_bytes=1073741824i"));
	CHECK(has_line(t, "kubernetes_pod_container,container_name=ported,image=registry.local,namespace=images,"
			  "node_name=duckboat-02,phase=Failed,pod_name=split-image,readiness=unready,state=unknown "
			  "restarts_total=0i,state_code=3i"));
	CHECK(has_line(t, "kubernetes_pod_container,condition=Ready,container_name=plain,image=busybox,namespace=images,"
			  "node_name=duckboat-02,pod_name=split-image,status=False status_condition=0i,ready=0i"));
	CHECK_INT(container_points(t), 38); /* 12 honeycomb + 24 minikube + 2 split-image spec containers */
	CHECK_INT(count_of(t, "kubernetes_pod_container,condition="), 170); /* 12 x 4 honeycomb, 24 x 5 minikube, 2 x 1 */
	int deployments = 0;
	for (const char *p = t; (p = strstr(p, "kubernetes_deployment,")); p++)
		deployments++;
	CHECK_INT(deployments, 2);

	/* 36 pods in pages of 5: 8 requests, 7 with a continue token. */
	CHECK_INT(requests_to("/api/v1/pods", "limit=5"), 8);
	CHECK_INT(requests_to("/api/v1/pods", "continue="), 7);

	/* A second gather gives the same lines (state reused, nothing left over). */
	struct acc *b = gather(s);
	CHECK_INT((int)strlen(hg_acc_capture_text(b)), (int)strlen(t));
	hg_acc_capture_free(b);
	hg_acc_capture_free(a);
	stop(s);
	free(cfg);
}

static void test_filters(void)
{
	void *cfg = config();
	static char *only[] = { "pods", "nodes", NULL };
	config_list(&hg_input_kube_inventory, cfg, "resource_include", only);
	set_str(cfg, "namespace", "kube-system");
	set_str(cfg, "node_name", "duckboat-01");
	void *s = start(cfg);
	struct acc *a = gather(s);
	const char *t = hg_acc_capture_text(a);
	CHECK_STR(hg_acc_capture_errors(a), "");
	CHECK(strstr(t, "kubernetes_deployment") == NULL);
	CHECK(strstr(t, "kubernetes_statefulset") == NULL);
	CHECK(strstr(t, "duckboat-02") == NULL);
	CHECK(has_line(t, "kubernetes_node node_count=1i"));
	/* kube-system pods on duckboat-01: kube-proxy and calico-node; default selector_exclude ["*"]: no selector tags. */
	CHECK_INT(container_points(t), 2);
	CHECK(strstr(t, "node_selector_") == NULL);
	CHECK(requests_to("/api/v1/namespaces/kube-system/pods", "fieldSelector=spec.nodeName%3Dduckboat-01") >= 1);
	hg_acc_capture_free(a);
	stop(s);

	static char *bad[] = { "pods", "configmapz", NULL };
	config_list(&hg_input_kube_inventory, cfg, "resource_include", bad);
	void *st = NULL;
	char err[256] = "";
	struct plugin_env env = { .loop = &loop };
	CHECK_INT(hg_input_kube_inventory.init(&st, cfg, &env, err, sizeof err), -1);
	CHECK(strstr(err, "configmapz") != NULL);
	free(cfg);
}

static void test_forbidden(void)
{
	CHECK_INT(ks_control(&ks, "/_control/fail",
			     "{\"method\":\"GET\",\"path\":\"/apis/apps/v1/statefulsets\",\"code\":403,\"reason\":\"Forbidden\","
			     "\"message\":\"statefulsets.apps is forbidden: User \\\"system:serviceaccount:monitoring:heliograph-agent\\\" "
			     "cannot list resource \\\"statefulsets\\\" in API group \\\"apps\\\" at the cluster scope\",\"times\":1}"),
		  200);
	void *cfg = config();
	void *s = start(cfg);
	struct acc *a = gather(s);
	const char *e = hg_acc_capture_errors(a);
	CHECK(strstr(e, "403") != NULL);
	CHECK(strstr(e, "cannot list resource \"statefulsets\"") != NULL);
	CHECK(strstr(e, "{apiGroups: [\"apps\"], resources: [\"statefulsets\"], verbs: [\"list\"]} in a ClusterRole") != NULL);
	/* The other resources are still reported. */
	CHECK(strstr(hg_acc_capture_text(a), "kubernetes_daemonset,") != NULL);
	CHECK(strstr(hg_acc_capture_text(a), "kubernetes_statefulset,") == NULL);
	hg_acc_capture_free(a);
	stop(s);
	free(cfg);
}

static void test_leader_election(void)
{
	void *cfg = config();
	config_bool(&hg_input_kube_inventory, cfg, "leader_election", true);
	set_str(cfg, "lease_namespace", "kt");
	set_str(cfg, "identity", "agent-a");
	set_int(cfg, "lease_duration", 2000000000LL);
	void *a = start(cfg);
	set_str(cfg, "identity", "agent-b");
	void *b = start(cfg);
	uint64_t end = uv_now(&loop) + 5000;
	while (!hg_kube_inventory_leader(a) && !hg_kube_inventory_leader(b) && uv_now(&loop) < end) {
		uv_run(&loop, UV_RUN_ONCE);
		uv_update_time(&loop);
	}
	if (hg_kube_inventory_leader(b)) { /* whichever won: call it a */
		void *t = a;
		a = b;
		b = t;
	}
	run_until(never, NULL, true, 1.0); /* the loser has polled the Lease since */
	CHECK(hg_kube_inventory_leader(a));
	CHECK(!hg_kube_inventory_leader(b));
	struct acc *ga = gather(a), *gb = gather(b);
	CHECK(strstr(hg_acc_capture_text(ga), "kubernetes_node node_count=2i") != NULL);
	CHECK_STR(hg_acc_capture_text(gb), ""); /* not the leader: gathers nothing */
	hg_acc_capture_free(ga);
	hg_acc_capture_free(gb);
	/* a stops and hands the Lease over: b takes it. */
	stop(a);
	run_until(hg_kube_inventory_leader, b, true, 5);
	CHECK(hg_kube_inventory_leader(b));
	stop(b);
	free(cfg);
}

static void test_schema(void)
{
	void *cfg = config();
	void *s = start(cfg);
	struct acc *a = gather(s);
	struct schema got = { 0 }, readme = { 0 };
	schema_from_lp(&got, hg_acc_capture_text(a));
	CHECK_INT(schema_from_readme(&readme, "../plugins/inputs/kube_inventory/README.md", "terminated untagged_image"), 0);
	CHECK_INT(schema_diff(&readme, &got), 0);
	hg_acc_capture_free(a);
	stop(s);
	free(cfg);
}

/* ---- a LIST interrupted between or inside pages ---- */

static void *pods_in_pages(int64_t timeout_ns)
{
	void *cfg = config();
	static char *pods[] = { "pods", NULL };
	config_list(&hg_input_kube_inventory, cfg, "resource_include", pods);
	set_int(cfg, "page_size", 5);
	set_int(cfg, "response_timeout", timeout_ns);
	void *s = start(cfg);
	free(cfg);
	return s;
}

/* A gather whose second page is held at the server until the test has
 * compacted it, so its continue token has expired when it is served. */
static struct acc *gather_across_expiry(void *s, const char *hold)
{
	int before = requests_to("/api/v1/pods", "continue=");
	char rule[256], release[64];
	snprintf(rule, sizeof rule, "{\"method\":\"GET\",\"path\":\"/api/v1/pods\",\"query\":\"continue=\",\"hold\":\"%s\",\"times\":1}",
		 hold);
	snprintf(release, sizeof release, "{\"hold\":\"%s\"}", hold); /* a released name stays released */
	CHECK_INT(ks_control(&ks, "/_control/fail", rule), 200);
	struct acc *a = hg_acc_capture_new();
	CHECK_INT(hg_input_kube_inventory.gather(s, a), GATHER_PENDING);
	uint64_t end = uv_now(&loop) + 20000;
	while (requests_to("/api/v1/pods", "continue=") == before && uv_now(&loop) < end) {
		uv_run(&loop, UV_RUN_NOWAIT); /* page 1 goes out, page 2 is asked for */
		uv_update_time(&loop);
	}
	CHECK_INT(ks_control(&ks, "/_control/compact", ""), 200);
	CHECK_INT(ks_control(&ks, "/_control/release", release), 200);
	run_until(hg_kube_inventory_busy, s, false, 20);
	CHECK(!hg_kube_inventory_busy(s));
	CHECK_INT(ks_control(&ks, "/_control/fail", "[]"), 200);
	return a;
}

static void test_continue_expired(void)
{
	void *s = pods_in_pages(5000000000LL);
	struct acc *ref = gather(s);
	CHECK_STR(hg_acc_capture_errors(ref), "");
	int nref;
	char *want = series(hg_acc_capture_text(ref), &nref, NULL);
	CHECK_INT(nref, 208); /* per container of the 36 pods one line (38), and one per pod condition and container (170) */
	CHECK_INT(duplicates(want), 0);

	/* An etcd3 server's 410 offers a token for the rest: taken, nothing twice. */
	int first_pages = requests_to("/api/v1/pods", "limit=5") - requests_to("/api/v1/pods", "continue=");
	struct acc *a = gather_across_expiry(s, "page2-token");
	CHECK_STR(hg_acc_capture_errors(a), "");
	int n;
	char *got = series(hg_acc_capture_text(a), &n, NULL);
	CHECK_INT(n, nref);
	CHECK_STR(got, want);
	CHECK_INT(requests_to("/api/v1/pods", "limit=5") - requests_to("/api/v1/pods", "continue="), first_pages + 1);
	free(got);
	hg_acc_capture_free(a);

	/* A server offering no token: listed again, the first page skipped. */
	CHECK_INT(ks_control(&ks, "/_control/list", "{\"inconsistent_continue\":false}"), 200);
	first_pages = requests_to("/api/v1/pods", "limit=5") - requests_to("/api/v1/pods", "continue=");
	a = gather_across_expiry(s, "page2-relist");
	CHECK_STR(hg_acc_capture_errors(a), "");
	got = series(hg_acc_capture_text(a), &n, NULL);
	CHECK_INT(n, nref);
	CHECK_STR(got, want);
	/* the list started twice: the first page was read again */
	CHECK_INT(requests_to("/api/v1/pods", "limit=5") - requests_to("/api/v1/pods", "continue="), first_pages + 2);
	CHECK_INT(ks_control(&ks, "/_control/list", "{\"inconsistent_continue\":true}"), 200);
	free(got);
	free(want);
	hg_acc_capture_free(a);
	hg_acc_capture_free(ref);
	stop(s);
}

/* The second page's body breaks off after 300 bytes (cut, or stalled past
 * response_timeout): the error names the transport failure and what was
 * reported before it, not the JSON left unfinished. */
static void test_body_broken_off(void)
{
	void *s = pods_in_pages(5000000000LL);
	CHECK_INT(ks_control(&ks, "/_control/fail", "{\"method\":\"GET\",\"path\":\"/api/v1/pods\",\"query\":\"continue=\","
						 "\"cut\":300,\"times\":1}"),
		  200);
	struct acc *a = gather(s);
	const char *e = hg_acc_capture_errors(a);
	CHECK(strstr(e, "list pods: the response of https://127.0.0.1:") != NULL);
	CHECK(strstr(e, "broke off after 300 bytes") != NULL);
	CHECK(strstr(e, "(5 pods reported before it, the rest are missing from this gather)") != NULL);
	CHECK(strstr(e, "not JSON") == NULL);
	CHECK(strchr(e, '\n') == strrchr(e, '\n')); /* one error */
	int n;
	free(series(hg_acc_capture_text(a), &n, NULL));
	CHECK(n >= 5 && n < 208); /* the first page's pods went out */
	hg_acc_capture_free(a);
	stop(s);

	s = pods_in_pages(1000000000LL);
	CHECK_INT(ks_control(&ks, "/_control/fail", "{\"method\":\"GET\",\"path\":\"/api/v1/pods\",\"query\":\"continue=\","
						 "\"cut\":300,\"cut_hold\":\"stall\",\"times\":1}"),
		  200);
	a = gather(s);
	e = hg_acc_capture_errors(a);
	CHECK(strstr(e, "broke off after 300 bytes") != NULL);
	CHECK(strstr(e, "timed out") != NULL);
	CHECK(strstr(e, "(5 pods reported before it") != NULL);
	CHECK(strstr(e, "not JSON") == NULL);
	CHECK_INT(ks_control(&ks, "/_control/release", "{\"hold\":\"stall\"}"), 200);
	CHECK_INT(ks_control(&ks, "/_control/fail", "[]"), 200);
	hg_acc_capture_free(a);
	stop(s);
}

/* A creationTimestamp past 2262 overflowed int64 ns (found by
 * fuzz_kube_inventory): it is read as absent. */
static void test_far_future_time(void)
{
	struct ki_obj o;
	hg_ki_obj_init(&o, KI_DEPLOYMENTS);
	const char *far = "2420-03-31T00:00:00Z", *ok = "2018-05-31T09:24:59Z";
	hg_ki_obj_value(&o, "metadata.creationTimestamp", KS_STRING, far, strlen(far), -1);
	CHECK_INT(o.created_ns, 0);
	hg_ki_obj_value(&o, "metadata.creationTimestamp", KS_STRING, ok, strlen(ok), -1);
	CHECK_INT(o.created_ns, 1527758699000000000LL);
	hg_ki_obj_free(&o);
}

static int suite_setup(void)
{
	uv_loop_init(&loop);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (ks_start(&ks, "tok", "ro") != 0) {
		fprintf(stderr, "cannot start the test API server\n");
		return 2;
	}
	kubeconfig = strdup(ks_kubeconfig(&ks, "kc.yaml", "    token: tok"));
	seed_file("k8s-api/misc/honeycomb-baremetal-nodelist.json");
	seed_file("k8s-api/deployments/kind-v1.36-deploymentlist-kube-system.json");
	seed_file("kubelet-pods/honeycomb-baremetal-docker-calico-pods.json");
	seed_file("kubelet-pods/nri-minikube-k8s1.35-containerd2.2-pods.json");
	CHECK_INT(ks_control(&ks, "/_control/objects", telegraf_example_objects), 200);
	CHECK_INT(ks_control(&ks, "/_control/objects", split_image_pod), 200);
	CHECK_INT(ks_control(&ks, "/_control/objects", "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"kt\"}}"),
		  200);
	return 0;
}

static void suite_teardown(void)
{
	ks_stop(&ks);
	free((void *)kubeconfig);
	uv_loop_close(&loop);
	curl_global_cleanup();
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_all_resources),
		CHECK_CASE(test_filters),
		CHECK_CASE(test_forbidden),
		CHECK_CASE(test_leader_election),
		CHECK_CASE(test_schema),
		CHECK_CASE(test_continue_expired),
		CHECK_CASE(test_body_broken_off),
		CHECK_CASE(test_far_future_time),
	};
	return CHECK_RUN_WITH(argc, argv, cases, suite_setup, suite_teardown);
}
