#!/bin/bash
# The multi-arch image build and its publication, without a Docker engine or
# an AWS account: the scripts parse and pass shellcheck; assemble-rootfs.sh
# refuses binaries of the wrong architecture (what the Dockerfile's
# TARGETARCH check relies on); the Dockerfile's stages are the documented
# ones; scripts/ecr-push.sh is run with stub `aws` and `docker` first on PATH
# that record every argument, so the exact commands a pipeline would run are
# checked, and that the ECR password only ever travels through the pipe;
# release-ref.sh and the release workflow; the docs and install-stack name
# the default image and how to build your own.
source "$TESTLIB"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(dirname "$AGENT")

# ---- the scripts parse (and pass shellcheck where it is installed) ----
for s in "$SRC"/scripts/*.sh; do
	bash -n "$s" || fail "$s does not parse"
done
sh -n "$SRC/scripts/assemble-rootfs.sh" || fail "assemble-rootfs.sh is not POSIX sh"
if command -v shellcheck >/dev/null; then
	shellcheck "$SRC/scripts/ecr-push.sh" "$SRC/scripts/release-ref.sh" || fail "shellcheck: ecr-push.sh / release-ref.sh"
	shellcheck -s sh "$SRC/scripts/assemble-rootfs.sh" || fail "shellcheck: assemble-rootfs.sh"
fi

# ---- assemble-rootfs.sh ARCH: the host's passes, the other one is refused ----
host=$(dpkg --print-architecture 2>/dev/null || uname -m)
case $host in x86_64) host=amd64 ;; aarch64) host=arm64 ;; esac
other=arm64
[ "$host" = arm64 ] && other=amd64
"$SRC/scripts/assemble-rootfs.sh" "$BUILD" "$TMP/rootfs" "$host" 2>"$TMP/asm.err" || fail "assemble-rootfs $host: $(cat "$TMP/asm.err")"
if "$SRC/scripts/assemble-rootfs.sh" "$BUILD" "$TMP/rootfs" "$other" 2>"$TMP/asm.err"; then
	fail "assemble-rootfs accepted $host binaries as $other"
fi
grep -q "are not $other" "$TMP/asm.err" && grep -q "usr/bin/agent: " "$TMP/asm.err" ||
	fail "the wrong-architecture error does not name the files: $(cat "$TMP/asm.err")"
rc=0
"$SRC/scripts/assemble-rootfs.sh" "$BUILD" "$TMP/rootfs" riscv64 2>"$TMP/asm.err" || rc=$?
[ "$rc" = 2 ] && grep -q "not amd64 or arm64" "$TMP/asm.err" || fail "unknown ARCH: rc $rc, $(cat "$TMP/asm.err")"

# ---- the Dockerfile's stages ----
D=$SRC/Dockerfile
# The build stage runs on the target platform (QEMU for the other one), so
# ldd and ldconfig in assemble-rootfs.sh are the target's.
grep -q '^FROM debian:12-slim AS build$' "$D" || fail "the build stage is not 'FROM debian:12-slim AS build' (no --platform: it must run on the target)"
! grep -q '^FROM --platform' "$D" || fail "the Dockerfile pins a stage to the build platform"
# (Stage texts go through files: grep -q on a pipe under pipefail can fail
# the writer with SIGPIPE.)
sed -n '/AS build$/,/^FROM/p' "$D" >"$TMP/stage.build"
sed -n '/AS deb-build$/,/^FROM/p' "$D" >"$TMP/stage.deb"
grep -q '^ARG TARGETARCH$' "$TMP/stage.build" || fail "no ARG TARGETARCH in the build stage"
grep -q 'scripts/assemble-rootfs.sh /build /rootfs "$TARGETARCH"' "$D" || fail "the build stage does not check the architecture"
# The runtime image is the default target (the last stage); the .deb is --target deb.
[ "$(grep '^FROM' "$D" | tail -1)" = "FROM scratch" ] || fail "the last stage is not the runtime image"
grep -q '^FROM scratch AS deb$' "$D" && grep -q '^COPY --from=deb-build /deb/\*.deb /$' "$D" || fail "no deb target"
grep -q 'install -y --no-install-recommends file' "$TMP/stage.deb" ||
	fail "the deb stage lacks file(1), which CPack's shlibdeps step runs"
grep -q 'cpack -G DEB' "$TMP/stage.deb" || fail "the deb stage does not run cpack"

# ---- scripts/ecr-push.sh with recording stubs ----
STUB=$TMP/bin
mkdir -p "$STUB"
SECRET='eyJwYXlsb2FkIjoic2VjcmV0LWVjci10b2tlbiJ9'
cat >"$STUB/aws" <<'EOF'
#!/bin/bash
# Records its arguments and answers as the AWS CLI does, per $STUB_* .
echo "aws $*" >>"$CALLS/aws"
case "$1 $2" in
"sts get-caller-identity")
	[ -z "${STUB_STS_FAIL:-}" ] || { echo "Unable to locate credentials. You can configure credentials by running \"aws configure\"." >&2; exit 253; }
	echo "${STUB_ACCOUNT:-123456789012}" ;;
"configure get") [ -n "${STUB_CFG_REGION:-}" ] && echo "$STUB_CFG_REGION" || exit 1 ;;
"ecr describe-repositories")
	case ${STUB_REPO:-absent} in
	absent) echo "An error occurred (RepositoryNotFoundException) when calling the DescribeRepositories operation: The repository with name 'heliograph/agent' does not exist in the registry with id '123456789012'" >&2; exit 254 ;;
	denied) echo "An error occurred (AccessDeniedException) when calling the DescribeRepositories operation: not authorized to perform: ecr:DescribeRepositories" >&2; exit 254 ;;
	immutable) echo IMMUTABLE ;;
	*) echo MUTABLE ;;
	esac ;;
"ecr describe-images") [ "${STUB_REPO:-}" = immutable ] || exit 254; echo '{}' ;;
"ecr create-repository") echo '{"repository": {}}' ;;
"ecr get-login-password") echo "$STUB_SECRET" ;;
*) echo "stub aws: unexpected $*" >&2; exit 99 ;;
esac
EOF
cat >"$STUB/docker" <<'EOF'
#!/bin/bash
# Records its arguments (the metadata file's temporary path as FILE).
args=() meta=''
prev=''
for a in "$@"; do
	if [ "$prev" = --metadata-file ]; then meta=$a; a=FILE; fi
	args+=("$a"); prev=$a
done
echo "docker ${args[*]}" >>"$CALLS/docker"
case "$1 ${2:-}" in
"buildx version") echo "github.com/docker/buildx v0.23.0" ;;
"buildx inspect") printf 'Name:   default\nDriver: %s\nPlatforms: %s\n' "${STUB_DRIVER:-docker-container}" "${STUB_PLATFORMS:-linux/amd64, linux/amd64/v2, linux/arm64, linux/386}" ;;
"login --username") cat >"$CALLS/login-stdin"; echo "Login Succeeded" ;;
"buildx build")
	[ -z "${STUB_BUILD_FAIL:-}" ] || { echo "ERROR: failed to solve" >&2; exit 1; }
	printf '{\n  "containerimage.digest": "sha256:%064d",\n  "image.name": "x"\n}\n' 7 >"$meta" ;;
*) echo "stub docker: unexpected $*" >&2; exit 99 ;;
esac
EOF
chmod +x "$STUB/aws" "$STUB/docker"
export STUB_SECRET=$SECRET

push() { # push SCENARIO-ENV... -- ARGS...: runs ecr-push.sh; sets $rc, files $CALLS/{out,err,aws,docker}
	CALLS=$TMP/calls.$((++n))
	mkdir -p "$CALLS"
	local envs=()
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	rc=0
	env -u AWS_REGION -u AWS_DEFAULT_REGION CALLS="$CALLS" PATH="$STUB:$PATH" "${envs[@]}" \
		"$SRC/scripts/ecr-push.sh" "$@" >"$CALLS/out" 2>"$CALLS/err" || rc=$?
	# The password never reaches an argument or the output.
	! grep -rqF "$SECRET" "$CALLS/aws" "$CALLS/docker" "$CALLS/out" "$CALLS/err" 2>/dev/null ||
		fail "the ECR password leaked into arguments or output ($CALLS)"
}
n=0
version=$(sed 's/.*://' "$SRC/IMAGE")
REG=123456789012.dkr.ecr.eu-west-1.amazonaws.com

# A new repository: every command, in order, exactly.
push AWS_REGION=eu-west-1 --
[ "$rc" = 0 ] || fail "ecr-push: rc $rc: $(cat "$CALLS/err")"
cat >"$TMP/want.aws" <<EOF
aws sts get-caller-identity --query Account --output text
aws ecr describe-repositories --region eu-west-1 --repository-names heliograph/agent --query repositories[0].imageTagMutability --output text
aws ecr create-repository --region eu-west-1 --repository-name heliograph/agent --image-scanning-configuration scanOnPush=true --image-tag-mutability MUTABLE
aws ecr get-login-password --region eu-west-1
EOF
cat >"$TMP/want.docker" <<EOF
docker buildx version
docker buildx inspect --bootstrap
docker login --username AWS --password-stdin $REG
docker buildx build --platform linux/amd64,linux/arm64 --build-arg VERSION=$version --tag $REG/heliograph/agent:$version --metadata-file FILE --push $SRC
EOF
diff "$TMP/want.aws" "$CALLS/aws" >&2 || fail "ecr-push: aws commands differ"
diff "$TMP/want.docker" "$CALLS/docker" >&2 || fail "ecr-push: docker commands differ"
[ "$(cat "$CALLS/login-stdin")" = "$SECRET" ] || fail "docker login did not get the password on stdin"
grep -qx "  agentctl install-stack --agent-image $REG/heliograph/agent:$version" "$CALLS/out" ||
	fail "ecr-push does not print the install command: $(cat "$CALLS/out")"
grep -q "sha256:0*7)" "$CALLS/out" || fail "ecr-push does not print the pushed digest"
grep -q 'no pull secret' "$CALLS/out" || fail "ecr-push does not say the nodes need no pull secret"
! grep -q 'docker driver' "$CALLS/err" || fail "docker-driver hint for a docker-container builder"
# Only the instructions on stdout (a pipeline can capture them).
[ "$(wc -l <"$CALLS/out")" = 5 ] || fail "stdout is not only the instructions: $(cat "$CALLS/out")"
# The printed reference is one agentctl accepts.
ref=$(sed -n 's/.*--agent-image //p' "$CALLS/out")
"$BUILD/agentctl" render --agent-image "$ref" >"$TMP/render.yaml" || fail "agentctl render --agent-image $ref failed"
grep -qF "image: $ref " "$TMP/render.yaml" || fail "agentctl render rejects $ref"

# An existing repository is not created again; --repository, --tag,
# --platforms and the region from the CLI profile.
push STUB_REPO=exists STUB_CFG_REGION=us-east-2 -- --repository team/hg-agent --tag 0.1.0-rc1 --platforms linux/arm64
[ "$rc" = 0 ] || fail "existing repository: rc $rc: $(cat "$CALLS/err")"
grep -q '^aws configure get region$' "$CALLS/aws" || fail "the profile's region was not asked for"
! grep -q create-repository "$CALLS/aws" || fail "an existing repository was created again"
grep -qx "docker buildx build --platform linux/arm64 --build-arg VERSION=$version --tag 123456789012.dkr.ecr.us-east-2.amazonaws.com/team/hg-agent:0.1.0-rc1 --metadata-file FILE --push $SRC" "$CALLS/docker" ||
	fail "build command: $(grep build "$CALLS/docker")"

# --immutable-tags at creation; an immutable tag that exists stops before building.
push AWS_REGION=eu-west-1 -- --immutable-tags
grep -q -- '--image-tag-mutability IMMUTABLE$' "$CALLS/aws" || fail "--immutable-tags not passed to create-repository"
push AWS_REGION=eu-west-1 STUB_REPO=immutable --
[ "$rc" = 1 ] && grep -q 'already exists and heliograph/agent has immutable tags' "$CALLS/err" || fail "immutable existing tag: rc $rc, $(cat "$CALLS/err")"
! grep -q 'buildx build' "$CALLS/docker" 2>/dev/null || fail "built although the tag cannot be pushed"

# The docker driver: a hint before building (it pushes multi-platform images
# only with the containerd image store; none above for a BuildKit builder).
push AWS_REGION=eu-west-1 STUB_DRIVER=docker STUB_REPO=exists --
[ "$rc" = 0 ] && grep -q 'docker buildx create --use --name heliograph' "$CALLS/err" || fail "no hint for the docker driver"

# China regions have their own domain.
push AWS_REGION=cn-north-1 STUB_REPO=exists --
grep -q -- "--password-stdin 123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn$" "$CALLS/docker" || fail "China region registry host"

# Errors: each says what and how, and nothing is created or pushed.
push --
[ "$rc" = 2 ] && grep -q 'no AWS region: pass --region' "$CALLS/err" || fail "no region: rc $rc, $(cat "$CALLS/err")"
push -- --region 'eu west'
[ "$rc" = 2 ] && grep -q 'not an AWS region name' "$CALLS/err" || fail "bad region: rc $rc"
push AWS_REGION=eu-west-1 -- --repository 'Heliograph/Agent'
[ "$rc" = 2 ] && [ ! -s "$CALLS/aws" ] || fail "bad repository name accepted: rc $rc"
push AWS_REGION=eu-west-1 -- --platforms linux/s390x
[ "$rc" = 2 ] || fail "unsupported platform accepted"
push AWS_REGION=eu-west-1 -- --bogus
[ "$rc" = 2 ] && grep -q "unknown argument '--bogus'" "$CALLS/err" || fail "unknown argument"
push AWS_REGION=eu-west-1 STUB_STS_FAIL=1 --
[ "$rc" = 1 ] && grep -q 'Unable to locate credentials' "$CALLS/err" && grep -q 'cannot tell the AWS account' "$CALLS/err" ||
	fail "no credentials: rc $rc, $(cat "$CALLS/err")"
push AWS_REGION=eu-west-1 STUB_ACCOUNT=oops --
[ "$rc" = 1 ] && grep -q "not a 12-digit account id" "$CALLS/err" || fail "bad account id"
push AWS_REGION=eu-west-1 STUB_REPO=denied --
[ "$rc" = 1 ] && grep -q AccessDeniedException "$CALLS/err" && grep -q 'ecr:DescribeRepositories' "$CALLS/err" ||
	fail "access denied: rc $rc, $(cat "$CALLS/err")"
! grep -q create-repository "$CALLS/aws" || fail "created a repository after AccessDenied"
push AWS_REGION=eu-west-1 STUB_PLATFORMS='linux/amd64, linux/386' --
[ "$rc" = 1 ] && grep -q 'cannot build linux/arm64' "$CALLS/err" && grep -q 'tonistiigi/binfmt --install' "$CALLS/err" ||
	fail "missing arm64 emulation: rc $rc, $(cat "$CALLS/err")"
! grep -q 'login' "$CALLS/docker" || fail "logged in although the builder cannot build"
push AWS_REGION=eu-west-1 STUB_BUILD_FAIL=1 --
[ "$rc" = 1 ] && grep -q 'docker buildx build --push failed' "$CALLS/err" && [ ! -s "$CALLS/out" ] ||
	fail "failed build: rc $rc, stdout $(cat "$CALLS/out")"
"$SRC/scripts/ecr-push.sh" --help >"$TMP/help" && grep -q 'get-login-password' "$TMP/help" || fail "--help"

# ---- scripts/release-ref.sh: the release publishes exactly IMAGE ----
image=$(cat "$SRC/IMAGE")
owner=$(sed -n 's|^ghcr\.io/\([^/]*\)/agent:.*|\1|p' "$SRC/IMAGE")
[ -n "$owner" ] || fail "IMAGE ($image) is not the ghcr.io/OWNER/agent:VERSION the release workflow publishes"
out=$("$SRC/scripts/release-ref.sh" "v$version" "$owner") || fail "release-ref refused v$version"
[ "$out" = "image=$image
version=$version" ] || fail "release-ref printed: $out"
"$SRC/scripts/release-ref.sh" "v$version" "${owner^^}" >/dev/null || fail "release-ref: the owner's case matters (ghcr.io names are lowercase)"
! "$SRC/scripts/release-ref.sh" "v9.9.9" "$owner" >/dev/null 2>"$TMP/rr.err" || fail "release-ref accepted a tag that is not IMAGE's version"
grep -q "IMAGE says version $version" "$TMP/rr.err" || fail "release-ref tag error: $(cat "$TMP/rr.err")"
! "$SRC/scripts/release-ref.sh" "v$version" someone-else >/dev/null 2>"$TMP/rr.err" || fail "release-ref accepted another owner"
grep -q "publishes ghcr.io/someone-else/agent" "$TMP/rr.err" || fail "release-ref owner error: $(cat "$TMP/rr.err")"

# ---- .github/workflows/release.yml: trigger, permissions, the actions and their inputs ----
python3 - "$SRC/.github/workflows/release.yml" <<'PY' || fail "release.yml"
import sys, yaml
wf = yaml.safe_load(open(sys.argv[1]))
def need(c, msg):
    if not c:
        sys.exit("release.yml: " + msg)
on = wf.get("on", wf.get(True))  # YAML 1.1 reads the key on as true
need(on == {"push": {"tags": ["v*"]}}, "not triggered by tags v* only: %r" % on)
need(wf.get("permissions") == {}, "the workflow's default token permissions are not empty")
job = wf["jobs"]["publish"]
need(job["permissions"] == {"contents": "write", "packages": "write"}, "job permissions %r" % job["permissions"])
# Inputs each action declares in its action.yml (docker/*-action at their newest
# majors: setup-qemu v4.2.0, setup-buildx v4.3.0, login v4.1.0, build-push v7.3.0).
inputs = {
    "actions/checkout@v6": set(),
    "docker/setup-qemu-action@v4": {"image", "platforms", "reset", "cache-image"},
    "docker/setup-buildx-action@v4": {"version", "driver", "driver-opts", "buildkitd-flags", "buildkitd-config",
        "buildkitd-config-inline", "use", "name", "endpoint", "platforms", "append", "keep-state", "cache-binary", "cleanup"},
    "docker/login-action@v4": {"registry", "username", "password", "ecr", "scope", "logout", "registry-auth"},
    "docker/build-push-action@v7": {"add-hosts", "allow", "annotations", "attests", "build-args", "build-contexts",
        "builder", "cache-from", "cache-to", "call", "cgroup-parent", "context", "file", "labels", "load", "network",
        "no-cache", "no-cache-filters", "outputs", "platforms", "provenance", "pull", "push", "sbom", "secrets",
        "secret-envs", "secret-files", "shm-size", "ssh", "tags", "target", "ulimit", "github-token"},
}
steps = job["steps"]
used = [s["uses"] for s in steps if "uses" in s]
for u in used:
    need(u in inputs, "unexpected action " + u)
for s in steps:
    if "uses" in s:
        bad = set(s.get("with", {})) - inputs[s["uses"]]
        need(not bad, "%s has no input %s" % (s["uses"], bad))
order = [u.split("@")[0] for u in used]
need(order[:4] == ["actions/checkout", "docker/setup-qemu-action", "docker/setup-buildx-action", "docker/login-action"],
     "setup order %r" % order)
bp = [s for s in steps if s.get("uses", "").startswith("docker/build-push-action")]
need(len(bp) == 2, "two builds (image, .deb)")
img, deb = bp[0]["with"], bp[1]["with"]
need(img["platforms"] == "linux/amd64,linux/arm64" and img["push"] is True, "image: both platforms, pushed")
need(img["tags"] == "${{ steps.ref.outputs.image }}", "image tag is not release-ref's (IMAGE)")
need(img["build-args"] == "VERSION=${{ steps.ref.outputs.version }}", "image VERSION build arg")
need(deb["target"] == "deb" and deb["platforms"] == "linux/amd64,linux/arm64" and deb["outputs"] == "type=local,dest=dist",
     "deb build")
login = [s for s in steps if s.get("uses", "").startswith("docker/login-action")][0]["with"]
need(login == {"registry": "ghcr.io", "username": "${{ github.actor }}", "password": "${{ secrets.GITHUB_TOKEN }}"}, "login")
run = "\n".join(s.get("run", "") for s in steps)
need('scripts/release-ref.sh "$GITHUB_REF_NAME" "$GITHUB_REPOSITORY_OWNER"' in run, "release-ref not run on the tag")
need("docker logout ghcr.io" in run and "imagetools inspect" in run, "no anonymous pull check")
need("gh release create" in run and "dist/*/*.deb" in run, "no GitHub release with the .deb files")
ref = [s for s in steps if s.get("id") == "ref"]
need(ref and steps.index(ref[0]) < steps.index(bp[0]), "release-ref must run before the build")
PY

# ---- the docs: the default as IMAGE names it, and the EKS install starts with the image ----
grep -qF "| \`--agent-image\` | \`$image\`" "$SRC/k8s-manifests/README.md" || fail "k8s-manifests/README.md's --agent-image default is not $image"
"$BUILD/agentctl" install-stack --help >"$TMP/help" && grep -qF "(default $image)" "$TMP/help" || fail "install-stack --help's default is not $image"
sed -n '/^## Install on EKS/,/^### 2\./p' "$SRC/README.md" >"$TMP/eks.md"
first=$(grep -m1 '^### ' "$TMP/eks.md")
[ "$first" = "### 1. An agent image your nodes can pull" ] || fail "README's EKS section does not start with the image: $first"
grep -q '^scripts/ecr-push.sh' "$TMP/eks.md" || fail "README's EKS section does not run scripts/ecr-push.sh"

# ---- install-stack says where the default image comes from, before anything is created ----
source "$(dirname "$0")/kube_lib.sh"
kube_start
kube_config "$TMP/kubeconfig"
"$BUILD/agentctl" install-stack --dry-run --kubeconfig "$TMP/kubeconfig" >"$TMP/dry" 2>&1 || true
grep -qF "Agent image $image (the default): published by the project's release of this version" "$TMP/dry" &&
	grep -q 'scripts/ecr-push.sh builds and pushes it to your ECR' "$TMP/dry" || fail "install-stack without --agent-image: $(cat "$TMP/dry")"
"$BUILD/agentctl" install-stack --dry-run --kubeconfig "$TMP/kubeconfig" --agent-image "$ref" >"$TMP/dry" 2>&1 || true
! grep -q 'Agent image' "$TMP/dry" || fail "install-stack talks about the default with --agent-image given"

echo PASS
