package io.streambelief.flink.io;

import io.streambelief.model.record.RowGradient;

/**
 * A row gradient as read from {@code embedding-gradients}, with its place in that log: the
 * embedding shard matches a gradient it applied ahead of its commit with the same record read
 * once committed by that place, and knows every record before it in its partition settled.
 */
public record LoggedRowGradient(int partition, long offset, RowGradient gradient) {
}
