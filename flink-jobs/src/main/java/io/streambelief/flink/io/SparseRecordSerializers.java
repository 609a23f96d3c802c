package io.streambelief.flink.io;

import java.io.IOException;

import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

import io.streambelief.model.record.RowGradient;
import io.streambelief.model.sparse.SparseExample;

/**
 * Serializers of the records of a sparse model's row path — one lookup, one reply and one
 * gradient per id an example touches, the job's most numerous records. Flink's POJO serializer
 * reads and writes them field by field through reflection and copies them between chained
 * operators; these write them directly, and share instead of copying: the records are never
 * changed once emitted.
 *
 * <p>They live here, and the row records with them, rather than in {@code sparse}: savepoints name
 * the serializer snapshot of the sparse worker's held replies by its class, so this class keeps
 * its name, and {@code sparse} and {@code parse} both use the records.
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

    public static final class RowRequestSerializer extends Immutable<RowRequest> {
        private static final long serialVersionUID = 1L;
        public static final RowRequestSerializer INSTANCE = new RowRequestSerializer();

        @Override
        public RowRequest createInstance() {
            return new RowRequest(0, 0, 0, 0, null);
        }

        @Override
        public void serialize(RowRequest request, DataOutputView out) throws IOException {
            out.writeLong(request.id());
            out.writeLong(request.exampleId());
            out.writeInt(request.worker());
            out.writeInt(request.slot());
            writeExample(out, request.example());
        }

        @Override
        public RowRequest deserialize(DataInputView in) throws IOException {
            return new RowRequest(in.readLong(), in.readLong(), in.readInt(), in.readInt(), readExample(in));
        }

        @Override
        public TypeSerializerSnapshot<RowRequest> snapshotConfiguration() {
            return new RequestSnapshot();
        }
    }

    public static final class RequestSnapshot extends SimpleTypeSerializerSnapshot<RowRequest> {
        public RequestSnapshot() {
            super(() -> RowRequestSerializer.INSTANCE);
        }
    }

    public static final class RowReplySerializer extends Immutable<RowReply> {
        private static final long serialVersionUID = 1L;
        public static final RowReplySerializer INSTANCE = new RowReplySerializer();

        @Override
        public RowReply createInstance() {
            return new RowReply(0, 0, 0, 0, null, null);
        }

        @Override
        public void serialize(RowReply reply, DataOutputView out) throws IOException {
            out.writeLong(reply.id());
            out.writeLong(reply.exampleId());
            out.writeInt(reply.worker());
            out.writeInt(reply.slot());
            out.writeBoolean(reply.lookup() != null);
            if (reply.lookup() != null) {
                writeFloats(out, reply.lookup());
            }
            writeExample(out, reply.example());
        }

        @Override
        public RowReply deserialize(DataInputView in) throws IOException {
            long id = in.readLong();
            long exampleId = in.readLong();
            int worker = in.readInt();
            int slot = in.readInt();
            float[] lookup = in.readBoolean() ? readFloats(in) : null;
            return new RowReply(id, exampleId, worker, slot, lookup, readExample(in));
        }

        @Override
        public TypeSerializerSnapshot<RowReply> snapshotConfiguration() {
            return new ReplySnapshot();
        }
    }

    /** Restored by name from checkpoints (workers keep replies not yet trained): public, no-argument constructor. */
    public static final class ReplySnapshot extends SimpleTypeSerializerSnapshot<RowReply> {
        public ReplySnapshot() {
            super(() -> RowReplySerializer.INSTANCE);
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

    private static void writeExample(DataOutputView out, SparseExample example) throws IOException {
        out.writeBoolean(example != null);
        if (example != null) {
            out.writeInt(example.ids().length);
            for (long id : example.ids()) {
                out.writeLong(id);
            }
            BlockSerializer.writeFloats(out, example.numerics());
            out.writeByte(example.label());
        }
    }

    private static SparseExample readExample(DataInputView in) throws IOException {
        if (!in.readBoolean()) {
            return null;
        }
        long[] ids = new long[in.readInt()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = in.readLong();
        }
        return new SparseExample(ids, BlockSerializer.readFloats(in), in.readByte());
    }
}
