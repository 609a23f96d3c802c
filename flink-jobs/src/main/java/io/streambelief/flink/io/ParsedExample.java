package io.streambelief.flink.io;

import io.streambelief.model.sparse.SparseExample;

/**
 * A parsed sparse example on its way to be batched for its rows' lookups.
 *
 * @param exampleId its place in the topic (partition and offset): a replayed record has the same
 */
public record ParsedExample(long exampleId, SparseExample example) {
}
