# Sourced by the README's scripts: puts `uv` on PATH, installing it from PyPI if it is missing.
# Tries a plain pip install first (pyenv / virtualenv Pythons), then a user install, then a user install
# that is allowed next to a Debian-managed Python (PEP 668 "externally managed" environments).
export PATH="$HOME/.local/bin:$PATH"
if ! command -v uv >/dev/null 2>&1; then
  python3 -m pip install --quiet uv 2>/dev/null \
    || python3 -m pip install --quiet --user uv 2>/dev/null \
    || python3 -m pip install --quiet --user --break-system-packages uv
  hash -r
fi
command -v uv >/dev/null 2>&1 || { echo "error: could not install uv (pip install uv), install it and re-run" >&2; exit 1; }
