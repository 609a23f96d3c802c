package io.streambelief.model.record;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;

class SnapshotReaderTest {
    private final SnapshotReader reader = new SnapshotReader();

    @Test
    void aManifestAfterAChunkOfEveryShardCompletesTheSnapshot() {
        List<byte[]> records = snapshot("m", 4, 10, 11);

        List<ModelSnapshot> read = readAll(records);

        assertThat(read).hasSize(1);
        assertThat(read.get(0).checkpointId()).isEqualTo(4);
        assertThat(read.get(0).shards()).extracting(ParamUpdate::version).containsExactly(10L, 11L);
        assertThat(reader.torn()).isZero();
    }

    @Test
    void aManifestMissingAChunkIsTornAndNotHandedOut() {
        List<byte[]> records = snapshot("m", 4, 10, 11);
        records.remove(1);

        assertThat(readAll(records)).isEmpty();
        assertThat(reader.torn()).isEqualTo(1);
    }

    @Test
    void chunksOfAnEarlierCheckpointDoNotCompleteALaterManifest() {
        List<byte[]> records = new ArrayList<>(snapshot("m", 4, 10, 11));
        records.remove(records.size() - 1);
        List<byte[]> later = snapshot("m", 5, 12, 13);
        records.add(later.get(1));
        records.add(later.get(2));

        assertThat(readAll(records)).isEmpty();
        assertThat(reader.torn()).isEqualTo(1);
    }

    @Test
    void aChunkAtAnotherVersionThanTheManifestNamesIsTorn() {
        List<byte[]> records = snapshot("m", 4, 10, 11);
        records.set(2, SnapshotManifestCodec.encode(new SnapshotManifest("m", 4, 0, new long[] {10, 12},
                new long[] {100, 110})));

        assertThat(readAll(records)).isEmpty();
        assertThat(reader.torn()).isEqualTo(1);
    }

    @Test
    void modelsSharingTheTopicAreGatheredApart() {
        List<byte[]> a = snapshot("a", 1, 5, 6);
        List<byte[]> b = snapshot("b", 7, 8, 9);
        List<byte[]> interleaved = List.of(a.get(0), b.get(0), a.get(1), b.get(1), b.get(2), a.get(2));

        assertThat(readAll(interleaved)).extracting(ModelSnapshot::modelId).containsExactly("b", "a");
    }

    @Test
    void anUnreadableRecordIsCountedAndSkipped() {
        assertThat(reader.accept(new byte[] {1, 2, 3})).isEmpty();
        assertThat(reader.accept(null)).isEmpty();
        assertThat(reader.unreadable()).isEqualTo(2);
        assertThat(readAll(snapshot("m", 1, 1, 1))).hasSize(1);
    }

    /** A two-shard snapshot's records as the job writes them: the chunks, then the manifest. */
    private static List<byte[]> snapshot(String model, long checkpoint, long version0, long version1) {
        ParamUpdate[] shards = {
            new ParamUpdate(model, 0, version0, version0 * 10, 0, new float[] {1f}),
            new ParamUpdate(model, 1, version1, version1 * 10, 0, new float[] {2f, 3f}) };
        List<byte[]> records = new ArrayList<>();
        for (ParamUpdate shard : shards) {
            records.add(SnapshotChunkCodec.encode(new SnapshotChunk(checkpoint, shards.length, shard)));
        }
        records.add(SnapshotManifestCodec.encode(SnapshotManifest.of(shards, checkpoint, 99)));
        return records;
    }

    private List<ModelSnapshot> readAll(List<byte[]> records) {
        List<ModelSnapshot> read = new ArrayList<>();
        for (byte[] record : records) {
            Optional<ModelSnapshot> snapshot = reader.accept(record);
            snapshot.ifPresent(read::add);
        }
        return read;
    }
}
