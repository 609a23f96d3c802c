package io.streambelief.flink.io;

import io.streambelief.model.sparse.SparseExample;

/**
 * One id of one example, on its way to the id's embedding shard to be looked up. The
 * request of slot 0 also carries the example itself, which comes back with its row, so that an
 * example needs no path of its own to the worker that assembles it.
 *
 * @param id the feature id (the key)
 * @param exampleId unique per example while it is in flight
 * @param worker the worker subtask that assembles and trains the example
 * @param slot which of the example's slots this id fills
 * @param example the example, in slot 0's request only; null in the others
 */
public record RowRequest(long id, long exampleId, int worker, int slot, SparseExample example) {
}
