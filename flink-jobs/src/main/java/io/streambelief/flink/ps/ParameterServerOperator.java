package io.streambelief.flink.ps;

import org.apache.flink.api.common.TaskInfo;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.api.operators.TimestampedCollector;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.OutputTag;

import io.streambelief.model.record.GradientSlice;
import io.streambelief.model.record.ParamUpdate;

/**
 * Runs {@link ParameterServer} and, right before each checkpoint barrier leaves (a
 * KeyedProcessFunction alone has no hook at that moment), writes its cached shards to keyed state
 * and sends a copy of every shard it owns to {@link #SNAPSHOT_CHUNKS}: taken at the barrier, the
 * copies of all parameter servers together are the model exactly as the checkpoint holds it.
 */
public final class ParameterServerOperator extends KeyedProcessOperator<Integer, GradientSlice, ParamUpdate> {
    private static final long serialVersionUID = 1L;

    /** Encoded {@link io.streambelief.model.record.SnapshotChunk}s, one per shard and checkpoint. */
    public static final OutputTag<byte[]> SNAPSHOT_CHUNKS =
            new OutputTag<>("snapshot-chunks", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO);

    public ParameterServerOperator(ParameterServer parameterServer) {
        super(parameterServer);
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        super.prepareSnapshotPreBarrier(checkpointId);
        ParameterServer server = (ParameterServer) userFunction;
        for (int key : server.dirtyShards()) {
            setCurrentKey(key);
            server.writeBack(key);
        }
        server.dirtyShards().clear();

        TaskInfo task = getRuntimeContext().getTaskInfo();
        for (int key : server.shardKeys()) {
            if (KeyGroupRangeAssignment.assignKeyToParallelOperator(key, task.getMaxNumberOfParallelSubtasks(),
                    task.getNumberOfParallelSubtasks()) == task.getIndexOfThisSubtask()) {
                setCurrentKey(key);
                output.collect(SNAPSHOT_CHUNKS, new StreamRecord<>(server.snapshotChunk(key, checkpointId)));
            }
        }
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) throws Exception {
        super.notifyCheckpointComplete(checkpointId);
        ((ParameterServer) userFunction).checkpointCompleted(checkpointId);
    }

    @Override
    public void finish() throws Exception {
        ((ParameterServer) userFunction).publishPending(new TimestampedCollector<>(output),
                delta -> output.collect(ParameterServer.DELTAS, new StreamRecord<>(delta)));
        super.finish();
    }
}
