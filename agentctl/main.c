/* agentctl: the operator's CLI for the Heliograph monitoring stack.
 * `agentctl COMMAND [options]`; `agentctl help COMMAND` or
 * `agentctl COMMAND --help` for a command's options. */
#include <stdio.h>
#include <string.h>
#include "commands.h"
#include "stack.h"

/* Every command, in the order --help lists them. A new command: its
 * cmd_NAME.c defining a struct agentctl_command, a declaration in
 * commands.h, and a line here. */
static const struct agentctl_command *const commands[] = {
	&hg_cmd_install_stack,
	&hg_cmd_status,
	&hg_cmd_uninstall_stack,
	&hg_cmd_render,
	&hg_cmd_convert_telegraf,
	&hg_cmd_deploy_event,
	&hg_cmd_deploy_check,
};
#define NCOMMANDS (sizeof commands / sizeof *commands)

static void usage(FILE *out)
{
	fprintf(out, "Usage: agentctl COMMAND [options]\n"
		     "Provisions and manages the Heliograph monitoring stack on Kubernetes.\n\n"
		     "Commands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-16s %s\n", commands[i]->name, commands[i]->summary);
	fprintf(out, "  %-16s %s\n", "help COMMAND", "the options of COMMAND");
	fprintf(out, "\nOptions:\n"
		     "  -h, --help       print this help\n"
		     "  --version        print the version\n");
	fprintf(out, "\nExit codes: 0 done, 1 failed, 2 usage or configuration error.\n");
}

static const struct agentctl_command *find(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	hg_stack_catch_fatal_signals();
	/* A usage error is one line and a hint, not the whole help. */
	if (argc < 2) {
		fprintf(stderr, "agentctl: no command given; see agentctl --help\n");
		return AGENTCTL_USAGE;
	}
	const char *name = argv[1];
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
		usage(stdout);
		return AGENTCTL_OK;
	}
	if (strcmp(name, "--version") == 0) {
		printf("heliograph agentctl %s\n", HG_VERSION);
		return AGENTCTL_OK;
	}
	if (strcmp(name, "help") == 0) {
		if (argc == 2) {
			usage(stdout);
			return AGENTCTL_OK;
		}
		const struct agentctl_command *c = find(argv[2]);
		if (!c || argc > 3) {
			fprintf(stderr, "agentctl help: %s '%s'; see agentctl --help\n",
				c ? "unexpected argument" : "no command", c ? argv[3] : argv[2]);
			return AGENTCTL_USAGE;
		}
		c->usage(stdout);
		return AGENTCTL_OK;
	}
	const struct agentctl_command *c = find(name);
	if (!c) {
		/* Up to any "=": an option's value may be a secret. */
		fprintf(stderr, "agentctl: %s '%.*s'; see agentctl --help\n",
			name[0] == '-' ? "unknown option" : "unknown command", (int)strcspn(name, "="), name);
		return AGENTCTL_USAGE;
	}
	return c->run(argc - 1, argv + 1);
}
