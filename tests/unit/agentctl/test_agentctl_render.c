/* agentctl render and k8s-manifests: the files are the render of the
 * defaults; every rendered document is valid for its kind (a schema check of
 * the kinds used); the DaemonSet's agent pod meets the restricted Pod
 * Security Standard but for its documented exceptions; the agent's config
 * loads with the agent's own loader; malformed markers are refused; the
 * dashboards ConfigMap holds the dashboards. */
#include "render_schema.h"

/* The files in k8s-manifests are the render of the defaults, byte for byte,
 * and agentctl embeds exactly those files. */
static void test_files_in_sync(void)
{
	struct render_params rp = {0};
	char err[512];
	size_t ondisk = 0;
	DIR *dir = opendir(HG_SOURCE_DIR "/k8s-manifests");
	CHECK(dir != NULL);
	for (struct dirent *e; dir && (e = readdir(dir));) {
		size_t nl = strlen(e->d_name);
		if (nl < 5 || strcmp(e->d_name + nl - 5, ".yaml") != 0)
			continue;
		ondisk++;
		bool embedded = false;
		for (size_t i = 0; i < hg_embedded_manifests_count; i++)
			embedded |= strcmp(hg_embedded_manifests[i].name, e->d_name) == 0;
		if (!embedded)
			fprintf(stderr, "k8s-manifests/%s is not embedded (rebuild agentctl)\n", e->d_name);
		CHECK(embedded);
	}
	if (dir)
		closedir(dir);
	CHECK_INT(ondisk, hg_embedded_manifests_count);
	CHECK(hg_embedded_manifests_count >= 6);
	for (size_t i = 0; i < hg_embedded_manifests_count; i++) {
		char p[512];
		size_t len = 0;
		snprintf(p, sizeof p, "%s/k8s-manifests/%s", HG_SOURCE_DIR, hg_embedded_manifests[i].name);
		char *disk = read_file(p, &len);
		CHECK(disk != NULL);
		if (!disk)
			continue;
		CHECK(len == hg_embedded_manifests[i].len && memcmp(disk, hg_embedded_manifests[i].data, len) == 0);
		struct strbuf out = {0};
		CHECK_INT(hg_render_text(&rp, hg_embedded_manifests[i].name, disk, len, &out, err, sizeof err), 0);
		bool same = out.len == len && memcmp(out.p, disk, len) == 0;
		if (!same)
			fprintf(stderr, "render of the defaults differs from k8s-manifests/%s\n", hg_embedded_manifests[i].name);
		CHECK(same);
		hg_strbuf_free(&out);
		free(disk);
	}
}

static void test_daemonset(void)
{
	struct stream *s = &rendered;
	int i = find_doc(s, "DaemonSet", "heliograph-agent");
	CHECK(i >= 0);
	if (i < 0)
		return;
	yaml_document_t *d = &s->doc[i];
	node *r = yaml_document_get_root_node(d), *spec = path(d, r, "spec.template.spec");
	/* Restricted but for hostNetwork, the three read-only hostPath volumes,
	 * the disk buffer's writable one (mounted by the agent and by
	 * spool-owner) and spool-owner (root, runAsNonRoot false, CHOWN). */
	fprintf(stderr, "(expected: hostNetwork, spool-owner's three and two writable mounts; then those and four hostPath violations follow)\n");
	CHECK_INT(restricted_violations(d, spec, ds_paths, 4), 6);
	CHECK_INT(restricted_violations(d, spec, NULL, 0), 10);
	/* spool-owner: the disk buffer's directory to the agent's user, nothing else mounted. */
	CHECK_INT(seq_len(get(d, spec, "initContainers")), 1);
	node *own = check_owner_init(d, spec, "spool-owner");
	if (own) {
		CHECK_INT(seq_len(get(d, own, "volumeMounts")), 1);
		const char *dir = mount_of(d, own, "agent-spool");
		node *cmd = get(d, own, "command");
		const char *script = str(item(d, cmd, seq_len(cmd) - 1));
		char want[160];
		snprintf(want, sizeof want, "chown %s:%s %s", pstr(d, spec, "securityContext.runAsUser"),
			 pstr(d, spec, "securityContext.runAsGroup"), dir ? dir : "?");
		CHECK(dir && script && strstr(script, want) != NULL && strstr(script, "stat -c %u:%g") != NULL);
		CHECK(strncmp(pstr(d, own, "image"), "docker.io/library/busybox:", 26) == 0);
	}
	/* No pod IP; the cluster DNS still resolves the influxdb Service. */
	CHECK(is_true(get(d, spec, "hostNetwork")));
	CHECK_STR(pstr(d, spec, "dnsPolicy"), "ClusterFirstWithHostNet");
	CHECK_STR(str(get(d, get(d, spec, "nodeSelector"), "kubernetes.io/os")), "linux");
	/* It preempts a movable lower-priority pod (a coredns replica) on a full node. */
	CHECK_STR(pstr(d, spec, "priorityClassName"), "system-node-critical");
	/* It skips the stack node: one required term, heliograph.io/stack DoesNotExist. */
	node *terms = path(d, spec, "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms");
	CHECK_INT(seq_len(terms), 1);
	node *me = get(d, item(d, terms, 0), "matchExpressions");
	CHECK_INT(seq_len(me), 1);
	CHECK_STR(pstr(d, item(d, me, 0), "key"), "heliograph.io/stack");
	CHECK_STR(pstr(d, item(d, me, 0), "operator"), "DoesNotExist");
	CHECK(get(d, item(d, me, 0), "values") == NULL);
	node *c = container(d, r, "agent");
	CHECK(c != NULL);
	CHECK(is_true(path(d, c, "securityContext.readOnlyRootFilesystem")));
	CHECK(is_true(path(d, spec, "securityContext.runAsNonRoot")));
	CHECK(quantity(pstr(d, c, "resources.limits.memory")) <= 32.0 * 1048576);
	CHECK_STR(pstr(d, env_of(d, c, "HOST_PROC"), "value"), host_mount(d, r, c, "/proc"));
	CHECK_STR(pstr(d, env_of(d, c, "HOST_SYS"), "value"), host_mount(d, r, c, "/sys"));
	CHECK_STR(pstr(d, env_of(d, c, "HOST_MOUNT_PREFIX"), "value"), host_mount(d, r, c, "/"));
	CHECK_STR(pstr(d, env_of(d, c, "NODE_NAME"), "valueFrom.fieldRef.fieldPath"), "spec.nodeName");
	CHECK_STR(pstr(d, env_of(d, c, "NODE_IP"), "valueFrom.fieldRef.fieldPath"), "status.hostIP");
	/* Every node: a toleration with operator Exists, no key and no effect. */
	node *tol = get(d, spec, "tolerations");
	bool every = false;
	for (int j = 0; j < seq_len(tol); j++) {
		node *t = item(d, tol, j);
		every |= pstr(d, t, "operator") && strcmp(pstr(d, t, "operator"), "Exists") == 0 && !get(d, t, "key") &&
			 !get(d, t, "effect");
	}
	CHECK(every);
	CHECK_STR(pstr(d, c, "livenessProbe.httpGet.path"), "/healthz");
	CHECK_STR(pstr(d, c, "readinessProbe.httpGet.path"), "/healthz");
	/* The health port is the only port, and no hostPort is written (on
	 * hostNetwork the containerPort is the node's port). */
	CHECK_INT(seq_len(get(d, c, "ports")), 1);
	CHECK(get(d, item(d, get(d, c, "ports"), 0), "hostPort") == NULL);
	/* The automounted token (serviceAccountName, default automount). */
	CHECK_STR(pstr(d, spec, "serviceAccountName"), "heliograph-agent");
	CHECK(get(d, spec, "automountServiceAccountToken") == NULL);
}

/* The agent's config loads with the agent's own loader; health_listen is the
 * port the probes use. */
static void test_agent_config(void)
{
	struct stream *s = &rendered;
	int i = find_doc(s, "ConfigMap", "heliograph-agent");
	CHECK(i >= 0);
	if (i < 0)
		return;
	yaml_document_t *d = &s->doc[i];
	/* path() splits on dots: look the key up directly. */
	const char *yaml = str(get(d, get(d, yaml_document_get_root_node(d), "data"), "heliograph.yaml"));
	CHECK(yaml != NULL);
	if (!yaml)
		return;
	setenv("NODE_NAME", "node-1", 1);
	setenv("NODE_IP", "10.0.0.1", 1);
	setenv("INFLUXDB_USER", "agent", 1);
	setenv("INFLUXDB_PASSWORD", "secret", 1);
	struct agent_config cfg;
	memset(&cfg, 0, sizeof cfg);
	char err[512] = "";
	int rc = hg_config_load_buffer(&cfg, "heliograph.yaml", yaml, strlen(yaml), err, sizeof err);
	if (rc != 0)
		fprintf(stderr, "agent config: %s\n", err);
	CHECK_INT(rc, 0);
	if (rc != 0)
		return;
	CHECK_STR(cfg.hostname, "node-1");
	CHECK_STR(cfg.health_listen, ":8275");
	static const char *const want[] = {"cpu",  "mem",  "swap",   "system",   "kernel",
					   "disk", "diskio", "net", "processes", "internal", "kubernetes",
					   "deploy_events", "kube_inventory"};
	for (size_t w = 0; w < sizeof want / sizeof *want; w++) {
		bool found = false;
		for (size_t k = 0; k < cfg.ninputs; k++)
			found |= strcmp(cfg.inputs[k].plugin->name, want[w]) == 0;
		if (!found)
			fprintf(stderr, "input %s missing from the agent config\n", want[w]);
		CHECK(found);
	}
	CHECK_INT(cfg.noutputs, 1);
	char spool[256] = "";
	if (cfg.noutputs == 1) {
		CHECK_STR(cfg.outputs[0].plugin->name, "influxdb");
		/* A disk buffer within what a 20 GiB node spares (41-agent-config.yaml). */
		const struct output_buffer_cfg *b = &cfg.outputs[0].common.buffer;
		CHECK_STR(b->type, "disk");
		CHECK(b->max_size > 0 && b->max_size <= 256ull << 20);
		snprintf(spool, sizeof spool, "%s", b->path ? b->path : "");
	}
	hg_config_free(&cfg);
	/* Both agents mount a hostPath of their own, writable, at buffer.path:
	 * /var/lib/heliograph/NAMESPACE/agent-spool and .../stack-agent-spool. */
	const char *const spool_dirs[] = {"/var/lib/heliograph/monitoring/agent-spool",
					  "/var/lib/heliograph/monitoring/stack-agent-spool"};
	/* The probes' port is the one health_listen opens, in both pods. */
	const char *const pods[][2] = {{"DaemonSet", "heliograph-agent"}, {"Deployment", "heliograph-stack"}};
	for (int k = 0; k < 2; k++) {
		int ds = find_doc(s, pods[k][0], pods[k][1]);
		CHECK(ds >= 0);
		if (ds < 0)
			continue;
		yaml_document_t *dd = &s->doc[ds];
		node *c = container(dd, yaml_document_get_root_node(dd), "agent");
		CHECK_STR(pstr(dd, item(dd, get(dd, c, "ports"), 0), "containerPort"), "8275");
		CHECK_STR(pstr(dd, c, "livenessProbe.httpGet.port"), pstr(dd, item(dd, get(dd, c, "ports"), 0), "name"));
		CHECK_STR(mount_of(dd, c, "agent-spool"), spool);
		node *vols = path(dd, yaml_document_get_root_node(dd), "spec.template.spec.volumes");
		CHECK_STR(pstr(dd, named(dd, vols, "agent-spool"), "hostPath.path"), spool_dirs[k]);
		CHECK_STR(pstr(dd, named(dd, vols, "agent-spool"), "hostPath.type"), "DirectoryOrCreate");
		node *vm = get(dd, c, "volumeMounts");
		for (int j = 0; j < seq_len(vm); j++)
			if (strcmp(pstr(dd, item(dd, vm, j), "name"), "agent-spool") == 0)
				CHECK(!is_true(get(dd, item(dd, vm, j), "readOnly")));
	}
}

/* Markers that would substitute nothing, or not what they say, are errors. */
static void test_marker_errors(void)
{
	static const struct {
		const char *text, *why;
	} bad[] = {
		{"a: b # agentctl:nope\n", "unknown parameter"},
		{"namespace: other # agentctl:namespace\n", "default 'monitoring'"},
		{"size: 15Gi # agentctl:influxdb-size\n", "default '5Gi'"},
		{"x: y # agentctl:storage-class\n", "no default"},
		{"# agentctl:namespace? namespace: @VALUE@\n", "has a default"},
		{"  # agentctl:storage-class? storageClassName: x\n", "@VALUE@"},
		{"a: monitoring # agentctl:namespace extra\n", "unexpected text"},
		{"a: monitoring# agentctl:namespace\n", "after a space"},
	};
	struct render_params rp = {0};
	for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
		struct strbuf out = {0};
		char err[256] = "";
		int rc = hg_render_text(&rp, "t.yaml", bad[k].text, strlen(bad[k].text), &out, err, sizeof err);
		if (rc == 0 || !strstr(err, bad[k].why) || strncmp(err, "t.yaml:1: ", 10) != 0)
			fprintf(stderr, "marker case %zu: rc %d, '%s'\n", k, rc, err);
		CHECK(rc < 0 && strstr(err, bad[k].why) && strncmp(err, "t.yaml:1: ", 10) == 0);
		hg_strbuf_free(&out);
	}
	/* A file without a final newline keeps it missing; lines without markers pass through. */
	struct strbuf out = {0};
	char err[256];
	const char *txt = "a: 1\nns: monitoring # agentctl:namespace";
	CHECK_INT(hg_render_text(&rp, "t.yaml", txt, strlen(txt), &out, err, sizeof err), 0);
	CHECK_STR(out.p, txt);
	hg_strbuf_free(&out);
}

/* The dashboards ConfigMap carries any JSON text exactly. */
static void test_dashboards(void)
{
	static const char j1[] = "{\n  \"title\": \"Nodes \\\"all\\\"\",\n\t\"x\": \"caf\xc3\xa9 \xe2\x86\x92\"  \n}\n";
	static const char j2[] = "{\"compact\":true,\"a\":\"# not a comment\",\"b\":\"key: value\"}";
	struct render_dashboard d[] = {{"nodes.json", j1, sizeof j1 - 1}, {"agent-self.json", j2, sizeof j2 - 1}};
	struct render_params rp = {0};
	rp.value[RP_NAMESPACE] = "obs";
	struct strbuf out = {0};
	char err[256];
	CHECK_INT(hg_render_dashboards(&rp, d, 2, &out, err, sizeof err), 0);
	struct stream s;
	char *copy = strdup(out.p ? out.p : "");
	CHECK(parse_stream(&s, copy) == 0 && s.n == 1);
	if (s.n == 1) {
		check_schema(&s, "obs");
		node *data = get(&s.doc[0], yaml_document_get_root_node(&s.doc[0]), "data");
		CHECK_STR(str(get(&s.doc[0], data, "nodes.json")), j1);
		CHECK_STR(str(get(&s.doc[0], data, "agent-self.json")), j2);
	}
	free_stream(&s);
	hg_strbuf_free(&out);

	struct render_dashboard badkey[] = {{"my dash.json", j2, sizeof j2 - 1}};
	CHECK(hg_render_dashboards(&rp, badkey, 1, &out, err, sizeof err) < 0 && strstr(err, "my dash.json"));
	hg_strbuf_free(&out);
	static const char notutf8[] = "{\"a\":\"\xff\xfe\"}";
	struct render_dashboard badutf[] = {{"x.json", notutf8, sizeof notutf8 - 1}};
	CHECK(hg_render_dashboards(&rp, badutf, 1, &out, err, sizeof err) < 0 && strstr(err, "grafana-dashboards"));
	hg_strbuf_free(&out);
	/* None yet: an empty data map, still a valid ConfigMap. */
	CHECK_INT(hg_render_dashboards(&rp, NULL, 0, &out, err, sizeof err), 0);
	copy = strdup(out.p);
	CHECK(parse_stream(&s, copy) == 0 && s.n == 1);
	if (s.n == 1)
		check_schema(&s, "obs");
	free_stream(&s);
	hg_strbuf_free(&out);
}

static void test_schema(void)
{
	check_schema(&rendered, "monitoring");
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_files_in_sync),
		CHECK_CASE(test_marker_errors),
		CHECK_CASE(test_dashboards),
		CHECK_CASE(test_schema),
		CHECK_CASE(test_daemonset),
		CHECK_CASE(test_agent_config),
	};
	return CHECK_RUN_WITH(argc, argv, cases, render_suite_setup, render_suite_teardown);
}
