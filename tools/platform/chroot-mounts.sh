# Sourced by the platform scripts: mount_root ROOT binds /proc, /sys, /dev, /dev/pts and /dev/shm into a
# root and copies the host's DNS settings and CA bundle (PyPI through the host's network set-up);
# umount_root ROOT undoes the mounts (the scripts call it from an EXIT trap).
mount_root() {
    for dir in proc sys dev dev/pts dev/shm; do
        mkdir -p "$1/$dir"
        mountpoint -q "$1/$dir" || mount --bind "/$dir" "$1/$dir"
    done
    cp -L /etc/resolv.conf "$1/etc/resolv.conf"
    if [ -n "${PIP_CERT:-}" ] && [ -f "$PIP_CERT" ]; then
        cp -L "$PIP_CERT" "$1/etc/ssl/certs/host-ca-bundle.crt"
    fi
}

umount_root() {
    for dir in dev/shm dev/pts dev sys proc; do
        if mountpoint -q "$1/$dir"; then umount -l "$1/$dir"; fi
    done
}

# The environment a command inside the root gets: a clean one, with pip trusting the host's CA bundle.
root_env() {
    echo "env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive"
    if [ -n "${PIP_CERT:-}" ]; then
        echo "PIP_CERT=/etc/ssl/certs/host-ca-bundle.crt SSL_CERT_FILE=/etc/ssl/certs/host-ca-bundle.crt"
    fi
}

# copy_tree SRC DEST: the files git knows (tracked and new, not ignored) of SRC into DEST, fresh.
copy_tree() {
    rm -rf "$2" && mkdir -p "$2"
    (cd "$1" && git ls-files -z --cached --others --exclude-standard | xargs -0 tar -cf - --no-recursion) \
        | tar -xf - -C "$2"
}
