/* Opening the files the agent appends to (the file output, agent.logfile). */
#ifndef HG_OPEN_APPEND_H
#define HG_OPEN_APPEND_H

/* Opens path for appending (O_CLOEXEC). A file this call creates gets mode
 * 0640 whatever the umask: metrics and logs can name hosts, pods and
 * URLs, and other users of the node have no business reading them. An
 * existing file keeps the mode its owner gave it. The fd, or -1 with errno. */
int hg_open_append_0640(const char *path);

#endif
