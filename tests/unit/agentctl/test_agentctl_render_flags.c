/* agentctl render: each flag changes what it should and nothing else; the
 * generated storage documents hold what the flags say; the NetworkPolicy
 * holds the addresses it is given. */
#include "render_schema.h"

static void test_flags(void)
{
	const char *def = rendered_text;
	struct stream s;
	char *t;

	/* --namespace: every namespaced object, the Namespace, the bindings'
	 * subjects and the generated ConfigMap; nothing else. */
	t = render_with("namespace", "obs");
	CHECK(t && changed_lines(def, t) == count(def, "# agentctl:namespace") + 1);
	if (t && parse_stream(&s, t) == 0) {
		check_schema(&s, "obs");
		free_stream(&s);
	}

	t = render_with("storage-class", "gp3");
	CHECK(t && changed_lines(def, t) == 2 && count(t, "\n  storageClassName: gp3\n") == 2);
	CHECK(strstr(def, "\n  storageClassName:") == NULL);
	if (t && parse_stream(&s, t) == 0) {
		check_schema(&s, "monitoring");
		for (int k = 0; k < 2; k++) {
			const char *pvc = k ? "grafana-data" : "influxdb-data";
			int i = find_doc(&s, "PersistentVolumeClaim", pvc);
			CHECK(i >= 0 && pstr(&s.doc[i], yaml_document_get_root_node(&s.doc[i]), "spec.storageClassName") &&
			      strcmp(pstr(&s.doc[i], yaml_document_get_root_node(&s.doc[i]), "spec.storageClassName"), "gp3") == 0);
		}
		free_stream(&s);
	}

	t = render_with("influxdb-size", "20Gi");
	CHECK(t && changed_lines(def, t) == 1);
	if (t && parse_stream(&s, t) == 0) {
		int i = find_doc(&s, "PersistentVolumeClaim", "influxdb-data"), g = find_doc(&s, "PersistentVolumeClaim", "grafana-data");
		CHECK_STR(pstr(&s.doc[i], yaml_document_get_root_node(&s.doc[i]), "spec.resources.requests.storage"), "20Gi");
		CHECK_STR(pstr(&s.doc[g], yaml_document_get_root_node(&s.doc[g]), "spec.resources.requests.storage"), "1Gi");
		free_stream(&s);
	}
	t = render_with("grafana-size", "2Gi");
	CHECK(t && changed_lines(def, t) == 1);
	if (t && parse_stream(&s, t) == 0) {
		int i = find_doc(&s, "PersistentVolumeClaim", "influxdb-data"), g = find_doc(&s, "PersistentVolumeClaim", "grafana-data");
		CHECK_STR(pstr(&s.doc[i], yaml_document_get_root_node(&s.doc[i]), "spec.resources.requests.storage"), "5Gi");
		CHECK_STR(pstr(&s.doc[g], yaml_document_get_root_node(&s.doc[g]), "spec.resources.requests.storage"), "2Gi");
		free_stream(&s);
	}

	/* --retention, with the shard duration InfluxDB would pick; "21d" keeps
	 * its "1d" (whole tokens only). */
	static const struct {
		const char *ret, *iql;
	} rets[] = {
		{"12h", "DURATION 12h SHARD DURATION 1h DEFAULT"}, {"21d", "DURATION 21d SHARD DURATION 1d DEFAULT"},
		{"1d", "DURATION 1d SHARD DURATION 1h DEFAULT"},   {"52w", "DURATION 52w SHARD DURATION 7d DEFAULT"},
		{"INF", "DURATION INF SHARD DURATION 7d DEFAULT"},
	};
	for (size_t k = 0; k < sizeof rets / sizeof *rets; k++) {
		t = render_with("retention", rets[k].ret);
		CHECK(t && changed_lines(def, t) == 2); /* the statement, and the value for the set-up's report */
		if (t && parse_stream(&s, t) == 0) {
			int i = find_doc(&s, "ConfigMap", "influxdb-init");
			const char *iql = str(get(&s.doc[i], path(&s.doc[i], yaml_document_get_root_node(&s.doc[i]), "data"), "retention.iql"));
			CHECK(iql && strstr(iql, rets[k].iql) != NULL);
			CHECK_STR(str(get(&s.doc[i], path(&s.doc[i], yaml_document_get_root_node(&s.doc[i]), "data"), "retention")),
				  rets[k].ret);
			free_stream(&s);
		}
	}

	/* --image-registry: every docker.io image (influxdb, data-owner,
	 * influxdb-setup, grafana, spool-owner; a Docker Hub mirror), not the two
	 * agents', which are ghcr.io's by default; --agent-image: the agents'
	 * only, as given. */
	CHECK_INT(count(def, "image: "), 7);
	t = render_with("image-registry", "123.dkr.ecr.us-east-1.amazonaws.com/docker-hub");
	CHECK(t && changed_lines(def, t) == 5 && count(t, "image: 123.dkr.ecr.us-east-1.amazonaws.com/docker-hub/") == 5);
	CHECK(t && strstr(t, "docker.io") == NULL && count(t, "image: " HG_AGENT_IMAGE " #") == 2);
	free(t);
	t = render_with("agent-image", "registry.example:5000/hg/agent:9");
	CHECK(t && changed_lines(def, t) == 2 && count(t, "image: registry.example:5000/hg/agent:9 #") == 2);
	free(t);
	{
		struct render_params rp = {0};
		char err[256];
		CHECK_INT(hg_render_params_set(&rp, "agent-image", "docker.io/me/agent:2", err, sizeof err), 0);
		CHECK_INT(hg_render_params_set(&rp, "image-registry", "mirror.example", err, sizeof err), 0);
		t = render_to_text(&rp);
		/* An explicit agent image is used as given, the mirror moves the others. */
		CHECK(t && count(t, "image: mirror.example/") == 5 && count(t, "image: docker.io/me/agent:2 #") == 2);
		free(t);
	}

	t = render_with("image-pull-secret", "ecr-pull");
	CHECK(t && changed_lines(def, t) == 2 && count(t, "imagePullSecrets: [{name: ecr-pull}]") == 2);
	if (t && parse_stream(&s, t) == 0) {
		check_schema(&s, "monitoring");
		for (int k = 0; k < 2; k++) {
			int i = k ? find_doc(&s, "DaemonSet", "heliograph-agent") : find_doc(&s, "Deployment", "heliograph-stack");
			node *ips = path(&s.doc[i], yaml_document_get_root_node(&s.doc[i]), "spec.template.spec.imagePullSecrets");
			CHECK_STR(pstr(&s.doc[i], item(&s.doc[i], ips, 0), "name"), "ecr-pull");
		}
		free_stream(&s);
	}

	/* Values that would not be valid where they go are usage errors. */
	static const struct {
		const char *flag, *value;
	} bad[] = {
		{"namespace", "Monitoring"}, {"namespace", "a_b"},         {"namespace", ""},
		{"namespace", "x: y"},       {"storage-class", "gp3 #"},   {"influxdb-size", "lots"},
		{"influxdb-size", "0Gi"},    {"grafana-size", "-1Gi"},     {"retention", "30x"},
		{"retention", "30m"},        {"retention", "d"},           {"image-registry", "a b"},
		{"image-registry", "reg/"},  {"image-pull-secret", "A"},   {"agent-image", "x # y"},
		{"agent-image", "img\"x"},   {"no-such-flag", "x"},
	};
	for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
		struct render_params rp = {0};
		char err[256] = "";
		int rc = hg_render_params_set(&rp, bad[k].flag, bad[k].value, err, sizeof err);
		if (rc == 0)
			fprintf(stderr, "--%s '%s' accepted\n", bad[k].flag, bad[k].value);
		CHECK(rc < 0 && strstr(err, bad[k].flag) != NULL);
	}
}

/* The names hg_render_all emits, joined by spaces. */
static int collect_names(void *ud, const char *name, const char *text, size_t len)
{
	(void)text;
	(void)len;
	struct strbuf *b = ud;
	size_t need = b->len + strlen(name) + 2;
	if (need > b->cap) {
		b->cap = need * 2;
		b->p = realloc(b->p, b->cap);
	}
	b->len += (size_t)sprintf(b->p + b->len, "%s%s", b->len ? " " : "", name);
	return 0;
}

static bool emitted(const struct render_params *rp, const char *name)
{
	struct strbuf b = {0};
	char err[256];
	CHECK_INT(hg_render_all(rp, collect_names, &b, err, sizeof err), 0);
	bool found = b.p && strstr(b.p, name) != NULL;
	/* Generated or not, the documents come in name order (the apply order). */
	char prev[64] = "";
	for (char *save, *t = b.p ? strtok_r(b.p, " ", &save) : NULL; t; t = strtok_r(NULL, " ", &save)) {
		CHECK(strcmp(prev, t) < 0);
		snprintf(prev, sizeof prev, "%s", t);
	}
	free(b.p);
	return found;
}

static node *match_expr(yaml_document_t *d, node *r)
{
	return item(d, path(d, item(d, path(d, r, "spec.nodeAffinity.required.nodeSelectorTerms"), 0), "matchExpressions"), 0);
}

/* --storage-node: two hostPath PersistentVolumes on that node, pre-bound to
 * the PVCs, which name their class; --storage-class heliograph-gp3: the
 * StorageClass too; the two flags exclude each other. */
static void test_storage(void)
{
	const char *def = rendered_text;
	struct render_params rp = {0};
	char err[256];
	struct stream s;
	CHECK(!emitted(&rp, RENDER_STORAGE_CLASS_NAME) && !emitted(&rp, RENDER_NODE_VOLUMES_NAME));
	CHECK(emitted(&rp, RENDER_DASHBOARDS_NAME));

	CHECK_INT(hg_render_params_set(&rp, "namespace", "obs", err, sizeof err), 0);
	CHECK_INT(hg_render_params_set(&rp, "influxdb-size", "20Gi", err, sizeof err), 0);
	CHECK_INT(hg_render_params_set(&rp, "storage-node", "ip-10-0-1-5.ec2.internal", err, sizeof err), 0);
	CHECK(emitted(&rp, RENDER_NODE_VOLUMES_NAME) && !emitted(&rp, RENDER_STORAGE_CLASS_NAME));
	char *t = render_to_text(&rp);
	CHECK(t && parse_stream(&s, t) == 0);
	if (t) {
		check_schema(&s, "obs");
		static const struct {
			const char *pv, *claim, *dir, *size;
		} want[] = {
			{"heliograph-obs-influxdb-data", "influxdb-data", "/var/lib/heliograph/obs/influxdb", "20Gi"},
			{"heliograph-obs-grafana-data", "grafana-data", "/var/lib/heliograph/obs/grafana", "1Gi"},
		};
		for (int k = 0; k < 2; k++) {
			int i = find_doc(&s, "PersistentVolume", want[k].pv), c = find_doc(&s, "PersistentVolumeClaim", want[k].claim);
			CHECK(i >= 0 && c >= 0);
			if (i < 0 || c < 0)
				continue;
			yaml_document_t *d = &s.doc[i];
			node *r = yaml_document_get_root_node(d);
			CHECK_STR(pstr(d, r, "spec.capacity.storage"), want[k].size);
			CHECK_STR(str(item(d, path(d, r, "spec.accessModes"), 0)), "ReadWriteOnce");
			CHECK_INT(seq_len(path(d, r, "spec.accessModes")), 1);
			CHECK_STR(pstr(d, r, "spec.persistentVolumeReclaimPolicy"), "Retain");
			CHECK_STR(pstr(d, r, "spec.storageClassName"), "heliograph-node");
			CHECK_STR(pstr(d, r, "spec.claimRef.namespace"), "obs");
			CHECK_STR(pstr(d, r, "spec.claimRef.name"), want[k].claim);
			CHECK_STR(pstr(d, r, "spec.hostPath.path"), want[k].dir);
			CHECK_STR(pstr(d, r, "spec.hostPath.type"), "DirectoryOrCreate");
			node *me = match_expr(d, r);
			CHECK_STR(pstr(d, me, "key"), "kubernetes.io/hostname");
			CHECK_STR(pstr(d, me, "operator"), "In");
			CHECK_INT(seq_len(get(d, me, "values")), 1);
			CHECK_STR(str(item(d, get(d, me, "values"), 0)), "ip-10-0-1-5.ec2.internal");
			node *rc = yaml_document_get_root_node(&s.doc[c]);
			CHECK_STR(pstr(&s.doc[c], rc, "spec.storageClassName"), "heliograph-node");
			CHECK_STR(pstr(&s.doc[c], rc, "spec.resources.requests.storage"), want[k].size);
		}
		free_stream(&s);
	}
	/* Nothing else changes: the PVCs' class lines and the two sizes. */
	char *u = render_with("storage-node", "node-a");
	CHECK(u && strstr(u, "# Generated by agentctl for --storage-node node-a") != NULL);
	if (u) {
		char *gen = strstr(u, "---\n# Generated by agentctl for --storage-node");
		char *end = gen ? strstr(gen + 4, "---\n# Configuration of the stack pod") : NULL;
		CHECK(gen && end);
		if (gen && end) {
			memmove(gen, end, strlen(end) + 1);
			CHECK_INT(changed_lines(def, u), 2);
		}
		free(u);
	}

	/* The two exclude each other, in either order, as a usage error. */
	CHECK(hg_render_params_set(&rp, "storage-class", "gp3", err, sizeof err) < 0 && strstr(err, "--storage-node") &&
	      strstr(err, "--storage-class"));
	struct render_params rp2 = {0};
	CHECK_INT(hg_render_params_set(&rp2, "storage-class", "heliograph-gp3", err, sizeof err), 0);
	CHECK(hg_render_params_set(&rp2, "storage-node", "node-a", err, sizeof err) < 0 && strstr(err, "exclude"));
	CHECK(hg_render_params_set(&rp2, "storage-node", "Node_A", err, sizeof err) < 0 && strstr(err, "--storage-node"));

	/* heliograph-gp3 is created; any other class is only named. */
	CHECK(emitted(&rp2, RENDER_STORAGE_CLASS_NAME) && !emitted(&rp2, RENDER_NODE_VOLUMES_NAME));
	t = render_to_text(&rp2);
	CHECK(t && parse_stream(&s, t) == 0);
	if (t) {
		check_schema(&s, "monitoring");
		int i = find_doc(&s, "StorageClass", "heliograph-gp3");
		CHECK(i >= 0 && i < find_doc(&s, "PersistentVolumeClaim", "influxdb-data"));
		if (i >= 0) {
			yaml_document_t *d = &s.doc[i];
			node *r = yaml_document_get_root_node(d);
			CHECK_STR(pstr(d, r, "provisioner"), "ebs.csi.aws.com");
			CHECK_STR(pstr(d, r, "volumeBindingMode"), "WaitForFirstConsumer");
			CHECK(is_true(get(d, r, "allowVolumeExpansion")));
			CHECK_STR(pstr(d, r, "parameters.type"), "gp3");
			CHECK_STR(pstr(d, r, "parameters.encrypted"), "true");
			CHECK(path(d, r, "parameters.encrypted")->data.scalar.style != YAML_PLAIN_SCALAR_STYLE);
		}
		for (int k = 0; k < 2; k++) {
			int c = find_doc(&s, "PersistentVolumeClaim", k ? "grafana-data" : "influxdb-data");
			CHECK_STR(pstr(&s.doc[c], yaml_document_get_root_node(&s.doc[c]), "spec.storageClassName"), "heliograph-gp3");
		}
		free_stream(&s);
	}
	struct render_params rp3 = {0};
	CHECK_INT(hg_render_params_set(&rp3, "storage-class", "gp3", err, sizeof err), 0);
	CHECK(!emitted(&rp3, RENDER_STORAGE_CLASS_NAME));
	/* Filled in by hand, the table is refused by hg_render_all too. */
	struct render_params both = {0};
	both.value[RP_STORAGE_NODE] = "node-a";
	both.value[RP_STORAGE_CLASS] = "gp3";
	struct strbuf b = {0};
	CHECK(hg_render_all(&both, collect_names, &b, err, sizeof err) < 0 && strstr(err, "exclude"));
	free(b.p);
}

/* --network-policy-from: the stack pod's port 8086 from those CIDRs, 3000
 * only with --grafana-from, 8275 never (its node, the kubelet, always may); nothing without the flag; bad CIDRs
 * refused. */
static void test_network_policy(void)
{
	struct render_params rp = {0};
	char err[256];
	CHECK(!emitted(&rp, RENDER_NETPOL_NAME));
	static const char *const bad[] = {"10.0.0.1", "10.0.0.1/33", "10.0.0.1/32,", ",10.0.0.1/32", "10.0.0/24",
					  "fd00::/129", "10.0.0.1/3x", "10.0.0.1/32 ", "10.0.0.1/32\n- x"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		CHECK_INT(hg_render_params_set(&rp, "network-policy-from", bad[i], err, sizeof err), -1);
	CHECK(!emitted(&rp, RENDER_NETPOL_NAME));
	CHECK_INT(hg_render_params_set(&rp, "grafana-from", "203.0.113.0/24", err, sizeof err), 0);
	CHECK(!emitted(&rp, RENDER_NETPOL_NAME)); /* Grafana's rule belongs to the policy --network-policy-from makes */
	for (int g = 0; g < 2; g++) {
		rp.value[RP_GRAFANA_FROM] = g ? "203.0.113.0/24" : NULL;
		CHECK_INT(hg_render_params_set(&rp, "namespace", "obs", err, sizeof err), 0);
		CHECK_INT(hg_render_params_set(&rp, "network-policy-from", "10.0.1.7/32,fd00::5/128", err, sizeof err), 0);
		char *t = render_to_text(&rp);
		struct stream s;
		CHECK(t && parse_stream(&s, t) == 0);
		if (!t)
			continue;
		check_schema(&s, "obs");
		int i = find_doc(&s, "NetworkPolicy", "heliograph-stack");
		CHECK(i >= 0);
		if (i >= 0) {
			yaml_document_t *d = &s.doc[i];
			node *r = yaml_document_get_root_node(d), *ing = path(d, r, "spec.ingress");
			CHECK_STR(str(item(d, path(d, r, "spec.policyTypes"), 0)), "Ingress");
			CHECK_INT(seq_len(ing), g ? 2 : 1);
			node *ports = get(d, item(d, ing, 0), "ports"), *from = get(d, item(d, ing, 0), "from");
			CHECK_INT(seq_len(ports), 1);
			CHECK_STR(pstr(d, item(d, ports, 0), "port"), "8086");
			CHECK(!strstr(t, "port: 8275}"));
			CHECK_INT(seq_len(from), 2);
			CHECK_STR(pstr(d, item(d, from, 0), "ipBlock.cidr"), "10.0.1.7/32");
			CHECK_STR(pstr(d, item(d, from, 1), "ipBlock.cidr"), "fd00::5/128");
			if (g) {
				CHECK_STR(pstr(d, item(d, get(d, item(d, ing, 1), "ports"), 0), "port"), "3000");
				CHECK_STR(pstr(d, item(d, get(d, item(d, ing, 1), "from"), 0), "ipBlock.cidr"), "203.0.113.0/24");
			}
			/* The ports are the containers' own. */
			int si = find_doc(&s, "Deployment", "heliograph-stack");
			CHECK(si >= 0);
			if (si >= 0) {
				yaml_document_t *sd = &s.doc[si];
				node *sr = yaml_document_get_root_node(sd);
				static const char *const want[][2] = {{"influxdb", "8086"}, {"agent", "8275"}, {"grafana", "3000"}};
				for (int k = 0; k < 3; k++)
					CHECK_STR(pstr(sd, item(sd, get(sd, container(sd, sr, want[k][0]), "ports"), 0),
						       "containerPort"), want[k][1]);
			}
		}
		free_stream(&s);
	}
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_flags),
		CHECK_CASE(test_storage),
		CHECK_CASE(test_network_policy),
	};
	return CHECK_RUN_WITH(argc, argv, cases, render_suite_setup, render_suite_teardown);
}
