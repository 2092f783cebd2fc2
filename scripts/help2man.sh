#!/bin/sh
# Renders the man pages from the programs' own help, so --help and the man
# pages have one source (the usage() texts and the option tables):
#   agent(1)      from `agent --help`
#   agentctl(1)   from `agentctl --help` and `agentctl help COMMAND` for every command
#   agent.yaml(5) from `agent --sample-config` (generated from the option tables)
#   scripts/help2man.sh AGENT AGENTCTL OUTDIR VERSION
# Help text convention: line 1 "Usage: ...", line 2 a one-line summary; a
# line "Heading:" at column 0 starts a section; everything else is shown as
# written (no-fill), so columns stay aligned.
set -eu
agent=$1 agentctl=$2 out=$3 version=$4
mkdir -p "$out"

# roff-escapes stdin: backslashes, and lines starting with . or '
esc() { sed -e 's/\\/\\e/g' -e "s/^\([.']\)/\\\\\&\1/"; }

# Help text on stdin -> sections (.SH) with no-fill bodies.
body() {
	awk '
	function flush() { if (open) { print ".fi"; open = 0 } }
	/^[A-Z][A-Za-z ]*:$/ { flush(); h = toupper(substr($0, 1, length($0) - 1)); print ".SH " h; next }
	/^$/ { if (open) print ""; next }
	{ if (!open) { print ".nf"; open = 1 } print }
	END { flush() }'
}

page() { # page NAME SECTION SUMMARY SYNOPSIS
	printf '.TH %s %s "" "heliograph %s" "Heliograph"\n' "$(echo "$1" | tr a-z A-Z)" "$2" "$version"
	printf '.SH NAME\n%s \\- %s\n.SH SYNOPSIS\n.nf\n%s\n.fi\n' "$1" "$3" "$4"
}

# agent(1)
"$agent" --help >"$out/agent.help"
{
	page agent 1 "$(sed -n '2s/:.*//p' "$out/agent.help" | esc)" "$(sed -n '1s/^Usage: //p' "$out/agent.help" | esc)"
	echo ".SH DESCRIPTION"
	sed -n '2,$p' "$out/agent.help" | esc | body
	printf '.SH SEE ALSO\n\\fBagentctl\\fR(1), \\fBagent.yaml\\fR(5)\n'
} >"$out/agent.1"

# agentctl(1): the overview, then every command's own --help.
"$agentctl" --help >"$out/agentctl.help"
{
	page agentctl 1 "$(sed -n 2p "$out/agentctl.help" | esc)" "$(sed -n '1s/^Usage: //p' "$out/agentctl.help" | esc)"
	echo ".SH DESCRIPTION"
	sed -n '2,$p' "$out/agentctl.help" | esc | body
	echo ".SH COMMAND OPTIONS"
	sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p' "$out/agentctl.help" | grep -vx help | while read -r cmd; do
		printf '.SS %s\n.nf\n' "$cmd"
		"$agentctl" help "$cmd" | esc
		echo ".fi"
	done
	printf '.SH SEE ALSO\n\\fBagent\\fR(1), \\fBagent.yaml\\fR(5)\n'
} >"$out/agentctl.1"

# agent.yaml(5): the commented sample config, which lists every option.
{
	page agent.yaml 5 "configuration of the Heliograph agent" "/etc/heliograph/agent.yaml"
	cat <<'TXT'
.SH DESCRIPTION
The agent reads one or more YAML files (\fB\-\-config\fR, repeatable, merged in
order: agent options override key by key, global_tags merge, inputs and outputs
append) and every *.yaml of \fB\-\-config\-directory\fR. Errors name
file:line:column. The commented configuration below is what
\fBagent \-\-sample\-config\fR prints: every section, plugin and option with its
type and default. Each plugin's README in the source tree states its schema.
\fBagentctl convert\-telegraf\fR writes such a file from a telegraf.conf.
.SH OPTIONS
TXT
	"$agent" --sample-config | esc | awk 'BEGIN { print ".nf" } { print } END { print ".fi" }'
	printf '.SH SEE ALSO\n\\fBagent\\fR(1), \\fBagentctl\\fR(1)\n'
} >"$out/agent.yaml.5"
rm -f "$out/agent.help" "$out/agentctl.help"
