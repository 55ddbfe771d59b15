# lib.sh: what the project's scripts share. Sourced, not run.

# need_chromium installs Debian's Chromium when it is missing (browser tests drive it).
need_chromium() {
    for b in chromium chromium-browser google-chrome; do
        command -v "$b" >/dev/null 2>&1 && return 0
    done
    install_debian chromium
}

# need_cjk_font installs a Chinese font when none is there, so that screenshots of the
# Simplified Chinese pages show characters, not empty boxes.
need_cjk_font() {
    fc-list 2>/dev/null | grep -qi "wqy\|cjk" && return 0
    install_debian fonts-wqy-zenhei || true
}

# need_postgres makes sure initdb and pg_ctl exist (the private cluster needs them).
need_postgres() {
    ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && return 0
    command -v initdb >/dev/null 2>&1 && return 0
    install_debian postgresql
}

# install_debian installs packages with apt-get when it can, and otherwise says what to do.
install_debian() {
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing $* (Debian packages)" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null 2>&1 || {
            DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null 2>&1
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null
        }
    else
        echo "missing: $* -- install with: sudo apt-get install -y $*" >&2
        return 1
    fi
}
