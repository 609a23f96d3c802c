package io.streambelief.flink.worker;

import io.streambelief.kafka.metrics.TrainingMetrics;
import io.streambelief.model.engine.GradientStep;

/** Sums one worker's evaluations over a reporting interval. */
final class ProgressiveValidation {
    private long totalExamples;
    private long windowExamples;
    private double windowLossSum;
    private long windowCorrect;
    private long windowStartMillis;
    private double lastLoss = Double.NaN;
    private double lastAccuracy = Double.NaN;

    ProgressiveValidation(long nowMillis) {
        windowStartMillis = nowMillis;
    }

    void add(GradientStep step) {
        totalExamples += step.size();
        windowExamples += step.size();
        windowLossSum += step.loss() * step.size();
        windowCorrect += step.correct();
    }

    boolean hasWindow() {
        return windowExamples > 0;
    }

    /** Closes the current window into a report and starts the next. */
    TrainingMetrics report(String model, int worker, long nowMillis) {
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

    double lastLoss() {
        return lastLoss;
    }

    double lastAccuracy() {
        return lastAccuracy;
    }
}
