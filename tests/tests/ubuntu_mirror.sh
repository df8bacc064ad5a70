#!/bin/sh
# Builds a signed Ubuntu-style test mirror from Debian packages, for the
# ubuntu template's e2e test (the Ubuntu archive is not reachable here):
#   $1/debs      the .debs, fetched once from the Debian archive
#   $1/mirror    pool/main/*.deb, dists/$SUITE/{main,universe}/binary-amd64/Packages,
#                Release signed (Release.gpg, InRelease) by a key made here
#   $1/keyring.gpg  that key's public part, for --keyring
# Usage: ubuntu_mirror.sh DIR SUITE PACKAGE,PACKAGE...   (idempotent: a
# complete mirror of that set, named in $1/mirror/.complete, is left as it is).
set -eu
dir=$1 suite=$2 include=$3
[ "$(cat "$dir/mirror/.complete" 2>/dev/null)" = "$include" ] && exit 0
mkdir -p "$dir"
# The Debian set the Ubuntu guest needs (language-pack-en is Ubuntu's
# only: a stand-in is built below).
debian_include=$(echo "$include" | tr , '\n' | grep -v '^language-pack-' | paste -sd, -)
if [ "$(cat "$dir/debs/.complete" 2>/dev/null)" != "$include" ]; then
    rm -rf "$dir/debs"
    debootstrap --download-only --variant=minbase --include="$debian_include" \
        bookworm "$dir/debs" http://deb.debian.org/debian >/dev/null
    echo "$include" > "$dir/debs/.complete"
fi
rm -rf "$dir/mirror" "$dir/gnupg"
pool=$dir/mirror/pool/main
mkdir -p "$pool"
cp "$dir"/debs/var/cache/apt/archives/*.deb "$pool/"
# language-pack-en, as an empty package of that name.
lp=$dir/lp
rm -rf "$lp"; mkdir -p "$lp/DEBIAN"
cat > "$lp/DEBIAN/control" <<CTL
Package: language-pack-en
Version: 1:24.04+rlxc1
Architecture: all
Maintainer: rlxc tests <tests@rlxc.invalid>
Priority: optional
Section: translations
Description: stand-in for Ubuntu's English language pack (rlxc's test mirror)
CTL
dpkg-deb --root-owner-group -Zgzip --build "$lp" "$pool/language-pack-en_24.04+rlxc1_all.deb" >/dev/null
rm -rf "$lp"
cd "$dir/mirror"
for comp in main universe; do
    d=dists/$suite/$comp/binary-amd64
    mkdir -p "$d"
done
dpkg-scanpackages -m pool/main /dev/null 2>/dev/null > "dists/$suite/main/binary-amd64/Packages"
: > "dists/$suite/universe/binary-amd64/Packages"
cd "dists/$suite"
{
    echo "Origin: Ubuntu"
    echo "Label: Ubuntu"
    echo "Suite: $suite"
    echo "Codename: $suite"
    echo "Date: $(LC_ALL=C date -u '+%a, %d %b %Y %H:%M:%S UTC')"
    echo "Architectures: amd64"
    echo "Components: main universe"
    echo "SHA256:"
    for f in main/binary-amd64/Packages universe/binary-amd64/Packages; do
        printf ' %s %s %s\n' "$(sha256sum < "$f" | cut -d' ' -f1)" "$(stat -c %s "$f")" "$f"
    done
} > Release
export GNUPGHOME="$dir/gnupg"
mkdir -m 0700 "$GNUPGHOME"
gpg --batch --quiet --passphrase '' --quick-gen-key 'rlxc test mirror <mirror@rlxc.invalid>' ed25519 sign never 2>/dev/null
gpg --batch --quiet --yes --armor --detach-sign -o Release.gpg Release
gpg --batch --quiet --yes --clearsign -o InRelease Release
gpg --batch --quiet --export > "$dir/keyring.gpg"
gpgconf --kill all 2>/dev/null || true
echo "$include" > "$dir/mirror/.complete"
