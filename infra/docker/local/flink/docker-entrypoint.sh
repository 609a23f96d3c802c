#!/usr/bin/env bash
# jobmanager | taskmanager | any command, as the official image's entrypoint: FLINK_PROPERTIES
# ("key: value" lines) replace or add keys of conf/config.yaml, then the process runs in the
# foreground with the JVM and memory parameters Flink's own scripts compute (BashJavaUtils) and
# logs to the console.
set -euo pipefail
conf="$FLINK_HOME/conf"
if [[ -n "${FLINK_PROPERTIES:-}" ]]; then
  while IFS= read -r line; do
    key="${line%%:*}"
    [[ -z "${key// /}" || "$key" == \#* || "$key" == "$line" ]] && continue
    # Flink's YAML parser refuses a key twice: the new value replaces the old line.
    awk -F: -v key="$key" '$1 != key' "$conf/config.yaml" > "$conf/config.yaml.new"
    printf '%s\n' "$line" >> "$conf/config.yaml.new"
    mv "$conf/config.yaml.new" "$conf/config.yaml"
  done <<< "$FLINK_PROPERTIES"
fi

# What the distribution's config.yaml passes every process (env.java.opts.all).
opens=()
for pkg in java.lang java.net java.io java.nio sun.nio.ch java.lang.reflect java.text java.time java.util \
    java.util.concurrent java.util.concurrent.atomic java.util.concurrent.locks; do
  opens+=("--add-opens=java.base/$pkg=ALL-UNNAMED")
done

run() {
  local main="$1" command="$2"
  shift 2
  local results
  mapfile -t results < <(java -Xmx128m -cp "$FLINK_HOME/lib/*" org.apache.flink.runtime.util.bash.BashJavaUtils \
      "$command" --configDir "$conf" "${extra[@]}" | sed -n 's/^BASH_JAVA_UTILS_EXEC_RESULT://p')
  if (( ${#results[@]} < 2 )); then
    echo "Flink could not compute the process parameters ($command); check the memory settings" >&2
    exit 1
  fi
  # shellcheck disable=SC2086 # both results are space-separated lists of arguments
  exec java ${results[-2]} "${opens[@]}" -XX:+UseParallelGC \
    -Dlog4j.configurationFile="file:$conf/log4j-console.properties" -Dlog.file="$FLINK_HOME/log/$main.log" \
    -cp "$FLINK_HOME/lib/*" "$main" --configDir "$conf" "${extra[@]}" ${results[-1]} "$@"
}

case "${1:-help}" in
  jobmanager)
    shift
    extra=(--executionMode cluster)
    run org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint GET_JM_RESOURCE_PARAMS "$@"
    ;;
  taskmanager)
    shift
    extra=()
    run org.apache.flink.runtime.taskexecutor.TaskManagerRunner GET_TM_RESOURCE_PARAMS "$@"
    ;;
  help)
    echo "usage: jobmanager | taskmanager | COMMAND [ARGS]"
    ;;
  *)
    exec "$@"
    ;;
esac
