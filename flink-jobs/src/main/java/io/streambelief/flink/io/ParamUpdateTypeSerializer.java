package io.streambelief.flink.io;

import java.io.IOException;

import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

import io.streambelief.model.record.ParamUpdate;

public final class ParamUpdateTypeSerializer extends BlockSerializer<ParamUpdate> {
    private static final long serialVersionUID = 1L;
    public static final ParamUpdateTypeSerializer INSTANCE = new ParamUpdateTypeSerializer();

    @Override
    public ParamUpdate createInstance() {
        return new ParamUpdate("", 0, 0, 0, 0, new float[0]);
    }

    @Override
    public ParamUpdate copy(ParamUpdate from) {
        float[][] slots = new float[from.slots().length][];
        for (int i = 0; i < slots.length; i++) {
            slots[i] = from.slots()[i].clone();
        }
        return new ParamUpdate(from.modelId(), from.shardId(), from.version(), from.examplesApplied(),
                from.timestampMillis(), from.values().clone(), slots, from.pushesApplied().clone(),
                from.average().clone(), from.digest());
    }

    @Override
    public void serialize(ParamUpdate update, DataOutputView out) throws IOException {
        out.writeUTF(update.modelId());
        out.writeInt(update.shardId());
        out.writeLong(update.version());
        out.writeLong(update.examplesApplied());
        out.writeLong(update.timestampMillis());
        writeFloats(out, update.values());
        out.writeInt(update.slots().length);
        for (float[] slot : update.slots()) {
            writeFloats(out, slot);
        }
        out.writeInt(update.pushesApplied().length);
        for (long push : update.pushesApplied()) {
            out.writeLong(push);
        }
        writeFloats(out, update.average());
        writeDigest(out, update.digest());
    }

    @Override
    public ParamUpdate deserialize(DataInputView in) throws IOException {
        String modelId = in.readUTF();
        int shardId = in.readInt();
        long version = in.readLong();
        long examples = in.readLong();
        long timestamp = in.readLong();
        float[] values = readFloats(in);
        float[][] slots = new float[in.readInt()][];
        for (int i = 0; i < slots.length; i++) {
            slots[i] = readFloats(in);
        }
        long[] pushes = new long[in.readInt()];
        for (int i = 0; i < pushes.length; i++) {
            pushes[i] = in.readLong();
        }
        float[] average = readFloats(in);
        return new ParamUpdate(modelId, shardId, version, examples, timestamp, values, slots, pushes, average,
                readDigest(in));
    }

    @Override
    public TypeSerializerSnapshot<ParamUpdate> snapshotConfiguration() {
        return new Snapshot();
    }

    /** Restored by name from checkpoints (BSP keeps gathered gradients in state): public, with a no-argument constructor. */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<ParamUpdate> {
        public Snapshot() {
            super(() -> INSTANCE);
        }
    }
}
