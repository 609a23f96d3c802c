package io.streambelief.flink.snapshot;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

import io.streambelief.model.record.ParamUpdate;
import io.streambelief.model.record.SnapshotChunk;
import io.streambelief.model.record.SnapshotChunkCodec;
import io.streambelief.model.record.SnapshotManifest;
import io.streambelief.model.record.SnapshotManifestCodec;

/**
 * Gathers the shards the parameter servers take at a checkpoint barrier and, once every shard of
 * that checkpoint is in, writes them followed by their manifest — all in one go, so they land in
 * one Kafka transaction of the exactly-once sink behind it (parallelism 1, chained). With aligned
 * checkpoints the shards of checkpoint n all arrive before its barrier, so the snapshot commits
 * with checkpoint n itself; with unaligned ones a shard may travel as in-flight data and the
 * snapshot commits with the next checkpoint. Gatherings in progress are kept in operator state.
 *
 * <p>A checkpoint that is abandoned before every parameter server took part leaves an
 * incomplete gathering; the next complete one drops it.
 */
public final class SnapshotWriter extends ProcessFunction<byte[], byte[]> implements CheckpointedFunction {
    private static final long serialVersionUID = 1L;

    private transient TreeMap<Long, List<byte[]>> gatherings;
    private transient ListState<byte[]> state;

    @Override
    public void processElement(byte[] record, Context context, Collector<byte[]> out) {
        SnapshotChunk chunk = SnapshotChunkCodec.decode(record);
        List<byte[]> gathered = gatherings.computeIfAbsent(chunk.checkpointId(), id -> new ArrayList<>());
        gathered.add(record);
        if (gathered.size() < chunk.shardCount()) {
            return;
        }
        ParamUpdate[] shards = new ParamUpdate[chunk.shardCount()];
        byte[][] ordered = new byte[shards.length][];
        for (byte[] bytes : gathered) {
            ParamUpdate shard = SnapshotChunkCodec.decode(bytes).shard();
            shards[shard.shardId()] = shard;
            ordered[shard.shardId()] = bytes;
        }
        for (byte[] bytes : ordered) {
            out.collect(bytes);
        }
        out.collect(SnapshotManifestCodec.encode(
                SnapshotManifest.of(shards, chunk.checkpointId(), System.currentTimeMillis())));
        gatherings.headMap(chunk.checkpointId(), true).clear();
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) throws Exception {
        List<byte[]> pending = new ArrayList<>();
        gatherings.values().forEach(pending::addAll);
        state.update(pending);
    }

    @Override
    public void initializeState(FunctionInitializationContext context) throws Exception {
        state = context.getOperatorStateStore().getListState(
                new ListStateDescriptor<>("snapshot-gatherings", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
        gatherings = new TreeMap<>();
        for (byte[] record : state.get()) {
            gatherings.computeIfAbsent(SnapshotChunkCodec.decode(record).checkpointId(), id -> new ArrayList<>())
                    .add(record);
        }
    }
}
