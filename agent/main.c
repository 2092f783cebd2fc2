/* agent: command line, config loading, signals and reload around the
 * running agent (agent.c). */
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>
#include "tls_warn.h"
#include "agent.h"
#include "config.h"
#include "log.h"
#include "plugin.h"
#include "rss_trim.h"

#define MAX_CONFIG_FILES 64

struct app {
	uv_loop_t *loop;
	const char *files[MAX_CONFIG_FILES];
	size_t nfiles;
	const char *config_dir;
	struct agent_opts opts;
	struct agent_config cfg, next_cfg;
	struct agent *agent, *old_agent;
	uv_signal_t sigterm, sigint, sighup;
	bool exiting;
	int exit_code;
};

/* The one source of the agent's documentation: --help prints it and the
 * agent(1) man page is rendered from it (scripts/help2man.sh). Headings end
 * with ':' at column 0. */
static void usage(FILE *out)
{
	char rates[256] = "";
	for (size_t i = 0, n = 0; hg_input_registry[i]; i++)
		if (hg_input_registry[i]->needs_baseline && n < sizeof rates)
			n += (size_t)snprintf(rates + n, sizeof rates - n, "%s%s", n ? ", " : "", hg_input_registry[i]->name);
	fprintf(out,
		"Usage: agent [options]\n"
		"Heliograph metrics agent: gathers node, container and kubelet metrics with\n"
		"Telegraf's measurement names and writes InfluxDB line protocol in batches.\n"
		"\n"
		"Options:\n"
		"  --config FILE            load FILE (repeatable; merged in order)\n"
		"  --config-directory DIR   then load every *.yaml/*.yml in DIR, sorted\n"
		"  --test                   check the config (outputs' options too), gather once, print line\n"
		"                           protocol to stdout, exit (nothing written to outputs);\n"
		"                           inputs reporting rates (%s) gather twice, 500 ms apart\n"
		"  --once                   gather once (as --test), write to every output, exit (1 if a\n"
		"                           write failed)\n"
		"  --input-filter a:b       run only these inputs\n"
		"  --output-filter a:b      run only these outputs\n"
		"  --sample-config          print a config of every plugin and option, commented, with\n"
		"                           Telegraf's default plugins enabled (it runs as printed); with\n"
		"                           --input-filter/--output-filter, those plugins only, enabled\n"
		"  --version                print the version\n"
		"  -h, --help               print this help\n"
		"\n"
		"Commands:\n"
		"  agent plugins [inputs|outputs]\n"
		"                           list the plugins built in, one per line\n"
		"\n"
		"Configuration:\n"
		"  YAML with agent:, global_tags:, inputs: and outputs: sections, described\n"
		"  option by option by --sample-config and agent.yaml(5). Scalars may use ${VAR},\n"
		"  ${VAR:-default} and ${VAR-default}. `agentctl convert-telegraf telegraf.conf` writes one from\n"
		"  a Telegraf configuration.\n"
		"\n"
		"Environment:\n"
		"  HOST_PROC, HOST_SYS, HOST_RUN, HOST_ETC, HOST_VAR, HOST_MOUNT_PREFIX\n"
		"                           where the host's /proc, /sys, /run, /etc, /var and /\n"
		"                           are mounted when the agent runs in a container\n"
		"\n"
		"Signals:\n"
		"  SIGHUP                   reload the configuration; a bad one keeps the old running\n"
		"  SIGTERM, SIGINT          flush the buffers (bounded by agent.shutdown_timeout), exit 0\n"
		"\n"
		"Exit codes:\n"
		"  0                        stopped normally\n"
		"  1                        a plugin could not start, or (--once) a write failed\n"
		"  2                        usage or configuration error (file:line:column in the message)\n"
		"\n"
		"Files:\n"
		"  /etc/heliograph/agent.yaml  configuration of the Debian package's service\n"
		"  /etc/heliograph/agent.d/*.yaml  its drop-in files, loaded after agent.yaml\n"
		"  /etc/heliograph/heliograph.yaml  configuration path in the container image\n",
		rates);
}

/* A usage error is one line naming the problem, and where to read more. */
__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("agent: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputs("; see agent --help\n", stderr);
	va_end(ap);
	return 2;
}

/* The name a filter gives that no plugin has, copied to buf; NULL if none. */
static const char *unknown_plugin(const char *filter, bool input, char *buf, size_t len)
{
	for (const char *p = filter; p;) {
		size_t n = strcspn(p, ":");
		snprintf(buf, len, "%.*s", (int)n, p);
		if (input ? !hg_input_find(buf) : !hg_output_find(buf))
			return buf;
		p = p[n] ? p + n + 1 : NULL;
	}
	return NULL;
}

/* `agent plugins [inputs|outputs]`, named like Telegraf's `telegraf plugins`:
 * "inputs.cpu" lines, or with a kind the bare names. */
static int list_plugins(int argc, char **argv)
{
	const char *kind = argc > 1 ? argv[1] : NULL;
	if (argc > 2)
		return usage_error("unexpected argument %s", argv[2]);
	if (kind && strcmp(kind, "inputs") && strcmp(kind, "outputs"))
		return usage_error("plugins %s: expected inputs or outputs", kind);
	if (!kind || !strcmp(kind, "inputs"))
		for (size_t i = 0; hg_input_registry[i]; i++)
			printf("%s%s\n", kind ? "" : "inputs.", hg_input_registry[i]->name);
	if (!kind || !strcmp(kind, "outputs"))
		for (size_t i = 0; hg_output_registry[i]; i++)
			printf("%s%s\n", kind ? "" : "outputs.", hg_output_registry[i]->name);
	return 0;
}

/* Loads the configuration and checks the outputs: -1 (logged) on a config error. At start
 * (open_log) the configured log is opened in between, so that what the output checks log (a
 * disabled output) lands in agent.logfile; a reload logs to the running log until it swaps. */
static int load(struct app *app, struct agent_config *cfg, bool open_log)
{
	char err[1024];
	const char *const *files = app->files;
	size_t n = app->nfiles;
	if (hg_config_load(cfg, files, n, app->config_dir, err, sizeof err) < 0) {
		log_error(NULL, "%s", err);
		return -1;
	}
	if (open_log && hg_log_open(cfg->logfile, cfg->debug, cfg->quiet) < 0) {
		fprintf(stderr, "cannot open logfile %s\n", cfg->logfile);
		hg_config_free(cfg);
		return -1;
	}
	/* Outputs' own checks too, so that --test and a reload catch what the start would. */
	if (hg_agent_check_outputs(cfg, &app->opts, err, sizeof err) < 0) {
		log_error(NULL, "%s", err);
		hg_config_free(cfg);
		return -1;
	}
	hg_tls_warn_insecure(cfg);
	return 0;
}

static void close_signals(struct app *app)
{
	uv_close((uv_handle_t *)&app->sigterm, NULL);
	uv_close((uv_handle_t *)&app->sigint, NULL);
	uv_close((uv_handle_t *)&app->sighup, NULL);
}

static void on_agent_stopped(struct agent *a, void *arg)
{
	struct app *app = arg;
	app->exit_code = hg_agent_exit_code(a);
	close_signals(app);
}

static void start_agent(struct app *app);

/* The old agent has finished its writes in flight: build the new one from
 * the new config, hand it the old buffers, and free the old. */
static void on_agent_stopped_for_reload(struct agent *old, void *arg)
{
	struct app *app = arg;
	char err[1024];
	struct agent *next = hg_agent_new(app->loop, &app->next_cfg, &app->opts, err, sizeof err);
	if (!next) {
		/* The new config parsed but a plugin could not start: keep running
		 * the old config in a fresh agent. */
		log_error(NULL, "reload failed, keeping the running config: %s", err);
		hg_config_free(&app->next_cfg);
		next = hg_agent_new(app->loop, &app->cfg, &app->opts, err, sizeof err);
		if (!next) {
			log_error(NULL, "cannot restart the agent: %s", err);
			app->exit_code = 1;
			hg_agent_free(old);
			app->agent = NULL;
			close_signals(app);
			return;
		}
		hg_agent_carry_over(old, next);
		hg_agent_free(old);
	} else {
		hg_agent_carry_over(old, next);
		hg_agent_free(old);
		hg_config_free(&app->cfg);
		app->cfg = app->next_cfg;
		memset(&app->next_cfg, 0, sizeof app->next_cfg);
		hg_log_open(app->cfg.logfile, app->cfg.debug, app->cfg.quiet);
		log_info(NULL, "configuration reloaded");
	}
	app->agent = next;
	hg_agent_start(next, on_agent_stopped, app);
}

static void on_signal(uv_signal_t *h, int signum)
{
	struct app *app = h->data;
	if (!app->agent || app->exiting)
		return;
	if (signum == SIGHUP) {
		memset(&app->next_cfg, 0, sizeof app->next_cfg);
		if (load(app, &app->next_cfg, false) < 0) {
			log_error(NULL, "reload failed, keeping the running config");
			hg_config_free(&app->next_cfg);
			return;
		}
		log_info(NULL, "reloading configuration");
		hg_agent_stop(app->agent, true, on_agent_stopped_for_reload, app);
		return;
	}
	log_info(NULL, "received %s, flushing and stopping", signum == SIGTERM ? "SIGTERM" : "SIGINT");
	app->exiting = true;
	hg_agent_stop(app->agent, false, on_agent_stopped, app);
}

static void log_started(struct app *app)
{
	size_t ni = hg_agent_input_count(app->agent), no = hg_agent_output_count(app->agent);
	uint64_t off = hg_agent_totals(app->agent).outputs_disabled;
	char disabled[64] = "";
	if (off)
		snprintf(disabled, sizeof disabled, " (%llu disabled)", (unsigned long long)off);
	log_info(NULL, "heliograph agent %s started: %zu input%s, %zu output%s%s, interval %llds", HG_VERSION, ni,
		 ni == 1 ? "" : "s", no, no == 1 ? "" : "s", disabled, (long long)(app->cfg.interval_ns / 1000000000));
}

static void start_agent(struct app *app)
{
	hg_agent_start(app->agent, on_agent_stopped, app);
}

int main(int argc, char **argv)
{
	static struct app app;
	hg_rss_trim(); /* what the dynamic loader touched: before the configuration adds its own */
	enum { O_CONFIG = 256, O_CONFIG_DIR, O_TEST, O_ONCE, O_INPUT_FILTER, O_OUTPUT_FILTER, O_SAMPLE, O_VERSION, O_HELP };
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, O_CONFIG },
		{ "config-directory", required_argument, NULL, O_CONFIG_DIR },
		{ "test", no_argument, NULL, O_TEST },
		{ "once", no_argument, NULL, O_ONCE },
		{ "input-filter", required_argument, NULL, O_INPUT_FILTER },
		{ "output-filter", required_argument, NULL, O_OUTPUT_FILTER },
		{ "sample-config", no_argument, NULL, O_SAMPLE },
		{ "version", no_argument, NULL, O_VERSION },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	bool sample = false;
	opterr = 0; /* usage_error() says it in one line */
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case O_CONFIG:
			if (app.nfiles == MAX_CONFIG_FILES) {
				return usage_error("too many --config files (max %d)", MAX_CONFIG_FILES);
			}
			app.files[app.nfiles++] = optarg;
			break;
		case O_CONFIG_DIR:
			app.config_dir = optarg;
			break;
		case O_TEST:
			app.opts.test_mode = true;
			break;
		case O_ONCE:
			app.opts.once = true;
			break;
		case O_INPUT_FILTER:
			app.opts.input_filter = optarg;
			break;
		case O_OUTPUT_FILTER:
			app.opts.output_filter = optarg;
			break;
		case O_SAMPLE:
			sample = true; /* after the filters, which may come later */
			break;
		case O_VERSION:
			printf("heliograph agent %s\n", HG_VERSION);
			return 0;
		case 'h':
		case O_HELP:
			usage(stdout);
			return 0;
		case ':':
			return usage_error("%s needs a value", argv[optind - 1]);
		default: {
			/* The option without any "=value": it may be a secret. */
			char opt[64];
			const char *arg = argv[optind - 1];
			if (optopt > 0 && optopt < O_CONFIG)
				snprintf(opt, sizeof opt, "-%c", optopt);
			else
				snprintf(opt, sizeof opt, "%.*s", (int)strcspn(arg, "="), arg);
			/* A known long option given a value it does not take. */
			return usage_error(optopt >= O_CONFIG ? "%s takes no value" : "unknown option %s", opt);
		}
		}
	}
	char name[64];
	if (app.opts.input_filter && unknown_plugin(app.opts.input_filter, true, name, sizeof name))
		return usage_error("--input-filter: no input plugin %s", name);
	if (app.opts.output_filter && unknown_plugin(app.opts.output_filter, false, name, sizeof name))
		return usage_error("--output-filter: no output plugin %s", name);
	if (sample) {
		hg_config_print_sample(stdout, app.opts.input_filter, app.opts.output_filter);
		return 0;
	}
	if (optind < argc && strcmp(argv[optind], "plugins") == 0)
		return list_plugins(argc - optind, argv + optind);
	if (optind < argc)
		return usage_error("unexpected argument %s", argv[optind]);
	if (app.nfiles == 0 && !app.config_dir) {
		fprintf(stderr, "agent: no configuration: give --config FILE (e.g. etc/heliograph.yaml) or --config-directory DIR; "
				"see agent --help\n");
		return 2;
	}
	if (load(&app, &app.cfg, true) < 0)
		return 2;
	/* A write to a closed socket must be an error, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	app.loop = uv_default_loop();
	char err[1024];
	app.agent = hg_agent_new(app.loop, &app.cfg, &app.opts, err, sizeof err);
	if (!app.agent) {
		log_error(NULL, "%s", err);
		uv_run(app.loop, UV_RUN_NOWAIT);
		hg_config_free(&app.cfg);
		return 1;
	}
	uv_signal_init(app.loop, &app.sigterm);
	uv_signal_init(app.loop, &app.sigint);
	uv_signal_init(app.loop, &app.sighup);
	app.sigterm.data = app.sigint.data = app.sighup.data = &app;
	uv_signal_start(&app.sigterm, on_signal, SIGTERM);
	uv_signal_start(&app.sigint, on_signal, SIGINT);
	uv_signal_start(&app.sighup, on_signal, SIGHUP);
	if (!app.opts.test_mode)
		log_started(&app);
	start_agent(&app);
	hg_rss_trim_enable();
	hg_rss_trim();
	uv_run(app.loop, UV_RUN_DEFAULT);
	hg_agent_free(app.agent);
	hg_config_free(&app.cfg);
	uv_loop_close(app.loop);
	hg_log_close();
	return app.exit_code;
}
