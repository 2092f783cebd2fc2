/* Plugin instance labels (see hg_plugin_label.h). */
#include "plugin_label.h"
#include <stdio.h>

void hg_plugin_label(char *buf, size_t len, const char *kind, const char *name, const char *alias)
{
	if (alias)
		snprintf(buf, len, "%s.%s::%s", kind, name, alias);
	else
		snprintf(buf, len, "%s.%s", kind, name);
}
