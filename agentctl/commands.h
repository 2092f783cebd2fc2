/* agentctl's commands. A command is one of these structs, defined in its own
 * cmd_NAME.c and listed in main.c's table; adding a command is that file plus
 * one table line. */
#ifndef AGENTCTL_COMMANDS_H
#define AGENTCTL_COMMANDS_H
#include <stdio.h>

/* Exit codes of every command. */
enum {
	AGENTCTL_OK = 0,
	AGENTCTL_FAILED = 1,
	AGENTCTL_USAGE = 2, /* bad usage or configuration */
	/* deploy-event: the server could not be reached, timed out or was
	 * unavailable (5xx, 429): the one failure a pipeline may ignore.
	 * deploy-check: that, or not enough data to judge the deploy. */
	AGENTCTL_UNREACHABLE = 3,
};

struct agentctl_command {
	const char *name;
	const char *summary; /* one line for `agentctl --help` */
	/* argv[0] is the command name; returns an exit code above. */
	int (*run)(int argc, char **argv);
	/* The command's --help text. */
	void (*usage)(FILE *out);
};

extern const struct agentctl_command hg_cmd_render;
extern const struct agentctl_command hg_cmd_install_stack;
extern const struct agentctl_command hg_cmd_status;
extern const struct agentctl_command hg_cmd_uninstall_stack;
extern const struct agentctl_command hg_cmd_convert_telegraf;
extern const struct agentctl_command hg_cmd_deploy_event;
extern const struct agentctl_command hg_cmd_deploy_check;

#endif
