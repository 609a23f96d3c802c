package io.streambelief.model.record;

import java.util.regex.Pattern;

/** Model ids name Kafka keys ({@code <modelId>/<shard>}) and URLs, so they are kept plain. */
public final class ModelIds {
    private static final Pattern VALID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,99}");

    private ModelIds() {}

    public static String check(String modelId) {
        if (modelId == null || !VALID.matcher(modelId).matches()) {
            throw new IllegalArgumentException("Model name '" + modelId
                    + "' is not valid: use 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit");
        }
        return modelId;
    }

    /** Key of a shard record on model-params. */
    public static String shardKey(String modelId, int shardId) {
        return modelId + "/" + shardId;
    }

    /** Key of the model definition on model-params. */
    public static String definitionKey(String modelId) {
        return modelId + "/spec";
    }
}
