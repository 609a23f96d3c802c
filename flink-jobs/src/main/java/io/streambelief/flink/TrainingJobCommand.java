package io.streambelief.flink;

import java.util.concurrent.Callable;

import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import io.streambelief.kafka.topic.ModelDefinitions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Entry point of the job jar on a Flink cluster ({@code flink run ... --bootstrap-servers ...}):
 * publishes the model's definition, then submits the training job to the cluster it was given.
 */
@Command(name = "streambelief-training", mixinStandardHelpOptions = true,
        description = "Trains a model online from a Kafka topic of examples (Downpour SGD on Flink).")
public final class TrainingJobCommand implements Callable<Integer> {

    @Option(names = "--bootstrap-servers", required = true, paramLabel = "HOST:PORT",
            description = "Kafka bootstrap servers.")
    String bootstrapServers;

    @Option(names = "--inputs", paramLabel = "N", defaultValue = "784",
            description = "Features per example when --model is not given. Default: ${DEFAULT-VALUE}.")
    int inputs;

    @Option(names = "--classes", paramLabel = "K", defaultValue = "10",
            description = "Classes when --model is not given. Default: ${DEFAULT-VALUE}.")
    int classes;

    @Mixin
    TrainingOptions training;

    @Override
    public Integer call() throws Exception {
        TrainingConfig config = training.toConfig(bootstrapServers, inputs, classes);
        ModelDefinitions.publish(bootstrapServers, config.topics().modelParams(), config.definition());
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        TrainingJob.build(env, config);
        env.execute("streambelief-" + config.modelId());
        return 0;
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new TrainingJobCommand()).execute(args));
    }
}
