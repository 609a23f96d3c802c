package io.streambelief.flink;

import java.util.Map;
import java.util.concurrent.Callable;

import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

import io.streambelief.flink.config.TrainingConfig;
import io.streambelief.flink.config.TrainingOptions;
import io.streambelief.kafka.topic.ModelDefinitions;
import io.streambelief.kafka.topic.Topics;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Entry point of the job jar on a Flink cluster ({@code flink run ... --bootstrap-servers ...}, or
 * the REST API / Web UI): creates whichever of the job's topics are missing, publishes the model's
 * definition, then submits the training job to the cluster it was given.
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

    /**
     * The configuration these arguments give the job, without running it: what a deployment's
     * manifests are checked with.
     *
     * @throws CommandLine.ParameterException for an unknown option or a value it does not take
     */
    public static TrainingConfig configOf(String... args) {
        TrainingJobCommand command = new TrainingJobCommand();
        new CommandLine(command).parseArgs(args);
        return command.config();
    }

    private TrainingConfig config() {
        return training.toConfig(bootstrapServers, inputs, classes);
    }

    @Override
    public Integer call() throws Exception {
        TrainingConfig config = config();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers))) {
            config.checkExamplePartitions(Topics.ensure(admin, config.topics(), config.workers()));
        }
        ModelDefinitions.publish(bootstrapServers, config.topics().modelParams(), config.definition());
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        TrainingJob.build(env, config);
        env.execute("streambelief-" + config.modelId());
        return 0;
    }

    /**
     * Never calls {@code System.exit}: submitted through the REST API or the Web UI, this main
     * runs inside the JobManager, which exit would end. Failures are thrown for Flink to report.
     */
    public static void main(String[] args) throws Exception {
        Exception[] failure = new Exception[1];
        int code = new CommandLine(new TrainingJobCommand())
                .setParameterExceptionHandler((e, arguments) -> {
                    failure[0] = e;
                    return 2;
                })
                .setExecutionExceptionHandler((e, commandLine, parsed) -> {
                    failure[0] = e;
                    return 1;
                })
                .execute(args);
        if (failure[0] != null) {
            throw failure[0];
        }
        if (code != 0) {
            throw new IllegalStateException("The training job command ended with exit code " + code);
        }
    }
}
