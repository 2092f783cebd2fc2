/* Kubernetes resource quantities ("563Mi", "3955428Ki", "1.5Gi", "500M",
 * "4", "100m") as the placement plan reads them from nodes and pods. */
#ifndef AGENTCTL_QUANTITY_H
#define AGENTCTL_QUANTITY_H
#include <stddef.h>
#include <stdint.h>

/* The value in base units (bytes, pods), rounded up; -1 if s is not a
 * quantity or is out of range. */
int hg_quantity_parse(const char *s, int64_t *out);
/* Bytes as the largest whole binary unit a person reads easily ("350Mi"). */
void hg_quantity_format(int64_t bytes, char *out, size_t outlen);

#endif
