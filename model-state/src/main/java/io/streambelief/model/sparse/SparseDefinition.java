package io.streambelief.model.sparse;

import java.io.Serializable;
import java.util.Objects;

/**
 * What makes a model sparse, published with its definition so that serving computes ids and
 * looks up rows exactly as training does: the feature schema (as JSON, parsed by whoever reads
 * it), the wide &amp; deep preset and the embedding table's layout and optimizers.
 */
public record SparseDefinition(String schemaSource, String schemaJson, WideDeepSpec model, EmbeddingTable table)
        implements Serializable {

    public SparseDefinition {
        Objects.requireNonNull(schemaSource, "schemaSource");
        Objects.requireNonNull(schemaJson, "schemaJson");
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(table, "table");
        if (model.dim() != table.dim()) {
            throw new IllegalArgumentException("Model " + model + " and table " + table + " disagree on the dimension");
        }
    }
}
