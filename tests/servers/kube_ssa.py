"""Server-side apply for the test API server: field sets, merge, conflicts.

A field path is a tuple of steps; a step is a map key ("f", key) or a list
element keyed by name ("k", name). Lists whose elements all carry "name" are
merged per element (like containers, env, volumes); other lists are atomic
and owned as one leaf, as the real apiserver does for most of them.
"""
import copy
import json


def keyed(lst):
    return isinstance(lst, list) and lst and all(isinstance(e, dict) and "name" in e for e in lst)


def leaves(obj, prefix=()):
    """Leaf paths of an applied object (what the manager will own)."""
    out = set()
    if isinstance(obj, dict):
        if not obj and prefix:
            out.add(prefix)
        for k, v in obj.items():
            out |= leaves(v, prefix + (("f", k),))
    elif keyed(obj):
        for e in obj:
            p = prefix + (("k", e["name"]),)
            out.add(p + (("f", "name"),))
            out |= leaves({k: v for k, v in e.items() if k != "name"}, p)
    else:
        out.add(prefix)
    return out


def get_path(obj, path):
    cur = obj
    for kind, key in path:
        if kind == "f":
            if not isinstance(cur, dict) or key not in cur:
                return None, False
            cur = cur[key]
        else:
            if not isinstance(cur, list):
                return None, False
            for e in cur:
                if isinstance(e, dict) and e.get("name") == key:
                    cur = e
                    break
            else:
                return None, False
    return cur, True


def remove_path(obj, path):
    """Removes the leaf at path, then any map or keyed element left empty."""
    if not path:
        return
    parent, ok = get_path(obj, path[:-1])
    if not ok:
        return
    kind, key = path[-1]
    if kind == "f" and isinstance(parent, dict):
        parent.pop(key, None)
    elif kind == "k" and isinstance(parent, list):
        parent[:] = [e for e in parent if not (isinstance(e, dict) and e.get("name") == key)]
    if len(path) > 1:
        if (isinstance(parent, dict) and not parent) or (isinstance(parent, dict) and list(parent) == ["name"]):
            remove_path(obj, path[:-1])
        elif isinstance(parent, list) and not parent:
            remove_path(obj, path[:-1])


def merge(dst, src):
    """Applies src onto dst: maps recursively, keyed lists per element, the rest replaced."""
    for k, v in src.items():
        if isinstance(v, dict) and isinstance(dst.get(k), dict):
            merge(dst[k], v)
        elif keyed(v) and isinstance(dst.get(k), list):
            cur = dst[k]
            for e in v:
                for i, old in enumerate(cur):
                    if isinstance(old, dict) and old.get("name") == e["name"]:
                        merge(cur[i], e)
                        break
                else:
                    cur.append(copy.deepcopy(e))
        else:
            dst[k] = copy.deepcopy(v)


def to_fields_v1(paths):
    """The managedFields fieldsV1 shape ({"f:spec": {"f:replicas": {}}, "k:{\"name\":\"x\"}": ...})."""
    root = {}
    for p in paths:
        cur = root
        for kind, key in p:
            name = "f:" + key if kind == "f" else "k:" + json.dumps({"name": key}, separators=(",", ":"))
            cur = cur.setdefault(name, {})
        if p and p[-1][0] == "k":
            cur["."] = {}
    return root


def fmt_path(p):
    out = ""
    for kind, key in p:
        out += "." + key if kind == "f" else '[name="%s"]' % key
    return out


def apply(old, applied, manager, owners, force):
    """Returns (new object, new owners) or raises ValueError(conflicts).

    owners: {manager: set(paths)} for old (may be empty for a create)."""
    body = {k: v for k, v in applied.items() if k not in ("status",)}
    meta = dict(body.get("metadata") or {})
    for k in ("resourceVersion", "uid", "creationTimestamp", "generation", "managedFields"):
        meta.pop(k, None)
    body["metadata"] = meta
    new_set = leaves(body) - {(("f", "apiVersion"),), (("f", "kind"),)}
    new_set = {p for p in new_set if p[:2] not in ((("f", "metadata"), ("f", "name")),
                                                    (("f", "metadata"), ("f", "namespace")))}
    owners = {m: set(s) for m, s in owners.items()}
    conflicts = []
    for m, s in owners.items():
        if m == manager:
            continue
        for p in sorted(s & new_set):
            ov, _ = get_path(old, p)
            nv, _ = get_path(body, p)
            if ov != nv:
                conflicts.append((m, p))
    if conflicts and not force:
        raise ValueError(conflicts)
    for m, p in conflicts:
        owners[m].discard(p)
    obj = copy.deepcopy(old) if old else {}
    mine = owners.get(manager, set())
    others = set().union(*[s for m, s in owners.items() if m != manager]) if owners else set()
    for p in sorted(mine - new_set - others, key=len, reverse=True):
        remove_path(obj, p)
    merge(obj, body)
    owners[manager] = new_set
    return obj, {m: s for m, s in owners.items() if s}
