# Sourced by the scripts that test against Python packages from PyPI: makes (or reuses) a
# virtualenv holding a pinned requirements file.
#
#   ensure_venv NAME VENV PYTHON REQUIREMENTS IMPORTS
#
# NAME prefixes the messages; VENV is the venv's directory; PYTHON makes it; IMPORTS is a
# Python import statement that must work afterwards. A venv is reused while the hash of
# REQUIREMENTS matches the stamp written after its last successful install. Debian's
# python3 ships venv separately: python3-venv is installed with apt-get when missing (with
# sudo when not root).

venv_die() {
  printf '%s: FAILED: %s\n' "$VENV_NAME" "$*" >&2
  exit 1
}

venv_make() { # venv python
  local venv="$1" py="$2" log minor sudo=""
  log="$(mktemp)"
  if "$py" -m venv "$venv" >"$log" 2>&1; then
    rm -f "$log"
    return 0
  fi
  rm -rf "$venv"
  if ! command -v apt-get >/dev/null 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    venv_die "$py -m venv failed"
  fi
  rm -f "$log"
  minor="$("$py" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
  echo "$py -m venv failed; installing python${minor}-venv with apt-get"
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq >/dev/null || venv_die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "python${minor}-venv" >/dev/null \
    || DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-venv >/dev/null \
    || venv_die "could not install python3-venv"
  "$py" -m venv "$venv" || venv_die "$py -m venv failed even with python3-venv installed"
}

ensure_venv() { # name venv python requirements imports
  VENV_NAME="$1"
  local venv="$2" py="$3" requirements="$4" imports="$5" want stamp
  command -v "$py" >/dev/null 2>&1 || venv_die "no $py on PATH"
  [ -f "$requirements" ] || venv_die "missing $requirements"
  want="$(sha256sum "$requirements" | cut -d' ' -f1)"
  stamp="$venv/.traced-requirements.sha256"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] \
    && "$venv/bin/python" -c "$imports" >/dev/null 2>&1; then
    echo "$VENV_NAME: reusing $venv"
    return 0
  fi
  echo "$VENV_NAME: installing $requirements into $venv"
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  venv_make "$venv" "$py"
  "$venv/bin/python" -m pip install --disable-pip-version-check --no-input -q -r "$requirements" \
    || venv_die "pip install -r $requirements failed"
  "$venv/bin/python" -c "$imports" || venv_die "the packages installed but do not import"
  echo "$want" >"$stamp"
}
