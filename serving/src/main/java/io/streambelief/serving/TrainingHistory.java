package io.streambelief.serving;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import io.streambelief.kafka.metrics.TrainingMetrics;
import io.streambelief.model.record.ModelIds;

/**
 * What the dashboard draws, per model: the workers' progressive-validation reports from
 * {@code training-metrics}, and the served model sampled over time. Each series keeps its last
 * {@link #capacity} points (an hour of the default two-second reports of one worker, or of
 * once-a-second samples), so memory stays bounded however long the server runs.
 */
final class TrainingHistory {
    static final int DEFAULT_CAPACITY = 3_600;

    /**
     * One worker report.
     *
     * @param examples examples all workers had evaluated by then, from each one's latest report:
     *     its growth over time is the training rate, however often and out of step they report
     * @param bytesPerExample this worker's traffic with the parameter servers, both ways, per example
     *     it trained since it started; NaN from writers that do not report it
     * @param auc for a binary model, the area under the ROC curve of the worker's predictions so
     *     far; NaN when not reported
     */
    record TrainingPoint(long timeMillis, int worker, double loss, double accuracy, long examples,
            double bytesPerExample, double auc) {}

    /** The served model at one moment. */
    record ServedPoint(long timeMillis, long modelVersion, long examplesTrained, long ageMillis) {}

    private final int capacity;
    /** Bounds on what a report may name, so that no stream of reports can grow the history without end. */
    static final int MAX_MODELS = 100;
    static final int MAX_WORKERS = 4096;

    private final Map<String, Model> models = new HashMap<>();

    TrainingHistory() {
        this(DEFAULT_CAPACITY);
    }

    TrainingHistory(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be positive, got " + capacity);
        }
        this.capacity = capacity;
    }

    /**
     * Adds one worker's report. training-metrics is input like every topic: a report that would
     * poison the curves — a time more than a minute ahead (every later point would sit left of
     * it), a loss or accuracy that is not a number in range, a negative count, a worker or model
     * beyond any job's — is refused with the reason.
     *
     * @throws IllegalArgumentException saying why the report was refused
     */
    synchronized void add(TrainingMetrics report, long nowMillis) {
        ModelIds.check(report.model());
        if (!models.containsKey(report.model()) && models.size() >= MAX_MODELS) {
            throw new IllegalArgumentException("the dashboard follows " + MAX_MODELS + " models already");
        }
        if (report.worker() < 0 || report.worker() >= MAX_WORKERS) {
            throw new IllegalArgumentException("worker " + report.worker() + " is not between 0 and " + MAX_WORKERS);
        }
        if (report.timeMillis() > nowMillis + ModelStore.MAX_CLOCK_AHEAD_MILLIS) {
            throw new IllegalArgumentException("time " + report.timeMillis() + " is ahead of this server's clock");
        }
        if (report.examples() < 0 || !(report.loss() >= 0) || Double.isInfinite(report.loss())
                || !(report.accuracy() >= 0 && report.accuracy() <= 1)) {
            throw new IllegalArgumentException("examples " + report.examples() + ", loss " + report.loss()
                    + ", accuracy " + report.accuracy() + " are not a worker's figures");
        }
        Model model = model(report.model());
        model.examplesByWorker.put(report.worker(), report.examples());
        long examples = model.examplesByWorker.values().stream().mapToLong(Long::longValue).sum();
        double bytesPerExample = report.bytesPushed() != null && report.examples() > 0
                ? (double) (report.bytesPushed() + report.bytesReceived()) / report.examples() : Double.NaN;
        double auc = report.auc() != null && report.auc() >= 0 && report.auc() <= 1 ? report.auc() : Double.NaN;
        append(model.training, new TrainingPoint(report.timeMillis(), report.worker(), report.loss(),
                report.accuracy(), examples, bytesPerExample, auc));
    }

    /** Samples every served model. */
    synchronized void sample(ModelStore store, long nowMillis) {
        for (String name : store.names()) {
            store.get(name).ifPresent(served -> append(model(name).served, new ServedPoint(nowMillis,
                    served.modelVersion(), served.examplesTrained(),
                    served.updatedAtMillis() > 0 ? Math.max(0, nowMillis - served.updatedAtMillis()) : -1)));
        }
    }

    synchronized List<TrainingPoint> training(String model) {
        Model m = models.get(model);
        return m == null ? List.of() : new ArrayList<>(m.training);
    }

    synchronized List<ServedPoint> served(String model) {
        Model m = models.get(model);
        return m == null ? List.of() : new ArrayList<>(m.served);
    }

    /** Models with any history, in name order. */
    synchronized List<String> models() {
        return new ArrayList<>(new TreeMap<>(models).keySet());
    }

    private Model model(String name) {
        return models.computeIfAbsent(name, n -> new Model());
    }

    private <T> void append(Deque<T> series, T point) {
        if (series.size() == capacity) {
            series.removeFirst();
        }
        series.addLast(point);
    }

    private static final class Model {
        final Deque<TrainingPoint> training = new ArrayDeque<>();
        final Deque<ServedPoint> served = new ArrayDeque<>();
        final Map<Integer, Long> examplesByWorker = new HashMap<>();
    }
}
