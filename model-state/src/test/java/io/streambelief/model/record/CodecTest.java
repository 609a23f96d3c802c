package io.streambelief.model.record;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;

import org.junit.jupiter.api.Test;

import io.streambelief.model.Example;
import io.streambelief.model.ModelSpec;
import io.streambelief.model.sparse.EmbeddingTable;
import io.streambelief.model.sparse.RowOptimizer;
import io.streambelief.model.sparse.SparseDefinition;
import io.streambelief.model.sparse.WideDeepSpec;

class CodecTest {
    private static final ParamUpdate UPDATE =
            new ParamUpdate("fashion", 3, 17, 1088, 1_700_000_000_123L, new float[] {1.5f, -2f, Float.MIN_VALUE, 0f});

    @Test
    void paramUpdatesRoundTrip() {
        assertThat(ParamUpdateCodec.decode(ParamUpdateCodec.encode(UPDATE))).isEqualTo(UPDATE);
    }

    @Test
    void aFullParameterServerRecordRoundTrips() {
        ParamUpdate full = new ParamUpdate("fashion", 1, 9, 288, 5L, new float[] {1f, 2f},
                new float[][] {{0.5f, 0.25f}}, new long[] {3, 0, 7}, new float[] {0.9f, 1.9f});

        ParamUpdate decoded = ParamUpdateCodec.decode(ParamUpdateCodec.encode(full));

        assertThat(decoded).isEqualTo(full);
        assertThat(decoded.pushesApplied(2)).isEqualTo(7);
        assertThat(decoded.pushesApplied(5)).isZero();
        assertThat(decoded.withoutAverage().hasAverage()).isFalse();
    }

    @Test
    void theDigestOfTheExamplesAppliedRoundTripsAndAFormat1RecordHasAnEmptyOne() {
        ParamUpdate digested = new ParamUpdate("fashion", 1, 9, 288, 5L, new float[] {1f, 2f}, new float[0][],
                new long[0], new float[0], new ExampleDigest(288, -42L, 0x5DEECE66DL));
        assertThat(ParamUpdateCodec.decode(ParamUpdateCodec.encode(digested))).isEqualTo(digested);

        // A format 1 record is a format 2 record without the digest's three longs at the end.
        assertThat(ParamUpdateCodec.decode(format1(ParamUpdateCodec.encode(UPDATE), 24))).isEqualTo(UPDATE);
    }

    /** The format 1 record of a format 2 one whose body ends with {@code added} more bytes. */
    private static byte[] format1(byte[] format2, int added) {
        return earlierFormat(format2, 1, added);
    }

    /** {@code current} as format {@code version} wrote it: without the {@code added} bytes its body ends with now. */
    private static byte[] earlierFormat(byte[] current, int version, int added) {
        java.nio.ByteBuffer format1 = java.nio.ByteBuffer.allocate(current.length - added);
        format1.put(current, 0, current.length - 4 - added);
        format1.put(1, (byte) version);
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(format1.array(), 0, format1.position());
        format1.putInt((int) crc.getValue());
        return format1.array();
    }

    @Test
    void parameterDeltasRoundTripFullAndSparse() {
        ParamDelta full = new ParamDelta("fashion", 2, 9, -1, 288, 5L, 3, null, new float[] {1f, 2f, 3f},
                new float[][] {{0.5f, 0.25f, 0f}}, new long[] {3, 7});
        ParamDelta sparse = new ParamDelta("fashion", 2, 11, 9, 352, 6L, 70_000, new int[] {0, 200, 69_999},
                new float[] {-1f, 2.5f, Float.MIN_VALUE}, new float[][] {{0.5f, 0.25f, 1f}}, new long[] {4, 7});

        for (ParamDelta delta : new ParamDelta[] {full, sparse}) {
            byte[] bytes = ParamDeltaCodec.encode(delta);
            assertThat(bytes).hasSize(ParamDeltaCodec.encodedSize(delta));
            assertThat(ParamDeltaCodec.decode(bytes)).isEqualTo(delta);
            assertThatThrownBy(() -> ParamDeltaCodec.decode(Arrays.copyOf(bytes, bytes.length - 5)))
                    .isInstanceOf(RecordFormatException.class);
        }
        assertThat(ParamDeltaCodec.encodedSize(sparse)).as("three entries of 70,000").isLessThan(150);
    }

    @Test
    void aLargeShardRoundTrips() {
        float[] values = new float[65_536];
        for (int i = 0; i < values.length; i++) {
            values[i] = i * 0.5f;
        }
        ParamUpdate big = new ParamUpdate("m", 0, 1, 1, 1, values);

        assertThat(ParamUpdateCodec.decode(ParamUpdateCodec.encode(big))).isEqualTo(big);
    }

    @Test
    void modelDefinitionsRoundTrip() {
        ModelDefinition definition = new ModelDefinition("fashion", ModelSpec.parse("mlp:8-4-2", 3), 100);

        ModelDefinition decoded = ModelDefinitionCodec.decode(ModelDefinitionCodec.encode(definition));

        assertThat(decoded).isEqualTo(definition);
        assertThat(decoded.layout().shardCount()).isEqualTo(1);
    }

    @Test
    void sparseModelDefinitionsRoundTripWithTheirSchemaAndTable() {
        WideDeepSpec model = WideDeepSpec.parse("widedeep:dim=4,mlp=8");
        SparseDefinition sparse = new SparseDefinition("flights", "{\"columns\": {}}", model,
                new EmbeddingTable(4, RowOptimizer.parse("ftrl:alpha=0.2,l1=0.5"), RowOptimizer.parse("adagrad:lr=0.1"), 9));
        ModelDefinition definition = new ModelDefinition("flights", model.denseSpec(3, 1, 9), 100, sparse);

        assertThat(ModelDefinitionCodec.decode(ModelDefinitionCodec.encode(definition))).isEqualTo(definition);
    }

    @Test
    void rowGradientsAndUpdatesRoundTripWithTheirDigestAndFormat1RecordsWithTheCountAlone() {
        RowGradient gradient = new RowGradient(-7L, new ExampleDigest(3, -42L, 0x5DEECE66DL), new float[] {0.5f, -1f, 2f});
        RowUpdate update = new RowUpdate("flights", Long.MIN_VALUE, new ExampleDigest(1L << 40, 7L, -1L), 1234, 1200,
                new float[] {1f, 0f});

        assertThat(RowCodecs.decodeGradient(RowCodecs.encode(gradient))).isEqualTo(gradient);
        assertThat(RowCodecs.decodeUpdate(RowCodecs.encode(update))).isEqualTo(update);
        assertThat(RowCodecs.decodeGradient(format1(RowCodecs.encode(gradient), 16)))
                .isEqualTo(new RowGradient(-7L, 3, gradient.values()));
        assertThat(RowCodecs.decodeUpdate(earlierFormat(RowCodecs.encode(update), 2, 8))).as("format 2: no gradient time")
                .isEqualTo(new RowUpdate("flights", Long.MIN_VALUE, update.examples(), 1234, update.values()));
        assertThat(RowCodecs.decodeUpdate(format1(RowCodecs.encode(update), 24)))
                .isEqualTo(new RowUpdate("flights", Long.MIN_VALUE, 1L << 40, 1234, update.values()));
        assertThat(new String(RowCodecs.updateKey("flights", 255), java.nio.charset.StandardCharsets.UTF_8))
                .isEqualTo("flights/rows/ff");
        assertThatThrownBy(() -> RowCodecs.decodeUpdate(RowCodecs.encode(gradient)))
                .isInstanceOf(RecordFormatException.class).hasMessageContaining("Not a RowUpdate record");
    }

    @Test
    void snapshotChunksAndManifestsRoundTrip() {
        ParamUpdate shard = new ParamUpdate("fashion", 2, 40, 1_280, 77, new float[] {1f, -2f}, new float[0][],
                new long[0], new float[] {0.5f, -1f});
        SnapshotChunk chunk = new SnapshotChunk(9, 3, shard);
        SnapshotManifest manifest = new SnapshotManifest("fashion", 9, 1234, new long[] {40, 41, 39},
                new long[] {1_280, 1_312, 1_248});

        assertThat(SnapshotChunkCodec.decode(SnapshotChunkCodec.encode(chunk))).isEqualTo(chunk);
        assertThat(SnapshotManifestCodec.decode(SnapshotManifestCodec.encode(manifest))).isEqualTo(manifest);
        assertThatThrownBy(() -> SnapshotManifestCodec.decode(SnapshotChunkCodec.encode(chunk)))
                .isInstanceOf(RecordFormatException.class).hasMessageContaining("Not a SnapshotManifest record");
    }

    @Test
    void workerReplicasRoundTripWithSlotsVersionsAcksAndTheirWorkerAndFormat1OnesWithAnUnknownWorker() {
        float[] values = new float[50_000];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) Math.sin(i) * 3;
        }
        ReplicaState replica = new ReplicaState(values, new float[][] {values.clone(), {}},
                new long[] {17, 0, Long.MAX_VALUE}, new long[][] {{4, 5}, {}, {-1}}, 99, 3);
        assertThat(ReplicaStateCodec.decode(ReplicaStateCodec.encode(replica))).isEqualTo(replica);
        assertThat(ReplicaStateCodec.decode(format1(ReplicaStateCodec.encode(replica), 4)).worker())
                .isEqualTo(ReplicaState.UNKNOWN_WORKER);
        ReplicaState empty = new ReplicaState(new float[0], new float[0][], new long[0], new long[0][], 0, 0);
        assertThat(ReplicaStateCodec.decode(ReplicaStateCodec.encode(empty))).isEqualTo(empty);
        byte[] bytes = ReplicaStateCodec.encode(replica);
        assertThatThrownBy(() -> ReplicaStateCodec.decode(Arrays.copyOf(bytes, bytes.length - 9)))
                .isInstanceOf(RecordFormatException.class);
        assertThatThrownBy(() -> ReplicaStateCodec.decode(ParamUpdateCodec.encode(UPDATE)))
                .hasMessageContaining("Not a ReplicaState record");
    }

    @Test
    void aFlippedBitIsDetected() {
        byte[] bytes = ParamUpdateCodec.encode(UPDATE);
        bytes[20] ^= 1;

        assertThatThrownBy(() -> ParamUpdateCodec.decode(bytes)).isInstanceOf(RecordFormatException.class)
                .hasMessageContaining("CRC32 mismatch");
    }

    @Test
    void anUnknownFormatVersionNamesWhatThisBuildReads() {
        byte[] bytes = ParamUpdateCodec.encode(UPDATE);
        bytes[1] = 9;

        assertThatThrownBy(() -> ParamUpdateCodec.decode(bytes))
                .hasMessage("ParamUpdate record has format version 9; this build reads versions 1 to 2");
    }

    @Test
    void aRecordOfAnotherTypeIsRefused() {
        byte[] definition = ModelDefinitionCodec.encode(new ModelDefinition("m", ModelSpec.parse("mlp:2-2", 1), 10));

        assertThatThrownBy(() -> ParamUpdateCodec.decode(definition)).hasMessageContaining("Not a ParamUpdate record");
    }

    @Test
    void shortAndEmptyInputIsRefused() {
        assertThatThrownBy(() -> ParamUpdateCodec.decode(new byte[0])).hasMessageContaining("shorter than its envelope");
        assertThatThrownBy(() -> ParamUpdateCodec.decode(null)).hasMessageContaining("missing");
        byte[] bytes = ParamUpdateCodec.encode(UPDATE);
        byte[] truncated = resealed(Arrays.copyOf(bytes, 30));
        assertThatThrownBy(() -> ParamUpdateCodec.decode(truncated)).hasMessageContaining("truncated");
    }

    /** A prefix of a record with a valid checksum, as a buggy writer would produce it. */
    private static byte[] resealed(byte[] prefix) {
        byte[] bytes = Arrays.copyOf(prefix, prefix.length + 4);
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(bytes, 0, prefix.length);
        java.nio.ByteBuffer.wrap(bytes, prefix.length, 4).putInt((int) crc.getValue());
        return bytes;
    }

    @Test
    void examplesRoundTripAndAreRecognisedAsBinary() {
        Example example = new Example(new float[] {0f, 0.5f, 1f}, 7);

        byte[] bytes = ExampleCodec.encode(example);

        assertThat(ExampleCodec.looksLikeBinary(bytes)).isTrue();
        assertThat(ExampleCodec.looksLikeBinary("{\"label\":1}".getBytes())).isFalse();
        assertThat(ExampleCodec.decode(bytes)).isEqualTo(example);
    }

    @Test
    void aCorruptExampleIsRefused() {
        byte[] bytes = ExampleCodec.encode(new Example(new float[] {1f, 2f}, 1));
        bytes[8] ^= 0x10;

        assertThatThrownBy(() -> ExampleCodec.decode(bytes)).isInstanceOf(RecordFormatException.class)
                .hasMessageContaining("CRC32");
    }
}
