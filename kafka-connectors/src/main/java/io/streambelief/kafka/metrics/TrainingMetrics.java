package io.streambelief.kafka.metrics;

import java.io.IOException;
import java.io.UncheckedIOException;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * One worker's progressive-validation report for one interval, as a JSON line on the
 * {@code training-metrics} topic. Every mini-batch is evaluated before it is trained on, so
 * {@code loss} and {@code accuracy} are measured on examples the model had not yet seen.
 *
 * @param version format version of this line
 * @param model model id
 * @param worker worker subtask index
 * @param timeMillis wall-clock time at the end of the interval
 * @param examples examples this worker evaluated since it started
 * @param windowExamples examples in this interval
 * @param windowSeconds length of this interval
 * @param loss mean loss over the interval's examples
 * @param accuracy fraction of the interval's examples whose most probable class was the label
 * @param auc for a sparse (binary) model: area under the ROC curve of every prediction this worker
 *     made since it started, progressive like the rest; absent otherwise
 * @param engine the worker's gradient engine, {@code cpu} or {@code cuda}; absent from older writers
 * @param gpu the GPU the worker is bound to (Flink's external-resource index, or the CUDA device
 *     it picked), also when it fell back to the CPU engine; absent when it has none
 * @param bytesPushed bytes of gradients this worker sent to the parameter servers since it
 *     started; absent from older writers
 * @param bytesReceived bytes of parameter records this worker took in since it started
 * @param residualNorm L2 norm of the gradient that compression holds back; absent when the
 *     worker does not compress
 */
public record TrainingMetrics(
        @JsonProperty("v") int version,
        @JsonProperty("model") String model,
        @JsonProperty("worker") int worker,
        @JsonProperty("time") long timeMillis,
        @JsonProperty("examples") long examples,
        @JsonProperty("window_examples") long windowExamples,
        @JsonProperty("window_seconds") double windowSeconds,
        @JsonProperty("loss") double loss,
        @JsonProperty("accuracy") double accuracy,
        @JsonProperty("auc") @JsonInclude(JsonInclude.Include.NON_NULL) Double auc,
        @JsonProperty("engine") @JsonInclude(JsonInclude.Include.NON_NULL) String engine,
        @JsonProperty("gpu") @JsonInclude(JsonInclude.Include.NON_NULL) Integer gpu,
        @JsonProperty("bytes_pushed") @JsonInclude(JsonInclude.Include.NON_NULL) Long bytesPushed,
        @JsonProperty("bytes_received") @JsonInclude(JsonInclude.Include.NON_NULL) Long bytesReceived,
        @JsonProperty("residual_norm") @JsonInclude(JsonInclude.Include.NON_NULL) Double residualNorm) {

    public static final int CURRENT_VERSION = 1;

    private static final ObjectMapper JSON =
            new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    public static TrainingMetrics of(String model, int worker, long timeMillis, long examples, long windowExamples,
            double windowSeconds, double loss, double accuracy) {
        return new TrainingMetrics(CURRENT_VERSION, model, worker, timeMillis, examples, windowExamples, windowSeconds,
                loss, accuracy, null, null, null, null, null, null);
    }

    public TrainingMetrics withAuc(double auc) {
        return new TrainingMetrics(version, model, worker, timeMillis, examples, windowExamples, windowSeconds, loss,
                accuracy, Double.isFinite(auc) ? auc : null, engine, gpu, bytesPushed, bytesReceived, residualNorm);
    }

    /** This report with the engine that computed it and the GPU it is bound to (null: none). */
    public TrainingMetrics withEngine(String engine, Integer gpu) {
        return new TrainingMetrics(version, model, worker, timeMillis, examples, windowExamples, windowSeconds, loss,
                accuracy, auc, engine, gpu, bytesPushed, bytesReceived, residualNorm);
    }

    /** This report with the worker's traffic since it started and its compression residual (null: none). */
    public TrainingMetrics withTraffic(long bytesPushed, long bytesReceived, Double residualNorm) {
        return new TrainingMetrics(version, model, worker, timeMillis, examples, windowExamples, windowSeconds, loss,
                accuracy, auc, engine, gpu, bytesPushed, bytesReceived, residualNorm);
    }

    public double examplesPerSecond() {
        return windowSeconds > 0 ? windowExamples / windowSeconds : 0;
    }

    public byte[] toJson() {
        try {
            return JSON.writeValueAsBytes(this);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Parses a line; fields added by later versions are ignored, a newer format version is refused. */
    public static TrainingMetrics fromJson(byte[] json) {
        TrainingMetrics metrics;
        try {
            metrics = JSON.readValue(json, TrainingMetrics.class);
        } catch (IOException e) {
            throw new IllegalArgumentException("Not a training-metrics line: " + e.getMessage(), e);
        }
        if (metrics.version() < 1 || metrics.version() > CURRENT_VERSION) {
            throw new IllegalArgumentException("Training-metrics line has format version " + metrics.version()
                    + "; this build reads versions 1 to " + CURRENT_VERSION);
        }
        return metrics;
    }
}
