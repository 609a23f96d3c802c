package io.streambelief.serving;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Batching as a client sees it: its own answers, sooner than the timeout when others fill the batch. */
@Timeout(60)
class PredictionBatcherTest {
    /** A stand-in forward pass: each row's sum and its first value, so every answer names its row. */
    private static final UnaryOperator<float[][]> SUMS = rows -> {
        float[][] out = new float[rows.length][];
        for (int i = 0; i < rows.length; i++) {
            float sum = 0;
            for (float v : rows[i]) {
                sum += v;
            }
            out[i] = new float[] {sum, rows[i][0]};
        }
        return out;
    };

    @Test
    void concurrentCallersOfMixedSizesEachGetTheirOwnRowsFromFewerPasses() throws Exception {
        List<Integer> passSizes = Collections.synchronizedList(new ArrayList<>());
        PredictionBatcher batcher = new PredictionBatcher(rows -> {
            passSizes.add(rows.length);
            return SUMS.apply(rows);
        });
        PredictionBatcher.Settings settings = new PredictionBatcher.Settings(20, Duration.ofMillis(500));
        int callers = 16;
        CyclicBarrier start = new CyclicBarrier(callers);
        ExecutorService threads = Executors.newFixedThreadPool(callers);
        try {
            List<Future<float[][]>> answers = new ArrayList<>();
            List<float[][]> asked = new ArrayList<>();
            for (int caller = 0; caller < callers; caller++) {
                float[][] rows = rowsOf(caller, 1 + caller % 7);
                asked.add(rows);
                answers.add(threads.submit(() -> {
                    start.await();
                    return batcher.predict(rows, settings);
                }));
            }
            for (int caller = 0; caller < callers; caller++) {
                assertThat(answers.get(caller).get(30, TimeUnit.SECONDS)).as("caller %d", caller)
                        .isDeepEqualTo(SUMS.apply(asked.get(caller)));
            }
        } finally {
            threads.shutdownNow();
        }
        int rows = asked(callers);
        assertThat(passSizes.stream().mapToInt(Integer::intValue).sum()).isEqualTo(rows);
        assertThat(passSizes).as("every pass within the limit").allMatch(size -> size <= 20);
        assertThat(passSizes.size()).as("passes for %d callers and %d rows", callers, rows)
                .isLessThanOrEqualTo(callers / 2).isEqualTo((int) batcher.passes());
    }

    @Test
    void aLoneRequestWaitsForOthersNoLongerThanTheTimeout() {
        PredictionBatcher batcher = new PredictionBatcher(SUMS);
        Duration wait = Duration.ofMillis(200);
        long start = System.nanoTime();
        float[][] answer = batcher.predict(rowsOf(3, 2), new PredictionBatcher.Settings(64, wait));
        long took = System.nanoTime() - start;
        assertThat(answer).isDeepEqualTo(SUMS.apply(rowsOf(3, 2)));
        assertThat(took).as("it waited for company").isGreaterThanOrEqualTo(wait.toNanos())
                .as("and then ran alone").isLessThan(Duration.ofSeconds(10).toNanos());
    }

    @Test
    void aFullBatchRunsWithoutWaitingOutTheTimeout() throws Exception {
        PredictionBatcher batcher = new PredictionBatcher(SUMS);
        PredictionBatcher.Settings settings = new PredictionBatcher.Settings(4, Duration.ofSeconds(8));
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try {
            long start = System.nanoTime();
            Future<float[][]> first = threads.submit(() -> batcher.predict(rowsOf(1, 2), settings));
            Future<float[][]> second = threads.submit(() -> batcher.predict(rowsOf(2, 2), settings));
            assertThat(first.get(30, TimeUnit.SECONDS)).isDeepEqualTo(SUMS.apply(rowsOf(1, 2)));
            assertThat(second.get(30, TimeUnit.SECONDS)).isDeepEqualTo(SUMS.apply(rowsOf(2, 2)));
            assertThat(System.nanoTime() - start).as("four rows fill the batch").isLessThan(Duration.ofSeconds(4).toNanos());
        } finally {
            threads.shutdownNow();
        }
    }

    @Test
    void aRequestOfMoreRowsThanABatchHoldsRunsAloneAtOnce() {
        AtomicInteger passes = new AtomicInteger();
        PredictionBatcher batcher = new PredictionBatcher(rows -> {
            passes.incrementAndGet();
            return SUMS.apply(rows);
        });
        long start = System.nanoTime();
        assertThat(batcher.predict(rowsOf(5, 8), new PredictionBatcher.Settings(8, Duration.ofSeconds(8))))
                .isDeepEqualTo(SUMS.apply(rowsOf(5, 8)));
        assertThat(System.nanoTime() - start).isLessThan(Duration.ofSeconds(4).toNanos());
        assertThat(passes).hasValue(1);
    }

    @Test
    void aFailedPassFailsEveryRequestOfItsBatchAndTheNextBatchRuns() throws Exception {
        AtomicInteger pass = new AtomicInteger();
        PredictionBatcher batcher = new PredictionBatcher(rows -> {
            if (pass.incrementAndGet() == 1) {
                throw new IllegalStateException("native failure");
            }
            return SUMS.apply(rows);
        });
        PredictionBatcher.Settings settings = new PredictionBatcher.Settings(4, Duration.ofSeconds(1));
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try {
            Future<float[][]> first = threads.submit(() -> batcher.predict(rowsOf(1, 2), settings));
            Future<float[][]> second = threads.submit(() -> batcher.predict(rowsOf(2, 2), settings));
            for (Future<float[][]> answer : List.of(first, second)) {
                assertThatThrownBy(() -> answer.get(30, TimeUnit.SECONDS)).hasRootCauseMessage("native failure");
            }
        } finally {
            threads.shutdownNow();
        }
        assertThat(batcher.predict(rowsOf(3, 1), new PredictionBatcher.Settings(4, Duration.ofMillis(10))))
                .isDeepEqualTo(SUMS.apply(rowsOf(3, 1)));
    }

    @Test
    void settingsOutsideTheirRangeAreRefusedNamingTheOption() {
        assertThatThrownBy(() -> new PredictionBatcher.Settings(0, Duration.ofMillis(1)))
                .hasMessageContaining("--batch-max-rows");
        assertThatThrownBy(() -> new PredictionBatcher.Settings(8, Duration.ofSeconds(11)))
                .hasMessageContaining("--batch-timeout-micros");
    }

    /** {@code count} rows of caller {@code caller}, each starting with a value no other caller's row has. */
    private static float[][] rowsOf(int caller, int count) {
        float[][] rows = new float[count][];
        for (int i = 0; i < count; i++) {
            rows[i] = new float[] {caller * 100 + i, i, caller};
        }
        return rows;
    }

    private static int asked(int callers) {
        int rows = 0;
        for (int caller = 0; caller < callers; caller++) {
            rows += 1 + caller % 7;
        }
        return rows;
    }
}
