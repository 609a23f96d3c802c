package io.streambelief.serving;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Keeps one bad stretch of data from reaching users: while a model's progressive loss (the
 * workers' reports on {@code training-metrics}, each on examples before it trained on them) is
 * more than {@code ratio} times what it was in the recent past, the server keeps answering with
 * the last version it took before, and takes new versions again once the loss is back under the
 * bound. Alink gates its served models on a metric the same way.
 *
 * <p>Recent is the mean of the reports of the last {@link Settings#recent} (30 s); the past is
 * the median of the {@link Settings#past} (10 min) before that, and is needed — at least
 * {@link Settings#minPastReports} reports of it — before the gate can close. While it is closed,
 * the past stays what it was when it closed (the bad stretch must not become the new normal).
 * Time is the reports' own, so a server replaying the topic from its start judges each moment by
 * what came before it.
 */
public final class PublishGate {

    /**
     * @param ratio the gate closes while the recent loss is more than this times the past one; 0 turns the gate off
     */
    public record Settings(double ratio, Duration recent, Duration past, int minPastReports) {
        /** Conservative: twice the loss of the last ten minutes, over half a minute of reports. */
        public static final Settings DEFAULTS = new Settings(2.0, Duration.ofSeconds(30), Duration.ofMinutes(10), 20);
        public static final Settings OFF = new Settings(0, Duration.ofSeconds(30), Duration.ofMinutes(10), 20);

        public Settings {
            if (!(ratio == 0 || ratio > 1) || Double.isInfinite(ratio)) {
                throw new IllegalArgumentException("the publish gate's ratio must be above 1 (0: off), got " + ratio);
            }
            if (recent.isNegative() || recent.isZero() || past.isNegative() || past.isZero() || minPastReports < 1) {
                throw new IllegalArgumentException("the publish gate needs positive windows and at least one report");
            }
        }

        public Settings withRatio(double newRatio) {
            return new Settings(newRatio, recent, past, minPastReports);
        }
    }

    /**
     * What the gate says of one model.
     *
     * @param recentLoss mean loss of the recent reports (NaN without any)
     * @param pastLoss median loss of the past, frozen while closed (NaN while there is too little)
     * @param closedSinceMillis report time at which it closed, or -1 while open
     * @param closures how often it has closed
     */
    public record State(boolean open, double recentLoss, double pastLoss, long closedSinceMillis, long closures) {}

    private final Settings settings;
    private final Map<String, Model> models = new HashMap<>();

    public PublishGate(Settings settings) {
        this.settings = settings;
    }

    private static final class Model {
        /** (report time, loss), oldest first. */
        final Deque<double[]> reports = new ArrayDeque<>();
        long newest = Long.MIN_VALUE;
        double frozenPast = Double.NaN;
        long closedSince = -1;
        long closures;
        State state = new State(true, Double.NaN, Double.NaN, -1, 0);
    }

    /** Takes one worker report and decides anew. */
    public synchronized void observe(String model, long timeMillis, double loss) {
        if (settings.ratio() == 0 || !Double.isFinite(loss)) {
            return;
        }
        Model m = models.computeIfAbsent(model, name -> new Model());
        m.reports.addLast(new double[] {timeMillis, loss});
        m.newest = Math.max(m.newest, timeMillis);
        long recentFrom = m.newest - settings.recent().toMillis();
        long pastFrom = recentFrom - settings.past().toMillis();
        while (!m.reports.isEmpty() && m.reports.peekFirst()[0] < pastFrom) {
            m.reports.removeFirst();
        }
        double recentSum = 0;
        int recent = 0;
        double[] past = new double[m.reports.size()];
        int pastCount = 0;
        for (double[] report : m.reports) {
            if (report[0] > recentFrom) {
                recentSum += report[1];
                recent++;
            } else {
                past[pastCount++] = report[1];
            }
        }
        double recentLoss = recent > 0 ? recentSum / recent : Double.NaN;
        double pastLoss = m.closedSince >= 0 ? m.frozenPast
                : pastCount >= settings.minPastReports() ? median(past, pastCount) : Double.NaN;
        boolean worse = recent > 0 && !Double.isNaN(pastLoss) ? recentLoss > settings.ratio() * pastLoss
                : m.closedSince >= 0;
        if (worse && m.closedSince < 0) {
            m.closedSince = timeMillis;
            m.frozenPast = pastLoss;
            m.closures++;
        } else if (!worse && m.closedSince >= 0) {
            m.closedSince = -1;
            m.frozenPast = Double.NaN;
        }
        m.state = new State(m.closedSince < 0, recentLoss, pastLoss, m.closedSince, m.closures);
    }

    /** Whether a new version of {@code model} may be served now. */
    public synchronized boolean isOpen(String model) {
        Model m = models.get(model);
        return m == null || m.closedSince < 0;
    }

    /** What the gate says of {@code model}; empty while it has no reports. */
    public synchronized Optional<State> state(String model) {
        Model m = models.get(model);
        return m == null ? Optional.empty() : Optional.of(m.state);
    }

    public Settings settings() {
        return settings;
    }

    private static double median(double[] values, int count) {
        double[] sorted = Arrays.copyOf(values, count);
        Arrays.sort(sorted);
        return count % 2 == 1 ? sorted[count / 2] : (sorted[count / 2 - 1] + sorted[count / 2]) / 2;
    }
}
