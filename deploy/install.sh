#!/usr/bin/env bash
# Install the edge app as a systemd service on Raspberry Pi OS (Bookworm or Trixie) or another Debian.
#
#   sudo deploy/install.sh                 # system user house-numbers, venv in /opt/house-numbers/venv
#   sudo deploy/install.sh --user "$USER"  # run as an existing user instead (e.g. the one you log in as)
#   deploy/install.sh --dry-run            # print what it would do, change nothing
#
# Run from the checkout. It installs picamera2 from apt, makes a venv that sees the OS's packages
# (--system-site-packages, so picamera2 and its numpy are the OS's), installs the requirement set for
# this OS (Bookworm: numpy<2) and the package itself, puts deploy/device.toml in /etc/house-numbers
# (kept if present), and enables the unit. Edit /etc/house-numbers/device.toml, then
# `sudo systemctl restart house-numbers`; `house-numbers doctor` checks the set-up.
set -euo pipefail

SERVICE_USER=house-numbers
PREFIX=/opt/house-numbers
DRY_RUN=0
OS_RELEASE=${OS_RELEASE:-/etc/os-release}
while [ $# -gt 0 ]; do
    case "$1" in
        --user) SERVICE_USER=$2; shift 2 ;;
        --prefix) PREFIX=$2; shift 2 ;;
        --dry-run) DRY_RUN=1; shift ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        *) echo "error: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
cd "$(dirname "$0")/.."

run() {  # print each step; run it unless --dry-run
    echo "+ $*"
    [ "$DRY_RUN" = 1 ] || "$@"
}

# Which requirement set: Bookworm's picamera2 is built for numpy 1.x; Trixie's apt numpy (2.2) satisfies the default.
# 32-bit Raspberry Pi OS (armhf userland, even on a Pi 4/5 whose 64-bit kernel says aarch64) has no ai-edge-litert
# wheel: tflite-runtime instead, and the package without its declared dependencies.
codename=$(. "$OS_RELEASE" && echo "${VERSION_CODENAME:-}")
arch=${DPKG_ARCH:-$(dpkg --print-architecture 2>/dev/null || uname -m)}
case "$codename" in
    bookworm) requirements=requirements-edge-bookworm.txt ;;
    *) requirements=requirements-edge.txt ;;
esac
[ "$arch" = armhf ] && requirements=requirements-edge-armhf.txt
echo "OS: ${codename:-unknown} ($arch); requirements: $requirements; user: $SERVICE_USER; venv: $PREFIX/venv"

if [ "$DRY_RUN" = 0 ] && [ "$(id -u)" != 0 ]; then
    echo "error: run as root (sudo deploy/install.sh), or --dry-run to see the steps" >&2
    exit 2
fi

packages="python3-venv"
if apt-cache show python3-picamera2 >/dev/null 2>&1; then packages="$packages python3-picamera2"; fi
run apt-get install -y $packages

if [ "$SERVICE_USER" = house-numbers ] && ! id -u house-numbers >/dev/null 2>&1; then
    run useradd --system --user-group --home-dir /var/lib/house-numbers --shell /usr/sbin/nologin house-numbers
fi
# The unit adds the groups video (the Pi camera) and plugdev (Coral's USB udev rule) itself.

run python3 -m venv --system-site-packages "$PREFIX/venv"
# .[mqtt]: paho-mqtt, so turning on mqtt in device.toml works in the service (it is pure Python: no numpy clash)
if [ "$arch" = armhf ]; then
    run "$PREFIX/venv/bin/pip" install --disable-pip-version-check -r "$requirements" "paho-mqtt>=2.1,<3"
    run "$PREFIX/venv/bin/pip" install --disable-pip-version-check --no-deps .
else
    run "$PREFIX/venv/bin/pip" install --disable-pip-version-check -r "$requirements" ".[mqtt]"
fi

run install -d -o "$SERVICE_USER" -g "$(id -gn "$SERVICE_USER" 2>/dev/null || echo "$SERVICE_USER")" -m 755 /etc/house-numbers
if [ ! -e /etc/house-numbers/device.toml ]; then
    # 0600: it holds the MQTT password and the web token (the page's write-back keeps the mode)
    run install -o "$SERVICE_USER" -m 600 deploy/device.toml /etc/house-numbers/device.toml
fi

unit=/etc/systemd/system/house-numbers.service
groups_sed=()  # a PCIe/M.2 Coral's /dev/apex_0 belongs to the apex group, where its driver is installed
if getent group apex >/dev/null 2>&1; then groups_sed=(-e "s/^SupplementaryGroups=video plugdev$/& apex/"); fi
if [ "$SERVICE_USER" = house-numbers ] && [ ${#groups_sed[@]} -eq 0 ]; then
    run install -m 644 deploy/house-numbers.service "$unit"
else  # an existing user (its own group), or the apex group added: the unit edited on the way
    echo "+ sed User=/Group= deploy/house-numbers.service > $unit"
    if [ "$DRY_RUN" = 0 ]; then
        sed -e "s/^User=.*/User=$SERVICE_USER/" -e "s/^Group=.*/Group=$(id -gn "$SERVICE_USER" 2>/dev/null || echo "$SERVICE_USER")/" \
            "${groups_sed[@]}" deploy/house-numbers.service > "$unit"
    fi
fi
if [ "$PREFIX" != /opt/house-numbers ] && [ "$DRY_RUN" = 0 ]; then
    sed -i "s|/opt/house-numbers/venv|$PREFIX/venv|" "$unit"
fi
run systemctl daemon-reload
run systemctl enable --now house-numbers
echo "installed; check it with: $PREFIX/venv/bin/house-numbers doctor --source picamera; journalctl -u house-numbers -f"
