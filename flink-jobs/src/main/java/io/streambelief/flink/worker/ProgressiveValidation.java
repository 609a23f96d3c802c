package io.streambelief.flink.worker;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.util.OutputTag;

import io.streambelief.kafka.metrics.TrainingMetrics;
import io.streambelief.model.engine.GradientStep;

/** Sums one worker's evaluations over a reporting interval. */
public final class ProgressiveValidation {
    /** Progressive-validation reports, one per worker and metrics interval. */
    public static final OutputTag<TrainingMetrics> METRICS =
            new OutputTag<>("training-metrics", TypeInformation.of(TrainingMetrics.class));

    private long totalExamples;
    private long windowExamples;
    private double windowLossSum;
    private long windowCorrect;
    private long windowStartMillis;
    private double lastLoss = Double.NaN;
    private double lastAccuracy = Double.NaN;

    public ProgressiveValidation(long nowMillis) {
        windowStartMillis = nowMillis;
    }

    void add(GradientStep step) {
        add(step.size(), step.loss(), step.correct());
    }

    /** One evaluated mini-batch: its size, mean loss and correctly classified examples. */
    public void add(int size, double meanLoss, int correct) {
        totalExamples += size;
        windowExamples += size;
        windowLossSum += meanLoss * size;
        windowCorrect += correct;
    }

    public boolean hasWindow() {
        return windowExamples > 0;
    }

    /** Closes the current window into a report and starts the next. */
    public TrainingMetrics report(String model, int worker, long nowMillis) {
        lastLoss = windowLossSum / windowExamples;
        lastAccuracy = (double) windowCorrect / windowExamples;
        TrainingMetrics metrics = TrainingMetrics.of(model, worker, nowMillis, totalExamples, windowExamples,
                (nowMillis - windowStartMillis) / 1000.0, lastLoss, lastAccuracy);
        windowExamples = 0;
        windowLossSum = 0;
        windowCorrect = 0;
        windowStartMillis = nowMillis;
        return metrics;
    }

    public double lastLoss() {
        return lastLoss;
    }

    public double lastAccuracy() {
        return lastAccuracy;
    }
}
