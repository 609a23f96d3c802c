package io.streambelief.flink.io;

import java.io.IOException;

import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

import io.streambelief.model.record.GradientSlice;
import io.streambelief.model.record.GradientSliceCodec;

/** A gradient slice in {@link GradientSliceCodec}'s form, which sends compressed gradients' few entries only. */
public final class GradientSliceTypeSerializer extends BlockSerializer<GradientSlice> {
    private static final long serialVersionUID = 1L;
    public static final GradientSliceTypeSerializer INSTANCE = new GradientSliceTypeSerializer();

    @Override
    public GradientSlice createInstance() {
        return new GradientSlice(0, 0, 0, new float[0]);
    }

    @Override
    public GradientSlice copy(GradientSlice from) {
        return from.copy();
    }

    @Override
    public void serialize(GradientSlice slice, DataOutputView out) throws IOException {
        writeEncoded(out, GradientSliceCodec.encode(slice));
    }

    @Override
    public GradientSlice deserialize(DataInputView in) throws IOException {
        return GradientSliceCodec.decode(readEncoded(in));
    }

    @Override
    public TypeSerializerSnapshot<GradientSlice> snapshotConfiguration() {
        return new Snapshot();
    }

    /** Restored by name from checkpoints (BSP keeps gathered gradients in state): public, with a no-argument constructor. */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<GradientSlice> {
        public Snapshot() {
            super(() -> INSTANCE);
        }
    }
}
