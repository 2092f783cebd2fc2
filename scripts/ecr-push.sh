#!/usr/bin/env bash
# Builds the agent image for amd64 and arm64 (t4g) and pushes it to your own
# Amazon ECR, as a pipeline does, then prints the install-stack command that
# uses it:
#   scripts/ecr-push.sh [--region REGION] [--repository NAME] [--tag TAG]
#                       [--platforms LIST] [--immutable-tags]
# 1. the account from `aws sts get-caller-identity`, the region from
#    --region, else $AWS_REGION, $AWS_DEFAULT_REGION or the CLI profile's;
# 2. the repository (default heliograph/agent) is created if it does not
#    exist, with scan on push (and immutable tags with --immutable-tags);
# 3. `aws ecr get-login-password | docker login --password-stdin`: the
#    password goes through a pipe, never onto a command line or the output;
# 4. `docker buildx build --platform linux/amd64,linux/arm64 --push` of the
#    Dockerfile (the build stage runs under QEMU for the other architecture).
# The tag defaults to the version in the file IMAGE. EKS nodes pull from ECR
# with their node role, so the cluster needs no pull secret for it.
# Progress goes to stderr; stdout carries only the final instructions.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
me=ecr-push
die() { echo "$me: $*" >&2; exit 1; }
# (No ${v,,}: macOS still ships bash 3.2, and this runs on laptops.)
lower() { tr '[:upper:]' '[:lower:]' <<<"$1"; }
usage_die() { echo "$me: $*" >&2; echo "usage: scripts/ecr-push.sh [--region REGION] [--repository NAME] [--tag TAG] [--platforms LIST] [--immutable-tags]" >&2; exit 2; }

region='' repo=heliograph/agent tag='' platforms=linux/amd64,linux/arm64 mutability=MUTABLE
version=$(sed -n '1s/.*://p' "$src/IMAGE")
while [ $# -gt 0 ]; do
	case $1 in
	--region|--repository|--tag|--platforms)
		[ $# -ge 2 ] || usage_die "$1 needs a value"
		case $1 in
		--region) region=$2 ;;
		--repository) repo=$2 ;;
		--tag) tag=$2 ;;
		--platforms) platforms=$2 ;;
		esac
		shift 2 ;;
	--region=*) region=${1#*=}; shift ;;
	--repository=*) repo=${1#*=}; shift ;;
	--tag=*) tag=${1#*=}; shift ;;
	--platforms=*) platforms=${1#*=}; shift ;;
	--immutable-tags) mutability=IMMUTABLE; shift ;;
	-h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p;}' "$0"; exit 0 ;;
	*) usage_die "unknown argument '$1'" ;;
	esac
done
tag=${tag:-$version}

# Names as ECR and Docker accept them, checked before anything is created.
[[ $repo =~ ^([a-z0-9]+([._-][a-z0-9]+)*/)*[a-z0-9]+([._-][a-z0-9]+)*$ ]] ||
	usage_die "--repository '$repo': lowercase letters, digits, '.', '_', '-' and '/' between them"
[[ $tag =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || usage_die "--tag '$tag': letters, digits, '_', '.', '-' (at most 128)"
[[ $platforms =~ ^linux/(amd64|arm64)(,linux/(amd64|arm64))*$ ]] ||
	usage_die "--platforms '$platforms': linux/amd64, linux/arm64 or both, comma-separated"

command -v aws >/dev/null || die "the AWS CLI (aws) is not installed: https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html"
command -v docker >/dev/null || die "docker is not installed"
docker buildx version >/dev/null 2>&1 || die "docker buildx is not available (Docker Engine 23+ or Docker Desktop include it; Debian: apt-get install docker-buildx)"

if [ -z "$region" ]; then
	region=${AWS_REGION:-${AWS_DEFAULT_REGION:-}}
fi
if [ -z "$region" ]; then
	region=$(aws configure get region 2>/dev/null || true)
fi
[ -n "$region" ] || usage_die "no AWS region: pass --region REGION (your EKS cluster's) or set AWS_REGION"
[[ $region =~ ^[a-z]{2}(-[a-z]+)+-[0-9]+$ ]] || usage_die "--region '$region' is not an AWS region name such as eu-west-1"

# aws's own message (no credentials, expired SSO session, access denied) is
# passed on; it never holds a secret.
account=$(aws sts get-caller-identity --query Account --output text) ||
	die "cannot tell the AWS account: aws sts get-caller-identity failed (configure credentials: aws configure, AWS_PROFILE or aws sso login)"
[[ $account =~ ^[0-9]{12}$ ]] || die "aws sts get-caller-identity returned '$account', not a 12-digit account id"
suffix=amazonaws.com
[[ $region == cn-* ]] && suffix=amazonaws.com.cn
registry=$account.dkr.ecr.$region.$suffix
image=$registry/$repo:$tag
echo "$me: $image (${platforms//,/, }), account $account, region $region" >&2

# The repository: described, created only when ECR says it does not exist
# (any other failure, e.g. AccessDenied, is reported, not papered over).
err=$(mktemp)
trap 'rm -f "$err"' EXIT
if existing=$(aws ecr describe-repositories --region "$region" --repository-names "$repo" \
	--query 'repositories[0].imageTagMutability' --output text 2>"$err"); then
	echo "$me: repository $repo exists (tags $(lower "$existing"))" >&2
	# An immutable tag cannot be pushed twice: say so before building.
	if [[ $existing == IMMUTABLE* ]] &&
		aws ecr describe-images --region "$region" --repository-name "$repo" --image-ids imageTag="$tag" >/dev/null 2>&1; then
		die "$image already exists and $repo has immutable tags: push a new --tag, or install the existing one:
  agentctl install-stack --agent-image $image"
	fi
elif grep -q RepositoryNotFoundException "$err"; then
	aws ecr create-repository --region "$region" --repository-name "$repo" \
		--image-scanning-configuration scanOnPush=true --image-tag-mutability "$mutability" >/dev/null ||
		die "cannot create the ECR repository $repo (the caller needs ecr:CreateRepository)"
	echo "$me: created repository $repo (scan on push, tags $(lower "$mutability"))" >&2
else
	cat "$err" >&2
	die "cannot read the ECR repository $repo in $region (the caller needs ecr:DescribeRepositories)"
fi

# The builder must be able to run every platform's build stage (natively or
# under QEMU); buildx's own error comes only after minutes of building.
builder=$(docker buildx inspect --bootstrap 2>/dev/null || true)
avail=$(sed -n 's/^Platforms: *//p' <<<"$builder" | tr -d ' ' | tr ',' '\n' | sort -u)
# The plain "docker" driver pushes a multi-platform image only with the
# containerd image store; say what to do before minutes of building.
if [[ $platforms == *,* ]] && grep -qx 'Driver: *docker' <<<"$builder"; then
	echo "$me: note: the current builder uses the docker driver; if the build stops with \"Multi-platform build is not supported for the docker driver\", run: docker buildx create --use --name heliograph" >&2
fi
for p in ${platforms//,/ }; do
	grep -qx "$p" <<<"$avail" || die "the docker buildx builder cannot build $p (it has: $(tr '\n' ' ' <<<"$avail")).
  Install the QEMU emulators:  docker run --privileged --rm tonistiigi/binfmt --install arm64,amd64
  and, if the builder is still limited, a BuildKit builder:  docker buildx create --use --name heliograph
  or build only what your nodes run, e.g. --platforms linux/amd64 (no arm64/t4g nodes)."
done

aws ecr get-login-password --region "$region" | docker login --username AWS --password-stdin "$registry" >&2 ||
	die "docker login to $registry failed (the caller needs ecr:GetAuthorizationToken)"

meta=$(mktemp)
trap 'rm -f "$err" "$meta"' EXIT
docker buildx build --platform "$platforms" --build-arg VERSION="$version" --tag "$image" \
	--metadata-file "$meta" --push "$src" >&2 ||
	die "docker buildx build --push failed (see above; pushing needs ecr:InitiateLayerUpload, UploadLayerPart, CompleteLayerUpload, PutImage)"
digest=$(sed -n 's/.*"containerimage\.digest": *"\(sha256:[0-9a-f]*\)".*/\1/p' "$meta" | head -1)

echo "Pushed $image${digest:+ ($digest)} for ${platforms//,/, }."
echo "EKS nodes pull it with their node role (AmazonEC2ContainerRegistryReadOnly or PullOnly): no pull secret needed."
echo "Install the stack with it:"
echo
echo "  agentctl install-stack --agent-image $image"
