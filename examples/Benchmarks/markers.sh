# Shared by the benchmark scripts: replace_between_markers FILE NAME CONTENT_FILE replaces the lines between
# "<!-- NAME:begin -->" and "<!-- NAME:end -->" in FILE with CONTENT_FILE (the markers stay), so generated tables
# live inside hand-written pages and are never typed by hand.
replace_between_markers() {
  local file="$1" name="$2" content="$3"
  if ! grep -q "<!-- $name:begin -->" "$file" || ! grep -q "<!-- $name:end -->" "$file"; then
    echo "$file has no <!-- $name:begin --> / <!-- $name:end --> markers" >&2
    return 1
  fi
  local tmp
  tmp="$(mktemp)"
  awk -v begin="<!-- $name:begin -->" -v end="<!-- $name:end -->" -v content="$content" '
    $0 == begin { print; while ((getline line < content) > 0) print line; skipping = 1; next }
    $0 == end { skipping = 0 }
    !skipping { print }
  ' "$file" > "$tmp"
  mv "$tmp" "$file"
}
