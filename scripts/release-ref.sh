#!/usr/bin/env bash
# The release's image reference and version, for .github/workflows/release.yml:
#   scripts/release-ref.sh GIT_TAG REPOSITORY_OWNER   (prints image=... and version=...)
# The file IMAGE is agentctl's default --agent-image and what k8s-manifests
# reference, so a release must publish exactly that reference: the git tag
# must be v + IMAGE's tag, and IMAGE's repository must be the one this
# repository's workflow token can push to, ghcr.io/OWNER/agent. Anything else
# stops the release before it builds, rather than publishing an image that
# the default does not name (or a default that names nothing).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
tag=${1:?usage: release-ref.sh GIT_TAG REPOSITORY_OWNER}
owner=${2:?usage: release-ref.sh GIT_TAG REPOSITORY_OWNER}
image=$(head -1 "$src/IMAGE")
version=${image##*:}
want=ghcr.io/${owner,,}/agent
if [ "$tag" != "v$version" ]; then
	echo "release-ref: git tag $tag, but IMAGE says version $version: set IMAGE to $want:${tag#v} and tag that commit (the .deb, agent --version and the default --agent-image all take the version from IMAGE)" >&2
	exit 1
fi
if [ "${image%:*}" != "$want" ]; then
	echo "release-ref: IMAGE names ${image%:*}, but this repository publishes $want: set IMAGE to $want:$version (a test keeps agentctl's default and k8s-manifests equal to it)" >&2
	exit 1
fi
echo "image=$image"
echo "version=$version"
