#!/bin/sh
# Install the Debian 12 packages consent-milter needs.
#   contrib/debian-deps.sh build   build and run (the demo; python3 decodes its output)
#   contrib/debian-deps.sh test    build, run and test (adds Check, miltertest, swaks, clang)
# Already-installed packages are left alone; needs root.
set -e
profile=${1:-build}
build="build-essential autoconf automake libtool pkg-config
	libmilter-dev libgmime-3.0-dev libhiredis-dev libssl-dev libidn2-dev
	libpcre2-dev libjansson-dev postfix redis-server redis-tools swaks python3"
test="check miltertest clang libclang-rt-14-dev procps iproute2 groff-base systemd python3-tinycss2"
case $profile in
build) pkgs=$build ;;
test) pkgs="$build $test" ;;
*) echo "usage: $0 build|test" >&2; exit 2 ;;
esac
missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "debian-deps: need root to install:$missing" >&2
	exit 1
fi
echo "debian-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# Postfix asks debconf questions on first install; a local-only setup is
# what the private test instances need, and the system instance stays off.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
