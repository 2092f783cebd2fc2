#!/usr/bin/env python3
"""Turns `agentctl render` output into what the DaemonSet's agent container
would run with, on this machine standing in for the node.

usage: daemonset_pod.py RENDER NODE_ROOT CONFIG_OUT ENV_OUT SPOOL_OUT [SUBST...]

From the DaemonSet heliograph-agent and the ConfigMap it mounts:
- CONFIG_OUT: the ConfigMap's heliograph.yaml with every path under a
  mount of a hostPath volume moved to that hostPath under NODE_ROOT (the
  disk buffer), and each SUBST "OLD=NEW" replaced once (it must occur);
- ENV_OUT: the container's environment as NAME=VALUE lines: plain values
  whose path is a hostPath mount become the node's path (HOST_PROC=/proc),
  downward-API fields and Secret keys the values given as SUBST-like
  arguments "field:PATH=VALUE" and "secret:NAME/KEY=VALUE";
- SPOOL_OUT: the disk buffer's directory on the node (NODE_ROOT + the
  hostPath of the volume mounted at buffer.path).
Fails when the config's buffer is not a disk buffer on a hostPath mount."""
import sys

import yaml


def die(msg):
    print('daemonset_pod.py: ' + msg, file=sys.stderr)
    sys.exit(1)


def main():
    render, node_root, cfg_out, env_out, spool_out = sys.argv[1:6]
    args = sys.argv[6:]
    docs = [d for d in yaml.safe_load_all(open(render)) if d]
    ds = next((d for d in docs if d['kind'] == 'DaemonSet' and d['metadata']['name'] == 'heliograph-agent'), None)
    if not ds:
        die('no DaemonSet heliograph-agent in the render')
    spec = ds['spec']['template']['spec']
    agent = next(c for c in spec['containers'] if c['name'] == 'agent')
    vols = {v['name']: v for v in spec['volumes']}
    cm_name = next(v['configMap']['name'] for v in vols.values()
                   if 'configMap' in v and any(m['name'] == v['name'] and m['mountPath'] == '/etc/heliograph'
                                               for m in agent['volumeMounts']))
    cm = next(d for d in docs if d['kind'] == 'ConfigMap' and d['metadata']['name'] == cm_name)
    text = cm['data']['heliograph.yaml']

    # mountPath -> hostPath, for the container's hostPath mounts.
    host = {}
    for m in agent['volumeMounts']:
        v = vols[m['name']]
        if 'hostPath' in v:
            host[m['mountPath'].rstrip('/') or '/'] = (v['hostPath']['path'], m.get('readOnly', False))

    def on_node(p):
        """The node's path of a container path under a hostPath mount, or None."""
        best = None
        for mp in host:
            if p == mp or p.startswith(mp.rstrip('/') + '/'):
                if best is None or len(mp) > len(best):
                    best = mp
        if best is None:
            return None
        return host[best][0].rstrip('/') + p[len(best.rstrip('/')):] or '/'

    cfg = yaml.safe_load(text)
    outs = cfg['outputs']
    influx = next(o['influxdb'] for o in outs if 'influxdb' in o)
    buf = influx.get('buffer') or {}
    if buf.get('type') != 'disk':
        die('the influxdb output has no disk buffer: %r' % buf)
    bpath = buf['path']
    node_path = on_node(bpath)
    if node_path is None:
        die('buffer.path %s is on no hostPath mount of the agent container' % bpath)
    mp = max((m for m in host if bpath == m or bpath.startswith(m.rstrip('/') + '/')), key=len)
    if host[mp][1]:
        die('buffer.path %s is on a read-only mount' % bpath)
    spool = node_root.rstrip('/') + node_path
    if text.count(bpath) != 1:
        die('buffer.path %s appears %d times in the config' % (bpath, text.count(bpath)))
    text = text.replace(bpath, spool)

    fields, secrets = {}, {}
    for a in args:
        old, new = a.split('=', 1)
        if old.startswith('field:'):
            fields[old[6:]] = new
        elif old.startswith('secret:'):
            secrets[old[7:]] = new
        else:
            if old not in text:
                die('%r is not in the config' % old)
            text = text.replace(old, new, 1)
    open(cfg_out, 'w').write(text)

    with open(env_out, 'w') as f:
        for e in agent.get('env', []):
            if 'value' in e:
                v = e['value']
                np = on_node(v) if v.startswith('/') else None
                v = np if np is not None else v
            elif 'fieldRef' in e['valueFrom']:
                fp = e['valueFrom']['fieldRef']['fieldPath']
                if fp not in fields:
                    die('no value given for field:%s (env %s)' % (fp, e['name']))
                v = fields[fp]
            elif 'secretKeyRef' in e['valueFrom']:
                r = e['valueFrom']['secretKeyRef']
                k = '%s/%s' % (r['name'], r['key'])
                if k not in secrets:
                    die('no value given for secret:%s (env %s)' % (k, e['name']))
                v = secrets[k]
            else:
                die('env %s: unknown source' % e['name'])
            f.write('%s=%s\n' % (e['name'], v))
    open(spool_out, 'w').write(spool + '\n')


if __name__ == '__main__':
    main()
