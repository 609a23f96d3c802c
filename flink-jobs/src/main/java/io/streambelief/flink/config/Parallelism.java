package io.streambelief.flink.config;

import java.io.Serializable;

/**
 * How many subtasks train and how many keep the parameters.
 *
 * @param workers worker replicas W, each computing gradients on its share of the examples
 * @param parameterServers parameter-server subtasks, over which the shards are spread
 */
public record Parallelism(int workers, int parameterServers) implements Serializable {
    public static final int DEFAULT_WORKERS = 2;

    /**
     * What {@code --parameter-servers} means by default (as does any count below 1): one per
     * worker, but at most one per shard, as a subtask without a shard would idle. Resolved by the
     * builder once the model's shards are known.
     */
    public static final int ONE_PER_WORKER = 0;

    /**
     * The parameter servers' maximum parallelism, fixed for good: {@code ShardKeys.MAX_PARALLELISM}
     * says why.
     */
    public static final int MAX_PARAMETER_SERVERS = 128;

    public Parallelism {
        TrainingConfig.positive("workers", workers);
        TrainingConfig.positive("parameter servers", parameterServers);
        if (parameterServers > MAX_PARAMETER_SERVERS) {
            throw new IllegalArgumentException("Parameter-server parallelism must be 1.." + MAX_PARAMETER_SERVERS
                    + ", got " + parameterServers);
        }
    }
}
