package io.streambelief.serving;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * Gathers concurrent predictions on one parameter set into one forward pass, as TF Serving's
 * batching does: a request waits at most {@link Settings#maxWait()} for others to join it, and a
 * pass holds at most {@link Settings#maxRows()} rows (a request larger than that runs alone).
 * A forward pass over 32 rows costs little more than over one, so under load the server answers
 * more requests with the same cores.
 *
 * <p>No thread of its own: the first request of a batch leads it. It waits for the batch to
 * fill or the wait to end, takes the batch, hands the lead to the first request left waiting,
 * and runs the pass on its own thread; the others sleep until their rows are answered. No
 * request waits for company longer than the timeout from its arrival (it goes with a leader
 * that arrived before it, or leads itself), and the passes of consecutive batches overlap on
 * as many threads as requests lead them.
 */
public final class PredictionBatcher {
    /**
     * @param maxRows rows one forward pass holds at most
     * @param maxWait how long a request waits for others at most; zero turns batching off
     */
    public record Settings(int maxRows, Duration maxWait) {
        public static final int DEFAULT_MAX_ROWS = 128;
        /** Off, as TF Serving's is unless asked for: every request makes its own pass. */
        public static final Settings OFF = new Settings(DEFAULT_MAX_ROWS, Duration.ZERO);

        public Settings {
            if (maxRows < 1) {
                throw new IllegalArgumentException("--batch-max-rows must be at least 1, got " + maxRows);
            }
            if (maxWait.isNegative() || maxWait.compareTo(Duration.ofSeconds(10)) > 0) {
                throw new IllegalArgumentException("--batch-timeout-micros must be between 0 and 10000000, got "
                        + maxWait.toNanos() / 1_000);
            }
        }

        boolean enabled() {
            return !maxWait.isZero();
        }
    }

    private static final class Request {
        final float[][] rows;
        final long arrivedNanos = System.nanoTime();
        float[][] answer;
        RuntimeException failure;
        boolean done;
        boolean leads;

        Request(float[][] rows) {
            this.rows = rows;
        }
    }

    private final UnaryOperator<float[][]> forward;
    private final ArrayDeque<Request> waiting = new ArrayDeque<>();
    private int waitingRows;
    /** Whether a request is gathering a batch now (it leads; the next one to lead is told so). */
    private boolean gathering;
    private long passes;

    /** @param forward one forward pass: a row of outputs per row of inputs; safe to call from several threads */
    PredictionBatcher(UnaryOperator<float[][]> forward) {
        this.forward = forward;
    }

    /** The outputs for {@code rows}, computed alone or with other requests' rows. */
    float[][] predict(float[][] rows, Settings settings) {
        if (!settings.enabled() || rows.length >= settings.maxRows()) {
            countPass();
            return forward.apply(rows);
        }
        Request request = new Request(rows);
        boolean interrupted = false;
        synchronized (this) {
            waiting.addLast(request);
            waitingRows += rows.length;
            if (!gathering) {
                // Nobody gathers, so nobody waits: this request is the batch's first.
                gathering = true;
                request.leads = true;
            } else if (waitingRows >= settings.maxRows()) {
                notifyAll();
            }
            while (!request.done && !request.leads) {
                interrupted |= await(0);
            }
        }
        if (!request.done) {
            // The leader is its batch's first request, so the pass answers it too.
            run(gather(settings, request));
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (request.failure != null) {
            throw request.failure;
        }
        return request.answer;
    }

    /** Forward passes run so far, batched or not. */
    synchronized long passes() {
        return passes;
    }

    /**
     * The leader's part: waits for the batch to fill or the leader's time to end, and takes it.
     * The time counts from the leader's arrival, so a request that was handed the lead after
     * waiting in a full batch's queue does not wait a whole timeout again.
     */
    private synchronized List<Request> gather(Settings settings, Request leader) {
        long deadline = leader.arrivedNanos + settings.maxWait().toNanos();
        boolean interrupted = false;
        for (long left = deadline - System.nanoTime(); waitingRows < settings.maxRows() && left > 0;
                left = deadline - System.nanoTime()) {
            interrupted |= await(left);
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        List<Request> batch = new ArrayList<>();
        int rows = 0;
        while (!waiting.isEmpty() && (batch.isEmpty() || rows + waiting.peekFirst().rows.length <= settings.maxRows())) {
            Request next = waiting.removeFirst();
            batch.add(next);
            rows += next.rows.length;
        }
        waitingRows -= rows;
        gathering = !waiting.isEmpty();
        if (gathering) {
            waiting.peekFirst().leads = true;
            notifyAll();
        }
        passes++;
        return batch;
    }

    /** One forward pass over the batch's rows, each request answered with its own. */
    private void run(List<Request> batch) {
        int total = batch.stream().mapToInt(r -> r.rows.length).sum();
        float[][] rows = new float[total][];
        int at = 0;
        for (Request request : batch) {
            System.arraycopy(request.rows, 0, rows, at, request.rows.length);
            at += request.rows.length;
        }
        float[][] answers = null;
        RuntimeException failure = null;
        try {
            answers = forward.apply(rows);
        } catch (RuntimeException e) {
            failure = e;
        } catch (Error e) {
            // Out of memory, say: every request of the batch fails with it, none waits forever.
            failure = new IllegalStateException("The forward pass failed: " + e, e);
        }
        synchronized (this) {
            at = 0;
            for (Request request : batch) {
                if (failure == null) {
                    request.answer = Arrays.copyOfRange(answers, at, at + request.rows.length);
                }
                request.failure = failure;
                request.done = true;
                at += request.rows.length;
            }
            notifyAll();
        }
    }

    private synchronized void countPass() {
        passes++;
    }

    /**
     * Waits on this batcher's monitor ({@code nanos} at most, or until told when 0). An interrupt
     * does not end the wait, because every request is owed its answer; it is reported, for the
     * caller to restore once it is done.
     *
     * @return whether the thread was interrupted
     */
    private boolean await(long nanos) {
        try {
            if (nanos > 0) {
                wait(nanos / 1_000_000, (int) (nanos % 1_000_000));
            } else {
                wait();
            }
            return false;
        } catch (InterruptedException e) {
            return true;
        }
    }
}
