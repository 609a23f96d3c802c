package io.streambelief.deployment.manifest;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;

import io.streambelief.flink.TrainingJobCommand;
import io.streambelief.flink.config.TrainingConfig;
import picocli.CommandLine;

/** A FlinkDeployment read as our training job: its arguments as the job's own parser takes them. */
final class TrainingJobManifest {

    private TrainingJobManifest() {}

    static List<String> args(Manifest job) {
        List<String> args = new ArrayList<>();
        job.at("/spec/job/args").forEach(arg -> args.add(arg.asText()));
        return args;
    }

    /** The job's configuration, or empty when its arguments do not parse ({@link #parseError} says why). */
    static Optional<TrainingConfig> config(Manifest job) {
        return parseError(job).isPresent() ? Optional.empty()
                : Optional.of(TrainingJobCommand.configOf(args(job).toArray(String[]::new)));
    }

    static Optional<String> parseError(Manifest job) {
        try {
            TrainingJobCommand.configOf(args(job).toArray(String[]::new));
            return Optional.empty();
        } catch (CommandLine.ParameterException | IllegalArgumentException e) {
            return Optional.of(e.getMessage());
        }
    }

    /** A key of the Flink configuration, or empty when the manifest does not set it. */
    static Optional<String> flinkConfiguration(Manifest job, String key) {
        JsonNode value = job.at("/spec/flinkConfiguration").path(key);
        return value.isMissingNode() || value.isNull() ? Optional.empty() : Optional.of(value.asText());
    }
}
