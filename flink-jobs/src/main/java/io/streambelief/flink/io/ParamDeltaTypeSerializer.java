package io.streambelief.flink.io;

import java.io.IOException;

import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

import io.streambelief.model.record.ParamDelta;
import io.streambelief.model.record.ParamDeltaCodec;

/** A parameter delta in {@link ParamDeltaCodec}'s form, on its way from the delta source to the workers. */
public final class ParamDeltaTypeSerializer extends BlockSerializer<ParamDelta> {
    private static final long serialVersionUID = 1L;
    public static final ParamDeltaTypeSerializer INSTANCE = new ParamDeltaTypeSerializer();

    @Override
    public ParamDelta createInstance() {
        return new ParamDelta("", 0, 0, -1, 0, 0, 0, null, new float[0], new float[0][], new long[0]);
    }

    @Override
    public ParamDelta copy(ParamDelta from) {
        return ParamDeltaCodec.decode(ParamDeltaCodec.encode(from));
    }

    @Override
    public void serialize(ParamDelta delta, DataOutputView out) throws IOException {
        writeEncoded(out, ParamDeltaCodec.encode(delta));
    }

    @Override
    public ParamDelta deserialize(DataInputView in) throws IOException {
        return ParamDeltaCodec.decode(readEncoded(in));
    }

    @Override
    public TypeSerializerSnapshot<ParamDelta> snapshotConfiguration() {
        return new Snapshot();
    }

    public static final class Snapshot extends SimpleTypeSerializerSnapshot<ParamDelta> {
        public Snapshot() {
            super(() -> INSTANCE);
        }
    }
}
