/* agentctl uninstall-stack: deletes what install-stack created, newest
 * first. The data stays unless --delete-data: the PVCs (metrics,
 * dashboards' state), the Secrets (the passwords the data was set up with)
 * and the namespace holding them. */
#include <getopt.h>
#include <string.h>
#include "commands.h"
#include "stack.h"

enum { OPT_DRY_RUN = 1, OPT_DELETE_DATA };

static void uninstall_usage(FILE *out)
{
	fprintf(out, "Usage: agentctl uninstall-stack [options]\n"
		     "Deletes the monitoring stack install-stack created. Keeps the volumes (PVCs), the Secrets\n"
		     "and the namespace, so that installing again finds the old data and passwords.\n"
		     "  --delete-data                  also delete the PVCs (all metrics), the Secrets and the namespace\n"
		     "  --dry-run                      print what would be deleted; delete nothing\n");
	stack_conn_usage(out);
	fprintf(out, "  --namespace NAME               namespace of the stack (default monitoring)\n"
		     "  -h, --help                     this help\n"
		     "Exit codes: 0 done, 1 failed, 2 usage or configuration error.\n");
}

static bool is_data(const struct kube_ident *id)
{
	return strcmp(id->kind, "PersistentVolumeClaim") == 0 || strcmp(id->kind, "Namespace") == 0;
}

static int delete_one(struct stack *s, const char *api, const char *kind, const char *ns, const char *name,
		      const char *label, char *err, size_t errlen)
{
	int rc = s->dry_run ? kube_get(s->client, api, kind, ns, name, NULL, err, errlen)
			    : kube_delete(s->client, api, kind, ns, name, err, errlen);
	if (rc == KUBE_ENOTFOUND) {
		fprintf(s->out, "%-58s not found\n", label);
		return 0;
	}
	if (rc == 0)
		stack_line(s, label, "deleted");
	return rc;
}

static int uninstall(struct stack *s, const struct stack_docs *d, bool delete_data)
{
	char err[2048];
	int rc = 0;
	fprintf(s->out, "%s the Heliograph stack from namespace %s (context %s)%s\n",
		s->dry_run ? "Dry run: would uninstall" : "Uninstalling", stack_namespace(s),
		s->kc.context ? s->kc.context : "?", delete_data ? ", with its data" : "");
	for (size_t i = d->n; i-- > 0 && rc == 0;) {
		const struct kube_ident *id = &d->v[i].id;
		if (is_data(id) && !delete_data)
			continue;
		if (strcmp(id->kind, "Namespace") == 0) {
			/* Secrets first: they are in the namespace, and named in the output. */
			for (size_t k = 0; k < stack_secrets_count && rc == 0; k++) {
				char label[160];
				snprintf(label, sizeof label, "secret/%s", stack_secrets[k].name);
				rc = delete_one(s, "v1", "Secret", stack_namespace(s), stack_secrets[k].name, label, err,
						sizeof err);
			}
		}
		if (rc == 0)
			rc = delete_one(s, id->api_version, id->kind, id->namespace, id->name, d->v[i].label, err, sizeof err);
	}
	if (rc != 0) {
		fprintf(stderr, "agentctl uninstall-stack: %s\n", err);
		return AGENTCTL_FAILED;
	}
	if (!delete_data)
		fprintf(s->out, "\nKept the data: PVCs influxdb-data and grafana-data, the Secrets and namespace %s. "
				"Installing again uses them; agentctl uninstall-stack --delete-data removes them (all "
				"metrics are lost).\n", stack_namespace(s));
	return AGENTCTL_OK;
}

static int run_uninstall(int argc, char **argv)
{
	struct option longopts[RP_COUNT + 8];
	int n = 0;
	stack_longopts(longopts, &n, false);
	longopts[n++] = (struct option){"dry-run", no_argument, NULL, OPT_DRY_RUN};
	longopts[n++] = (struct option){"delete-data", no_argument, NULL, OPT_DELETE_DATA};
	longopts[n++] = (struct option){"help", no_argument, NULL, 'h'};
	longopts[n] = (struct option){0};
	struct stack s = {.out = stdout, .cmd = "uninstall-stack"};
	bool delete_data = false;
	int c;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		int r = stack_opt(&s, c, optarg);
		if (r < 0)
			return AGENTCTL_USAGE;
		if (r > 0)
			continue;
		if (c == 'h') {
			uninstall_usage(stdout);
			return AGENTCTL_OK;
		} else if (c == OPT_DRY_RUN) {
			s.dry_run = true;
		} else if (c == OPT_DELETE_DATA) {
			delete_data = true;
		} else {
			if (c == ':')
				fprintf(stderr, "agentctl uninstall-stack: %s needs a value\n", argv[optind - 1]);
			else
				fprintf(stderr, "agentctl uninstall-stack: unknown option %s (see agentctl uninstall-stack "
						"--help)\n", argv[optind - 1]);
			return AGENTCTL_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "agentctl uninstall-stack: unexpected argument '%s'\n", argv[optind]);
		return AGENTCTL_USAGE;
	}
	struct stack_docs d;
	int rc = stack_open(&s, &d, "uninstall-stack");
	if (rc != AGENTCTL_OK)
		return rc;
	rc = uninstall(&s, &d, delete_data);
	stack_close(&s);
	stack_docs_free(&d);
	return rc;
}

const struct agentctl_command cmd_uninstall_stack = {
	.name = "uninstall-stack",
	.summary = "delete the monitoring stack (keeps its data unless --delete-data)",
	.run = run_uninstall,
	.usage = uninstall_usage,
};
