package io.streambelief.flink.io;

import java.io.IOException;

import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

import io.streambelief.model.record.RowGradient;
import io.streambelief.model.sparse.SparseExample;

/**
 * Serializers of the records of a sparse model's row path — parsed examples, a lookup and a reply
 * per shard and mini-batch, and a gradient per id a mini-batch touches, the job's most numerous
 * records. Flink's POJO serializer
 * reads and writes them field by field through reflection and copies them between chained
 * operators; these write them directly, and share instead of copying: the records are never
 * changed once emitted.
 *
 * <p>They live here, and the row records with them, rather than in {@code sparse}: savepoints name
 * the serializer snapshots of the batcher's and the sparse worker's held records by their class,
 * so this class keeps its name, and {@code sparse} and {@code parse} both use the records.
 */
public final class SparseRecordSerializers {
    private SparseRecordSerializers() {}

    /** Base: immutable records, copied by reference. */
    private abstract static class Immutable<T> extends BlockSerializer<T> {
        private static final long serialVersionUID = 1L;

        @Override
        public boolean isImmutableType() {
            return true;
        }

        @Override
        public T copy(T from) {
            return from;
        }
    }

    public static final class ParsedExampleSerializer extends Immutable<ParsedExample> {
        private static final long serialVersionUID = 1L;
        public static final ParsedExampleSerializer INSTANCE = new ParsedExampleSerializer();

        @Override
        public ParsedExample createInstance() {
            return new ParsedExample(0, null);
        }

        @Override
        public void serialize(ParsedExample parsed, DataOutputView out) throws IOException {
            out.writeLong(parsed.exampleId());
            writeExample(out, parsed.example());
        }

        @Override
        public ParsedExample deserialize(DataInputView in) throws IOException {
            return new ParsedExample(in.readLong(), readExample(in));
        }

        @Override
        public TypeSerializerSnapshot<ParsedExample> snapshotConfiguration() {
            return new ParsedExampleSnapshot();
        }
    }

    /** Restored by name from checkpoints (the batcher keeps a partial batch): public, no-argument constructor. */
    public static final class ParsedExampleSnapshot extends SimpleTypeSerializerSnapshot<ParsedExample> {
        public ParsedExampleSnapshot() {
            super(() -> ParsedExampleSerializer.INSTANCE);
        }
    }

    public static final class RowLookupSerializer extends Immutable<RowLookup> {
        private static final long serialVersionUID = 1L;
        public static final RowLookupSerializer INSTANCE = new RowLookupSerializer();

        @Override
        public RowLookup createInstance() {
            return new RowLookup(0, 0, 0, 0, new long[0], new SparseExample[0]);
        }

        @Override
        public void serialize(RowLookup lookup, DataOutputView out) throws IOException {
            out.writeLong(lookup.batchId());
            out.writeInt(lookup.worker());
            out.writeInt(lookup.shard());
            out.writeInt(lookup.parts());
            writeLongs(out, lookup.ids());
            writeExamples(out, lookup.examples());
        }

        @Override
        public RowLookup deserialize(DataInputView in) throws IOException {
            return new RowLookup(in.readLong(), in.readInt(), in.readInt(), in.readInt(), readLongs(in),
                    readExamples(in));
        }

        @Override
        public TypeSerializerSnapshot<RowLookup> snapshotConfiguration() {
            return new LookupSnapshot();
        }
    }

    public static final class LookupSnapshot extends SimpleTypeSerializerSnapshot<RowLookup> {
        public LookupSnapshot() {
            super(() -> RowLookupSerializer.INSTANCE);
        }
    }

    public static final class RowLookupReplySerializer extends Immutable<RowLookupReply> {
        private static final long serialVersionUID = 1L;
        public static final RowLookupReplySerializer INSTANCE = new RowLookupReplySerializer();

        @Override
        public RowLookupReply createInstance() {
            return new RowLookupReply(0, 0, 0, new long[0], new float[0], new SparseExample[0]);
        }

        @Override
        public void serialize(RowLookupReply reply, DataOutputView out) throws IOException {
            out.writeLong(reply.batchId());
            out.writeInt(reply.worker());
            out.writeInt(reply.parts());
            writeLongs(out, reply.ids());
            writeFloats(out, reply.lookups());
            writeExamples(out, reply.examples());
        }

        @Override
        public RowLookupReply deserialize(DataInputView in) throws IOException {
            return new RowLookupReply(in.readLong(), in.readInt(), in.readInt(), readLongs(in), readFloats(in),
                    readExamples(in));
        }

        @Override
        public TypeSerializerSnapshot<RowLookupReply> snapshotConfiguration() {
            return new LookupReplySnapshot();
        }
    }

    /** Restored by name from checkpoints (workers keep the replies of batches not yet complete): public, no-argument constructor. */
    public static final class LookupReplySnapshot extends SimpleTypeSerializerSnapshot<RowLookupReply> {
        public LookupReplySnapshot() {
            super(() -> RowLookupReplySerializer.INSTANCE);
        }
    }

    public static final class RowGradientsSerializer extends Immutable<RowGradients> {
        private static final long serialVersionUID = 1L;
        public static final RowGradientsSerializer INSTANCE = new RowGradientsSerializer();

        @Override
        public RowGradients createInstance() {
            return new RowGradients(0, true, new RowGradient[0], new long[0], new int[0], new long[0]);
        }

        @Override
        public void serialize(RowGradients batch, DataOutputView out) throws IOException {
            out.writeInt(batch.shard());
            out.writeBoolean(batch.committed());
            out.writeInt(batch.gradients().length);
            for (int i = 0; i < batch.gradients().length; i++) {
                RowGradientSerializer.INSTANCE.serialize(batch.gradients()[i], out);
                out.writeLong(batch.createdMillis()[i]);
                out.writeInt(batch.partitions()[i]);
                out.writeLong(batch.offsets()[i]);
            }
        }

        @Override
        public RowGradients deserialize(DataInputView in) throws IOException {
            int shard = in.readInt();
            boolean committed = in.readBoolean();
            RowGradient[] gradients = new RowGradient[in.readInt()];
            long[] created = new long[gradients.length];
            int[] partitions = new int[gradients.length];
            long[] offsets = new long[gradients.length];
            for (int i = 0; i < gradients.length; i++) {
                gradients[i] = RowGradientSerializer.INSTANCE.deserialize(in);
                created[i] = in.readLong();
                partitions[i] = in.readInt();
                offsets[i] = in.readLong();
            }
            return new RowGradients(shard, committed, gradients, created, partitions, offsets);
        }

        @Override
        public TypeSerializerSnapshot<RowGradients> snapshotConfiguration() {
            return new GradientsSnapshot();
        }
    }

    public static final class GradientsSnapshot extends SimpleTypeSerializerSnapshot<RowGradients> {
        public GradientsSnapshot() {
            super(() -> RowGradientsSerializer.INSTANCE);
        }
    }

    public static final class LoggedRowGradientSerializer extends Immutable<LoggedRowGradient> {
        private static final long serialVersionUID = 1L;
        public static final LoggedRowGradientSerializer INSTANCE = new LoggedRowGradientSerializer();

        @Override
        public LoggedRowGradient createInstance() {
            return new LoggedRowGradient(0, 0, RowGradientSerializer.INSTANCE.createInstance());
        }

        @Override
        public void serialize(LoggedRowGradient logged, DataOutputView out) throws IOException {
            out.writeInt(logged.partition());
            out.writeLong(logged.offset());
            RowGradientSerializer.INSTANCE.serialize(logged.gradient(), out);
        }

        @Override
        public LoggedRowGradient deserialize(DataInputView in) throws IOException {
            return new LoggedRowGradient(in.readInt(), in.readLong(), RowGradientSerializer.INSTANCE.deserialize(in));
        }

        @Override
        public TypeSerializerSnapshot<LoggedRowGradient> snapshotConfiguration() {
            return new LoggedGradientSnapshot();
        }
    }

    public static final class LoggedGradientSnapshot extends SimpleTypeSerializerSnapshot<LoggedRowGradient> {
        public LoggedGradientSnapshot() {
            super(() -> LoggedRowGradientSerializer.INSTANCE);
        }
    }

    public static final class RowGradientSerializer extends Immutable<RowGradient> {
        private static final long serialVersionUID = 1L;
        public static final RowGradientSerializer INSTANCE = new RowGradientSerializer();

        @Override
        public RowGradient createInstance() {
            return new RowGradient(0, 0, new float[0]);
        }

        @Override
        public void serialize(RowGradient gradient, DataOutputView out) throws IOException {
            out.writeLong(gradient.id());
            writeDigest(out, gradient.examples());
            writeFloats(out, gradient.values());
        }

        @Override
        public RowGradient deserialize(DataInputView in) throws IOException {
            return new RowGradient(in.readLong(), readDigest(in), readFloats(in));
        }

        @Override
        public TypeSerializerSnapshot<RowGradient> snapshotConfiguration() {
            return new GradientSnapshot();
        }
    }

    public static final class GradientSnapshot extends SimpleTypeSerializerSnapshot<RowGradient> {
        public GradientSnapshot() {
            super(() -> RowGradientSerializer.INSTANCE);
        }
    }

    private static void writeLongs(DataOutputView out, long[] values) throws IOException {
        out.writeInt(values.length);
        for (long value : values) {
            out.writeLong(value);
        }
    }

    private static long[] readLongs(DataInputView in) throws IOException {
        long[] values = new long[in.readInt()];
        for (int i = 0; i < values.length; i++) {
            values[i] = in.readLong();
        }
        return values;
    }

    private static void writeExamples(DataOutputView out, SparseExample[] examples) throws IOException {
        out.writeInt(examples.length);
        for (SparseExample example : examples) {
            writeExample(out, example);
        }
    }

    private static SparseExample[] readExamples(DataInputView in) throws IOException {
        SparseExample[] examples = new SparseExample[in.readInt()];
        for (int i = 0; i < examples.length; i++) {
            examples[i] = readExample(in);
        }
        return examples;
    }

    private static void writeExample(DataOutputView out, SparseExample example) throws IOException {
        writeLongs(out, example.ids());
        BlockSerializer.writeFloats(out, example.numerics());
        out.writeByte(example.label());
    }

    private static SparseExample readExample(DataInputView in) throws IOException {
        return new SparseExample(readLongs(in), BlockSerializer.readFloats(in), in.readByte());
    }
}
