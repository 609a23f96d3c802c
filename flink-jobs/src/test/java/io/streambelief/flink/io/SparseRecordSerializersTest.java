package io.streambelief.flink.io;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

import io.streambelief.model.record.RowGradient;
import io.streambelief.model.sparse.SparseExample;

class SparseRecordSerializersTest {
    private static final SparseExample EXAMPLE = new SparseExample(new long[] {-1L, 7L}, new float[] {0.5f}, 1);

    @Test
    void rowPathRecordsRoundTripWithAndWithoutTheirOptionalParts() throws Exception {
        SparseExample[] none = {};
        assertRoundTrip(RecordTypes.PARSED_EXAMPLE.createSerializer(null), new ParsedExample(1L << 45, EXAMPLE));
        assertRoundTrip(RecordTypes.ROW_LOOKUP.createSerializer(null),
                new RowLookup(1L << 45, 3, 1, 2, new long[] {-1L, 7L}, new SparseExample[] {EXAMPLE, EXAMPLE}));
        assertRoundTrip(RecordTypes.ROW_LOOKUP.createSerializer(null), new RowLookup(2, 1, 0, 2, new long[] {7L}, none));
        assertRoundTrip(RecordTypes.ROW_LOOKUP_REPLY.createSerializer(null),
                new RowLookupReply(9, 0, 1, new long[] {-1L}, new float[] {1, 2}, new SparseExample[] {EXAMPLE}));
        assertRoundTrip(RecordTypes.ROW_LOOKUP_REPLY.createSerializer(null),
                new RowLookupReply(9, 0, 1, new long[] {7L}, new float[] {0, 0}, none));
        assertRoundTrip(RecordTypes.ROW_GRADIENTS.createSerializer(null), new RowGradients(1, false,
                new RowGradient[] {new RowGradient(5L, 3, new float[] {0.25f, -1}), new RowGradient(6L, 1, new float[2])},
                new long[] {1_700_000_000_000L, 7}, new int[] {0, 3}, new long[] {12, 1L << 40}));
        assertRoundTrip(RecordTypes.LOGGED_ROW_GRADIENT.createSerializer(null),
                new LoggedRowGradient(2, 1L << 40, new RowGradient(5L, 3, new float[] {0.25f, -1})));
        assertRoundTrip(RecordTypes.ROW_GRADIENT.createSerializer(null), new RowGradient(5L, 3, new float[] {0.25f, -1}));
    }

    private static <T> void assertRoundTrip(TypeSerializer<T> serializer, T record) throws Exception {
        DataOutputSerializer out = new DataOutputSerializer(64);
        serializer.serialize(record, out);
        T read = serializer.deserialize(new DataInputDeserializer(out.getCopyOfBuffer()));
        assertThat(read).isEqualTo(record);
        assertThat(serializer.copy(record)).as("immutable: shared, not copied").isSameAs(record);
    }
}
