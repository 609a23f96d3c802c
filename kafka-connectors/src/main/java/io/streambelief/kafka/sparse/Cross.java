package io.streambelief.kafka.sparse;

import java.io.Serializable;
import java.util.Arrays;

import io.streambelief.model.sparse.FeatureHash;

/**
 * A crossed slot: its id hashes the cross's name with the values of two or more categorical
 * features together, so the model can learn what a combination means beyond its parts.
 *
 * @param parts the crossed categorical features, by their place among the categorical features
 */
record Cross(String name, int[] parts) implements Serializable {
    Cross {
        parts = parts.clone();
    }

    @Override
    public int[] parts() {
        return parts.clone();
    }

    /** The id, from the categorical features' values of a record (in their order). */
    long id(String[] categoricalValues) {
        String[] values = new String[parts.length];
        for (int p = 0; p < parts.length; p++) {
            values[p] = categoricalValues[parts[p]];
        }
        return FeatureHash.cross(name, values);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Cross that && name.equals(that.name) && Arrays.equals(parts, that.parts);
    }

    @Override
    public int hashCode() {
        return 31 * name.hashCode() + Arrays.hashCode(parts);
    }

    @Override
    public String toString() {
        return "Cross[name=" + name + ", parts=" + Arrays.toString(parts) + "]";
    }
}
