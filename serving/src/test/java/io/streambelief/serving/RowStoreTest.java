package io.streambelief.serving;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.streambelief.model.record.ExampleDigest;
import io.streambelief.model.record.RowCodecs;
import io.streambelief.model.record.RowUpdate;

/** What a sparse model's rows have done at this server: updates, new rows and their rate, the row lag as served. */
class RowStoreTest {
    private static final long T = 1_700_000_000_000L;

    @TempDir
    Path dir;

    @Test
    void aRowIsNewOnceEvenTwiceInOneBatchAndNewRowsPerSecondCountTheLastTenWholeSeconds() {
        try (RowStore store = RowStore.open(dir)) {
            store.apply(List.of(update(1, 0), update(1, 0), update(2, 0)), T);
            store.apply(List.of(update(1, 0), update(3, 0)), T + 1_000);
            store.apply(List.of(update(4, 0)), T + 30_000);

            RowStore.RowActivity activity = store.activity("flights", T + 30_500);
            assertThat(activity.updates()).isEqualTo(6);
            assertThat(activity.newRows()).as("rows 1, 2, 3 and 4").isEqualTo(4);
            assertThat(activity.newRowsPerSecond()).as("only row 4 in the window, still filling its second").isZero();
            assertThat(store.activity("flights", T + 2_000).newRowsPerSecond()).as("3 new rows in 10 s")
                    .isEqualTo(0.3);
            assertThat(store.activity("flights", T + 12_000).newRowsPerSecond()).as("older than the window").isZero();
            assertThat(activity.lagP50Millis()).as("no update said when its gradients were created").isNaN();
        }
    }

    @Test
    void theRowLagRunsFromTheOldestGradientsCreationToTheUpdatesTaking() {
        try (RowStore store = RowStore.open(dir)) {
            List<byte[]> updates = new ArrayList<>();
            for (int i = 1; i <= 100; i++) {
                updates.add(update(i, T - 10L * i));
            }
            store.apply(updates, T);

            RowStore.RowActivity activity = store.activity("flights", T);
            assertThat(activity.lagP50Millis()).isEqualTo(510);
            assertThat(activity.lagP99Millis()).isEqualTo(1_000);
        }
    }

    @Test
    void anotherModelsRowsAreItsOwn() {
        try (RowStore store = RowStore.open(dir)) {
            store.apply(List.of(update(1, 0)), T);
            store.apply(List.of(RowCodecs.encode(new RowUpdate("other", 1, ExampleDigest.ofCount(1), T, 0,
                    new float[] {1, 2}))), T);

            assertThat(store.activity("other", T).newRows()).as("same id, another model").isOne();
            assertThat(store.activity("nobody", T)).isEqualTo(RowStore.RowActivity.NONE);
        }
    }

    private static byte[] update(long id, long gradientMillis) {
        return RowCodecs.encode(new RowUpdate("flights", id, ExampleDigest.ofCount(1), T, gradientMillis,
                new float[] {1, 2}));
    }
}
