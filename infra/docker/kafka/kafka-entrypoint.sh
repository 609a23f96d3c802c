#!/usr/bin/env bash
# Writes server.properties from the environment, formats the storage on first start (a restart on
# the same volume keeps its cluster id, topics and records), then runs the broker.
#   KAFKA_ADVERTISED_HOST  the host clients reach the broker at (default: this container's hostname)
#   KAFKA_PORT             client port (default 9092); the controller listens on KAFKA_CONTROLLER_PORT (9093)
#   KAFKA_LISTENERS, KAFKA_ADVERTISED_LISTENERS, KAFKA_LISTENER_SECURITY_PROTOCOL_MAP
#                          replace the three derived from the above (e.g. a second listener for the
#                          host, as in compose.yaml); the controller's listener must stay CONTROLLER
#   KAFKA_CLUSTER_ID       used when formatting (default: a fixed id, fine for one broker)
#   KAFKA_EXTRA_PROPERTIES more lines for server.properties
set -euo pipefail
port="${KAFKA_PORT:-9092}"
controller="${KAFKA_CONTROLLER_PORT:-9093}"
host="${KAFKA_ADVERTISED_HOST:-$(hostname)}"
data=/var/lib/kafka
config="$data/server.properties"
cat > "$config" <<PROPERTIES
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=localhost:$controller
listeners=${KAFKA_LISTENERS:-PLAINTEXT://0.0.0.0:$port,CONTROLLER://localhost:$controller}
advertised.listeners=${KAFKA_ADVERTISED_LISTENERS:-PLAINTEXT://$host:$port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=${KAFKA_LISTENER_SECURITY_PROTOCOL_MAP:-CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT}
log.dirs=$data/kraft-logs
num.partitions=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.cleaner.threads=1
log.cleaner.dedupe.buffer.size=33554432
${KAFKA_EXTRA_PROPERTIES:-}
PROPERTIES
cp=(-cp "/opt/kafka/libs/*")
java -Xmx256m "${cp[@]}" kafka.tools.StorageTool format --standalone --ignore-formatted \
  -t "${KAFKA_CLUSTER_ID:-Wx59KjxPToqbbQ8eLTxLWg}" -c "$config"
exec java ${KAFKA_HEAP_OPTS:--Xmx1g} -XX:+UseG1GC "${cp[@]}" kafka.Kafka "$config"
