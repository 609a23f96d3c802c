package io.streambelief.model.record;

import java.util.Arrays;
import java.util.Objects;

/**
 * What a federated client sends after training locally: the change of the whole model's
 * parameters ({@code delta}, in {@code ParameterLayout} order) from the global model it started
 * from, and how many of its examples produced it. Nothing else of the client's data is in it.
 *
 * @param round the round the client was sampled for (FedAvg); -1 when it trains outside rounds (FedBuff)
 * @param baseVersion the global model version it started from: its staleness is measured against it
 * @param examples the local examples trained on, FedAvg's weight
 */
public record ModelUpdate(String modelId, String clientId, long round, long baseVersion, long examples,
        long timestampMillis, float[] delta) {

    public ModelUpdate {
        Objects.requireNonNull(modelId, "modelId");
        Objects.requireNonNull(clientId, "clientId");
        Objects.requireNonNull(delta, "delta");
        if (clientId.isEmpty()) {
            throw new IllegalArgumentException("A model update needs a client id");
        }
        if (examples < 1) {
            throw new IllegalArgumentException("A model update comes from at least one example, got " + examples);
        }
    }

    /** Whether every value of the delta is finite: NaN or Inf must never reach the model. */
    public boolean isFinite() {
        for (float value : delta) {
            if (!Float.isFinite(value)) {
                return false;
            }
        }
        return true;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ModelUpdate other && modelId.equals(other.modelId) && clientId.equals(other.clientId)
                && round == other.round && baseVersion == other.baseVersion && examples == other.examples
                && timestampMillis == other.timestampMillis && Arrays.equals(delta, other.delta);
    }

    @Override
    public int hashCode() {
        return Objects.hash(modelId, clientId, round, baseVersion, examples, timestampMillis) * 31
                + Arrays.hashCode(delta);
    }

    @Override
    public String toString() {
        return "ModelUpdate[" + modelId + " from " + clientId + ", round " + round + ", base " + baseVersion + ", "
                + examples + " examples, " + delta.length + " values]";
    }
}
